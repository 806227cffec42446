"""``hwssm estimate``: text and JSON output, the JSON schema, one-line errors, and that its
figures are those of :func:`hwssm.hw.cost.estimate` and the cycle model for the same inputs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from hwssm import targets
from hwssm.cli import main
from hwssm.hw.cost import estimate
from hwssm.hw.cycle_model import cycles_per_digit, cycles_per_step
from hwssm.hw.options import DesignPoint, ParamStorage, Pipeline
from hwssm.quant.plan import parse_code
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel

RESOURCE_KEYS = {"estimate", "low", "high", "available"}
POINT_KEYS = {"device", "part", "design", "design_key", "synth", "resources", "error_band", "fits", "over",
              "cycles_per_step", "cycles_per_sequence", "clock_mhz", "step_us", "latency_ms", "sequences_per_s",
              "lut_by_component", "estimator_version", "seconds"}


@pytest.fixture(scope="module")
def qm():
    return random_qmodel(8, 4, 2, plan=parse_code("A8x10-B4C4D4-W8-a6"), seed=3)


@pytest.fixture(scope="module")
def qpath(qm, tmp_path_factory):
    return save_qmodel(qm, tmp_path_factory.mktemp("est") / "m")


def _json(capsys, argv):
    assert main(["estimate", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_schema_and_equality_with_the_estimator(qm, qpath, capsys):
    doc = _json(capsys, ["--model", str(qpath), "--device", "up5k,ecp5-25k,hx8k", "--lanes", "1,2", "--seq-len", "20"])
    assert doc["format"] == "hwssm-estimate" and doc["version"] == 1
    assert doc["model"]["digest"] == qm.digest() and (doc["model"]["H"], doc["model"]["L"]) == (8, 2)
    assert [(p["device"], p["design"]["lanes"]) for p in doc["points"]] == [
        (d, p) for d in ("up5k", "ecp5-25k", "hx8k") for p in (1, 2)]
    for pt in doc["points"]:
        assert set(pt) == POINT_KEYS
        assert set(pt["resources"]) == {"lut", "ff", "dsp", "bram", "spram"}
        dev = targets.device(pt["device"])
        # without --profile every device is built as its build profile
        design = dev.profile.design(pt["design"]["lanes"], 20)
        assert DesignPoint.from_json(pt["design"]) == design and pt["design_key"] == design.key()
        total = estimate(qm, design, dev, dsp=dev.profile.dsp, spram=dev.profile.spram).total
        e = total.rounded()
        band = dev.family.error_band
        for r, v in pt["resources"].items():
            assert set(v) == RESOURCE_KEYS
            assert v["estimate"] == e[r]
            if r in ("lut", "ff"):
                lo, hi = getattr(band, r)
                assert v["low"] == round(getattr(total, r) / (1 + hi)) and v["high"] == round(getattr(total, r) / (1 + lo))
                assert v["low"] < v["high"]
            else:
                assert v["low"] == v["high"] == v["estimate"]
        assert pt["resources"]["lut"]["available"] == dev.lut4 and pt["resources"]["dsp"]["available"] == dev.dsp
        assert pt["error_band"]["lut"] == list(band.lut) and pt["error_band"]["dsp"] == 0
        assert pt["cycles_per_step"] == cycles_per_step(qm, design)
        assert pt["cycles_per_sequence"] == cycles_per_digit(qm, design)
        assert pt["clock_mhz"] == dev.default_freq_mhz
        assert pt["latency_ms"] == pytest.approx(pt["cycles_per_sequence"] / (dev.default_freq_mhz * 1e3))
        assert pt["fits"] in ("yes", "no", "borderline")
        assert pt["seconds"] > 0  # reported; the 1 s target is a benchmark (hwssm bench estimate), not a test


def test_design_options_clock_and_profile(qm, qpath, capsys):
    doc = _json(capsys, ["--model", str(qpath), "--device", "ecp5-25k", "--lanes", "2", "--seq-len", "20",
                         "--profile", "up5k", "--mix-cols", "8", "--clock-mhz", "50"])
    pt, = doc["points"]
    design = DesignPoint(2, 20, dataclasses.replace(Pipeline.closure(), mix_cols=8), ParamStorage.LOAD, 4)
    assert DesignPoint.from_json(pt["design"]) == design
    assert pt["resources"]["lut"]["estimate"] == round(estimate(qm, design, targets.ECP5_25K).total.lut)
    assert pt["clock_mhz"] == 50.0
    assert pt["latency_ms"] == pytest.approx(cycles_per_digit(qm, design) / 50e3)


def test_text_output_shows_the_band(qpath, capsys):
    assert main(["estimate", "--model", str(qpath), "--device", "up5k", "--lanes", "1", "--seq-len", "20"]) == 0
    out = capsys.readouterr().out
    lo, hi = targets.ICE40.error_band.lut
    assert f"error band {100 * lo:+.1f}% .. {100 * hi:+.1f}%" in out
    for word in ("LUT4", "FF", "DSP", "BRAM", "SPRAM", "fits", "per step", "per sequence", "ms per sequence", "48 MHz"):
        assert word in out


def test_a_point_that_does_not_fit(qpath, capsys):
    doc = _json(capsys, ["--model", str(qpath), "--device", "up5k", "--lanes", "8", "--seq-len", "20"])
    pt, = doc["points"]
    assert pt["fits"] == "no" and pt["over"] and pt["over"][0].startswith(("lut", "ff", "dsp", "bram", "spram"))


@pytest.mark.parametrize("argv", [
    ["--device", "nosuch"],
    ["--device", "up5k", "--lanes", "0"],
    ["--device", "up5k", "--lanes", "1,x"],
    ["--device", "up5k", "--lanes", "2000"],
    ["--device", "up5k", "--clock-mhz", "0"],
    ["--device", "up5k", "--mul-stages", "0"],
])
def test_bad_input_is_one_line_exit_2(qpath, capsys, argv):
    assert main(["estimate", "--model", str(qpath), *argv]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("hwssm: error: ") and "\n" not in err and captured.out == ""


def test_bench_estimate_prints_points_per_second(capsys):
    assert main(["bench", "estimate", "--lanes", "1,2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["points"] == 2 * len(targets.devices()) and res["lanes"] == [1, 2]
    assert res["points_per_s"] > 0 and res["warm_points_per_s"] > 0 and res["max_point_s"] > 0
    assert res["target_s_per_point"] == 1.0
    assert res["family"] == "s4d" and res["model"].endswith(" H=64 N=64 L=4")   # the shipped model by default
    assert main(["bench", "estimate", "--lanes", "0"]) == 2
    assert capsys.readouterr().err.startswith("hwssm: error: ")


def test_bench_estimate_takes_an_s5_qmodel(capsys, tmp_path):
    """--model: any QModel (here the tiny trained S5 of tests/hw/cost/data, H=8, P=5, L=2), described
    by its own size; a float checkpoint is refused in one line."""
    from pathlib import Path

    from hwssm.explore.estimate_point import estimate_point
    from hwssm.quant.qmodel_io import load_qmodel

    path = Path(__file__).parents[1] / "hw" / "cost" / "data" / "s5tiny_ecp5.qmodel.json"
    qm = load_qmodel(path)
    assert main(["bench", "estimate", "--model", str(path), "--lanes", "2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["path"] == str(path) and res["family"] == "s5" and (res["H"], res["P"], res["L"]) == (8, 5, 2)
    assert res["model"] == f"{qm.plan.name} H=8 P=5 L=2" and "N" not in res
    assert res["state_bits"] == qm.state_bits and res["macs_per_step"] == qm.macs_per_step
    assert res["points"] == len(targets.devices()) and res["lanes"] == [2] and res["points_per_s"] > 0
    pe = estimate_point(qm, targets.ECP5_25K.profile.design(2), targets.ECP5_25K)   # what it timed: the S5 pricing
    assert pe.counts()["lut"] > 0 and pe.cycles_per_sequence > 0
    checkpoint = Path(__file__).parents[1] / "verify" / "data" / "s5tiny.json"
    assert main(["bench", "estimate", "--model", str(checkpoint), "--lanes", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwssm: error: ") and "needs a QModel" in err and err.count("\n") == 1
    assert main(["bench", "estimate", "--model", str(tmp_path / "missing.qmodel.json"), "--lanes", "1"]) == 2
    assert capsys.readouterr().err.startswith("hwssm: error: ")
