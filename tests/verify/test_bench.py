"""``hwssm bench sim`` (hwssm/verify/bench.py) and the profile-guided build, on the toy core."""

from __future__ import annotations

import json

import pytest

from hwssm.cli import main
from hwssm.verify.bench import run_bench
from tests.verify.toy_core import write_toy

pytestmark = pytest.mark.verilator

KEYS = {"design", "digits", "pixels", "repeats", "recipe", "pgo", "pgo_train_cycles", "seconds_per_digit",
        "digits_per_s", "cycles_per_s", "cpu_seconds_per_digit", "baseline", "ratio", "ratio_cpu",
        "outputs_identical", "timing", "build_seconds", "build_cached", "simulator_digits_per_s"}
RATES = {"seconds_per_digit", "digits_per_s", "cycles_per_s", "cpu_seconds_per_digit", "simulator_digits_per_s"}


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    return write_toy(tmp_path_factory.mktemp("toy"), L=2, H=3, T=5, K=4)


def _check(rec, digits):
    assert set(rec) == KEYS
    assert rec["digits"] == digits and rec["outputs_identical"] == "values and cycles" and rec["pixels"] == "synthetic"
    assert rec["baseline"]["recipe"] == "baseline" and "always #5 clk = ~clk" in rec["baseline"]["what"]
    assert RATES <= set(rec["baseline"])
    for r in (rec, rec["baseline"]):
        assert r["digits_per_s"] > 0 and r["cycles_per_s"] > 0 and r["seconds_per_digit"] > 0
        # the testbench's start-to-done time excludes the process start-up
        assert r["simulator_digits_per_s"] >= r["digits_per_s"]
    assert rec["ratio"] > 0 and rec["ratio_cpu"] > 0
    assert rec["design"]["cycles_per_digit"] > 0


def test_bench_with_a_profile_guided_build(toy_dir):
    # the PGO path: instrumented build, truncated training run (+hwssm_max_cycles), rebuild
    rec = run_bench(digits=2, repeats=1, rtl=toy_dir, pgo=True)
    _check(rec, 2)
    assert rec["pgo"] is True and rec["pgo_train_cycles"] > 0


def test_bench_cli_prints_one_json_object(toy_dir, capsys):
    assert main(["bench", "sim", "--rtl", str(toy_dir), "--digits", "1", "--repeats", "1", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    rec = json.loads(out[0])
    _check(rec, 1)
    assert rec["pgo"] is False  # a small core builds without a profile by default


@pytest.mark.parametrize("argv", [["--digits", "0"], ["--repeats", "0"], ["--lanes", "0"]])
def test_bench_bad_arguments_exit_2(argv, capsys):
    assert main(["bench", "sim", *argv]) == 2
    assert capsys.readouterr().err.strip().startswith("hwssm: error: ")


def test_bench_against_another_rtl_directory(toy_dir, tmp_path, capsys):
    """``--against DIR``: the baseline is the fast build of another design of the same model;
    identical outputs are required (here: a copy of the same Verilog under another top name)."""
    other = write_toy(tmp_path / "other", L=2, H=3, T=5, K=4, top="toy_core_b")
    assert main(["bench", "sim", "--rtl", str(toy_dir), "--against", str(other), "--digits", "1", "--repeats", "1",
                 "--json"]) == 0
    rec = json.loads(capsys.readouterr().out.strip())
    assert set(rec) == KEYS and rec["outputs_identical"] == "values and cycles"
    base = rec["baseline"]
    assert base["recipe"] == "fast" and base["rtl"] == str(other) and str(other) in base["what"]
    assert RATES <= set(base) and base["digits_per_s"] > 0 and rec["ratio"] > 0


def test_bench_against_a_design_with_another_cycle_model(toy_dir, tmp_path, capsys):
    """A baseline whose manifest states another cycle count (as another ``Pipeline.mix_cols``
    would) must agree on every value, not on cycle numbers; its rates use its own cycles."""
    other = write_toy(tmp_path / "slower", L=2, H=3, T=5, K=4, top="toy_core_c")
    man = json.loads((other / "manifest.json").read_text())
    man["cycles_per_digit"] += 7
    (other / "manifest.json").write_text(json.dumps(man))
    assert main(["bench", "sim", "--rtl", str(toy_dir), "--against", str(other), "--digits", "1", "--repeats", "1",
                 "--json"]) == 0
    rec = json.loads(capsys.readouterr().out.strip())
    assert rec["outputs_identical"] == "values"
    assert rec["baseline"]["cycles_per_digit"] == rec["design"]["cycles_per_digit"] + 7


def test_bench_against_a_different_model_exits_2(toy_dir, tmp_path, capsys):
    other = write_toy(tmp_path / "longer", T=7)
    assert main(["bench", "sim", "--rtl", str(toy_dir), "--against", str(other), "--digits", "1",
                 "--repeats", "1", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hwssm: error: --against") and "same model" in err
