"""S5 cores in Amaranth's Python simulator against the golden S5 engine (exact, every block
output of every step, logits, classes), and their cycle counts against the S5 cycle model
(exact). Small random models: odd mode counts, H not dividing the lanes, more lanes than modes,
half and full GLU, folded-BatchNorm biases, per-tensor and per-mode formats, asymmetric codes,
floor rounding, wrapping formats, every pipeline knob (operand registers, registered issue,
banked memories, three multiplier and memory stages included; ``Pipeline.closure()`` and each
device profile's pipeline), 4, 6 and 8 real-mode columns; two digits back to back. With ROM
storage and with LOAD storage (the load image streamed in through the load port first; the
UP5K profile as it is)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hwssm import targets
from hwssm.golden.s5_engine import run_s5
from hwssm.hw import cycle_model
from hwssm.hw.derive import derive
from hwssm.hw.options import DesignPoint, ParamStorage, Pipeline
from hwssm.hw.rtl.core import HwssmCore
from hwssm.model.s5_config import Glu, Norm, S5Config
from hwssm.synth.profile import device_profile
from tests.hw.rtl.rtl_run import rtl_run
from tests.hw.s5_models import s5_model, s5_pixels

DEEP = Pipeline(mul_stages=2, tree_levels_per_stage=1, mem_stages=1, requant_stages=1, acc_stages=1,
                encdec_stages=1, align_stages=1)
# (config, plan, lanes, T, pipeline)
CASES = {
    "half-P7-lanes3": (S5Config(H=5, P=7, L=2, n_classes=4), "uniform8", 3, 5, Pipeline()),
    "full-permode-asym-lanes4": (S5Config(H=6, P=3, L=1, n_classes=3, glu=Glu.FULL), "A8x12-B4C4D4-W8-a6-h-asym",
                                 4, 5, Pipeline()),
    "floor-nonorm-lanes2": (S5Config(H=4, P=5, L=2, n_classes=5, norm=Norm.NONE), "A6x8-B6C6D6-W6-a6-floor", 2, 4,
                            Pipeline()),
    "full-wrap-lanes5": (S5Config(H=7, P=3, L=1, n_classes=3, glu=Glu.FULL), "A8x6-B4C4D4-W4-a4-h-wrap", 5, 4,
                         Pipeline()),
    "deep-pipeline-lanes2": (S5Config(H=5, P=5, L=2, n_classes=3), "A8x10-B6C6D6-W6-a6-h", 2, 3, DEEP),
    "one-lane-L3": (S5Config(H=3, P=3, L=3, n_classes=2, glu=Glu.FULL), "uniform6", 1, 3, Pipeline()),
    "H1-one-mode-per-lane": (S5Config(H=1, P=2, L=2, n_classes=2, glu=Glu.FULL), "uniform8", 2, 4, Pipeline()),
    "H9-x16-mem2-tree1": (S5Config(H=9, P=4, L=1, n_classes=3), "A8x16-B8C8D8-W8-a8-h", 4, 3,
                          Pipeline(mem_stages=2, tree_levels_per_stage=1)),
    "P11-floor-wrap-rq-align": (S5Config(H=3, P=11, L=1, n_classes=3, glu=Glu.FULL), "A6x8-B4C4D4-W4-a6-floor-wrap",
                                3, 3, Pipeline(requant_stages=1, align_stages=1)),
    "k8-half-lanes3": (S5Config(H=5, P=7, L=2, n_classes=4), "uniform8", 3, 4, Pipeline(mix_cols=8)),
    "k6-full-wrap-lanes2": (S5Config(H=7, P=3, L=1, n_classes=3, glu=Glu.FULL), "A8x6-B4C4D4-W4-a4-h-wrap", 2, 4,
                            Pipeline(mix_cols=6)),
    "k6-H13-mem-rq": (S5Config(H=13, P=5, L=2, n_classes=3), "A8x12-B4C4D4-W8-a6-h-asym", 4, 3,
                      Pipeline(mix_cols=6, mem_stages=1, requant_stages=1)),
    "k8-full-floor-deep": (S5Config(H=9, P=4, L=2, n_classes=3, glu=Glu.FULL), "A6x8-B6C6D6-W6-a6-floor", 2, 3,
                           Pipeline(mix_cols=8, mul_stages=2, acc_stages=1, align_stages=1)),
    "closure": (S5Config(H=5, P=5, L=2, n_classes=3), "A8x12-B4C4D4-W8-a6-h-asym", 2, 3, Pipeline.closure()),
    # banks of 16 (8 where 9- and 18-bit blocks tie) words: the coefficient ROMs and the
    # L·Cs = 18-word state RAM of the one lane are split
    "banked-oregs-ms3-lanes1": (S5Config(H=3, P=9, L=2, n_classes=3, glu=Glu.FULL), "A8x10-B6C6D6-W6-a6-h", 1, 3,
                                Pipeline(mul_stages=3, mem_stages=3, operand_regs=1, issue_regs=1, bank_words=16)),
    "banked-k6-mem1-oregs": (S5Config(H=7, P=9, L=2, n_classes=3), "A6x8-B6C6D6-W6-a6-floor", 1, 3,
                             Pipeline(mix_cols=6, mem_stages=1, operand_regs=1, bank_words=16)),
    "k8-mem3-issue-regs": (S5Config(H=5, P=7, L=2, n_classes=4), "uniform8", 3, 3,
                           Pipeline(mix_cols=8, mem_stages=3, issue_regs=1, mul_stages=3)),
}


@pytest.mark.parametrize("device", [targets.UP5K, targets.ECP5_25K, targets.HX8K], ids=lambda d: d.name)
def test_s5_core_with_each_profiles_pipeline(device):
    """Each device profile's pipeline and soft multipliers, with ROM storage (and with the
    profile's own storage: :func:`test_s5_core_with_the_up5k_profile_as_is`)."""
    prof = device_profile(device)
    qm = s5_model(S5Config(H=4, P=5, L=2, n_classes=3), "A8x12-B4C4D4-W8-a6-h-asym", 5)
    design = dataclasses.replace(prof.design(2, 3), storage=ParamStorage.ROM)
    _check_qm(qm, design, 5)


