"""The LOAD-storage core (coefficients in single-port RAMs filled through the load port,
ping-ponged state banks): the load image goes in through the port in Amaranth's simulator,
then the network runs and must equal tests/naive.py exactly, at the cycle model's times.
Also the emitted files (Verilog without init for the load memories, params.hex, manifest).
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from hwssm.hw import cycle_model
from hwssm.hw.derive import derive
from hwssm.hw.options import Pipeline
from hwssm.hw.emit import MANIFEST_NAME, PARAMS_NAME, VERILOG_NAME, generate, read_image
from hwssm.hw.options import DesignPoint
from hwssm.hw.rtl.core import HwssmCore
from hwssm.hw.storage import ParamStorage
from hwssm.quant.plan import resolve_plan
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.synth.rtl import load_rtl
from tests.hw.rtl.rtl_run import rtl_run
from tests.hw.rtl.test_core import _expected

LOAD = ParamStorage.LOAD

# (H, M, L, P, T, plan, extreme, pipeline, soft_mul_bits)
CASES = {
    "p1-hetero-soft4": (3, 2, 2, 1, 4, "hetero", True, Pipeline(), 4),
    "p2-perhead-asym-3slices": (3, 3, 2, 2, 3, "A8x8-W8-a8-h-asym", True, Pipeline(), 0),
    "p3-deep-floor-wrap": (4, 2, 1, 3, 3, "A6x10-B4C4D4-W6-a6-floor-wrap", True, Pipeline(mul_stages=2, tree_levels_per_stage=1), 6),
    "p2-fast": (3, 2, 2, 2, 3, "hetero", True, Pipeline.fast(), 4),
    "p1-hetero-soft4-mix8": (9, 2, 2, 1, 3, "hetero", True, Pipeline(mix_cols=8), 4),
    "p2-mix6-fast": (7, 3, 2, 2, 2, "A8x8-W8-a8-h-asym", True, Pipeline(mem_stages=2, requant_stages=1, acc_stages=1, mix_cols=6), 0),
    "p1-hetero-soft4-closure": (3, 2, 2, 1, 4, "hetero", True, Pipeline.closure(), 4),
    "p2-hetero-soft4-closure-op": (3, 2, 2, 2, 4, "hetero", True,
                                   Pipeline(**{**dataclasses.asdict(Pipeline.closure()), "operand_regs": 1}), 4),
    "p1-hetero-soft4-closure-m3-op": (3, 2, 2, 1, 4, "hetero", True,
                                      Pipeline(**{**dataclasses.asdict(Pipeline.closure()), "mul_stages": 3,
                                                  "operand_regs": 1, "issue_regs": 1}), 4),
}


def _digits(T: int, seed: int, n: int = 2) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [[int(p) for p in rng.integers(0, 256, T)] for _ in range(n)]


@pytest.mark.parametrize("case", list(CASES))
def test_loaded_core_matches_naive_and_cycle_model(case):
    H, M, L, P, T, plan, extreme, pipe, soft = CASES[case]
    qm = random_qmodel(H, M, L, resolve_plan(plan), seed=len(case), extreme=extreme)
    core = HwssmCore(qm, DesignPoint(P, T, pipe, LOAD, soft))
    image = core.config.load.image()
    assert core.load_words == len(image) > 0
    digits = _digits(T, P)
    res = rtl_run(core, digits, load=image)
    dbg, logits, classes = _expected(qm, digits)
    assert [v for _, v in res.dbg] == dbg
    assert [v for _, v in res.logits] == logits
    assert [v for _, v in res.classes] == classes
    # no pixel before the last load word is written (word k taken at cycle k, written at k + 1)
    assert res.accepted[0] >= len(image) + 1
    s = cycle_model.step_schedule(core.config)
    start = res.accepted[0] + 1
    cpd, cps = core.cycles_per_digit, core.cycles_per_step
    out = cycle_model.Latencies(pipe.mul_stages, core.config.tree_stages, pipe.mem_stages, pipe.requant_stages,
                                 pipe.acc_stages).glu_out
    want = [start + d * cpd + t * cps + s.glu[l][h] + out
            for d in range(2) for t in range(T) for l in range(L) for h in range(H)]
    assert [c for c, _ in res.dbg] == want
    assert res.classes[1][0] - res.classes[0][0] == cpd
    # LOAD storage costs no cycles: the same schedule as the ROM core
    rom = derive(qm, DesignPoint(P, T, pipe))
    assert (cps, cpd) == (cycle_model.cycles_per_step(rom), cycle_model.cycles_per_digit(rom))
    assert cps == cycle_model.cycles_per_step(qm, DesignPoint(P, T, pipe, LOAD))


def test_wrong_image_gives_wrong_answers():
    """The parameters really come from the port: a corrupted image changes the outputs."""
    H, M, L, P, T = 3, 2, 1, 1, 3
    qm = random_qmodel(H, M, L, resolve_plan("hetero"), seed=5, extreme=True)
    core = HwssmCore(qm, DesignPoint(P, T, storage=LOAD))
    image = core.config.load.image()
    image = np.random.default_rng(1).integers(0, 1 << 16, len(image))  # another network's parameters
    digits = _digits(T, 7, 1)
    res = rtl_run(core, digits, load=image)
    dbg, _, _ = _expected(qm, digits)
    assert [v for _, v in res.dbg] != dbg


def test_reset_restarts_the_loader():
    """After a reset mid-digit the core takes no pixel until the image is streamed again;
    then the next digit is exact."""
    from amaranth.hdl import ClockDomain, Module
    from amaranth.sim import Simulator

    H, M, L, P, T = 3, 2, 1, 2, 3
    qm = random_qmodel(H, M, L, resolve_plan("uniform6"), seed=11, extreme=True)
    core = HwssmCore(qm, DesignPoint(P, T, storage=LOAD, soft_mul_bits=4))
    image = [int(w) for w in core.config.load.image()]
    top = Module()
    top.domains.sync = cd = ClockDomain()
    top.submodules.core = core
    junk, digit = _digits(T, 3)
    reset_at = len(image) + 40
    got = {"dbg": [], "cls": [], "ready_while_unloaded": 0}

    async def tb(ctx):
        ctx.set(core.out_ready, 1)
        i, j, feed, loaded_at = 0, 0, junk, None
        for cycle in range(4000):
            if cycle == reset_at:  # junk digit under way: reset for one cycle
                ctx.set(cd.rst, 1)
                ctx.set(core.in_valid, 0)
                ctx.set(core.load_valid, 0)
                await ctx.tick()
                ctx.set(cd.rst, 0)
                i, j, feed = 0, 0, digit
                continue
            ctx.set(core.load_valid, j < len(image))
            if j < len(image):
                ctx.set(core.load_data, image[j])
                if ctx.get(core.load_ready):
                    j += 1
                    if j == len(image):
                        loaded_at = cycle
            ctx.set(core.in_valid, i < T)
            if i < T:
                ctx.set(core.in_data, feed[i])
                if ctx.get(core.in_ready):
                    if cycle > reset_at and (loaded_at is None or cycle <= loaded_at):
                        got["ready_while_unloaded"] += 1
                    i += 1
            if cycle > reset_at and ctx.get(core.dbg_valid):
                got["dbg"].append(ctx.get(core.dbg_data))
            if cycle > reset_at and ctx.get(core.out_valid):
                got["cls"].append(ctx.get(core.out_class))
                return
            await ctx.tick()
        raise AssertionError("no class after the reset")

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    dbg, _, classes = _expected(qm, [digit])
    assert got == {"dbg": dbg, "cls": classes, "ready_while_unloaded": 0}


@pytest.fixture(scope="module")
def emitted(tmp_path_factory):
    out = tmp_path_factory.mktemp("rtl_load")
    qm = random_qmodel(3, 2, 2, resolve_plan("hetero"), seed=2)
    man = generate(qm, DesignPoint(2, 5, storage=LOAD, soft_mul_bits=4), out)
    return out, qm, man


def test_emitted_load_design(emitted):
    out, qm, man = emitted
    disk = json.loads((out / MANIFEST_NAME).read_text())
    assert disk == {k: v for k, v in man.items() if k != "seconds"}
    assert disk["storage"] == "load" and disk["soft_mul_bits"] == 4
    cfg = derive(qm, DesignPoint(2, 5, storage=LOAD, soft_mul_bits=4))
    words = read_image(out / PARAMS_NAME)
    assert words == [int(w) for w in cfg.load.image()]
    ld = disk["load"]
    assert ld["image"] == PARAMS_NAME and ld["words"] == len(words) == cfg.load.image_words
    assert ld["word_width"] == 16 and len(ld["segments"]) == 2 * len(cfg.load.slices)
    assert ld["segments"][-1]["offset"] + ld["segments"][-1]["depth"] == len(words)
    ports = {p["name"]: p for p in disk["ports"]}
    assert ports["load_data"] == {"name": "load_data", "dir": "in", "width": 16, "role": "data"}
    assert ports["load_valid"]["dir"] == "in" and ports["load_ready"]["dir"] == "out"
    assert set(ld["ports"].values()) <= set(ports)
    rtl = load_rtl(out)  # the synthesis reader accepts it; the load ports stay pins
    assert {p.name for p in rtl.ports} == set(ports)
    # the load memories and state banks have no init; the ROMs keep theirs
    text = (out / VERILOG_NAME).read_text()
    marked = re.findall(r"\(\* hwssm_spram = 32'd1 \*\)\n\s*reg (?:\[\d+:0\] )?(\S+) \[", text)
    assert sorted(marked) == sorted([f"coef{p}_s{s}" for p in range(2) for s in range(len(cfg.load.slices))]
                                    + [f"x{p}_b{b}" for p in range(2) for b in range(2)])
    for name in marked:
        assert not re.search(rf"^\s*{re.escape(name)}\[0\] = ", text, re.M), name
    assert re.search(r"^\s*gelu\[0\] = ", text, re.M)


def test_rom_generation_is_unchanged(tmp_path):
    qm = random_qmodel(3, 2, 1, resolve_plan("hetero"), seed=2)
    generate(qm, DesignPoint(1, 3, storage=LOAD), tmp_path)
    assert (tmp_path / PARAMS_NAME).is_file()
    man = generate(qm, DesignPoint(1, 3), tmp_path)  # ROM again: the stale image goes
    assert man["storage"] == "rom" and "load" not in man and not (tmp_path / PARAMS_NAME).exists()
    assert "load_data" not in {p["name"] for p in man["ports"]}
    assert "hwssm_spram" not in (tmp_path / VERILOG_NAME).read_text()
    assert derive(qm, DesignPoint(1, 3)).storage is ParamStorage.ROM and derive(qm, DesignPoint(1, 3)).load is None


def test_cli_generates_a_load_design(tmp_path, capsys):
    from hwssm.cli import main
    from hwssm.quant.qmodel_io import save_qmodel

    qpath = save_qmodel(random_qmodel(3, 2, 1, resolve_plan("hetero"), seed=4), tmp_path / "m")
    out = tmp_path / "rtl"
    argv = ["rtl", "generate", "--model", str(qpath), "--lanes", "1", "--out", str(out), "--seq-len", "3",
            "--storage", "load", "--soft-mul-bits", "4", "--mem-stages", "1", "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    man = json.loads((out / MANIFEST_NAME).read_text())
    assert summary["storage"] == man["storage"] == "load" and man["soft_mul_bits"] == 4
    assert man["pipeline"]["mem_stages"] == 1
    assert summary["load_words"] == man["load"]["words"] == len(read_image(out / PARAMS_NAME))
    assert main(argv[:-1] + ["--soft-mul-bits", "99"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hwssm: error: ") and "\n" not in err


@pytest.mark.verilator
def test_load_verilog_lints(emitted):
    """The LOAD design (no-init memories, load ports) raises no Verilator warning class
    beyond those the ROM design's lint test waives."""
    import subprocess

    from hwssm.config import find_verilator
    from tests.hw.test_emit import LINT_WAIVERS

    out, _, _ = emitted
    v = find_verilator()
    cmd = [str(v.executable), "--lint-only", "-Wall", "--top-module", "hwssm_core", str(out / VERILOG_NAME)]
    raw = subprocess.run(cmd + [f"-Wno-{w}" for w in LINT_WAIVERS], env=v.env(), capture_output=True, text=True,
                         timeout=300)
    assert raw.returncode == 0 and "%Warning" not in raw.stderr, raw.stderr[:2000]


