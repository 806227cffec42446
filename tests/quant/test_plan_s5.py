"""The S5 components of a precision plan: the optional B̄u format (``bu_re``/``bu_im``, code
``-u10`` or ``-u10.8``), in codes and JSON, used by S5 PTQ; S4D plans keep codes, JSON and
digests; percentile calibration for S5."""

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.model.config import S4DConfig
from hwssm.model.s5_config import S5Config
from hwssm.model.s5_network import init_params
from hwssm.quant.calibrate import Calibration
from hwssm.quant.plan import NAMED_PLANS, PrecisionPlan, parse_code, resolve_plan
from hwssm.quant.ptq import ptq
from hwssm.quant.s5_ptq import ptq_s5
from hwssm.quant.spec import Scheme, Spec

#: The codes of the named plans (unchanged by the S5 components).
CODES = {"uniform16": "A16x16-B16C16D16-W16-a16", "uniform8": "A8x8-B8C8D8-W8-a8", "uniform6": "A6x6-B6C6D6-W6-a6",
         "uniform4": "A4x4-B4C4D4-W4-a4", "hetero": "A8x8-B4C4D4-W8-a6"}


def test_s4d_plans_unchanged():
    for name, plan in NAMED_PLANS.items():
        assert plan.code == CODES[name] and not plan.has_s5
        d = plan.to_json()
        assert "bu_re" not in d and "bu_im" not in d
        assert PrecisionPlan.from_json(d) == plan
    assert NAMED_PLANS["hetero"].bu_bits() == (8, 8)


@pytest.mark.parametrize("code, bits", [("A8x12-B4C4D4-W8-a6-u10", (10, 10)), ("A8x12-B4C4D4-W8-a6-u10.8-h", (10, 8)),
                                        ("A8x12-B4C4D4-W8-a6-b12-u6-asym-L0:A6", (6, 6))])
def test_bu_in_codes_and_json(code, bits):
    plan = parse_code(code)
    assert plan.has_s5 and plan.bu_bits() == bits
    assert parse_code(plan.code) == plan and plan.code.count("-u") == 1
    d = plan.to_json()
    assert d["bu_re"]["bits"] == bits[0] and PrecisionPlan.from_json(d) == plan
    assert plan.for_layer(0).bu_bits() == bits


def test_bu_refusals():
    base = NAMED_PLANS["uniform8"].to_json()
    with pytest.raises(ValueError, match="come together"):
        PrecisionPlan.from_json({**base, "bu_re": 8})
    with pytest.raises(ValueError, match="per-tensor symmetric"):
        PrecisionPlan.from_json({**base, "bu_re": {"bits": 8, "granularity": "per_tensor", "scheme": "asymmetric"},
                                 "bu_im": 8})
    with pytest.raises(HwssmError, match="an S4D model has no B̄u"):
        from hwssm.model.checkpoint import init_params as s4d_init

        cfg = S4DConfig(H=2, N=2, L=1)
        ptq(cfg, s4d_init(cfg, 0), resolve_plan("A8x8-W8-a8-u8"), np.zeros((1, 4), np.uint8))
    assert Spec(8).scheme is Scheme.SYMMETRIC


def test_s5_ptq_uses_bu_and_per_layer_plans():
    cfg = S5Config(H=4, P=3, L=2, n_classes=3)
    params = init_params(cfg, 0)
    pix = np.random.default_rng(0).integers(0, 256, (4, 30)).astype(np.uint8)
    qm = ptq_s5(cfg, params, resolve_plan("A8x12-B4C4D4-W8-a6-u10.9-L1:A6x8"), pix)
    assert [(ly.bu_re.width, ly.bu_im.width) for ly in qm.layers] == [(10, 9), (10, 9)]
    assert qm.layers[0].A_re.bits == 8 and qm.layers[1].A_re.bits == 6
    assert qm.layers[0].x_re[0].width == 12 and qm.layers[1].x_re[0].width == 8
    plain = ptq_s5(cfg, params, resolve_plan("A8x12-B4C4D4-W8-a6"), pix)
    assert plain.layers[0].bu_re.width == 12          # without bu: the state's width, as before


def test_s5_percentile_calibration_clips_ranges():
    cfg = S5Config(H=4, P=3, L=1, n_classes=3)
    params = init_params(cfg, 1)
    pix = np.random.default_rng(1).integers(0, 256, (40, 30)).astype(np.uint8)
    mm = ptq_s5(cfg, params, resolve_plan("uniform8"), pix)
    pc = ptq_s5(cfg, params, resolve_plan("uniform8"), pix, method=Calibration.PERCENTILE, percentile=90.0)
    assert pc.meta["calibration"] == "percentile" and pc.meta["percentile"] == 90.0
    fr = lambda qm: [qm.layers[0].y.frac, qm.layers[0].bu_re.frac, *(f.frac for f in qm.layers[0].x_re)]  # noqa: E731
    assert all(p >= m for p, m in zip(fr(pc), fr(mm))) and fr(pc) != fr(mm)
