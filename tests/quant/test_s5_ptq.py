"""PTQ of an S5 checkpoint through the ordinary entry points: an S5QModel from hwssm.quantize,
saved by save_model as an S5 QModel file."""

import numpy as np
import pytest

import hwssm
from hwssm.model.checkpoint import save_checkpoint
from hwssm.model.s5_config import S5Config
from hwssm.model.s5_network import init_params
from hwssm.quant.s5_qmodel import S5QModel

CFG = S5Config(H=4, P=3, L=1, n_classes=10)


def test_quantize_an_s5_checkpoint(tmp_path, capsys):
    path = save_checkpoint(tmp_path / "s5", CFG, init_params(CFG, 0))
    digits = hwssm.Digits(np.random.default_rng(0).integers(0, 256, (2, 30)).astype(np.uint8), np.zeros(2, np.int64))
    qm = hwssm.quantize(str(path), "uniform8", hwssm.PTQOptions(calib_digits=2, data=digits))
    assert isinstance(qm, S5QModel) and qm.P == 3 and len(qm.digest()) == 64
    assert qm.meta["source_checkpoint"] == str(path) and qm.meta["calibration_digits"] == 2
    qp = hwssm.quantize(str(path), "uniform8", hwssm.PTQOptions(calib_digits=2, data=digits, calibration="percentile"))
    assert isinstance(qp, S5QModel) and qp.meta["calibration"] == "percentile"   # S5 percentile calibration now
    assert hwssm.load_model(hwssm.save_model(qm, tmp_path / "q")).digest() == qm.digest()   # S5 files now


def test_s5_qmodel_file_round_trip(tmp_path):
    import json

    from hwssm.golden.s5_engine import run_s5
    from hwssm.quant.plan import resolve_plan
    from hwssm.quant.qmodel_io import load_qmodel, save_qmodel
    from hwssm.quant.s5_ptq import ptq_s5

    cfg = S5Config(H=5, P=3, L=2, n_classes=3)
    pix = np.random.default_rng(1).integers(0, 256, (2, 20)).astype(np.uint8)
    qm = ptq_s5(cfg, init_params(cfg, 1), resolve_plan("A8x12-B4C4D4-W8-a6-h-asym"), pix)
    path = save_qmodel(qm, tmp_path / "s5q")
    doc = json.loads(path.read_text())
    assert doc["family"] == "s5" and doc["digest"] == qm.digest() and doc["P"] == 3
    back = load_qmodel(path)
    assert isinstance(back, S5QModel) and back.digest() == qm.digest() and back.meta == qm.meta
    np.testing.assert_array_equal(run_s5(back, pix).logits, run_s5(qm, pix).logits)
    doc["layers"][0]["y"]["frac"] += 1                     # an edited header: one line
    path.write_text(json.dumps(doc))
    with pytest.raises(hwssm.HwssmError, match="digest mismatch|GELU table") as info:
        load_qmodel(path)
    assert "\n" not in str(info.value)
    doc["glu"] = "quarter"
    path.write_text(json.dumps(doc))
    with pytest.raises(hwssm.HwssmError, match="glu must be one of"):
        load_qmodel(path)


@pytest.mark.parametrize("method", ["minmax", "percentile"])
def test_ranges_through_json_quantize_as_ptq_does(method):
    """ptq_s5 = s5_ranges of one float trace + quantize_s5; the ranges survive JSON exactly, so a
    cached calibration gives the same integers, for every plan (per-head and per-tensor)."""
    import json

    from hwssm.model.s5_network import forward
    from hwssm.quant.calibrate import Calibration
    from hwssm.quant.plan import resolve_plan
    from hwssm.quant.s5_ptq import S5Ranges, ptq_s5, quantize_s5, s5_ranges

    cfg = S5Config(H=5, P=3, L=2, n_classes=3)
    params = init_params(cfg, 2)
    pix = np.random.default_rng(2).integers(0, 256, (3, 40)).astype(np.uint8)
    m = Calibration(method)
    ranges = s5_ranges(forward(params, cfg, pix, trace=True, folded=True)[1], len(pix), m, 99.9)
    back = S5Ranges.from_json(json.loads(json.dumps(ranges.to_json())))
    assert len(back.r) == cfg.L + 1 and back.x_re[1].shape == (cfg.P,) and back.method is m
    for code in ("uniform8", "A8x12-B4C4D4-W8-a6-h-asym", "A8x12-B8C8D8-W8-a8-u16-h"):
        plan = resolve_plan(code)
        qm = quantize_s5(cfg, params, plan, back, {"k": 1})
        assert qm.digest() == ptq_s5(cfg, params, plan, pix, {"k": 1}, m, 99.9).digest()
        assert qm.meta["calibration"] == method and qm.meta["calibration_digits"] == 3
    with pytest.raises(hwssm.HwssmError, match="do not fit a model of L=1"):   # ranges of another model
        quantize_s5(S5Config(H=5, P=3, L=1, n_classes=3), init_params(S5Config(H=5, P=3, L=1, n_classes=3), 0),
                    resolve_plan("uniform8"), back)
