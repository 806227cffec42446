"""hwssm search end to end on a tiny model: the front, the report, resuming, bad input (exit 2)."""

from __future__ import annotations

import json

import pytest

from hwssm.cli import main as cli_main
from hwssm.data import Split
from hwssm.errors import HwssmError
from hwssm.explore.search import SearchSpec, run_search
from hwssm.explore.search_halving import Rungs, dominates
from hwssm.explore.search_space import SearchSpace
from hwssm.golden import evaluate as golden_eval
from hwssm.quant.plan import parse_code
from hwssm.quant.resolve import resolve_model
from hwssm.report.search_report import stopped_points, write_search_report
from hwssm.targets import ECP5_25K

from .conftest import CALIB

PLANS = tuple(parse_code(c) for c in ("A8x12-B4C4D4-W6-a8", "A6x8-B4C4D4-W4-a6", "A10x12-B6C6D6-W6-a8-h",
                                      "A8x10-B4C4D4-W4-a8"))
RUNGS = Rungs(val=(8, 16), eta=2, test_limit=12)
ARGS = ["--device", "ecp5-25k", "--rungs", "8,16", "--eta", "2", "--test-limit", "12", "--calib-digits", str(CALIB),
        "--plans", ",".join(p.code for p in PLANS)]


def _spec(model, floor=0.0, **kw):
    return SearchSpec(model=model, device=ECP5_25K, floor=floor, space=SearchSpace(PLANS), rungs=RUNGS,
                      calib_digits=CALIB, **kw)


def key(p):
    return (p["accuracy"], p["lut"], p["latency_ms"])


def test_front_is_the_non_dominated_set_of_golden_test_accuracies(tiny_checkpoint, cache, tmp_path):
    res = run_search(_spec(tiny_checkpoint), cache=cache)
    c = res.counts
    assert c["space"] == len(PLANS) * 12 and c["plans"] == len(PLANS)
    assert c["pruned"] + c["fit_yes"] + c["fit_borderline"] == c["space"]
    tested = [p for p in res.points if p.get("split") == "test" and p["fit"] != "no"]
    assert res.front and all(p in tested for p in res.front)
    for p in res.front:  # nothing beats a front point in all three
        assert not any(dominates(key(o), key(p)) for o in tested)
    for o in tested:  # every tested point is on the front or beaten by one of it (or equal to one)
        assert any(key(f) == key(o) or dominates(key(f), key(o)) for f in res.front)
    assert [p["front"] for p in res.front] == list(range(1, len(res.front) + 1))
    assert [p["lut"] for p in res.front] == sorted(p["lut"] for p in res.front)
    px, lb = golden_eval.test_pixels(Split.TEST, 12)
    for p in res.front:  # accuracy = golden PTQ on the test digits
        qm = resolve_model(tiny_checkpoint, p["plan"], calib_digits=CALIB).qmodel
        assert p["accuracy"] == golden_eval.evaluate(qm, px, lb).accuracy
    stopped = stopped_points(res.to_json())  # drawn hollow: the cheapest fitting design at its last rung
    assert {p["plan"] for p in stopped} == {c for c, h in res.plans.items() if h["stopped"] != "final"}
    for p in stopped:
        assert p["accuracy"] == res.plans[p["plan"]]["rungs"][-1]["accuracy"] and p["fit"] != "no"
    written = write_search_report(res.to_json(), tmp_path / "rep")
    assert sorted(w.name for w in written) == ["front.png", "report.md", "search.json"]
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "## Front" in md and f"{c['space']} candidates" in md
    again = run_search(_spec(tiny_checkpoint), cache=cache)
    assert again.counts["evaluations_computed"] == 0 and again.front == res.front


def test_budget_points_limits_the_first_rung(tiny_checkpoint, cache):
    res = run_search(_spec(tiny_checkpoint, budget_points=2), cache=cache)
    assert res.counts["plans_rung1"] == 2 <= res.counts["plans_fitting"]


def test_cli_writes_the_report_and_exits_2_when_the_floor_is_out_of_reach(tiny_checkpoint, cache, tmp_path, capsys):
    out = tmp_path / "s"
    assert cli_main(["search", "--model", str(tiny_checkpoint), "--floor", "0", "--out", str(out), "--json", *ARGS]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["front"] and (out / "front.png").is_file()
    saved = json.loads((out / "search.json").read_text())
    assert saved["front"] == doc["front"]
    assert saved["command"].startswith(f"hwssm search --model {tiny_checkpoint} --device ecp5-25k --floor 0 --out")
    assert "--eta 2" in saved["command"] and "--qat-top" not in saved["command"]
    rc = cli_main(["search", "--model", str(tiny_checkpoint), "--floor", "100%", "--out", str(tmp_path / "t"), *ARGS])
    err = capsys.readouterr().err
    assert rc == 2 and "no candidate reaches the floor 100.00%" in err and "best found" in err
    assert len([ln for ln in err.splitlines() if ln.startswith("hwssm:")]) == 1
    md = (tmp_path / "t" / "report.md").read_text()
    assert "Nothing reaches the floor 100.00%" in md and "test digits" in err
    saved = json.loads((tmp_path / "t" / "search.json").read_text())
    assert saved["front"] == [] and saved["front_below_floor"]
    assert saved["best"]["split"] == "test" and saved["best"]["accuracy"] == max(
        p["accuracy"] for p in saved["front_below_floor"])


@pytest.mark.parametrize("extra,needle", [
    (["--floor", "0", "--lut-budget", "10"], "no candidate of the"),
    (["--floor", "abc"], "--floor must be"),
    (["--floor", "1.5"], "--floor must lie in"),
    (["--floor", "0", "--depths", "deep"], "--depths must be"),
    (["--floor", "0", "--mix-cols", "5"], "mix_cols must be"),
    (["--floor", "0", "--rungs", "16,8"], "validation rungs must increase"),
])
def test_bad_input_is_one_line_exit_2(tiny_checkpoint, cache, tmp_path, capsys, extra, needle):
    args = [a for a in ARGS]
    rc = cli_main(["search", "--model", str(tiny_checkpoint), "--out", str(tmp_path / "x"), *args, *extra])
    err = capsys.readouterr().err
    assert rc == 2, err
    errors = [ln for ln in err.splitlines() if ln.startswith("hwssm:")]
    assert len(errors) == 1 and needle in errors[0] and "Traceback" not in err


def test_a_qmodel_searches_its_own_plan_only(tiny_checkpoint, cache, tmp_path):
    from hwssm.quant.qmodel_io import save_qmodel

    qm = resolve_model(tiny_checkpoint, PLANS[1], calib_digits=CALIB).qmodel
    path = save_qmodel(qm, tmp_path / "m")
    res = run_search(SearchSpec(model=path, device=ECP5_25K, floor=0.0, space=SearchSpace(PLANS), rungs=RUNGS),
                     cache=cache)
    assert res.counts["plans"] == 1 and {p["plan"] for p in res.points} == {PLANS[1].code}
    assert res.to_json()["spec"]["space"]["grid"] is None
    assert res.to_json()["spec"]["space"]["plan_codes"] == [PLANS[1].code]
    with pytest.raises(HwssmError):
        from hwssm.explore.search_qat import QatSettings

        SearchSpec(model=path, device=ECP5_25K, floor=0.0, space=SearchSpace(PLANS), qat=QatSettings(top=1))
