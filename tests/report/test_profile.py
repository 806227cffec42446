"""The per-layer profile (hwssm/report/profile_stats.py, profile.py, ``hwssm report profile``) on a tiny model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwssm.cli import main
from hwssm.fixed import QFormat
from hwssm.model.checkpoint import init_params, save_checkpoint
from hwssm.model.config import S4DConfig
from hwssm.quant.plan import resolve_plan
from hwssm.quant.ptq import ptq
from hwssm.report.profile import write_profile_report
from hwssm.report.profile_stats import _act, _profile, profile_model

CONFIG = S4DConfig(H=4, N=4, L=2, n_classes=10)


def _pixels(n=3, T=16):
    return np.random.default_rng(1).integers(0, 256, (n, T)).astype(np.uint8)


def test_clipped_and_zeroed_are_counted_exactly():
    rng = np.random.default_rng(0)
    # s4 frac 2: codes -8..7 stand for -2 .. 1.75 in steps of 0.25
    v = np.array([0.0, 0.1, -0.1, 0.2, 1.75, 1.9, -2.0, -2.2, 5.0, 0.5])
    p = _act("0", "y", v, QFormat(4, 2, True), rng)
    assert p.clipped == pytest.approx(3 / 10)  # 1.9 rounds to code 8 > 7; -2.2 to -9; 5.0
    assert p.zeroed == pytest.approx(2 / 9)  # 0.1 and -0.1 of the 9 non-zero values (0.2 rounds to 0.25)
    assert (p.step_lo, p.top_hi) == (0.25, 2.0) and p.fmt == "s4 frac 2" and p.n == 10
    # per row: row 1 has frac 0 (step 1), so its 0.4 rounds to zero; an asymmetric zero point moves the range
    q = _profile("0", "W", "weight", np.array([[0.4, 0.4], [0.4, 0.4]]), 4, True, np.array([[2], [0]]),
                 np.array([[0], [0]]), rng)
    assert q.zeroed == pytest.approx(0.5) and q.fmt == "s4 frac 0..2" and q.step_lo == 0.25 and q.step_hi == 1.0
    u = _profile("0", "b", "weight", np.array([-1.0, 3.0, 4.0]), 3, False, np.array(0), np.array(4), rng)
    assert u.clipped == pytest.approx(1 / 3)  # codes 0..7 minus zero 4: -4..3


def test_profile_of_a_tiny_model(tmp_path):
    params = init_params(CONFIG, seed=3)
    pix = _pixels()
    qm = ptq(CONFIG, params, resolve_plan("uniform4"), pix)
    profiles = profile_model(qm, CONFIG, params, pix, state_digits=1)
    names = [(p.block, p.name) for p in profiles]
    assert names[:2] == [("enc", "W"), ("enc", "b")] and names[-2:] == [("dec", "W"), ("dec", "b")]
    for l in ("0", "1"):
        for n in ("A_re", "B_im", "C_re", "D", "W", "b", "y", "g", "v", "z", "r_out", "x_re", "x_im"):
            assert (l, n) in names
    x = next(p for p in profiles if p.name == "x_re")
    assert x.n == 16 * 4 * 2  # one digit's states: T x H x M
    assert all(0 <= p.clipped <= 1 and 0 <= p.zeroed <= 1 for p in profiles)
    # 4-bit weights: some of the B̄ values are too small for their row's resolution
    assert any(p.zeroed > 0 for p in profiles if p.kind == "weight")
    paths = write_profile_report(profiles, tmp_path / "out", model="tiny", digits=3, data="smnist")
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert (tmp_path / "out" / "profile_0.png").is_file() and (tmp_path / "out" / "profile_dec.png").is_file()
    md = (tmp_path / "out" / "profile.md").read_text()
    assert "| 0 | B_re | weight | s4 frac" in md and "rounded to 0" in md
    data = json.loads((tmp_path / "out" / "profile.json").read_text())
    assert len(data["tensors"]) == len(profiles)


def test_command(tmp_path, capsys):
    ckpt = save_checkpoint(tmp_path / "tiny", CONFIG, init_params(CONFIG, seed=3))
    assert main(["report", "profile", "--model", str(ckpt), "--plan", "uniform8", "--calib-digits", "4",
                 "--out", str(tmp_path / "p")]) == 0
    assert "most clipped" in capsys.readouterr().out
    rows = json.loads((tmp_path / "p" / "profile.json").read_text())["tensors"]
    assert {r["fmt"].split(" ")[0] for r in rows if r["name"] in ("W", "A_re", "B_re", "C_re", "D")} == {"s8"}
    # a float checkpoint without a plan, and no --out: one line, exit 2
    assert main(["report", "profile", "--model", str(ckpt), "--out", str(tmp_path / "q")]) == 2
    assert main(["report", "profile", "--model", str(ckpt), "--plan", "uniform8"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("hwssm: error: ")