def _check_core(cfg, code, lanes, T, pipe, seed=0):
    _check_qm(s5_model(cfg, code, seed), DesignPoint(lanes, T, pipe), seed)


def _check_qm(qm, design, seed):
    """The core against the golden engine and the cycle model; with LOAD storage the load image
    goes in through the load port first (from cycle 0 on, pixels offered at the same time)."""
    T, pipe = design.seq_len, design.pipeline
    core = HwssmCore(qm, design)
    pix = s5_pixels(2, T, seed + 1)
    gold = run_s5(qm, pix, trace=True)
    image = core.config.load.image() if design.storage is ParamStorage.LOAD else None
    res = rtl_run(core, [list(p) for p in pix], max_cycles=60_000, load=image)
    if image is not None:
        # no pixel before the last load word is written (word k taken at cycle k, written at k + 1)
        assert core.load_words == len(image) > 0 and res.accepted[0] >= len(image) + 1
        # LOAD storage costs no cycles: the ROM core's schedule
        rom = derive(qm, dataclasses.replace(design, storage=ParamStorage.ROM))
        assert (core.cycles_per_step, core.cycles_per_digit) == (cycle_model.cycles_per_step(rom),
                                                                 cycle_model.cycles_per_digit(rom))
    L, H = qm.L, qm.H
    assert [v for _, v in res.dbg] == gold.r[:, 1:].transpose(0, 2, 1, 3).reshape(-1).tolist()
    assert [v for _, v in res.logits] == gold.logits.reshape(-1).tolist()
    assert [v for _, v in res.classes] == gold.pred.tolist()
    s = cycle_model.step_schedule(core.config)
    start = res.accepted[0] + 1
    want = [start + d * core.cycles_per_digit + t * core.cycles_per_step + s.glu[l][h] + 5 + pipe.mem_stages
            + 2 * pipe.requant_stages for d in range(2) for t in range(T) for l in range(L) for h in range(H)]
    assert [c for c, _ in res.dbg] == want
    assert [c for c, _ in res.classes] == [start - 1 + (d + 1) * core.cycles_per_digit for d in range(2)]


@pytest.mark.parametrize("case", list(CASES))
def test_s5_core_matches_golden_and_cycle_model(case):
    _check_core(*CASES[case])


def _random_case(seed: int):
    """A random small S5 model and design point (shape, GLU, norm, plan, lanes, T, every pipeline knob;
    the knobs added later drawn last, so that the earlier draws stay as they were)."""
    r = np.random.default_rng(seed)
    L = int(r.integers(1, 3))
    cfg = S5Config(H=int(r.integers(1, 8)), P=int(r.integers(1, 10)), L=L, n_classes=int(r.integers(2, 6)),
                   glu=(Glu.HALF, Glu.FULL)[int(r.integers(2))], norm=(Norm.BATCH, Norm.NONE)[int(r.integers(2))])
    plan = RANDOM_PLANS[int(r.integers(len(RANDOM_PLANS)))]
    pipe = Pipeline(mul_stages=int(r.integers(1, 3)), tree_levels_per_stage=int(r.integers(1, 3)),
                    mem_stages=int(r.integers(0, 3)), requant_stages=int(r.integers(0, 2)),
                    acc_stages=int(r.integers(0, 2)), encdec_stages=int(r.integers(0, 2)),
                    align_stages=int(r.integers(0, 2)), mix_cols=(4, 6, 8)[int(r.integers(3))])
    lanes, T = int(r.integers(1, 7)), int(r.integers(2, 5))
    mul3, mem3, oregs, iregs, bank = (int(r.integers(0, n)) for n in (3, 3, 2, 2, 3))
    ms = 3 if mem3 == 2 else pipe.mem_stages
    pipe = dataclasses.replace(pipe, mul_stages=3 if mul3 == 2 else pipe.mul_stages, mem_stages=ms,
                               operand_regs=oregs if ms else 0, issue_regs=iregs,
                               bank_words=(0, 16, 32)[bank] if ms else 0)
    return cfg, plan, lanes, T, pipe


