"""The core with LayerNorm (ARITHMETIC.md §7, prenorm and postnorm) in Amaranth's simulator
against tests/naive.py (exact: every r_{l+1} of every step, the logits and classes), and its
cycle counts against the cycle model (exact)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.hw import cycle_model
from hwssm.hw.derive import derive
from hwssm.hw.options import DesignPoint, Pipeline
from hwssm.hw.rtl.core import HwssmCore
from hwssm.hw.storage import ParamStorage
from hwssm.quant.plan import resolve_plan
from hwssm.quant.random_qmodel import random_qmodel
from tests.hw.rtl.rtl_run import rtl_run
from tests.hw.rtl.test_core import _expected

ROM, LOAD = ParamStorage.ROM, ParamStorage.LOAD

# (H, M, L, P, T, plan, extreme, pipeline, storage, vocabulary of a token model)
CASES = {
    "p1": (3, 2, 2, 1, 3, "uniform8", False, Pipeline(), ROM, None),
    "p2": (3, 2, 2, 2, 3, "uniform8", False, Pipeline(), ROM, None),
    "p2-floor-wrap-extreme": (3, 2, 2, 2, 3, "A6x10-B4C4D4-W6-a6-floor-wrap", True, Pipeline(), ROM, None),
    "p3-H5-L3-extreme": (5, 3, 3, 3, 2, "uniform8", True, Pipeline(), ROM, None),
    "p2-L1-mem-requant-stages": (4, 2, 1, 2, 3, "hetero", False, Pipeline(mem_stages=1, requant_stages=1), ROM, None),
    "p2-every-stage-k8-load": (4, 3, 2, 2, 2, "uniform8", False,
                               Pipeline(mul_stages=1, mem_stages=2, requant_stages=1, acc_stages=1, mix_cols=8,
                                        encdec_stages=1, align_stages=1), LOAD, None),
    "p2-tokens-k6": (6, 2, 2, 2, 3, "uniform8", False, Pipeline(mix_cols=6), ROM, 16),
    # the timing-closure pipelines of the build profiles (operand and issue registers, 3-stage
    # multipliers; with 16-word banks the coefficient ROMs and state RAMs are split)
    "p2-closure": (4, 2, 2, 2, 3, "uniform8", False, Pipeline.closure(), ROM, None),
    "p2-closure-banks": (4, 3, 2, 2, 3, "uniform8", False,
                         dataclasses.replace(Pipeline.closure(), mem_stages=3, bank_words=16), ROM, None),
}


def _run(case: str, prenorm: bool):
    H, M, L, P, T, plan, extreme, pipe, storage, vocab = CASES[case]
    qm = random_qmodel(H, M, L, resolve_plan(plan), seed=len(case) + prenorm, extreme=extreme, prenorm=prenorm,
                       vocab=vocab)
    core = HwssmCore(qm, DesignPoint(P, T, pipe, storage))
    rng = np.random.default_rng(P)
    top = 256 if vocab is None else vocab
    digits = [[int(p) for p in rng.integers(0, top, T)] for _ in range(2)]
    digits[0][0] = top - 1
    load = core.config.load.image() if storage is LOAD else None
    return qm, core, digits, rtl_run(core, digits, load=load)


@pytest.mark.parametrize("prenorm", [True, False], ids=["prenorm", "postnorm"])
@pytest.mark.parametrize("case", list(CASES))
def test_core_with_layernorm_matches_naive_and_cycle_model(case, prenorm):
    H, M, L, P, T, plan, extreme, pipe, storage, vocab = CASES[case]
    qm, core, digits, res = _run(case, prenorm)
    assert core.config.norm is not None and core.config.norm.prenorm is prenorm
    dbg, logits, classes = _expected(qm, digits)
    assert [v for _, v in res.dbg] == dbg
    assert [v for _, v in res.logits] == logits
    assert [v for _, v in res.classes] == classes
    s = cycle_model.step_schedule(core.config)
    start = res.accepted[0] + 1
    cpd, cps = core.cycles_per_digit, core.cycles_per_step
    glu_out = 5 + pipe.mem_stages + 2 * pipe.requant_stages
    at = (lambda l, h: s.glu[l][h] + glu_out) if prenorm else (lambda l, h: s.norm_out[l][h])
    want = [start + d * cpd + t * cps + at(l, h) for d in range(2) for t in range(T) for l in range(L) for h in range(H)]
    assert [c for c, _ in res.dbg] == want
    assert [c for c, _ in res.classes] == [start + (d + 1) * cpd - 1 for d in range(2)]
    # the LayerNorm's own schedule: its outputs are written `latency` cycles after its last input
    nc = core.config.norm
    assert s.norm_out is not None and len(s.norm_out) == L
    assert all(s.norm_out[l][h] == s.norm_out[l][0] + h for l in range(L) for h in range(H))
    assert nc.latency == 1 + 2 + nc.iterations + 1 + 22 + 6


def test_cycle_model_of_a_qmodel_equals_that_of_its_core():
    qm = random_qmodel(4, 2, 2, seed=0, prenorm=False)
    d = DesignPoint(2, 16)
    assert cycle_model.cycles_per_step(qm, d) == cycle_model.cycles_per_step(derive(qm, d))
    plain = random_qmodel(4, 2, 2, seed=0)
    assert cycle_model.cycles_per_step(qm, d) > cycle_model.cycles_per_step(plain, d)


def test_mixed_placements_are_refused_in_one_line():
    import dataclasses

    pre = random_qmodel(3, 2, 2, seed=0, prenorm=True)
    post = random_qmodel(3, 2, 2, seed=0, prenorm=False)
    for layers in ((pre.layers[0], post.layers[1]), (pre.layers[0], dataclasses.replace(pre.layers[1], norm=None))):
        qm = dataclasses.replace(pre, layers=layers)
        with pytest.raises(HwssmError, match="all prenorm or all postnorm") as info:
            derive(qm, DesignPoint(2, 4))
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("prenorm", [True, False], ids=["prenorm", "postnorm"])
def test_layernorm_core_under_output_backpressure(prenorm):
    # out_ready low for 300 cycles at every class: the next digit's steps finish, its decoder
    # waits (postnorm: the LayerNorm's last pool writes start it); nothing is lost or reordered
    from amaranth.sim import Simulator

    qm = random_qmodel(3, 2, 2, seed=9, prenorm=prenorm)
    core = HwssmCore(qm, DesignPoint(2, 3))
    rng = np.random.default_rng(9)
    digits = [[int(p) for p in rng.integers(0, 256, 3)] for _ in range(3)]
    pixels = [p for d in digits for p in d]
    got = {"dbg": [], "logits": [], "classes": []}

    async def tb(ctx):
        i, wait, stalled = 0, None, 0
        for _ in range(20_000):
            ctx.set(core.in_valid, i < len(pixels))
            if i < len(pixels):
                ctx.set(core.in_data, pixels[i])
                if ctx.get(core.in_ready):
                    i += 1
            valid = ctx.get(core.out_valid)
            if valid and wait is None:
                wait = 300                       # a new class: hold out_ready low for 300 cycles
            ready = wait == 0
            ctx.set(core.out_ready, ready)
            if ctx.get(core.dbg_valid):
                got["dbg"].append(ctx.get(core.dbg_data))
            if ctx.get(core.logit_valid):
                got["logits"].append(ctx.get(core.logit_data))
            if valid and ready:
                got["classes"].append(ctx.get(core.out_class))
                wait = None
                if len(got["classes"]) == len(digits):
                    got["stalled"] = stalled
                    return
            elif wait:
                wait -= 1
                stalled += valid
            await ctx.tick()
        raise AssertionError("the core did not finish")

    sim = Simulator(core)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    dbg, logits, classes = _expected(qm, digits)
    assert got["dbg"] == dbg and got["logits"] == logits and got["classes"] == classes
    assert got["stalled"] == 3 * 300
