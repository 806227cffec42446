"""`hwssm report s5`: the Q-S5 reproduction report, end to end on a tiny S5 model, and its generated text."""

from __future__ import annotations

import json
import re

import pytest

from hwssm.cli import main
from hwssm.explore.s5_study import QS5_SETTINGS, study_rows
from hwssm.quant.plan import parse_code
from hwssm.report.s5 import comparison_lines, write_s5_report

from tests.explore.s5_tiny import CALIB, LIMIT, train_tiny_s5


@pytest.fixture(scope="module")
def tiny_s5(tmp_path_factory):
    pytest.importorskip("torch")
    return train_tiny_s5(tmp_path_factory.mktemp("s5"))


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))


def _report(tiny_s5, root, results, extra=()):
    return main(["report", "s5", "--model", str(tiny_s5), "--limit", str(LIMIT), "--calib-digits", str(CALIB),
                 "--root", str(root), "--results-dir", str(results), "--jobs", "1", *extra])


def test_report_has_every_row_and_parseable_plans(tiny_s5, tmp_path, fresh_cache, capsys):
    root = tmp_path / "reports"
    assert _report(tiny_s5, root, tmp_path / "none") == 0
    assert sorted(p.name for p in root.iterdir()) == ["s5.json", "s5.md", "s5.png"]   # no temporary files left
    md = (root / "s5.md").read_text()
    assert (root / "s5.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads((root / "s5.json").read_text())
    assert len(doc["rows"]) == 12 and all(r["accuracy"] is not None and r["digits"] == LIMIT for r in doc["rows"])
    table = [ln for ln in md.splitlines() if ln.startswith("| ") and "`" in ln and "(x, B̄u" in ln]
    assert len(table) == 12
    for r, ln in zip(study_rows(), table):
        assert ln.startswith(f"| {r.setting.label} (x, B̄u at ") and f"| {r.setting.reported_text()} |" in ln
        assert f"`{r.plan.code}`" in ln and f"{100 * doc['rows'][study_rows().index(r)]['accuracy']:.2f}%" in ln
    codes = re.findall(r"`(A\d[^`]*)`", md)
    assert {c for c in codes} >= {r.plan.code for r in study_rows()}
    for c in set(codes):
        assert parse_code(c).code == c
    assert "| float | 99.54 |" in md and "first 6 test digits" in md
    assert "## Where hwssm and Q-S5 agree and differ, and why" in md and "No saved S5 QAT results" in md
    assert f"Regenerate: `hwssm report s5 --model " in md and "--limit 6" in md
    out = capsys.readouterr().out
    assert "12 plans computed" in out
    # a rerun takes every point from the cache
    assert _report(tiny_s5, root, tmp_path / "none") == 0
    assert "0 plans computed, 12 cached" in capsys.readouterr().out


def test_report_shows_saved_qat_runs(tiny_s5, tmp_path, fresh_cache):
    res = tmp_path / "results"
    res.mkdir()
    for seed, acc in ((0, 0.91), (1, 0.93), (2, 0.95)):
        (res / f"qat_{seed}.json").write_text(json.dumps({
            "quantization": "qat", "family": "s5", "plan_code": "A8x16-B8C8D8-W8-a8-u16", "parameterization": "discrete",
            "seed": seed, "qat_test_accuracy": acc, "golden_test_accuracy": acc, "golden_digits": 10_000,
            "test_digits": 10_000, "footprint_bits": 4321, "compression": 3.9}))
    assert _report(tiny_s5, tmp_path / "r", res, ("--qmodels",)) == 0
    md = (tmp_path / "r" / "s5.md").read_text()
    line = next(ln for ln in md.splitlines() if ln.startswith("| `A8x16-B8C8D8-W8-a8-u16` | qat"))
    assert "| 3 (0, 1, 2) | 93.00% ± 2.00 |" in line and "| 4,321 | 3.90× |" in line


def test_a_failed_write_keeps_the_old_report(tiny_s5, tmp_path, fresh_cache, monkeypatch, capsys):
    root = tmp_path / "reports"
    root.mkdir()
    (root / "s5.md").write_text("old\n")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr("hwssm.report.s5.plot_s5", boom)
    assert _report(tiny_s5, root, tmp_path / "none") == 1      # an internal error, reported with its traceback
    assert "disk full" in capsys.readouterr().err
    assert (root / "s5.md").read_text() == "old\n" and sorted(p.name for p in root.iterdir()) == ["s5.md"]


def test_bad_input_is_one_line(tmp_path, fresh_cache, capsys, tiny_s5):
    from hwssm.model.checkpoint import init_params, save_checkpoint
    from hwssm.model.config import S4DConfig

    s4d = save_checkpoint(tmp_path / "s4d", S4DConfig(H=4, N=4, L=1), init_params(S4DConfig(H=4, N=4, L=1), 0))
    cases = [(["--model", str(tmp_path / "missing.json")], "does not exist"),
             (["--model", str(s4d)], "is an S4D checkpoint"),
             (["--model", str(tmp_path / "q.qmodel.json")], "is a QModel"),
             (["--model", str(tiny_s5), "--limit", "0"], "--limit must be in [1, 10000]"),
             (["--model", str(tiny_s5), "--sweep", "x.json"], "--sweep is for sweep reports")]
    for argv, msg in cases:
        assert main(["report", "s5", "--root", str(tmp_path / "r"), *argv]) == 2
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
        assert len(err) == 1 and err[0].startswith("hwssm: error:") and msg in err[0], (argv, err)
    assert not (tmp_path / "r").exists()


def _data(accs: dict[str, tuple[float, float]], limit=None) -> dict:
    rows = []
    for r in study_rows():
        a = accs[r.setting.label][0 if r.state.value == "activation" else 1]
        rows.append({"label": r.setting.label, "reported": list(r.setting.reported),
                     "reported_text": r.setting.reported_text(), "qs5_config": r.setting.to_json()["qs5_config"],
                     "state": r.state.value, "plan": r.plan.code, "accuracy": a, "digits": limit or 10_000,
                     "memory_bits": 1000, "float32_bits": 4000, "compression": 4.0})
    return {"rows": rows, "qs5_float": 99.54, "float_accuracy": 0.99, "float_accuracy_source": "test",
            "limit": limit, "wide_state_bits": 16, "calib_digits": 256, "model": {}, "stats": {}}


def test_comparison_text_follows_the_numbers(tmp_path):
    accs = {s.label: (0.5, 0.5) for s in QS5_SETTINGS}
    accs["W8A8"] = (0.40, 0.965)          # agrees (inside their range)
    accs["W4A8"] = (0.30, 0.20)           # above their 9.7 by 20.3 points
    accs["W2A8"] = (0.10, 0.11)           # agrees (within 2 points of 11.3)
    text = "\n".join(comparison_lines(_data(accs)))
    assert "**W8A8**: hwssm's best static plan (`A8x16-B8C8D8-W8-a8-u16`, 96.50%) agrees with Q-S5's 96.3–96.8%." in text
    assert "**W4A8**: hwssm's best static plan (`A4x8-B4C4D4-W4-a8-u8`, 30.00%) is above Q-S5's 9.7% by 20.3 points." in text
    assert "**W2A8, SSM weights at 8**: hwssm's best static plan" in text and "is below Q-S5's 61.9% by 11.9 points" in text
    assert "2 of 6 settings agree, 2 above Q-S5, 2 below." in text
    assert "Lowering Λ̄ from 8 to 4 bits: Q-S5 38.0% → 9.7% (-28.3 points), hwssm 50.00% → 30.00% (-20.00 points)." in text
    gap = (0.965 - 0.40 - 0.10 + 0.01) * 100 / 6
    assert f"accuracy changes by {gap:+.2f} points on average" in text and "(largest: W8A8, +56.50 points)" in text
    assert "first" not in text                        # all 10,000 digits: no noise caveat
    short = "\n".join(comparison_lines(_data(accs, limit=100)))
    assert "first 100 test digits only: one binomial standard deviation is up to 5.0 points" in short
    paths = write_s5_report(_data(accs), tmp_path)
    assert [p.name for p in paths] == ["s5.md", "s5.png", "s5.json"] and all(p.is_file() for p in paths)
