"""``hwssm sim`` on real MNIST test digits, its cycle check, its one-line errors, its repro line."""

from __future__ import annotations

import argparse
import json

import pytest

from hwssm.cli import main
from hwssm.commands.sim import reproduce_command
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    return save_qmodel(random_qmodel(4, 2, 1, seed=11), tmp_path_factory.mktemp("m") / "small")


@pytest.mark.verilator
def test_sim_small_model_on_mnist_digits(small_model, capsys):
    assert main(["sim", "--model", str(small_model), "--lanes", "3", "--indices", "0,7,42", "--jobs", "2",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["digits"] == 3 and out["mismatches"] == 0 and out["errors"] == []
    assert out["cycles_per_digit"] == out["model_cycles_per_digit"]
    assert out["cycles_per_step"] == out["model_cycles_per_step"]
    assert out["first_mismatch"] is None and out["reproduce"] is None
    assert out["build_seconds"] >= 0 and out["digits_per_s"] > 0


@pytest.mark.verilator
def test_sim_with_handshake_stress(small_model, capsys):
    assert main(["sim", "--model", str(small_model), "--lanes", "3", "--digits", "2", "--seed", "3",
                 "--in-gap", "100", "--out-stall", "100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["digits"] == 2 and out["cycles_per_digit"] is None


@pytest.mark.parametrize("argv", [
    ["--digits", "0"],
    ["--digits", "10001"],
    ["--indices", "10000"],
    ["--indices", "3", "--seed", "1"],
    ["--digits", "1", "--in-gap", "300"],
    ["--digits", "1", "--jobs", "0"],
    ["--digits", "5", "--start", "9996"],
    ["--digits", "5", "--start", "-1"],
    ["--digits", "5", "--start", "3", "--seed", "1"],
    ["--indices", "3", "--start", "2"],
])
def test_errors_are_one_line(small_model, capsys, argv):
    assert main(["sim", "--model", str(small_model), "--lanes", "2", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("hwssm: error: ")


def test_start_selects_a_range():
    from hwssm.commands.sim import _select

    args = argparse.Namespace(indices=None, seed=None, digits=3, start=9997)
    assert list(_select(args, 10_000)) == [9997, 9998, 9999]


def test_reproduce_command():
    args = argparse.Namespace(model="models/a b.qmodel.json", plan=None, lanes=16, in_gap=0, out_stall=0)
    assert reproduce_command(args, 42) == "hwssm sim --model 'models/a b.qmodel.json' --lanes 16 --indices 42"
    args = argparse.Namespace(model="ck.json", plan="hetero", lanes=3, in_gap=5, out_stall=0)
    assert reproduce_command(args, 0) == "hwssm sim --model ck.json --plan hetero --lanes 3 --indices 0 --in-gap 5 --out-stall 0"
    args = argparse.Namespace(model="m.json", plan=None, lanes=4, mix_cols=8, in_gap=0, out_stall=0)
    assert reproduce_command(args, 7) == "hwssm sim --model m.json --lanes 4 --mix-cols 8 --indices 7"


def test_mix_cols_with_an_rtl_directory_exits_2(capsys):
    from hwssm.cli import main

    assert main(["sim", "--model", "models/s4d_hetero.qmodel.json", "--rtl", "rtl/hetero_P16", "--mix-cols", "8",
                 "--digits", "1"]) == 2
    assert "--mix-cols" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--rtl", "rtl/hetero_P16", "--mem-stages", "1"], "--mem-stages"),
    (["--rtl", "rtl/hetero_P16", "--profile", "ecp5-25k"], "--profile"),
])
def test_design_options_errors_are_one_line(small_model, capsys, argv, message):
    assert main(["sim", "--model", str(small_model), *argv, "--digits", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("hwssm: error: ") and message in err[-1]


def test_reproduce_command_keeps_the_design_options():
    args = argparse.Namespace(model="m.json", plan=None, lanes=2, profile="ecp5-25k", mem_stages=None, mix_cols=8,
                              in_gap=0, out_stall=0)
    assert reproduce_command(args, 3) == "hwssm sim --model m.json --lanes 2 --mix-cols 8 --profile ecp5-25k --indices 3"


@pytest.mark.verilator
def test_sim_with_a_device_profile(small_model, capsys):
    assert main(["sim", "--model", str(small_model), "--lanes", "2", "--profile", "ecp5-25k", "--indices", "1",
                 "--jobs", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["lanes"] == 2 and out["cycles_per_digit"] == out["model_cycles_per_digit"]
    assert "P2-T784-k4-rom-m3-ms3-rq1-ac1-ed1-al1-op1-ir1-bk2048" in out["rtl"]  # the profile's pipeline reached the design