RANDOM_PLANS = ("uniform8", "uniform6", "hetero", "A8x12-B4C4D4-W8-a6-h-asym", "A6x8-B6C6D6-W6-a6-floor",
                "A8x6-B4C4D4-W4-a4-h-wrap", "A8x16-B8C8D8-W8-a8-h-floor-wrap")


@pytest.mark.parametrize("seed", [3, 9, 13, 20, 31, 47, 52, 66, 71, 88])
def test_random_s5_cores_match_golden_and_cycle_model(seed):
    _check_core(*_random_case(seed), seed=seed)


# LOAD storage (coefficients streamed into single-port RAMs, :mod:`hwssm.hw.storage`): the
# word layouts of every column count, per-mode formats (C̃ aligned per mode), odd lane counts,
# more lanes than modes, the pipeline knobs that move the memory reads (operand registers,
# memory stages, registered issue); (config, plan, lanes, T, pipeline, soft_mul_bits)
LOAD_CASES = {
    "load-half-lanes3": (S5Config(H=5, P=7, L=2, n_classes=4), "uniform8", 3, 4, Pipeline(), 0),
    "load-full-permode-asym-lanes4": (S5Config(H=6, P=3, L=1, n_classes=3, glu=Glu.FULL),
                                      "A8x12-B4C4D4-W8-a6-h-asym", 4, 3, Pipeline(), 0),
    "load-one-lane-floor-nonorm-soft4": (S5Config(H=4, P=5, L=2, n_classes=5, norm=Norm.NONE),
                                         "A6x8-B6C6D6-W6-a6-floor", 1, 3, Pipeline(), 4),
    "load-k6-wrap-mem1-oregs": (S5Config(H=7, P=3, L=1, n_classes=3, glu=Glu.FULL), "A8x6-B4C4D4-W4-a4-h-wrap", 2,
                                3, Pipeline(mix_cols=6, mem_stages=1, operand_regs=1), 0),
    "load-k8-x16-deep": (S5Config(H=9, P=4, L=2, n_classes=3), "A8x16-B8C8D8-W8-a8-h", 2, 3,
                         Pipeline(mix_cols=8, mul_stages=2, mem_stages=2, requant_stages=1, acc_stages=1,
                                  align_stages=1), 0),
    "load-closure-m3-issue-regs": (S5Config(H=5, P=5, L=2, n_classes=3), "A8x10-B6C6D6-W6-a6-h", 2, 3,
                                   dataclasses.replace(Pipeline.closure(), mul_stages=3, operand_regs=1,
                                                       issue_regs=1), 4),
}


@pytest.mark.parametrize("case", list(LOAD_CASES))
def test_s5_loaded_core_matches_golden_and_cycle_model(case):
    cfg, code, lanes, T, pipe, soft = LOAD_CASES[case]
    _check_qm(s5_model(cfg, code, 2), DesignPoint(lanes, T, pipe, ParamStorage.LOAD, soft), 2)


def test_s5_core_with_the_up5k_profile_as_is():
    """The UP5K build profile's design point unchanged: LOAD storage, its pipeline, 4-bit soft multipliers."""
    prof = device_profile(targets.UP5K)
    qm = s5_model(S5Config(H=4, P=5, L=2, n_classes=3), "A8x12-B4C4D4-W8-a6-h-asym", 5)
    design = prof.design(1, 3)
    assert design.storage is ParamStorage.LOAD
    _check_qm(qm, design, 5)


@pytest.mark.parametrize("seed", [13, 52])
def test_random_s5_loaded_cores_match_golden_and_cycle_model(seed):
    cfg, plan, lanes, T, pipe = _random_case(seed)
    _check_qm(s5_model(cfg, plan, seed), DesignPoint(lanes, T, pipe, ParamStorage.LOAD), seed)


def test_a_wrong_s5_load_image_gives_wrong_answers():
    """The parameters really come from the port: another image changes the outputs."""
    qm = s5_model(S5Config(H=4, P=3, L=1, n_classes=3), "uniform8")
    core = HwssmCore(qm, DesignPoint(2, 3, storage=ParamStorage.LOAD))
    image = np.random.default_rng(1).integers(0, 1 << 16, core.load_words)
    pix = s5_pixels(1, 3, 4)
    res = rtl_run(core, [list(p) for p in pix], max_cycles=60_000, load=image)
    gold = run_s5(qm, pix, trace=True)
    assert [v for _, v in res.dbg] != gold.r[:, 1:].transpose(0, 2, 1, 3).reshape(-1).tolist()
