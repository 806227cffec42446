"""The per-layer profile of S5 QModels (hwssm/report/profile_s5.py, ``hwssm report profile``):
every S5 tensor against its format; on the calibration digits themselves a min-max PTQ clips nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwssm.cli import main
from hwssm.errors import HwssmError
from hwssm.model.checkpoint import init_params, save_checkpoint
from hwssm.model.config import S4DConfig
from hwssm.model.s5_config import S5Config
from hwssm.quant.plan import resolve_plan
from hwssm.quant.ptq import ptq
from hwssm.report.profile_stats import profile_model

CONFIG = S5Config(H=4, P=3, L=2, n_classes=10)
T = 16


def _pixels(n=3):
    return np.random.default_rng(1).integers(0, 256, (n, T)).astype(np.uint8)


def test_profile_of_a_tiny_s5_model():
    params = init_params(CONFIG, seed=3)
    pix = _pixels()
    qm = ptq(CONFIG, params, resolve_plan("A8x12-B6C6D6-W6-a8-u10-h"), pix)
    profiles = profile_model(qm, CONFIG, params, pix, state_digits=2, batch=2)
    names = [(p.block, p.name) for p in profiles]
    assert names[:2] == [("enc", "W"), ("enc", "b")] and names[-2:] == [("dec", "W"), ("dec", "b")]
    per_block = ("A_re", "A_im", "B_re", "B_im", "beta_re", "beta_im", "C_re", "C_im", "D", "delta", "W", "b",
                 "bu_re", "bu_im", "y", "g", "v", "z", "r_out", "x_re", "x_im")
    assert len(names) == 4 + CONFIG.L * len(per_block) and len(set(names)) == len(names)
    assert all((str(l), n) in names for l in range(CONFIG.L) for n in per_block)
    by = {(p.block, p.name): p for p in profiles}
    assert by[("0", "x_re")].n == 2 * T * CONFIG.P                  # two digits' states: T x P
    assert by[("0", "bu_im")].n == 3 * T * CONFIG.P and by[("1", "y")].n == 3 * T * CONFIG.H
    assert by[("0", "B_re")].n == CONFIG.P * CONFIG.H and by[("0", "C_im")].n == CONFIG.H * CONFIG.P
    assert by[("0", "bu_re")].fmt.startswith("s10") and by[("1", "x_im")].fmt.startswith("s12")
    # min-max PTQ on these very digits: every range covers its values
    assert all(p.clipped == 0 for p in profiles), [(p.block, p.name, p.clipped) for p in profiles if p.clipped]
    with pytest.raises(HwssmError, match="not an S5 model"):
        profile_model(qm, S4DConfig(H=4, N=6, L=2), params, pix)


def test_command_on_an_s5_qmodel_and_checkpoint(tmp_path, capsys):
    ckpt = save_checkpoint(tmp_path / "s5", CONFIG, init_params(CONFIG, seed=3))
    assert main(["ptq", "--model", str(ckpt), "--plan", "uniform8", "--out", str(tmp_path / "q"),
                 "--calib-digits", "4"]) == 0
    for model, out in (([str(tmp_path / "q.qmodel.json")], "a"), ([str(ckpt), "--plan", "uniform8"], "b")):
        capsys.readouterr()
        assert main(["report", "profile", "--model", *model, "--calib-digits", "4", "--out", str(tmp_path / out)]) == 0
        assert "most clipped" in capsys.readouterr().out
        rows = json.loads((tmp_path / out / "profile.json").read_text())["tensors"]
        assert {r["name"] for r in rows} >= {"beta_re", "delta", "bu_re", "x_im"}
        assert (tmp_path / out / "profile_1.png").is_file()
    # the QModel and the checkpoint PTQ'd on the same digits: the same formats, the same counts
    assert json.loads((tmp_path / "a" / "profile.json").read_text())["tensors"] == \
        json.loads((tmp_path / "b" / "profile.json").read_text())["tensors"]
