"""``hwssm bench float``: the batched FFT float model against the reference classifier, one JSON line."""

from __future__ import annotations

import json

from hwssm.cli import main


def test_bench_float_json(capsys):
    assert main(["bench", "float", "--digits", "6", "--threads", "1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["digits"] == 6 and res["threads"] == 1 and res["same_predictions"] is True
    assert res["max_rel_logit_diff"] <= 1e-6
    assert res["reference_s"] > 0 and res["fast_s"] > 0 and res["speedup"] > 0 and res["cpu_speedup"] > 0


def test_bench_float_bad_input(capsys):
    for argv in (["--digits", "0"], ["--threads", "0"]):
        assert main(["bench", "float", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("hwssm: error: ") and "\n" not in err
