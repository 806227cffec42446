"""S5 QAT: the torch integer forward equals the S5 golden engine bit for bit, before and after a
few CPU training steps, for each Λ̄ parameterization; the export is that model."""

import numpy as np
import pytest
import torch

from hwssm.golden.s5_engine import run_s5
from hwssm.model.s5_config import Glu, Norm, S5Config
from hwssm.model.s5_network import forward, init_params
from hwssm.quant.plan import resolve_plan
from hwssm.quant.s5_ptq import ptq_s5
from hwssm.train.qat_model import AParam
from hwssm.train.qat_s5_model import S5QATModel, build_s5_frame

T = 24


def _bn_params(cfg, seed):
    """Random params with a non-trivial BatchNorm (so the fold matters)."""
    p = init_params(cfg, seed)
    rng = np.random.default_rng(seed)
    for k in p:
        if "norm_" in k:
            p[k] = (rng.uniform(0.5, 1.5, p[k].shape) if k.endswith(("scale", "var"))
                    else rng.normal(0, 0.2, p[k].shape))
    return p


def _check_exact(model, pix):
    qm = model.to_qmodel()
    with torch.no_grad():
        _, tr = model(torch.as_tensor(pix), trace=True)
    ref = run_s5(qm, pix, trace=True)
    np.testing.assert_array_equal(tr.logits, ref.logits)
    assert tr.logit_frac == ref.logit_frac
    for name in ("r", "bu", "x", "y", "v"):
        np.testing.assert_array_equal(getattr(tr, name), getattr(ref, name), err_msg=name)
    return qm


@pytest.mark.parametrize("cfg, code, aparam", [
    (S5Config(H=5, P=4, L=2, n_classes=3), "uniform8", AParam.CONTINUOUS),
    (S5Config(H=4, P=3, L=1, n_classes=3, glu=Glu.FULL), "A8x12-B4C4D4-W8-a6-h-asym", AParam.DISCRETE),
    (S5Config(H=4, P=5, L=2, n_classes=4, norm=Norm.NONE), "A6x8-B6C6D6-W6-a6-floor", AParam.FROZEN),
    (S5Config(H=3, P=3, L=1, n_classes=3, glu=Glu.FULL), "A8x6-B4C4D4-W4-a4-h-wrap", AParam.CONTINUOUS),
])
def test_qat_forward_equals_golden_before_and_after_training(cfg, code, aparam):
    torch.manual_seed(0)
    params = _bn_params(cfg, 1)
    rng = np.random.default_rng(2)
    pix = rng.integers(0, 256, (6, T)).astype(np.uint8)
    labels = torch.as_tensor(rng.integers(0, cfg.n_classes, 6))
    template = ptq_s5(cfg, params, resolve_plan(code), pix)
    model = S5QATModel(build_s5_frame(template, T), cfg, params, aparam)
    q0 = _check_exact(model, pix)
    if aparam is not AParam.CONTINUOUS:   # the starting codes are the PTQ codes
        assert q0.digest() == template.digest()
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    x = torch.as_tensor(pix)
    for _ in range(4):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
    q1 = _check_exact(model, pix)
    assert q1.digest() != q0.digest()          # training changed codes
    if aparam is AParam.FROZEN:
        for a, b in zip(q1.layers, template.layers):
            np.testing.assert_array_equal(a.A_re.codes, b.A_re.codes)


def test_continuous_start_is_the_ptq_model_up_to_rounding_of_the_discretization():
    cfg = S5Config(H=4, P=3, L=1, n_classes=3)
    params = _bn_params(cfg, 3)
    pix = np.random.default_rng(4).integers(0, 256, (3, T)).astype(np.uint8)
    template = ptq_s5(cfg, params, resolve_plan("uniform8"), pix)
    model = S5QATModel(build_s5_frame(template, T), cfg, params, AParam.CONTINUOUS)
    qm = model.to_qmodel()
    for a, b in zip(qm.layers, template.layers):
        for n in ("A_re", "A_im", "B_re", "B_im", "C_re", "D"):
            assert np.abs(getattr(a, n).codes - getattr(b, n).codes).max() <= 1, n


def test_hwssm_qat_dispatches_an_s5_checkpoint(tmp_path, capsys):
    import json

    import hwssm
    from hwssm.cli import main
    from hwssm.model.checkpoint import save_checkpoint
    from hwssm.quant.s5_qmodel import S5QModel

    cfg = S5Config(H=4, P=3, L=1, n_classes=10)
    ckpt = save_checkpoint(tmp_path / "s5", cfg, _bn_params(cfg, 5))
    out = tmp_path / "qat"
    argv = ["qat", "--model", str(ckpt), "--plan", "uniform8", "--param", "discrete", "--out", str(out),
            "--work", str(tmp_path / "w"), "--epochs", "1", "--batch-size", "4", "--train-limit", "8",
            "--val-limit", "4", "--test-limit", "4", "--window", "16", "--calib-digits", "8", "--device", "cpu"]
    assert main(argv) == 0
    assert "S5 QAT run" in capsys.readouterr().out
    qm = hwssm.load_model(out.with_name("qat.qmodel.json"))
    assert isinstance(qm, S5QModel) and qm.meta["quantization"] == "qat"
    res = json.loads(out.with_name("qat.result.json").read_text())
    assert res["golden_qat_logits_equal"] == 1.0 and res["golden_digits"] == 4
    assert main(argv[:-2] + ["--calibration", "percentile", "--work", str(tmp_path / "w2"), "--out",
                             str(tmp_path / "qp"), "--epochs", "1"]) == 0
    assert hwssm.load_model(tmp_path / "qp.qmodel.json").meta["calibration"] == "percentile"
