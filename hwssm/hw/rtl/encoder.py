"""The encoder: r0[h] = requant(We[h]·p + be[h]) for h = 0..H-1, one channel per cycle.

It starts with each time step and runs beside the lanes on its own small multiplier
(8-bit pixel × weight). Its ROM holds We (effective), the pre-aligned bias and the
per-channel shifts.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..core_config import CoreConfig
from .interfaces import awidth, rom
from .ops import ShiftAmt, delay, requant, shl

__all__ = ["Encoder"]


class Encoder(wiring.Component):
    """The encoder unit (one channel per cycle, one multiplier).

    Members
    -------
    start, pixel, par : In
        Start a step with this pixel (0..255), or the step's C samples (sample c in bits
        [8c, 8c+8), C multipliers summed); ``par`` selects the r0 buffer half.
    wr_en, wr_addr, wr_data : Out
        r0 buffer write: address ``Cat(h, par)``; ``wr_en`` also returns one credit.

    Latency: r0[h] is written ``4 + s + e + x + h`` cycles after ``start`` (readable at
    ``5 + s + e + x + h``), s = ``Pipeline.mem_stages`` (a register after the ROM read), e =
    ``Pipeline.requant_stages`` (a register inside the requantization), x =
    ``Pipeline.encdec_stages`` (a register after the finish).
    Throughput: one step per H + 1 cycles.
    """

    def __init__(self, cfg: CoreConfig):
        self._cfg = cfg
        hb = awidth(cfg.H)
        super().__init__({
            "start": In(1), "pixel": In(cfg.in_width), "par": In(1),
            "wr_en": Out(1), "wr_addr": Out(hb + 1), "wr_data": Out(signed(cfg.a)),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        H, a = cfg.H, cfg.a
        tab = cfg.enc_table
        busy = Signal()
        h = Signal(awidth(H))
        p = Signal(cfg.in_width)
        par = Signal()
        with m.If(self.start):
            m.d.sync += [busy.eq(1), h.eq(0), p.eq(self.pixel), par.eq(self.par)]
        with m.Elif(busy):
            m.d.sync += h.eq(h + 1)
            with m.If(h == H - 1):
                m.d.sync += busy.eq(0)
        s, e = cfg.pipe.mem_stages, cfg.pipe.requant_stages
        raw = delay(m, rom(m, "encc", tab.words(), tab.width, h), s, "encc_q")  # at +1+s
        f1 = tab.unpack(raw)
        prod = Signal(signed(cfg.enc["prod_width"]))
        if cfg.C == 1:
            m.d.sync += prod.eq(f1["W"] * Cat(p, 0).as_signed())   # at +2+s
        else:   # C samples per step (sample c in bits [8c, 8c+8)): C multipliers, one sum
            m.d.sync += prod.eq(sum(f1[f"W{c}"] * Cat(p[8 * c:8 * c + 8], 0).as_signed() for c in range(cfg.C)))
        raw_d = delay(m, raw, 1, "encc_d")
        f2 = tab.unpack(raw_d)
        r0 = Signal(signed(a))
        fw = cfg.enc["fin_width"]
        x = cfg.pipe.encdec_stages  # registers between the finish and the requantization
        fin = delay(m, shl(m, prod, f2["w"], fw) + shl(m, f2["bias"], ShiftAmt(0), fw), x, "encfin", reset_less=True)
        f3 = tab.unpack(delay(m, raw_d, x, "encc_f")) if x else f2
        # R_0 narrower than a (per-layer activation widths): fitted to its own width, sign-extended
        m.d.sync += r0.eq(requant(m, fin, f3["s"], cfg.enc["rounding"], cfg.enc["overflow"], cfg.enc.get("width", a),
                                  stages=e, name="rq_enc"))  # at +3+s+e+x
        v = delay(m, busy, 3 + s + e + x, "encv")
        addr = delay(m, Cat(h, par), 3 + s + e + x, "enca")
        m.d.comb += [self.wr_en.eq(v), self.wr_addr.eq(addr), self.wr_data.eq(r0)]
        return m
