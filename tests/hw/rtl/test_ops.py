"""``hwssm.hw.rtl.ops.mul``: the LUT-adder product equals ``a * b`` for every operand pair."""

from __future__ import annotations

import pytest
from amaranth.hdl import Fragment, Module, Signal, signed, unsigned
from amaranth.sim import Simulator

from hwssm.hw.rtl.ops import mul


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
