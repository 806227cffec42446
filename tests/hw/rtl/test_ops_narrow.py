"""``hwssm.hw.rtl.ops.narrow``: a per-row narrower fit equals the contract's fit to that width."""

from __future__ import annotations

import pytest
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.sim import Simulator

from hwssm.fixed import Overflow, QFormat, fit
from hwssm.hw.rtl.ops import narrow


@pytest.mark.parametrize("overflow", [Overflow.SATURATE, Overflow.WRAP])
def test_narrow_is_the_fit_to_the_narrower_width(overflow):
    W = 6
    v, d = Signal(signed(W)), Signal(unsigned(2))
    out = Signal(signed(W))
    m = Module()
    m.d.comb += out.eq(narrow(m, v, d, overflow, W))
    bad = []

    async def tb(ctx):
        for x in range(-(1 << (W - 1)), 1 << (W - 1)):
            for dd in range(4):
                ctx.set(v, x)
                ctx.set(d, dd)
                want = int(fit(x, QFormat(W - dd, 0, True, overflow=overflow)))
                if ctx.get(out) != want:
                    bad.append((x, dd, ctx.get(out), want))

    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()
    assert bad == []
