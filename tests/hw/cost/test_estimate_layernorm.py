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


#: Yosys + nextpnr on ECP5-25K (hwssm.synth.synthesize, this version's Verilog) of
#: random_qmodel(8, 4, 1, A8x8-W8-a8, seed 0) at P = 2, with a prenorm LayerNorm and without:
#: the LayerNorm unit adds 1298 LUT4 (LUT4 cells + 2 per CCU2C), 681 FF and 5 MULT18
#: (fmax 93.9 MHz with it, 95.3 MHz without).
MEASURED_ECP5 = {True: {"lut": 2300, "carry": 572, "ff": 2223, "dsp": 25},
                 None: {"lut": 1502, "carry": 322, "ff": 1542, "dsp": 20}}


def test_layernorm_estimate_against_yosys_measurement():
    from hwssm import targets
    from hwssm.explore.sweep import measured_lut
    from hwssm.hw.cost.estimate import lut_error
    from hwssm.quant.plan import parse_code

    dev = targets.ECP5_25K
    for prenorm, hw in MEASURED_ECP5.items():
        q = random_qmodel(8, 4, 1, plan=parse_code("A8x8-W8-a8"), seed=0, prenorm=prenorm)
        e = estimate(q, DesignPoint(2), dev)
        assert abs(lut_error(e.total.lut, measured_lut(hw, dev))) <= 0.15, prenorm
        assert e.total.dsp == hw["dsp"]
        assert abs(e.total.ff - hw["ff"]) <= 0.1 * hw["ff"]


@pytest.mark.synth
@pytest.mark.slow
def test_layernorm_core_lut_estimate_within_tolerance_of_yosys(tmp_path, monkeypatch):
    """The prenorm core above through Yosys on ECP5: the LUT4 estimate within ±15 %."""
    from hwssm import targets
    from hwssm.explore.sweep import measured_lut
    from hwssm.hw.cost.estimate import lut_error
    from hwssm.hw.emit import generate
    from hwssm.quant.plan import parse_code
    from hwssm.synth import synthesize

    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    q = random_qmodel(8, 4, 1, plan=parse_code("A8x8-W8-a8"), seed=0, prenorm=True)
    generate(q, DesignPoint(2), tmp_path / "rtl")
    hw = synthesize(tmp_path / "rtl", targets.ECP5_25K).summary()
    err = lut_error(estimate(q, DesignPoint(2), targets.ECP5_25K).total.lut, measured_lut(hw, targets.ECP5_25K))
    assert abs(err) <= 0.15, err
