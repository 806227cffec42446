"""``hwssm sweep`` and ``hwssm report`` (sweep and quantization) through :func:`hwssm.cli.main`."""

from __future__ import annotations

import json

import pytest

from hwssm.cli import main
from hwssm.model.checkpoint import init_params, save_checkpoint
from hwssm.model.config import S4DConfig

TINY = S4DConfig(H=4, N=4, L=1)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    save_checkpoint(tmp_path / "models" / "s4d_float", TINY, init_params(TINY, 1))
    return tmp_path


def _one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hwssm: error: "), err
    return err[0]


def test_sweep_then_report(env, capsys):
    rc = main(["sweep", "--model", "models/s4d_float.json", "--plans", "uniform8,hetero", "--limit", "4",
               "--calib-digits", "8", "--jobs", "1", "--out", "res.json", "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["computed"], summary["cached"], summary["failed"]) == (2, 0, 0)
    res = json.loads((env / "res.json").read_text())
    assert [p["plan"] for p in res["points"]] == ["uniform8", "hetero"]
    # the same sweep from a spec file: all cached
    (env / "spec.json").write_text(json.dumps({"model": "models/s4d_float.json", "plans": ["uniform8", "hetero"],
                                               "limit": 4, "calib_digits": 8}))
    assert main(["sweep", "--spec", "spec.json", "--jobs", "1", "--out", "res2.json"]) == 0
    out = capsys.readouterr().out
    assert "2 cached" in out and "uniform8" in out
    assert main(["report", "--sweep", "res.json", "--name", "demo"]) == 0
    assert (env / "reports" / "demo" / "report.md").is_file()
    assert (env / "reports" / "demo" / "pareto.png").stat().st_size > 10_000
    # several results files are merged into one report
    assert main(["report", "--sweep", "res.json", "res2.json", "--name", "both"]) == 0
    assert len(json.loads((env / "reports" / "both" / "report.json").read_text())["points"]) == 4


@pytest.mark.parametrize("argv, message", [
    (["sweep", "--plans", "uniform8"], "give --spec FILE or --model MODEL"),
    (["sweep", "--model", "models/s4d_float.json", "--plans", "uniform8", "--lanes", "x", "--devices", "up5k"], "--lanes must be integers"),
    (["sweep", "--model", "models/s4d_float.json", "--plans", "uniform8", "--lanes", "2"], "give both lanes and devices"),
    (["sweep", "--model", "models/s4d_float.json", "--plans", "A99"], "cannot parse plan code"),
    (["report", "--sweep", "res.json"], "give --sweep RESULTS.json --name NAME"),
    (["report", "--sweep", "missing.json", "--name", "x"], "do not exist"),
    (["report", "--sweep", "models/s4d_float.json", "--name", "x"], "is not a sweep results file"),
    (["report", "--sweep", "r.json", "--name", "../up"], "--name must be a plain directory name"),
    (["report", "quantization", "--model", "nope.json"], "float model nope.json does not exist"),
])
def test_bad_input_is_one_error_line(env, capsys, argv, message):
    assert main(argv) == 2
    assert message in _one_error(capsys)


def test_report_quantization(env, capsys, monkeypatch):
    from hwssm.explore import quantization, studies

    def few():
        s = studies.study_plans()
        return {k: v[:2] for k, v in s.items()}

    monkeypatch.setattr(quantization, "study_plans", few)
    from hwssm.quant.qmodel_io import save_qmodel
    from hwssm.quant.random_qmodel import random_qmodel

    save_qmodel(random_qmodel(4, 2, 1, seed=5), env / "models" / "s4d_qat.qmodel.json")
    (env / "models" / "results").mkdir()
    (env / "models" / "results" / "qat.json").write_text(json.dumps([{"plan": "hetero", "accuracy": 0.5, "footprint_bits": 400}]))
    rc = main(["report", "quantization", "--limit", "3", "--calib-digits", "8", "--jobs", "1"])
    assert rc == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "1 QModel files, 1 saved results" in out
    md = (env / "reports" / "quantization.md").read_text()
    assert "## Heterogeneous precision" in md and "hetero" in md
    assert "s4d_qat.qmodel.json" in md and "golden engine (this run)" in md
    for name in ("quantization_bits.png", "quantization_compare.png", "quantization_hetero.png"):
        assert (env / "reports" / name).stat().st_size > 10_000
