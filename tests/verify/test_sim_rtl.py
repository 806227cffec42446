"""``hwssm sim --rtl DIR``: simulate an existing RTL directory (no generation), checked against the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwssm.cli import main
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "rtl" / "hetero_P16"
HETERO = ROOT / "models" / "s4d_hetero.qmodel.json"
QAT8 = ROOT / "models" / "s4d_qat8.qmodel.json"


def _one_error_line(capsys) -> str:
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hwssm: error: ")
    return lines[0]


@pytest.mark.skipif(not (COMMITTED / "manifest.json").is_file() or not QAT8.is_file(), reason="needs rtl/ and models/")
def test_rtl_of_another_model_exits_2_with_one_line(capsys):
    assert main(["sim", "--model", str(QAT8), "--rtl", str(COMMITTED), "--digits", "1"]) == 2
    assert "generated from another model" in _one_error_line(capsys)


@pytest.mark.skipif(not (COMMITTED / "manifest.json").is_file() or not HETERO.is_file(), reason="needs rtl/ and models/")
def test_rtl_lanes_must_agree(capsys):
    assert main(["sim", "--model", str(HETERO), "--rtl", str(COMMITTED), "--lanes", "4", "--digits", "1"]) == 2
    assert "differs from the 16 lanes" in _one_error_line(capsys)


def test_lanes_or_rtl_is_required(capsys):
    assert main(["sim", "--model", str(HETERO), "--digits", "1"]) == 2
    assert "--lanes is required" in _one_error_line(capsys)


def test_rtl_directory_must_exist(tmp_path, capsys):
    assert main(["sim", "--model", str(HETERO), "--rtl", str(tmp_path / "nope"), "--digits", "1"]) == 2
    _one_error_line(capsys)


@pytest.mark.verilator
def test_sim_of_an_existing_rtl_directory(tmp_path, capsys):
    from hwssm.hw.options import DesignPoint
    from hwssm.verify.rtlgen import rtl_dir

    qm = random_qmodel(3, 2, 1, seed=21)
    model = save_qmodel(qm, tmp_path / "m")
    rtl = rtl_dir(qm, DesignPoint(2))
    assert main(["sim", "--model", str(model), "--rtl", str(rtl), "--indices", "0,5", "--jobs", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["digits"] == 2 and out["lanes"] == 2 and out["rtl"] == str(rtl)
    assert out["cycles_per_digit"] == out["model_cycles_per_digit"]
