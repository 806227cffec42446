"""Decoder and argmax: logit[k] = align(Σ_h Wd[k,h]·S[h]) + align(bd[k]), one MAC per cycle.

Runs once per digit, after the last residual has been pooled; its own multiplier
(weight × pool width). Logits leave in class order on the ``logit`` stream (at frac
max_k F_k, not rescaled); the class (first index of the largest logit) on ``out``.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..core_config import CoreConfig
from .interfaces import awidth, rom
from .ops import chain, delay, resize, shl

__all__ = ["Decoder"]


class Decoder(wiring.Component):
    """The decoder and argmax unit (one MAC per cycle, one multiplier).

    Members
    -------
    start : In(1)
        The digit's pool is complete.
    pool_raddr, pool_rdata : the pool RAM read port (the core gives it to the decoder while ``busy``).
    busy : Out(1)
    logit : Out(stream, always ready)
        n_classes logits, one every H cycles, in class order.
    out : Out(stream.Signature(4))
        The predicted class; held until ``ready``.
    done : Out(1)
        One-cycle pulse when the class is decided (the sequencer may start the next digit).

    Latency: the last logit leaves ``n_classes·H + 3 + s + x`` cycles after ``start``
    (``start`` with ``out.valid`` low), the class ``1 + x`` cycles later; s =
    ``Pipeline.mem_stages`` (a register after the weight, constant and pool reads), x =
    ``Pipeline.encdec_stages`` (a register before the logit finish and one after the argmax
    comparison).
    """

    def __init__(self, cfg: CoreConfig):
        self._cfg = cfg
        hb = awidth(cfg.H)
        super().__init__({
            "start": In(1), "pool_raddr": Out(hb), "pool_rdata": In(signed(cfg.pool_width)), "busy": Out(1),
            "logit": Out(stream.Signature(signed(cfg.logit_width), always_ready=True)),
            "out": Out(stream.Signature(4)),
            "done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        H, nc = cfg.H, cfg.n_classes
        busy = Signal()
        pending = Signal()
        h = Signal(awidth(H))
        k = Signal(4)
        kh = Signal(awidth(nc * H))
        go = (self.start | pending) & ~busy & ~self.out.valid
        with m.If(go):
            m.d.sync += [busy.eq(1), pending.eq(0), h.eq(0), k.eq(0), kh.eq(0)]
        with m.Elif(self.start):
            m.d.sync += pending.eq(1)
        with m.If(busy):
            m.d.sync += kh.eq(kh + 1)
            with m.If(h == H - 1):
                m.d.sync += [h.eq(0), k.eq(k + 1)]
                with m.If(k == nc - 1):
                    m.d.sync += busy.eq(0)
            with m.Else():
                m.d.sync += h.eq(h + 1)
        m.d.comb += [self.busy.eq(busy), self.pool_raddr.eq(h)]

        ds = cfg.pipe.mem_stages
        cx = chain(m, Cat(busy, h == 0, h == H - 1, k), 2 + ds, "dctx")
        wd = delay(m, rom(m, "decw", cfg.dec["W_words"], cfg.dec["W_width"], kh), ds, "decw_q")   # δ+1+s
        pool = delay(m, self.pool_rdata, ds, "dpool_q")
        prod = Signal(signed(cfg.dec["acc_width"]))
        m.d.sync += prod.eq(wd.as_signed() * pool)                                 # δ+2+s
        ct = cfg.dec_table.unpack(delay(m, rom(m, "decc", cfg.dec_table.words(), cfg.dec_table.width, cx[1][3:]),
                                        ds + cfg.pipe.encdec_stages, "decc_q"))  # with the row finish
        v2, first2, last2, k2 = cx[2 + ds][0], cx[2 + ds][1], cx[2 + ds][2], cx[2 + ds][3:]
        acc = Signal(signed(cfg.dec["acc_width"]))
        acc_new = Signal(signed(cfg.dec["acc_width"]))
        m.d.comb += acc_new.eq(Mux(first2, prod, acc + prod))
        with m.If(v2):
            m.d.sync += acc.eq(acc_new)
        lw = cfg.logit_width
        logit = Signal(signed(lw))
        lv = Signal()
        lk = Signal(4)
        fs = cfg.pipe.encdec_stages
        # with encdec_stages: the finish starts from the registered sum, one cycle later (w and
        # bias are constant over a class; the next class's first product is H >= 1 cycles on)
        row = acc if fs else acc_new
        m.d.sync += [logit.eq(shl(m, row, ct["w"], lw) + resize(ct["bias"], lw)),
                     lv.eq(delay(m, v2 & last2, fs, "dlv")), lk.eq(delay(m, k2, fs, "dlk"))]
        m.d.comb += [self.logit.valid.eq(lv), self.logit.payload.eq(logit)]
        # argmax (δ+3+fs): strictly larger wins, so ties keep the smallest index; with
        # encdec_stages the comparison is registered and the update is one cycle later (logits
        # are H cycles apart: with H >= 2 best is up to date for the next comparison, with
        # H = 1 the comparison takes the logit being written)
        best = Signal(signed(lw))
        idx = Signal(4)
        if fs and H == 1:
            # logits one cycle apart: compare with the best after the update in flight
            upd, upd_logit = Signal(), Signal(signed(lw))
            better = (lk == 0) | _greater(logit, Mux(upd, upd_logit, best))
        else:
            better = (lk == 0) | _greater(logit, best)
        if fs:
            better, lv, lk, logit = (delay(m, better, 1, "dgt"), delay(m, lv, 1, "dlv_c"), delay(m, lk, 1, "dlk_c"),
                                     delay(m, logit, 1, "dlogit", reset_less=True))
            if H == 1:
                m.d.comb += [upd.eq(lv & better), upd_logit.eq(logit)]
        done = Signal()
        m.d.sync += done.eq(0)
        with m.If(lv):
            with m.If(better):
                m.d.sync += [best.eq(logit), idx.eq(lk)]
            with m.If(lk == nc - 1):
                m.d.sync += [self.out.valid.eq(1), self.out.payload.eq(Mux(better, lk, idx)), done.eq(1)]
        with m.If(self.out.valid & self.out.ready):
            m.d.sync += self.out.valid.eq(0)
        m.d.comb += self.done.eq(done)
        return m


def _greater(x, y):
    """``x > y`` for signed values of one width, as two half-width comparisons side by side
    (upper halves signed, lower halves unsigned) instead of one long carry chain."""
    n = len(x)
    k = n // 2
    if k < 4:
        return x > y
    hx, hy = x[k:].as_signed(), y[k:].as_signed()
    return (hx > hy) | ((hx == hy) & (x[:k] > y[:k]))

