"""The quantization report: files from study rows, and the reader of saved QAT results."""

from __future__ import annotations

import json

from hwssm.explore.studies import Study, all_plans, study_plans, study_rows
from hwssm.report.quantization import collect_results, write_quantization_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _data():
    studies = study_plans()
    points = {}
    for i, plan in enumerate(all_plans(studies)):
        bits = plan.A_re.bits + plan.x_re.bits + plan.weight.bits
        points[plan.code] = {"accuracy": min(0.99, 0.3 + bits / 60), "digits": 100, "memory_bits": 1000 * bits,
                             "compression": 32 / plan.weight.bits, "memory_breakdown": {"A": bits}}
    return {"studies": study_rows(studies, points), "model": {"path": "m.json", "digest": "ab" * 32,
            "config": {"H": 4, "N": 4, "L": 1}}, "calib_digits": 8, "calibration": "minmax", "float_accuracy": 0.97,
            "qat": [{"plan": "A8x8-W8-a8", "accuracy": 0.95, "memory_bits": 20000, "method": "qat", "digits": 100,
                     "label": "qat8", "model": None, "file": "r.json"}], "notes": [],
            "qmodels": [{"label": "s4d_qat8", "plan": "A8x8-B8C8D8-W8-a8-h", "memory_bits": 800000, "method": "qat (continuous)",
                         "file": "models/s4d_qat8.qmodel.json", "accuracy": 0.9943, "digits": 10000,
                         "source": "QModel meta (golden engine)"}]}


def test_report_files(tmp_path):
    paths = write_quantization_report(_data(), tmp_path)
    names = {p.name for p in paths}
    pngs = {"quantization_bits.png", "quantization_compare.png", "quantization_hetero.png"}
    assert names == pngs | {"quantization.md", "quantization.json"}
    for n in pngs:
        data = (tmp_path / n).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    md = (tmp_path / "quantization.md").read_text()
    assert "float model 97.00%" in md and "qat8" in md
    drawn = json.loads((tmp_path / "quantization.json").read_text())["figures"]
    assert [r["bits"] for r in drawn["quantization_bits.png"]["a_bits"]] == sorted(r["bits"] for r in _data()["studies"]["a_bits"])
    assert any(p["kind"] == "qat (saved)" for p in drawn["quantization_hetero.png"])
    assert any(p["kind"] == "qat (continuous) QModel" for p in drawn["quantization_hetero.png"])
    assert "s4d_qat8.qmodel.json" in md


def test_studies_cover_the_questions():
    s = study_plans()
    assert {sp.bits for sp in s[Study.A_BITS]} >= {4, 8, 16}
    assert all(sp.plan.x_re.bits == 16 and sp.plan.weight.bits == 16 for sp in s[Study.A_BITS])
    assert all(sp.plan.A_re.bits == 16 and sp.plan.act.bits == 16 for sp in s[Study.X_BITS])
    assert {sp.variant for sp in s[Study.GRANULARITY]} == {"per_tensor", "per_head"}
    assert {sp.variant for sp in s[Study.SCHEME]} == {"symmetric", "asymmetric"}
    assert {sp.bits for sp in s[Study.UNIFORM]} >= {16, 8, 6, 4}
    codes = [p.code for p in all_plans(s)]
    assert len(codes) == len(set(codes))


def test_collect_results_reads_nested_and_percent(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"runs": [
        {"plan": "hetero", "accuracy": 97.5, "footprint_bits": 1234, "method": "qat-continuous"},
        {"plan": {"name": "A8x8-W8-a8"}, "test_acc": 0.96},
        {"loss": 1.0},
    ]}))
    (tmp_path / "broken.json").write_text("{")
    rows, notes = collect_results(tmp_path)
    assert [(r["plan"], r["accuracy"], r["memory_bits"], r["method"]) for r in rows] == [
        ("hetero", 0.975, 1234, "qat-continuous"), ("A8x8-W8-a8", 0.96, None, "qat")]
    assert len(notes) == 1 and "broken.json" in notes[0]
    assert collect_results(tmp_path / "missing") == ([], [])
