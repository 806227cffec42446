"""The sequencer: time step → block → mode chunk, with credit counters instead of stalls
computed offline.

It issues at most one slot per cycle, in the order of :mod:`hwssm.hw.cycle_model`, each as
soon as its operands exist:

- ``enc_cnt``: r0 values written by the encoder, not yet used by an S4D channel of block 0;
- ``r_cnt``: residual outputs r_{l+1}[h] (l < L-1) written, not yet used by block l+1;
- ``g_cnt``: GELU outputs of the current block written (reset by -H after its last
  mixing slot); a mixing slot of column chunk q needs ``min(H, k·q+k)`` of them
  (k = ``Pipeline.mix_cols``).

With k = 8 the readout multipliers serve both modes, so a block's first mixing slot waits
``gap`` cycles after its last S4D slot (:attr:`mix_gap`: until that slot's readout has
used them).

Credits are produced and consumed in the same order, so no counter needs a per-step
reset. A step starts when the pixel buffer is full, the previous step has issued its last
slot, and at least ``p_min`` cycles have passed since the previous start.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..core_config import CoreConfig
from ..cycle_model import mix_gap
from .interfaces import awidth, issue_signature

__all__ = ["Sequencer"]

WAIT, SSM, MIX, DRAIN = range(4)


class Sequencer(wiring.Component):
    """Issue logic of the core.

    Parameters
    ----------
    cfg : CoreConfig
    p_min : int
        Minimum distance between step starts (from the cycle model).

    Members
    -------
    issue : Out(issue_signature)
        The slot issued this cycle.
    pix : In(stream.Signature(8))
        Pixel stream (one pixel per step); a one-entry buffer takes the next pixel while a
        step runs.
    enc_start, enc_pixel, par : Out
        Start of a step: the encoder's pixel and the step parity (r0 double buffer).
    enc_written, r_written, g_written : In(1)
        Credit returns (one value written this cycle).
    dec_done : In(1)
        The decoder finished the digit; the next digit may start.
    """

    def __init__(self, cfg: CoreConfig, p_min: int):
        self._cfg = cfg
        self._p_min = int(p_min)
        super().__init__({
            "issue": Out(issue_signature(cfg)),
            "pix": In(stream.Signature(cfg.in_width)),
            "enc_start": Out(1), "enc_pixel": Out(cfg.in_width), "par": Out(1),
            "enc_written": In(1), "r_written": In(1), "g_written": In(1), "dec_done": In(1),
        })

    @property
    def p_min(self) -> int:
        return self._p_min

    @property
    def mix_gap(self) -> int:
        """Cycles a block's first mixing slot must wait after its last S4D slot (beyond the
        next cycle): the lane's ``stage_c`` with ``mix_cols = 8``, else 0."""
        return mix_gap(self._cfg.pipe)

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        H, L, P, T, Cs, KP, Q = cfg.H, cfg.L, cfg.P, cfg.T, cfg.Cs, cfg.KP, cfg.Q
        iss = self.issue
        pmin = self._p_min

        phase = Signal(2, init=WAIT)
        t = Signal(awidth(T))
        par = Signal()
        l = Signal(awidth(L))
        h = Signal(awidth(H))
        c = Signal(awidth(Cs))
        kk = Signal(awidth(2 * KP))
        k = Signal(awidth(KP))
        q = Signal(awidth(Q))
        coef_addr = Signal.like(iss.coef_addr)
        ssm_idx = Signal.like(iss.ssm_idx)
        row = Signal.like(iss.row)
        mixrow = Signal.like(iss.mixrow)
        K = cfg.pipe.mix_cols
        gap_n = self.mix_gap
        g_need = Signal(awidth(H + 1) + 1, init=min(H, K))
        rem = Signal(awidth(H + 1) + 1, init=H)        # channels not yet covered by gate passes
        cw = awidth(H + 1) + 1
        enc_cnt, r_cnt, g_cnt = Signal(cw), Signal(cw), Signal(cw + 1)
        # enc_cnt != 0 and r_cnt != 0, registered (fire_ssm starts from flip-flops)
        enc_nz, r_nz = Signal(), Signal()
        # g_cnt >= g_need, registered from the next values of both (so fire_mix starts
        # from a flip-flop, not from a comparator: the issue logic's long path)
        g_cnt_nxt = Signal.like(g_cnt)
        g_ok = Signal()
        ir = cfg.pipe.issue_regs  # end tests registered, timer cleared at a start (no extra cycle)
        timer = Signal(awidth(pmin + 1), init=0 if ir else pmin)
        timer_ok = Signal(init=1)  # timer >= pmin, registered (start waits on no comparator)
        pix_full = Signal()
        pix_data = Signal(cfg.in_width)

        # cycles left before a mixing slot may issue (readout multipliers still in use)
        if gap_n:
            gap = Signal(awidth(gap_n + 1))
            gap_ok = gap == 0
            with m.If(gap != 0):
                m.d.sync += gap.eq(gap - 1)
        else:
            gap = gap_ok = None
        start = Signal()
        fire_ssm = Signal()
        fire_mix = Signal()
        # counter == its last value: a comparator, or (issue_regs) a flip-flop that every
        # assignment of the counter (zero / inc below) updates with it
        ends = {}

        def last(cnt, n, name):
            if not ir:
                return cnt == n - 1
            ends[name] = (cnt, Signal(name=f"{name}_last", init=int(n == 1)), n)
            return ends[name][1]

        # (issue_regs) l == 0 kept as a flip-flop too: it picks the credit counter of a slot
        l_first = Signal(name="l_first", init=1) if ir else None

        def zero(name, cnt):
            extra = [l_first.eq(1)] if ir and name == "l" else []
            return [cnt.eq(0)] + ([ends[name][1].eq(int(ends[name][2] == 1))] if ir else []) + extra

        def inc(name, cnt):
            extra = [l_first.eq(0)] if ir and name == "l" else []
            return [cnt.eq(cnt + 1)] + ([ends[name][1].eq(cnt == ends[name][2] - 2)] if ir else []) + extra

        c_last, h_last, q_last = last(c, Cs, "c"), last(h, H, "h"), last(q, Q, "q")
        kk_last, l_last, t_last = last(kk, 2 * KP, "kk"), last(l, L, "l"), last(t, T, "t")
        m.d.comb += [
            self.pix.ready.eq(~pix_full),
            start.eq((phase == WAIT) & pix_full & timer_ok),
            fire_ssm.eq((phase == SSM) & Mux(l_first if ir else l == 0, enc_nz, r_nz)),
            # (no gap term at all without a gap: the mix_cols = 4 Verilog stays as it was)
            fire_mix.eq((phase == MIX) & g_ok & gap_ok if gap_n else (phase == MIX) & g_ok),
            self.enc_start.eq(start), self.enc_pixel.eq(pix_data), self.par.eq(par),
            iss.ssm.eq(fire_ssm), iss.mix.eq(fire_mix), iss.first_step.eq(t == 0),
            iss.l.eq(l), iss.h.eq(h), iss.coef_addr.eq(coef_addr), iss.ssm_idx.eq(ssm_idx), iss.row.eq(row),
            iss.c_first.eq(c == 0), iss.c_last.eq(c_last),
            iss.q.eq(q), iss.q_first.eq(q == 0), iss.q_last.eq(q_last),
            iss.mixrow.eq(mixrow), iss.kslot.eq(k), iss.gate.eq(kk[0]),
            iss.pairs.eq(Mux(rem >= P, P, rem)),
        ]

        # pixel buffer (with issue_regs the take decision reads a flip-flop of its own, not the
        # ready output's: logic shared with the ready pin would be placed at that pin)
        if ir:
            pix_empty = Signal(init=1)
            with m.If(start):
                m.d.sync += [pix_full.eq(0), pix_empty.eq(1)]
            with m.Elif(self.pix.valid & pix_empty):
                m.d.sync += [pix_full.eq(1), pix_empty.eq(0), pix_data.eq(self.pix.payload)]
        else:
            with m.If(start):
                m.d.sync += pix_full.eq(0)
            with m.Elif(self.pix.valid & ~pix_full):
                m.d.sync += [pix_full.eq(1), pix_data.eq(self.pix.payload)]

        # timer_ok rises pmin cycles after a start; with issue_regs the timer counts from 0
        t0 = 0 if ir else min(1, pmin)
        with m.If(start):
            m.d.sync += [timer.eq(t0), timer_ok.eq(int(pmin <= 1))]
        with m.Elif(~timer_ok):
            m.d.sync += [timer.eq(timer + 1), timer_ok.eq(timer == (pmin - 2 if ir else pmin - 1))]

        consume = fire_ssm & c_last
        enc_use, r_use = (consume & l_first, consume & ~l_first) if ir else (consume & (l == 0), consume & (l != 0))
        if ir:
            # both sums from registers, the issue decision (late) only selects one
            enc_next = Mux(enc_use, enc_cnt + self.enc_written - 1, enc_cnt + self.enc_written)
            r_next = Mux(r_use, r_cnt + self.r_written - 1, r_cnt + self.r_written)
        else:
            enc_next, r_next = enc_cnt + self.enc_written - enc_use, r_cnt + self.r_written - r_use
        m.d.sync += [
            enc_cnt.eq(enc_next),
            r_cnt.eq(r_next),
            enc_nz.eq(_nonzero_next(enc_cnt, self.enc_written, enc_use)),
            r_nz.eq(_nonzero_next(r_cnt, self.r_written, r_use)),
        ]
        # g_ok = (g_cnt_nxt >= g_need_nxt), with the comparisons done in parallel for both
        # values of fire_mix (which itself depends on g_ok) and of g_written, from registers
        # only: gnu holds the next column chunk's need min(g_need + K, H), and g_need - 1,
        # gnu - 1 are kept too (g_cnt + 1 >= x iff g_cnt >= x - 1), so no adder precedes a
        # comparator
        k1, k2 = min(H, K), min(H, 2 * K)
        gnu = Signal.like(g_need, init=k2)
        g_need_m1 = Signal.like(g_need, init=k1 - 1)
        gnu_m1 = Signal.like(g_need, init=k2 - 1)
        gw = self.g_written
        if ir:
            m.d.comb += g_cnt_nxt.eq(Mux(fire_mix & q_last & kk_last, g_cnt + gw - H, g_cnt + gw))
        else:
            m.d.comb += g_cnt_nxt.eq(g_cnt + gw - Mux(fire_mix & q_last & kk_last, H, 0))

        def ge(x, x_m1):
            """g_cnt + g_written >= x (x_m1 = x - 1)."""
            return Mux(gw, g_cnt >= x_m1, g_cnt >= x)

        ok_idle = ge(g_need, g_need_m1)
        ok_fire = Mux(q_last, Mux(kk_last, ge(H + k1, H + k1 - 1), ge(k1, k1 - 1)), ge(gnu, gnu_m1))
        m.d.sync += [g_cnt.eq(g_cnt_nxt), g_ok.eq(Mux(fire_mix, ok_fire, ok_idle))]
        with m.If(fire_mix):
            with m.If(q_last):
                m.d.sync += [g_need.eq(k1), gnu.eq(k2), g_need_m1.eq(k1 - 1), gnu_m1.eq(k2 - 1)]
            with m.Else():
                m.d.sync += [g_need.eq(gnu), gnu.eq(Mux(gnu + K > H, H, gnu + K)),
                             g_need_m1.eq(gnu_m1), gnu_m1.eq(Mux(gnu + K > H, H - 1, gnu + K - 1))]

        with m.If(start):
            m.d.sync += [phase.eq(SSM), *zero("l", l), *zero("h", h), *zero("c", c), coef_addr.eq(0), ssm_idx.eq(0),
                         row.eq(0), mixrow.eq(0)]
        with m.If(fire_ssm):
            m.d.sync += [coef_addr.eq(coef_addr + 1), ssm_idx.eq(ssm_idx + 1)]
            with m.If(c_last):
                m.d.sync += [*zero("c", c), row.eq(row + 1)]
                with m.If(h_last):
                    # (q, kk, k, rem start the mixing phase at 0, 0, 0, H: set so at the end of
                    # the previous one, and initially; nothing reads them during the S4D slots)
                    m.d.sync += [*zero("h", h), phase.eq(MIX)]
                    if gap is not None:
                        m.d.sync += gap.eq(gap_n)
                    # (g_need is min(H, K) already: set so at the previous block's last
                    # mixing row, and initially; not set here, so that g_ok does not wait
                    # on fire_ssm, the issue logic's long path)
                with m.Else():
                    m.d.sync += inc("h", h)
            with m.Else():
                m.d.sync += inc("c", c)
        with m.If(fire_mix):
            m.d.sync += coef_addr.eq(coef_addr + 1)
            with m.If(q_last):
                m.d.sync += [*zero("q", q), mixrow.eq(mixrow + 1), *inc("kk", kk)]
                with m.If(kk[0]):
                    m.d.sync += [k.eq(k + 1), rem.eq(rem - P)]
                with m.If(kk_last):
                    m.d.sync += [*zero("kk", kk), k.eq(0), rem.eq(H)]
                    with m.If(l_last):
                        m.d.sync += zero("l", l)
                        with m.If(t_last):
                            m.d.sync += [*zero("t", t), par.eq(0), phase.eq(DRAIN)]
                        with m.Else():
                            m.d.sync += [*inc("t", t), par.eq(~par), phase.eq(WAIT)]
                    with m.Else():
                        m.d.sync += [*inc("l", l), phase.eq(SSM), *zero("h", h), *zero("c", c)]
            with m.Else():
                m.d.sync += inc("q", q)
        with m.If((phase == DRAIN) & self.dec_done):
            m.d.sync += phase.eq(WAIT)
        return m


def _nonzero_next(cnt: Signal, inc, dec):
    """``(cnt + inc - dec) mod 2^len(cnt) != 0`` for one-bit ``inc`` and ``dec``, without an
    adder in front of the test (``dec`` comes late: it depends on the issue decision)."""
    return Mux(inc == dec, cnt != 0, Mux(inc, cnt != (1 << len(cnt)) - 1, cnt != 1))

