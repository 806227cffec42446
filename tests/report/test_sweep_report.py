"""The sweep report writes report.md, non-empty PNGs and the JSON the plots were drawn from."""

from __future__ import annotations

import json

import pytest

from hwssm.explore.spec import SweepSpec
from hwssm.explore.sweep import make_point
from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.report.figures import pareto_front
from hwssm.report.sweep_report import HEADLINE_COLUMNS, headline, write_sweep_report
from hwssm import targets

PLANS = (NAMED_PLANS["uniform8"], NAMED_PLANS["uniform4"], parse_code("A8x12-B4C4D4-W8-a6"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _results(hardware: bool) -> dict:
    """Results of a made-up sweep: real QModels and estimates, invented synthesis numbers."""
    lanes, devices = ((1, 2), (targets.UP5K, targets.ECP5_25K)) if hardware else ((), ())
    spec = SweepSpec(model="m.json", plans=PLANS, lanes=lanes, devices=devices, limit=50)
    points = []
    for i, plan in enumerate(PLANS):
        qm = random_qmodel(8, 4, 1, plan=plan, seed=i)
        acc = {"accuracy": 0.9 - 0.1 * i, "digits": 50}
        if not hardware:
            points.append(make_point(plan, qm, acc, spec))
            continue
        for P in lanes:
            for dev in devices:
                hw = {"status": "ok", "lut": 1000 * P + 100 * i, "ff": 900, "carry": 50, "dsp": 8 * P, "bram": 2,
                      "spram": 0, "fmax_mhz": 40.0 + i, "fits": dev is targets.ECP5_25K or P == 1,
                      "cycles_per_step": 200 // P, "cycles_per_digit": 784 * 200 // P}
                points.append(make_point(plan, qm, acc, spec, P, dev, hw))
    return {"format": "hwssm-sweep-results", "version": 1, "hwssm": "test", "spec": spec.to_json(),
            "source": {"kind": "checkpoint", "path": "m.json", "digest": "0" * 64}, "points": points}


@pytest.mark.parametrize("hardware", [True, False])
def test_report_files_are_written(tmp_path, hardware):
    res = _results(hardware)
    paths = write_sweep_report(res, tmp_path / "rep", name="t", source="r.json")
    names = {p.name for p in paths}
    pngs = {"pareto.png", "cost_vs_bits.png", "memory.png"} | ({"fmax_latency.png"} if hardware else set())
    assert names == pngs | {"report.md", "report.json"}
    for name in pngs:
        data = (tmp_path / "rep" / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000, name
    md = (tmp_path / "rep" / "report.md").read_text()
    for name in pngs:
        assert f"]({name})" in md
    data = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert set(data["figures"]) == pngs
    assert len(data["points"]) == len(res["points"])
    assert not list((tmp_path / "rep").glob(".*tmp"))  # atomic writes leave no temporaries
    if hardware:
        assert "## Headline" in md and "Analytic estimator against Yosys" in md
        assert len(data["headline"]) == 2 and set(data["headline"][0]) == set(HEADLINE_COLUMNS)
        assert all(p.get("est_lut_error") is not None for p in data["points"])
    else:
        assert "## Headline" not in md and "## All points" in md


def test_headline_is_the_most_accurate_fitting_design_per_device():
    pts = _results(True)["points"]
    best = {p["device"]: p for p in headline(pts)}
    # up5k: only P=1 fits; the most accurate plan is uniform8 (accuracy 0.9)
    assert (best["up5k"]["lanes"], best["up5k"]["plan"]) == (1, "uniform8")
    assert best["ecp5-25k"]["plan"] == "uniform8" and best["ecp5-25k"]["lanes"] == 1  # fewer LUTs on a tie


def test_pareto_front():
    pts = [{"x": 1, "y": 0.5}, {"x": 2, "y": 0.4}, {"x": 3, "y": 0.9}, {"x": 3, "y": 0.8}, {"x": 5, "y": 0.9}]
    front = pareto_front(pts, lambda p: p["x"], lambda p: p["y"])
    assert front == [pts[0], pts[2]]
