"""Per-layer widths in reports: a table only when the blocks differ."""

from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.report.flow_report import write_flow_report
from hwssm.report.precision import layer_widths_lines, plan_layer_widths, qmodel_layer_widths


def test_tables_appear_only_for_per_layer_precision():
    assert layer_widths_lines(qmodel_layer_widths(random_qmodel(3, 2, 2, NAMED_PLANS["hetero"]))) == []
    plan = parse_code("A8x8-B4C4D4-W8-a6-L1:A8.6x12B3a7")
    rows = qmodel_layer_widths(random_qmodel(3, 2, 2, plan))
    assert rows == plan_layer_widths(plan, 2)
    lines = layer_widths_lines(rows)
    assert "| 0 | 8 | 8 | 4 | 4 | 4 | 8 | 16 | 6 |" in lines and "| 1 | 8.6 | 12 | 3 | 4 | 4 | 8 | 16 | 7 |" in lines


def test_flow_report_shows_layer_widths_when_given(tmp_path):
    rows = plan_layer_widths(parse_code("A8x8-W8-a8-L0:W4"), 2)
    text = write_flow_report(tmp_path, {"model": "m", "plan": "p", "stages": [], "layer_widths": rows}).read_text()
    assert "Per-layer precision (bits)" in text and "| 0 | 8 | 8 | 8 | 8 | 8 | 4 | 16 | 8 |" in text
    text = write_flow_report(tmp_path, {"model": "m", "plan": "p", "stages": []}).read_text()
    assert "Per-layer" not in text
