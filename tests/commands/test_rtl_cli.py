"""``hwssm rtl generate`` end to end on a small QModel, and its one-line errors."""

from __future__ import annotations

import json

from hwssm.cli import main
from hwssm.quant.plan import NAMED_PLANS
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel


def test_generate(tmp_path, capsys):
    qpath = save_qmodel(random_qmodel(3, 2, 2, seed=4), tmp_path / "m")
    out = tmp_path / "rtl"
    assert main(["rtl", "generate", "--model", str(qpath), "--lanes", "2", "--out", str(out), "--seq-len", "5",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    man = json.loads((out / "manifest.json").read_text())
    assert summary["lanes"] == man["lanes"] == 2 and man["seq_len"] == 5
    assert summary["cycles_per_digit"] == man["cycles_per_digit"]
    assert (out / "hwssm_core.v").read_text().count("module hwssm_core(") == 1


def test_errors_are_one_line(tmp_path, capsys):
    q16 = save_qmodel(random_qmodel(3, 2, 1, NAMED_PLANS["uniform16"]), tmp_path / "u16")
    q8 = save_qmodel(random_qmodel(3, 2, 1), tmp_path / "u8")
    for argv in (["--model", str(q16), "--lanes", "2"], ["--model", str(q8), "--lanes", "0"],
                 ["--model", str(tmp_path / "missing.qmodel.json"), "--lanes", "1"]):
        assert main(["rtl", "generate", *argv, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("hwssm: error: ") and "\n" not in err
    assert not (tmp_path / "o").exists()
