"""The generated standalone testbench on Icarus (Verilog and SystemVerilog modes) and on
Verilator: reset high from time 0 with the source running, bit-exact outputs, the manifest's
latency; two differently configured prefixed cores in one compile; the shipped design on one
real test digit (slow)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import numpy as np
import pytest

from hwssm.hw.emit import generate
from hwssm.hw.options import DesignPoint, ParamStorage
from hwssm.hw.rtl.integration import CoreInterface
from hwssm.quant.plan import resolve_plan
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.verify.testbench import TestbenchOptions, simulator_commands, write_testbench

CFLAGS = ["-CFLAGS", "-std=c++20 -fcoroutines", "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include"]


def iverilog() -> str:
    """The iverilog executable; a skip with the reason when it is absent, a failure in CI
    (``.ci/run`` installs it and sets HWSSM_REQUIRE_ICARUS)."""
    path = shutil.which("iverilog")
    if path is None:
        if os.environ.get("HWSSM_REQUIRE_ICARUS"):
            pytest.fail("iverilog is not installed (CI must have it: apt-get install -y iverilog)")
        pytest.skip("iverilog (Icarus Verilog) is not installed: apt-get install iverilog")
    return path


def _run(cmds, cwd, env=None, timeout=600) -> str:
    out = ""
    for cmd in cmds:
        res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        out += res.stdout + res.stderr
        assert res.returncode == 0, f"{cmd[0]} failed:\n{out[-3000:]}"
    return out


def _verdict(out: str) -> str:
    lines = [ln for ln in out.splitlines() if ln.startswith(("PASS", "FAIL"))]
    assert lines, out[-3000:]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def designs(tmp_path_factory):
    """Two small random cores: plain ROM on 3 lanes; and prefixed, framed, LOAD on 2 lanes."""
    root = tmp_path_factory.mktemp("tb")
    out = {}
    for name, seed, design, interface in (
            ("plain", 2, DesignPoint(3, 6), CoreInterface()),
            ("acme", 3, DesignPoint(2, 5, storage=ParamStorage.LOAD), CoreInterface("acme_", last=True))):
        qm = random_qmodel(3, 2, 2, resolve_plan("A8x8-W8-a8-h-asym"), seed=seed)
        generate(qm, design, root / name, interface)
        px = np.random.default_rng(seed).integers(0, 256, (3, design.seq_len)).astype(np.uint8)
        out[name] = write_testbench(root / name, qm, px, root / "tb", TestbenchOptions(dbg=True))
    return out


@pytest.mark.icarus
@pytest.mark.parametrize("mode", ["2005", "2005-sv", "2012"])
@pytest.mark.parametrize("name", ["plain", "acme"])
def test_icarus_every_mode(designs, name, mode):
    iverilog()
    files = designs[name]
    cmds = simulator_commands(files, iverilog_mode=mode)["icarus"]
    assert _verdict(_run(cmds, files.directory)).startswith(f"PASS {files.top}:")
    gaps = [cmds[0][:1] + [f"-P{files.top}.GAPS=1"] + cmds[0][1:], cmds[1]]
    assert _verdict(_run(gaps, files.directory)).startswith("PASS")


@pytest.mark.verilator
@pytest.mark.parametrize("name", ["plain", "acme"])
def test_verilator(designs, name):
    from hwssm.config import find_verilator

    v = find_verilator()
    files = designs[name]
    build, sim = simulator_commands(files)["verilator"]
    build = [str(v.executable)] + build[1:7] + ["--Mdir", f"obj_{name}"] + build[7:]
    out = _run([build, [f"obj_{name}/{files.top}"]], files.directory, env=v.env())
    assert _verdict(out).startswith(f"PASS {files.top}:")


def _both(designs):
    """A top that runs both testbenches (FINISH=0) and ends when both are done."""
    a, b = designs["plain"].top, designs["acme"].top
    text = (f"module both;\n  {a} #(.FINISH(0)) a();\n  {b} #(.FINISH(0)) b();\n"
            f"  always @(posedge a.clk) if (a.done && b.done) $finish;\nendmodule\n")
    path = designs["plain"].directory / "both.v"
    path.write_text(text)
    srcs = [str(p) for f in designs.values() for p in [f.testbench] + [s.resolve() for s in f.rtl_sources]]
    return [str(path)] + srcs


@pytest.mark.icarus
def test_two_prefixed_cores_in_one_icarus_simulation(designs):
    iverilog()
    out = _run([["iverilog", "-g2012", "-o", "both.vvp", "-s", "both"] + _both(designs), ["vvp", "-n", "both.vvp"]],
               designs["plain"].directory)
    verdicts = _verdict(out).splitlines()
    assert len(verdicts) == 2 and all(v.startswith("PASS") for v in verdicts), out[-3000:]


@pytest.mark.verilator
def test_two_prefixed_cores_in_one_verilator_model(designs):
    from hwssm.config import find_verilator

    v = find_verilator()
    build = [str(v.executable), "--binary", "--timing"] + CFLAGS + ["--top-module", "both", "--Mdir", "obj_both",
                                                                     "-o", "both"] + _both(designs)
    out = _run([build, ["obj_both/both"]], designs["plain"].directory, env=v.env())
    verdicts = _verdict(out).splitlines()
    assert len(verdicts) == 2 and all(v.startswith("PASS") for v in verdicts), out[-3000:]


@pytest.mark.icarus
def test_old_emission_would_fail(designs, tmp_path):
    """The testbench catches the SV-mode lockup: the same core without the time-0 trigger
    (the Verilog as Yosys writes it) does not pass on iverilog -g2012."""
    iverilog()
    files = designs["plain"]
    src = files.rtl_sources[0].read_text()
    raw = "\n".join(ln for ln in src.splitlines() if "initial #0" not in ln) + "\n"
    (tmp_path / "raw.v").write_text(raw)
    cmds = [["iverilog", "-g2012", "-o", "raw.vvp", "-s", files.top, files.testbench.name, str(tmp_path / "raw.v")],
            ["vvp", "-n", "raw.vvp"]]
    assert _verdict(_run(cmds, files.directory)).startswith("FAIL")


def _hetero_p4_testbench(root):
    """rtl/hetero_P4's design point, generated here from the shipped model, and its testbench
    on MNIST test digit 0 (every output checked, the debug stream too)."""
    from hwssm.hw.references import REFERENCES
    from hwssm.quant.resolve import resolve_model
    from hwssm.verify.simulate import Digits

    ref = next(r for r in REFERENCES if r.name == "hetero_P4")
    qm = resolve_model("s4d_hetero").qmodel
    generate(qm, ref.design, root / "rtl")
    return write_testbench(root / "rtl", qm, Digits.mnist_test([0]).pixels, root / "tb")


@pytest.mark.icarus
@pytest.mark.slow
def test_shipped_design_one_real_digit_icarus(tmp_path):
    """hetero_P4 (2,422,434 cycles a digit), Icarus -g2012, reset from time 0: 450 s of CPU
    on the 2-core development machine (Icarus 11; 26 min of wall time there under load)."""
    iverilog()
    files = _hetero_p4_testbench(tmp_path)
    t0 = time.monotonic()
    out = _run(simulator_commands(files)["icarus"], files.directory, timeout=3600)
    assert _verdict(out).startswith("PASS"), out[-3000:]
    print(f"hetero_P4, 1 digit on Icarus -g2012: {time.monotonic() - t0:.0f} s")


@pytest.mark.verilator
@pytest.mark.slow
def test_shipped_design_one_real_digit_verilator(tmp_path):
    """hetero_P4 on Verilator (the same testbench)."""
    from hwssm.config import find_verilator

    v = find_verilator()
    files = _hetero_p4_testbench(tmp_path)
    build, run_ = simulator_commands(files)["verilator"]
    out = _run([[str(v.executable)] + build[1:], run_], files.directory, env=v.env(), timeout=3600)
    assert _verdict(out).startswith("PASS"), out[-3000:]


def test_hwssm_sim_refuses_a_framed_core(designs):
    """The sim_top wrapper ties extra inputs to 0, which a --last core would take as a
    framing error on every sequence: load_contract says so in one line instead."""
    from hwssm.errors import HwssmError
    from hwssm.verify.contract import load_contract

    with pytest.raises(HwssmError, match="--last"):
        load_contract(designs["acme"].rtl_sources[0].parent)
