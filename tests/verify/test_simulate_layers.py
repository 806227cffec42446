"""A tiny per-layer-precision design (blocks with different Ā, x, B̄, C̄, D, W widths) in
Verilator: bit-exact against the golden engine on real MNIST digits, every layer output; and
blocks with different activation widths."""

from __future__ import annotations

import pytest

from hwssm.hw.options import DesignPoint
from hwssm.quant.plan import plan_with_overrides
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.verify.simulate import Digits, SimOptions, simulate


@pytest.mark.verilator
@pytest.mark.parametrize("extreme", [False, True])
def test_a_per_layer_precision_design_is_bit_exact(extreme):
    plan = plan_with_overrides("A8x10-B4C4D4-W6-a6", {0: {"A_re": 5, "B": 7, "x_im": 7},
                                                      1: {"C": 7, "D": 3, "weight": 4, "x_re": 6}})
    assert plan.code == "A8x10-B4C4D4-W6-a6-L0:A5.8x10.7B7-L1:x6.10C7D3W4"
    qm = random_qmodel(3, 2, 2, plan, seed=4, extreme=extreme)
    assert [ly.B_re.bits for ly in qm.layers] == [7, 4] and [ly.W.bits for ly in qm.layers] == [6, 4]
    res = simulate(qm, DesignPoint(2), Digits.mnist_test([0, 7]), SimOptions(jobs=1))
    assert res.ok and res.digits == 2 and res.mismatches == 0 and res.errors == ()
    assert res.cycles_per_digit == res.model_cycles_per_digit


@pytest.mark.verilator
@pytest.mark.parametrize("P, base, act", [(1, "A8x10-B4C4D4-W6-a8", {1: {"act": 5}}),
                                          (2, "A8x10-B4C4D4-W6-a6", {0: {"act": 8}})])
def test_a_per_layer_activation_width_design_is_bit_exact(P, base, act):
    # block 1 narrower than the rest (its y, v, z, r fitted to 5 bits in the a = 8 datapath), or
    # block 0 wider than R_0 (the encoder's 6-bit codes sign-extended); extreme models saturate
    plan = plan_with_overrides(base, act)
    qm = random_qmodel(3, 2, 2, plan, seed=6, extreme=True)
    assert len({ly.y.width for ly in qm.layers} | {qm.r0.width}) == 2
    res = simulate(qm, DesignPoint(P), Digits.mnist_test([0, 7]), SimOptions(jobs=1))
    assert res.ok and res.digits == 2 and res.mismatches == 0 and res.errors == ()
    assert res.cycles_per_digit == res.model_cycles_per_digit
