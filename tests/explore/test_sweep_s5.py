"""Sweeps and searches of S5 models (issue 15): an S5 checkpoint is PTQ'd per plan exactly as
``resolve_model`` does (one float trace shared by the plans), its points carry the family and P,
the estimator prices them, and the search's default S5 grid holds the S5 components."""

from __future__ import annotations

import json

from hwssm import targets
from hwssm.cli import main
from hwssm.explore.estimate_point import estimate_point
from hwssm.explore.search_space import PlanGrid, SearchSpace
from hwssm.explore.spec import SweepSpec
from hwssm.explore.sweep import load_results, model_digest, run_sweep
from hwssm.model.config import Family
from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.resolve import resolve_model
from hwssm.synth.profile import device_profile

from .conftest import CALIB, LIMIT, TINY_S5

PLANS = (NAMED_PLANS["uniform8"], parse_code("A8x12-B8C8D8-W8-a8-u16-h"))


def test_an_s5_checkpoint_sweeps_as_resolve_model_quantizes(tiny_s5_checkpoint, cache):
    spec = SweepSpec(model=tiny_s5_checkpoint, plans=PLANS, lanes=(1, 2), devices=(targets.ECP5_25K,), limit=LIMIT,
                     calib_digits=CALIB)
    res = run_sweep(spec, cache=cache, estimate_only=True)
    assert res.failed == 0 and len(res.points) == len(PLANS) * 2 and res.computed == len(PLANS)
    assert res.source["kind"] == "checkpoint" and res.source["config"]["P"] == TINY_S5.P
    for p in res.points:
        qm = resolve_model(tiny_s5_checkpoint, p["plan_code"], calib_digits=CALIB).qmodel
        assert p["qmodel_digest"] == model_digest(qm)            # the same integers as `hwssm ptq` gives
        assert (p["family"], p["P"], p["H"], p["L"]) == ("s5", TINY_S5.P, TINY_S5.H, TINY_S5.L) and "M" not in p
        assert p["status"] == "estimated" and p["digits"] == LIMIT and 0 <= p["accuracy"] <= 1
        assert p["memory_bits"] == qm.footprint_bits and sum(p["memory_breakdown"].values()) == qm.footprint_bits
        pe = estimate_point(qm, device_profile(targets.ECP5_25K).design(p["lanes"]), targets.ECP5_25K)
        assert p["estimate"]["lut"] == pe.counts()["lut"] > 0 and p["cycles_per_digit"] == pe.cycles_per_sequence
    again = run_sweep(spec, cache=cache, estimate_only=True)         # accuracy records cached by digest
    assert again.computed == 0 and again.cached == len(PLANS)


