"""QAT results in the quantization report: reading run JSON, seed groups, the grid plot, the paper comparison."""

from __future__ import annotations

import json

import pytest

from hwssm.report.quantization import write_quantization_report
from hwssm.report.quantization_qat import (collect_qat_runs, grid_recipe, group_qat_runs, paper_comparison, plan_traits,
                                           qat_summary)

from .test_quantization import PNG_MAGIC, _data

GRID = {"epochs": 4, "batch_size": 128, "lr": 1e-3, "ssm_lr": 5e-4, "weight_decay": 0.0, "calibration": "percentile",
        "calib_digits": 256, "state_headroom": 2}
HEAD = {**GRID, "epochs": 8, "calibration": "minmax", "ssm_lr": 1e-4}


def _run(code, param, acc, *, seed=0, recipe=GRID, golden=10_000, memory=800_000, compression=4.0):
    return {"quantization": "qat", "name": f"{code}_{param}_{seed}", "plan": code, "plan_code": code,
            "parameterization": param, "seed": seed, "recipe": recipe, "qat_test_accuracy": acc,
            "golden_test_accuracy": acc if golden else None, "golden_digits": golden, "test_digits": 10_000,
            "golden_qat_logits_equal": 1.0, "start_val_accuracy": 0.5, "footprint_bits": memory,
            "compression": compression}


def _write_runs(d, runs):
    for i, r in enumerate(runs):
        (d / f"r{i:02d}.json").write_text(json.dumps(r))


def _runs():
    u = lambda b, h="-h": f"A{b}x{b}-B{b}C{b}D{b}-W{b}-a{b}{h}"  # noqa: E731
    runs = [_run(u(8), "continuous", a, seed=s, recipe=HEAD) for s, a in enumerate((0.994, 0.995, 0.996))]
    runs += [_run("A8x5-B4C4D4-W3-a6-b8-h", "continuous", a, seed=s, memory=450_000, compression=7.1)
             for s, a in enumerate((0.984, 0.985, 0.986))]
    runs += [_run("A8x6-B4C4D4-W4-a6-h", "continuous", 0.97, memory=500_000, compression=6.4)]
    for b, accs in ((8, (0.990, 0.994, 0.993)), (6, (0.40, 0.70, 0.75)), (4, (0.20, 0.22, 0.30))):
        runs += [_run(u(b), p, a) for p, a in zip(("discrete", "continuous", "frozen"), accs)]
    runs += [_run(u(8, ""), "continuous", 0.985), _run(u(8, "-h-asym"), "continuous", 0.995),
             _run(u(6, ""), "continuous", 0.40), _run(u(6, "-h-asym"), "continuous", 0.97)]
    return runs


def test_plan_traits():
    assert plan_traits("A8x8-B8C8D8-W8-a8-h") == {"bits": 8, "granularity": "per_head", "scheme": "symmetric"}
    assert plan_traits("A6x6-B6C6D6-W6-a6-h-asym") == {"bits": 6, "granularity": "per_head", "scheme": "asymmetric"}
    assert plan_traits("A8x8-B8C8D8-W8-a8")["granularity"] == "per_tensor"
    assert plan_traits("A8x5-B4C4D4-W3-a6-b8-h")["bits"] is None


def test_collect_reads_runs_and_marks_partial_golden(tmp_path):
    _write_runs(tmp_path, [_run("A8x8-B8C8D8-W8-a8-h", "frozen", 0.99),
                           {**_run("A8x8-B8C8D8-W8-a8", "continuous", 0.97, golden=1000), "golden_test_accuracy": 0.971},
                           {"groups": [], "what": "a summary, not a run"}])
    (tmp_path / "broken.json").write_text("{")
    runs, notes = collect_qat_runs(tmp_path)
    assert [(r["parameterization"], r["accuracy"], r["golden_full"]) for r in runs] == [
        ("frozen", 0.99, True), ("continuous", 0.97, False)]  # partial golden: the 10k QAT forward accuracy
    assert len(notes) == 1 and "broken.json" in notes[0]
    assert collect_qat_runs(tmp_path / "missing") == ([], [])


