"""``hwssm flow --model <S5 QModel>`` (issue 15): golden accuracy, the S5 core bit-exact in Verilator
against the golden S5 engine on a real test digit, and Yosys + nextpnr of the ECP5 design (one
place-and-route); the UP5K design (its build profile stores the parameters in LOAD RAMs) is
built and placed too: on this model's 8-bit weights it needs more multipliers than the UP5K has,
which the flow records as that design's one-line result and goes on."""

from __future__ import annotations

import json

import pytest

from hwssm.cli import main
from hwssm.model.s5_config import S5Config
from hwssm.quant.qmodel_io import save_qmodel

from .hw.s5_models import s5_model


@pytest.mark.verilator
@pytest.mark.synth
@pytest.mark.slow
def test_flow_of_an_s5_qmodel(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    q = save_qmodel(s5_model(S5Config(H=4, P=3, L=1), "A8x12-B8C8D8-W8-a8-h"), tmp_path / "m" / "s5")
    assert main(["flow", "--out", str(tmp_path / "out"), "--model", str(q), "--sim-digits", "1", "--limit", "20",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [s["status"] for s in summary["stages"]] == ["done"] * 7
    data = json.loads((tmp_path / "out" / "flow.json").read_text())
    assert data["golden"]["digits"] == 20 and 0 <= data["golden"]["accuracy"] <= 1
    sim = data["sim"]
    assert sim["ok"] and sim["digits"] == 1 and sim["mismatches"] == 0
    assert sim["cycles_per_digit"] == sim["model_cycles_per_digit"] == data["designs"]["sim"]["cycles_per_digit"]
    ecp5 = data["synth"]["ecp5-25k"]
    assert ecp5["fits"] and ecp5["lut"] > 0 and ecp5["dsp"] > 0 and ecp5["fmax_mhz"] > 0
    assert ecp5["lanes"] == 2 and ecp5["cycles_per_digit"] == data["designs"]["ecp5"]["cycles_per_digit"]
    assert (tmp_path / "out" / "rtl" / "ecp5_P2" / "hwssm_core.v").is_file()
    up5k = data["synth"]["up5k"]
    assert data["designs"]["up5k"]["cycles_per_digit"] > 0 and up5k["profile"]["storage"] == "load"
    assert up5k["error"].startswith("design does not fit up5k: ICESTORM_DSP ") and "\n" not in up5k["error"]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| ecp5-25k | 2 |" in md and "0 mismatches" in md