def test_sweep_cli_takes_an_s5_qmodel(tiny_s5_checkpoint, cache, tmp_path, capsys):
    qm = resolve_model(tiny_s5_checkpoint, "uniform8", calib_digits=CALIB).qmodel
    q = save_qmodel(qm, tmp_path / "q")
    assert main(["sweep", "--model", str(q), "--lanes", "1", "--devices", "ecp5-25k", "--limit", str(LIMIT),
                 "--estimate-only", "--jobs", "1", "--out", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "uniform8  1  ecp5-25k" in out and "1 records computed" in out
    pt = json.loads((tmp_path / "s.json").read_text())["points"][0]
    assert pt["family"] == "s5" and pt["qmodel_digest"] == model_digest(qm) and pt["fit"] == "yes"
    load_results(tmp_path / "s.json")                                # the results schema knows family and P
    assert main(["report", "--sweep", str(tmp_path / "s.json"), "--name", "s5", "--root", str(tmp_path / "r")]) == 0
    assert "| ecp5-25k | uniform8 | 1 | ≈" in (tmp_path / "r" / "s5" / "report.md").read_text()


def test_the_s5_plan_grid_holds_the_s5_components():
    grid = PlanGrid.s5()
    plans = grid.plans()
    assert len(plans) == 3 * 3 * 3 * 2 * 1 * 2 * 2 and len({p.code for p in plans}) == len(plans)
    with_bu = [p for p in plans if p.has_s5]
    assert len(with_bu) == len(plans) // 2 and all(p.bu_bits() == (16, 16) for p in with_bu)
    assert all(p.bu_bits() == (p.x_re.bits, p.x_im.bits) for p in plans if not p.has_s5)
    assert {p.A_re.bits for p in plans} == {8, 10, 12} and {p.x_re.bits for p in plans} == {8, 12, 16}
    assert {(p.B.bits, p.C.bits, p.D.bits) for p in plans} == {(4, 4, 4), (6, 6, 6), (8, 8, 8)}
    assert SearchSpace.default(family=Family.S5).grid == grid and grid.to_json()["bu"] == [None, 16]
    assert not any(p.has_s5 for p in SearchSpace.default().plans) and "bu" not in PlanGrid().to_json()


def test_search_cli_on_an_s5_checkpoint(tiny_s5_checkpoint, cache, tmp_path, capsys):
    """The default S5 grid through the command: PTQ of 216 plans, estimated, ranked by the golden engine."""
    out = tmp_path / "search"
    assert main(["search", "--model", str(tiny_s5_checkpoint), "--device", "ecp5-25k", "--floor", "0", "--out", str(out),
                 "--lanes", "1", "--mix-cols", "4", "--depths", "profile", "--budget-points", "4", "--rungs", "8",
                 "--test-limit", str(LIMIT), "--calib-digits", str(CALIB), "--json"]) == 0
    res = json.loads((out / "search.json").read_text())
    assert res["counts"]["space"] == 216 and res["counts"]["plans_rung1"] == 4 and res["front"]
    assert res["spec"]["space"]["grid"]["bu"] == [None, 16]
    for p in res["front"]:
        qm = resolve_model(tiny_s5_checkpoint, p["plan"], calib_digits=CALIB).qmodel
        assert p["lut"] == estimate_point(qm, device_profile(targets.ECP5_25K).design(1), targets.ECP5_25K).counts()["lut"]
    assert "S5 B̄u ['x', 16]" in (out / "report.md").read_text()


def test_a_second_s5_sweep_reuses_the_cached_calibration(tiny_s5_checkpoint, cache, monkeypatch):
    """The S5 ranges are a calibration record keyed by the checkpoint, the digits, the method and
    the code of the float trace: a second sweep takes no float trace and gives the same points."""
    from hwssm.explore.cache import RecordKind
    from hwssm.explore.versions import s5_calibration_version
    from hwssm.model import s5_network
    from hwssm.quant.calibrate import Calibration

    traces = []
    real = s5_network.forward

    def counting(*args, **kw):                     # the real float forward, counted when it traces
        traces.append(bool(kw.get("trace")))
        return real(*args, **kw)

    monkeypatch.setattr(s5_network, "forward", counting)
    spec = SweepSpec(model=tiny_s5_checkpoint, plans=PLANS, lanes=(1,), devices=(targets.ECP5_25K,), limit=LIMIT,
                     calib_digits=CALIB)
    first = run_sweep(spec, cache=cache, estimate_only=True)
    assert traces == [True] and cache.count(RecordKind.CALIBRATION) == 1
    record = json.loads(next((cache.root / RecordKind.CALIBRATION.value).glob("*.json")).read_text())
    assert record["inputs"]["family"] == "s5" and record["inputs"]["checkpoint"] == first.source["digest"]
    assert record["inputs"]["implementation"] == s5_calibration_version()
    assert record["value"]["digits"] == CALIB and len(record["value"]["x_re"][0]) == TINY_S5.P
    again = run_sweep(spec, cache=cache, estimate_only=True)
    assert traces == [True] and cache.count(RecordKind.CALIBRATION) == 1   # no second float trace
    assert again.points == first.points and again.computed == 0
    for p in again.points:                         # from the cached ranges: the integers `hwssm ptq` gives
        assert p["qmodel_digest"] == model_digest(resolve_model(tiny_s5_checkpoint, p["plan_code"],
                                                                calib_digits=CALIB).qmodel)
    other = SweepSpec(model=tiny_s5_checkpoint, plans=PLANS, lanes=(1,), devices=(targets.ECP5_25K,), limit=LIMIT,
                      calib_digits=CALIB, calibration=Calibration.PERCENTILE)
    run_sweep(other, cache=cache, estimate_only=True)   # another method: its own record
    assert cache.count(RecordKind.CALIBRATION) == 2
