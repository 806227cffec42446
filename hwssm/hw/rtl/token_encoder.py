"""The token encoder of a token model: r0[h] = ROM[token, h], one channel per cycle.

The input stream's 8-bit word is the step's token id k (< V <= 256). The embedding ROM
(:attr:`~hwssm.hw.core_config.CoreConfig.enc_rom`, from :func:`hwssm.hw.derive.token_rom`)
holds the R_0 codes the lowering computed for every token (ARITHMETIC.md §2.1), at address
``Cat(h, k)``. The unit has the ports, the latency and the throughput of the linear
:class:`~hwssm.hw.rtl.encoder.Encoder`, so the sequencer and the cycle model are the same.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..core_config import CoreConfig
from .interfaces import awidth, rom
from .ops import delay

__all__ = ["TokenEncoder"]


class TokenEncoder(wiring.Component):
    """The embedding-ROM encoder (one channel per cycle, no multiplier).

    Members
    -------
    start, pixel, par : In
        Start a step with this token id (0..V-1); ``par`` selects the r0 buffer half.
    wr_en, wr_addr, wr_data : Out
        r0 buffer write: address ``Cat(h, par)``; ``wr_en`` also returns one credit.

    Latency: as :class:`~hwssm.hw.rtl.encoder.Encoder`: r0[h] is written ``4 + s + e + x + h``
    cycles after ``start``, s = ``Pipeline.mem_stages``, e = ``Pipeline.requant_stages``,
    x = ``Pipeline.encdec_stages`` where the pipeline has it (the ROM word is delayed to the
    linear encoder's requantization output). Throughput: one step per H + 1 cycles.
    """

    def __init__(self, cfg: CoreConfig):
        self._cfg = cfg
        hb = awidth(cfg.H)
        super().__init__({
            "start": In(1), "pixel": In(8), "par": In(1),
            "wr_en": Out(1), "wr_addr": Out(hb + 1), "wr_data": Out(signed(cfg.a)),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        H, a = cfg.H, cfg.a
        hb = awidth(H)
        busy = Signal()
        h = Signal(hb)
        k = Signal(8)
        par = Signal()
        with m.If(self.start):
            m.d.sync += [busy.eq(1), h.eq(0), k.eq(self.pixel), par.eq(self.par)]
        with m.Elif(busy):
            m.d.sync += h.eq(h + 1)
            with m.If(h == H - 1):
                m.d.sync += busy.eq(0)
        s, e = cfg.pipe.mem_stages, cfg.pipe.requant_stages
        x = cfg.pipe.encdec_stages
        vocab = cfg.qm.vocab
        kb = max(1, (vocab - 1).bit_length())
        raw = delay(m, rom(m, "enct", list(cfg.enc_rom), a, Cat(h, k[:kb])), s, "enct_q")   # at +1+s
        r0 = delay(m, raw.as_signed(), 2 + e + x, "enct_r")                                  # at +3+s+e+x
        v = delay(m, busy, 3 + s + e + x, "encv")
        addr = delay(m, Cat(h, par), 3 + s + e + x, "enca")
        m.d.comb += [self.wr_en.eq(v), self.wr_addr.eq(addr), self.wr_data.eq(r0)]
        return m