def test_groups_over_seeds(tmp_path):
    _write_runs(tmp_path, _runs())
    groups = group_qat_runs(collect_qat_runs(tmp_path)[0])
    head = next(g for g in groups if g["recipe"] == HEAD)
    assert head["n"] == 3 and head["seeds"] == [0, 1, 2]
    assert head["mean"] == pytest.approx(0.995) and head["std"] == pytest.approx(0.001)
    assert all(g["std"] is None for g in groups if g["n"] == 1)
    assert grid_recipe(groups) == GRID
    doc = qat_summary(groups, "test")
    assert doc["what"] == "test" and len(doc["groups"]) == len(groups)
    assert all(f.startswith("r") for g in doc["groups"] for f in g["files"])


def test_paper_comparison_verdicts(tmp_path):
    _write_runs(tmp_path, _runs())
    groups = group_qat_runs(collect_qat_runs(tmp_path)[0])
    studies = {"uniform": [{"bits": 8, "variant": "", "accuracy": 0.20}],
               "a_bits": [{"bits": 4, "variant": "", "accuracy": 0.098}],
               "granularity": [{"bits": 8, "variant": "per_tensor", "accuracy": 0.2},
                               {"bits": 8, "variant": "per_head", "accuracy": 0.5}],
               "scheme": [{"bits": 8, "variant": "symmetric", "accuracy": 0.2},
                          {"bits": 8, "variant": "asymmetric", "accuracy": 0.21}]}
    rows, noise = paper_comparison(studies, groups)
    by = {r["claim"]: r["verdict"] for r in rows}
    assert noise == pytest.approx(0.001)
    assert by["PTQ, every component at 8 bits"].startswith("agrees: 8-bit PTQ loses most")
    assert by["PTQ, Ā at 4 bits (rest 16)"] == "agrees (collapses)"
    assert by["QAT, every component at 8 bits"].startswith("higher than the paper")
    low = by["Ā parameterization at low precision"]
    assert "6-bit agrees" in low and "4-bit agrees" in low
    assert by["Ā parameterization at high precision"].startswith("8-bit agrees")
    assert by["per head vs per tensor"] == "PTQ: agrees; QAT: agrees"
    assert by["asymmetric vs symmetric"] == "PTQ: agrees; QAT: agrees, but the gain is large, not slight, at 6-bit"
    studies["scheme"][1]["accuracy"] = 0.15
    by = {r["claim"]: r["verdict"] for r in paper_comparison(studies, groups)[0]}
    assert by["asymmetric vs symmetric"].startswith("PTQ: differs (asymmetric lower)")
    assert by["heterogeneous precision"].startswith("agrees")


def test_report_with_qat_runs(tmp_path):
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    _write_runs(runs_dir, _runs())
    data = _data()
    data["qat_runs"] = collect_qat_runs(runs_dir)[0]
    out = tmp_path / "out"
    paths = write_quantization_report(data, out)
    assert out / "quantization_qat.png" in paths
    assert (out / "quantization_qat.png").read_bytes().startswith(PNG_MAGIC)
    md = (out / "quantization.md").read_text()
    for heading in ("### Headline: several seeds", "### Uniform widths × Ā parameterization", "## Comparison with the papers",
                    "### Granularity and scheme under QAT", "### Every QAT run"):
        assert heading in md
    assert "99.50% ± 0.10" in md
    doc = json.loads((out / "quantization.json").read_text())
    assert len(doc["qat_groups"]) == len(group_qat_runs(data["qat_runs"]))
    kinds = {p["kind"] for p in doc["figures"]["quantization_hetero.png"]}
    assert {"QAT, mean of ≥2 seeds", "QAT, 1 seed"} <= kinds
