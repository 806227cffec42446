"""``hwssm.hw.rtl.ops``: the LUT-adder product equals ``a * b`` for every operand pair; the
requantization's saturation is exact for every input."""

from __future__ import annotations

import pytest
from amaranth.hdl import Fragment, Module, Signal, signed, unsigned
from amaranth.sim import Simulator

from hwssm.fixed import Overflow, Rounding
from hwssm.hw.rtl.ops import ShiftAmt, mul, requant


def _values(shape):
    return range(-(1 << (shape.width - 1)), 1 << (shape.width - 1)) if shape.signed else range(1 << shape.width)


@pytest.mark.parametrize("sa,sb", [(signed(4), signed(8)), (unsigned(3), signed(6)), (signed(5), unsigned(7)),
                                   (unsigned(4), unsigned(4)), (signed(1), signed(3)), (signed(8), signed(3))])
def test_soft_mul_is_exact(sa, sb):
    a, b = Signal(sa), Signal(sb)
    soft, hard = Signal((a * b).shape()), Signal((a * b).shape())
    m = Module()
    m.d.comb += [soft.eq(mul(m, a, b, 8)), hard.eq(mul(m, a, b, 0))]
    assert soft.shape() == (a * b).shape()
    bad = []

    async def tb(ctx):
        for x in _values(sa):
            for y in _values(sb):
                ctx.set(a, x)
                ctx.set(b, y)
                if ctx.get(soft) != x * y or ctx.get(hard) != x * y:
                    bad.append((x, y, ctx.get(soft)))

    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()
    assert bad == []


def test_soft_mul_threshold():
    """Only a narrow operand of at most ``soft_bits`` bits is built from adders (no ``*`` left)."""
    a, b = Signal(signed(5)), Signal(signed(8))

    def text(x, y, bits):
        m = Module()
        r = mul(m, x, y, bits)
        return repr(r) + repr(Fragment.get(m, None).statements)

    assert "(* " in text(a, b, 4) and "(* " in text(a, b, 0)
    assert "(* " not in text(a, b, 5) and "(* " not in text(b, a, 8)


@pytest.mark.parametrize("signed_out", [True, False])
@pytest.mark.parametrize("rounding", [Rounding.HALF_UP, Rounding.FLOOR])
@pytest.mark.parametrize("stages", [0, 1])
def test_requant_saturates_exactly(signed_out, rounding, stages):
    """``requant`` (variable shift, HALF_UP or FLOOR, saturation to signed or unsigned codes of
    several widths) equals round-then-clamp for every 7-bit input and every shift 0..4."""
    v, var = Signal(signed(7)), Signal(3)
    widths = (1, 2, 3, 4, 6, 8) if signed_out else (1, 2, 3, 5, 7)
    outs = [Signal(signed(w) if signed_out else unsigned(w)) for w in widths]
    m = Module()
    for o, w in zip(outs, widths):
        m.d.comb += o.eq(requant(m, v, ShiftAmt(0, var), rounding, Overflow.SATURATE, w, signed_out, stages=stages))
    bad = []

    def ref(x, s, w):
        r = x >> s if rounding is Rounding.FLOOR or s == 0 else (x + (1 << (s - 1))) >> s
        lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed_out else (0, (1 << w) - 1)
        return min(max(r, lo), hi)

    async def tb(ctx):
        for s in range(5):
            for x in range(-64, 64):
                ctx.set(v, x)
                ctx.set(var, s)
                if stages:
                    await ctx.tick()
                for o, w in zip(outs, widths):
                    if ctx.get(o) != ref(x, s, w):
                        bad.append((x, s, w, ctx.get(o), ref(x, s, w)))

    sim = Simulator(m)
    if stages:
        sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    assert bad == []
