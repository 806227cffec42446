"""The estimator prices the LayerNorm unit (hwssm.hw.cost.layernorm): its blocks appear, cost
LUTs, flip-flops and multipliers, and grow with H; a core without LayerNorm is priced as before."""

import pytest

from hwssm.hw.cost.estimate import estimate, inventory
from hwssm.hw.cost.layernorm import layernorm_blocks
from hwssm.hw.derive import derive
from hwssm.hw.options import DesignPoint
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.targets.registry import device


def _ln(est):
    return [(b, r) for b, r in est.blocks if "LayerNorm" in b.name or b.name.startswith(("ρ", "d", "cg", "ν", "S1",
                                                                                        "V ", "x²", "S2", "mantissa", "ε"))]


@pytest.mark.parametrize("prenorm", [True, False])
def test_layernorm_unit_is_priced_and_scales(prenorm):
    dev, d = device("ecp5-25k"), DesignPoint(2, 16)
    plain = estimate(random_qmodel(4, 2, 2, seed=0), d, dev)
    small = estimate(random_qmodel(4, 2, 2, seed=0, prenorm=prenorm), d, dev)
    big = estimate(random_qmodel(16, 2, 2, seed=0, prenorm=prenorm), d, dev)
    names = [b.name for b in inventory(random_qmodel(4, 2, 2, seed=0, prenorm=prenorm), d)]
    for unit in ("LayerNorm input RAM", "ρ recurrence adders", "d·H·ρ multiplier", "cg·ν multiplier",
                 "LayerNorm requant"):
        assert unit in names
    assert ("LayerNorm pool adder" in names) is (not prenorm)
    ln = sum((r for _, r in _ln(small)), start=type(small.total)())
    assert ln.lut > 100 and ln.ff > 100 and ln.dsp >= 3
    assert small.total.lut > plain.total.lut + 100 and small.total.ff > plain.total.ff
    assert small.total.dsp >= plain.total.dsp + 3
    ln_big = sum((r for _, r in _ln(big)), start=type(big.total)())
    assert ln_big.lut > ln.lut and ln_big.ff > ln.ff


def test_no_layernorm_no_blocks():
    assert layernorm_blocks(derive(random_qmodel(4, 2, 2, seed=0), DesignPoint(2, 16))) == []
