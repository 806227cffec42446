"""Tiny S4D designs with LayerNorm (ARITHMETIC.md §7, prenorm and postnorm) in Verilator:
bit-exact against the golden engine on real MNIST digits, every layer output of every step,
and the measured digit period equal to the cycle model's."""

from __future__ import annotations

import pytest

from hwssm.hw.options import DesignPoint
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.verify.simulate import Digits, SimOptions, simulate


@pytest.mark.verilator
@pytest.mark.parametrize("prenorm, P", [(True, 2), (False, 1)], ids=["prenorm-P2", "postnorm-P1"])
def test_a_layernorm_design_is_bit_exact(prenorm, P):
    qm = random_qmodel(4, 2, 2, seed=5, prenorm=prenorm)
    assert qm.has_norm
    res = simulate(qm, DesignPoint(P), Digits.mnist_test([0, 7]), SimOptions(jobs=1))
    assert res.ok and res.digits == 2 and res.mismatches == 0 and res.errors == ()
    assert res.cycles_per_digit == res.model_cycles_per_digit
