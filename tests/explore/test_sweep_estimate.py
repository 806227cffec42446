"""``hwssm sweep --estimate-only``: hardware points from the estimator (no synthesis), their
fields equal :func:`hwssm.explore.estimate_point.estimate_point`, the results file keeps its
schema, and ``--lanes`` without ``--devices`` then covers every device."""

from __future__ import annotations

import json

import pytest

from hwssm import targets
from hwssm.cli import main
from hwssm.explore.cache import RecordKind
from hwssm.explore.estimate_point import estimate_point
from hwssm.explore.spec import SweepSpec
from hwssm.explore.sweep import load_results, run_sweep
from hwssm.quant.plan import NAMED_PLANS
from hwssm.quant.resolve import resolve_model
from hwssm.synth.profile import device_profile

from .conftest import CALIB, LIMIT

PLANS = (NAMED_PLANS["uniform8"], NAMED_PLANS["hetero"])
DEVICES = (targets.UP5K, targets.ECP5_25K)


def test_estimate_only_points(tiny_checkpoint, cache, tmp_path):
    spec = SweepSpec(model=tiny_checkpoint, plans=PLANS, lanes=(1, 2), devices=DEVICES, limit=LIMIT, calib_digits=CALIB)
    res = run_sweep(spec, cache=cache, estimate_only=True)
    assert len(res.points) == len(PLANS) * 2 * len(DEVICES) and res.failed == 0
    assert res.computed == len(PLANS)  # accuracy records only
    assert not list(cache.root.glob(f"{RecordKind.HARDWARE.value}/*.json"))  # nothing synthesized or stored
    for p in res.points:
        assert p["hardware"] == "estimate" and p["status"] == "estimated"
        assert "lut" not in p and "fmax_mhz" not in p  # no measured counts
        dev = targets.device(p["device"])
        qm = resolve_model(tiny_checkpoint, p["plan_code"], calib_digits=CALIB).qmodel
        pe = estimate_point(qm, device_profile(dev).design(p["lanes"]), dev)
        assert p["estimate"]["lut"] == pe.counts()["lut"] and p["estimate"]["dsp"] == pe.counts()["dsp"]
        assert p["cycles_per_digit"] == pe.cycles_per_sequence and p["clock_mhz"] == dev.default_freq_mhz
        assert p["us_per_digit"] == pytest.approx(1e3 * pe.latency_ms)
        assert p["fit"] == pe.fit.value and p["fits"] == (pe.fit.value != "no")
        assert p["error_band"] == dev.family.error_band.to_json()
    path = res.write(tmp_path / "r.json")
    assert load_results(path)["points"][0]["hardware"] == "estimate"  # the results schema accepts them


def test_cli_lanes_without_devices(tiny_checkpoint, cache, tmp_path, capsys):
    base = ["sweep", "--model", str(tiny_checkpoint), "--plans", "uniform8", "--lanes", "1", "--limit", str(LIMIT),
            "--calib-digits", str(CALIB), "--jobs", "1", "--out", str(tmp_path / "r.json")]
    assert main(base) == 2
    assert "give both lanes and devices" in capsys.readouterr().err
    assert main(base + ["--estimate-only", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["failed"] == 0
    res = json.loads((tmp_path / "r.json").read_text())
    assert sorted(p["device"] for p in res["points"]) == sorted(targets.names())
    assert main(base + ["--estimate-only"]) == 0
    text = capsys.readouterr().out
    assert "analytic estimator" in text and "up5k" in text and "ecp5-85k" in text