def test_synth_script_forces_marked_memories_into_spram():
    from hwssm import targets
    from hwssm.synth.yosys import SPRAM_ATTR, YosysOptions, synth_script

    line = f'setattr -set ram_style "huge" a:{SPRAM_ATTR}'
    assert line in synth_script(["a.v"], targets.UP5K, "top", YosysOptions(spram=True)).splitlines()
    assert line not in synth_script(["a.v"], targets.UP5K, "top", YosysOptions(spram=False))
    assert line not in synth_script(["a.v"], targets.ECP5_25K, "top", YosysOptions(spram=True))
    from hwssm.hw.rtl.load_memories import SPRAM_ATTRS

    assert SPRAM_ATTR in SPRAM_ATTRS


@pytest.mark.synth
@pytest.mark.slow
def test_small_load_design_maps_to_spram(tmp_path, monkeypatch):
    """Yosys + nextpnr on UP5K with --spram: the two coefficient slices and the two state banks
    of a one-lane LOAD core become the four SB_SPRAM256KA, and it fits."""
    from hwssm import targets
    from hwssm.synth import SynthOptions, synthesize

    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    qm = random_qmodel(4, 2, 1, resolve_plan("A8x5-B4C4D4-W3-a6-b8-h"), seed=1)
    generate(qm, DesignPoint(1, 4, storage=LOAD, soft_mul_bits=4), tmp_path / "rtl")
    hw = synthesize(tmp_path / "rtl", targets.UP5K, SynthOptions(spram=True)).summary()
    assert hw["fits"] and hw["spram"] == 4 and hw["dsp"] <= 8, hw
