"""The flow report: Markdown with the headline table, a legible PNG, and the JSON it came from."""

import json

from hwssm.report.flow_report import write_flow_report


def test_flow_report_files(tmp_path):
    synth = {"up5k": {"lanes": 1, "cycles_per_digit": 12_849_631, "lut": 4000, "ff": 3000, "dsp": 8, "bram": 20,
                      "spram": 4, "fmax_mhz": 30.5, "fits": True, "logic_cells": 4500, "logic_cells_available": 5280,
                      "dsp_available": 8, "bram_available": 30, "spram_available": 4},
             "ecp5-25k": {"lanes": 2, "error": "design does not fit ecp5-25k: DP16KD 60/56 (+4)"}}
    data = {"model": "m.qmodel.json", "plan": "hetero",
            "golden": {"accuracy": 0.985, "digits": 10000, "float_agreement": None, "footprint_bits": 450000,
                       "compression": 7.1},
            "sim": {"lanes": 16, "digits": 4, "mismatches": 0, "cycles_per_digit": 807406, "model_cycles_per_digit": 807406},
            "synth": synth, "stages": [{"stage": "data", "status": "done", "detail": "ok", "seconds": 0.1}]}
    path = write_flow_report(tmp_path, data)
    text = path.read_text()
    assert "98.50%" in text and "| up5k | 1 | 4000 |" in text and "does not fit" in text
    assert "421" in text  # µs per digit at fmax: 12849631 / 30.5 MHz
    assert json.loads((tmp_path / "flow.json").read_text())["plan"] == "hetero"
    png = (tmp_path / "utilization.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
