"""Pipelined adder tree: the cross-lane reduction of the readout shares (Σ over a mode chunk)."""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..core_config import tree_stages

__all__ = ["AdderTree"]


class AdderTree(wiring.Component):
    """Sum of ``n`` signed inputs, ``levels_per_stage`` adder levels between registers.

    Parameters
    ----------
    n : int
        Number of inputs (the lane count P; need not be a power of two).
    width : int
        Width of inputs and output. The caller sizes it for the full sum (no overflow).
    levels_per_stage : int
        Adder levels per register stage.

    Members
    -------
    i : In(ArrayLayout(signed(width), n))
    o : Out(signed(width))
        ``Σ i``, :attr:`latency` cycles later (0: combinational, when n = 1).

    Throughput: one sum per cycle.
    """

    def __init__(self, n: int, width: int, levels_per_stage: int = 2):
        if n < 1 or width < 1 or levels_per_stage < 1:
            raise ValueError("AdderTree needs n >= 1, width >= 1, levels_per_stage >= 1")
        self._n, self._width, self._lps = n, width, levels_per_stage
        super().__init__({"i": In(data.ArrayLayout(signed(width), n)), "o": Out(signed(width))})

    @property
    def latency(self) -> int:
        return tree_stages(self._n, self._lps)

    def elaborate(self, platform):
        m = Module()
        w = self._width
        vals = [self.i[k] for k in range(self._n)]
        level = 0
        while len(vals) > 1:
            nxt = []
            for k in range(0, len(vals) - 1, 2):
                s = Signal(signed(w), name=f"t{level}_{k // 2}")
                m.d.comb += s.eq(vals[k] + vals[k + 1])
                nxt.append(s)
            if len(vals) % 2:
                nxt.append(vals[-1])
            level += 1
            if level % self._lps == 0 or len(nxt) == 1:
                regs = []
                for k, v in enumerate(nxt):
                    r = Signal(signed(w), name=f"r{level}_{k}", reset_less=True)  # data: qualified downstream
                    m.d.sync += r.eq(v)
                    regs.append(r)
                nxt = regs
            vals = nxt
        m.d.comb += self.o.eq(vals[0])
        return m
