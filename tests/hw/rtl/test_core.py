"""The whole core in Amaranth's Python simulator against tests/naive.py (exact), and its
cycle counts against the cycle model (exact).

Small networks only (the Python simulator is slow); two digits back to back, so that
the state restart between digits and the digit period are checked too.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.hw import cycle_model
from hwssm.hw.derive import derive
from hwssm.hw.options import Pipeline
from hwssm.hw.options import DesignPoint
from hwssm.hw.rtl.core import HwssmCore
from hwssm.quant.plan import NAMED_PLANS, resolve_plan
from hwssm.quant.random_qmodel import random_qmodel
from tests.hw.rtl.rtl_run import rtl_run
from tests.naive import run_sequence

# (H, M, L, P, T, plan, extreme, pipeline)
CASES = {
    "p1-uniform8": (3, 2, 2, 1, 5, "uniform8", False, Pipeline()),
    "p3-perhead-asym-extreme": (3, 2, 2, 3, 5, "A8x8-W8-a8-h-asym", True, Pipeline()),
    "p2-floor-wrap-extreme": (3, 2, 2, 2, 4, "A6x10-B4C4D4-W6-a6-floor-wrap", True, Pipeline()),
    "p2-hetero-L1": (5, 3, 1, 2, 4, "hetero", True, Pipeline()),
    "p7-gt-H-perhead-floor": (4, 2, 2, 7, 4, "A8x12-W8-a8-h-asym-floor", False, Pipeline()),
    "p4-uniform4-L3": (6, 5, 3, 4, 3, "uniform4", True, Pipeline()),
    "p5-deep-pipeline": (5, 4, 2, 5, 3, "uniform6", True, Pipeline(mul_stages=2, tree_levels_per_stage=1)),
    "p16-tree": (4, 16, 1, 16, 2, "A12x16-W12-a12-h-asym", True, Pipeline()),
}


def _expected(qm, digits):
    dbg, logits, classes = [], [], []
    for d in digits:
        r = run_sequence(qm, d)
        for t in range(len(d)):
            for l in range(qm.L):
                dbg += r["traces"]["r"][l + 1][t]
        logits += r["logits"]
        classes.append(r["pred"])
    return dbg, logits, classes


@pytest.mark.parametrize("case", list(CASES))
def test_core_matches_naive_and_cycle_model(case):
    H, M, L, P, T, plan, extreme, pipe = CASES[case]
    qm = random_qmodel(H, M, L, resolve_plan(plan), seed=len(case), extreme=extreme)
    core = HwssmCore(qm, DesignPoint(P, T, pipe))
    rng = np.random.default_rng(P)
    digits = [[int(p) for p in rng.integers(0, 256, T)] for _ in range(2)]
    res = rtl_run(core, digits)
    dbg, logits, classes = _expected(qm, digits)
    assert [v for _, v in res.dbg] == dbg
    assert [v for _, v in res.logits] == logits
    assert [v for _, v in res.classes] == classes
    # cycles: every dbg output and every class appear exactly when the cycle model says
    s = cycle_model.step_schedule(core.config)
    start = res.accepted[0] + 1  # the first step starts the cycle after pixel 0 is taken
    cpd = core.cycles_per_digit
    want = [start + d * cpd + t * core.cycles_per_step + s.glu[l][h] + 5
            for d in range(2) for t in range(T) for l in range(L) for h in range(H)]
    assert [c for c, _ in res.dbg] == want
    assert [c for c, _ in res.classes] == [start + (d + 1) * cpd - 1 for d in range(2)]
    assert res.classes[1][0] - res.classes[0][0] == cpd


def test_unrealisable_plans_fail_at_generation():
    qm = random_qmodel(3, 2, 1, NAMED_PLANS["uniform16"])
    with pytest.raises(HwssmError, match="at most 12 bits") as e:
        derive(qm, DesignPoint(2, 4))  # what HwssmCore(qm, DesignPoint(2, 4)) calls first
    assert "\n" not in str(e.value)
    ok = random_qmodel(3, 2, 1)
    for lanes, T in ((0, 4), (2, 0), (True, 4), (2.5, 4)):
        with pytest.raises(HwssmError):
            derive(ok, DesignPoint(lanes, T))
    with pytest.raises(HwssmError, match="mul_stages"):
        Pipeline(mul_stages=0)


@pytest.mark.parametrize("plan", ["uniform8", "uniform6", "uniform4", "hetero"])
def test_named_plans_are_realisable(plan):
    qm = random_qmodel(4, 2, 2, NAMED_PLANS[plan], extreme=True)
    cfg = derive(qm, DesignPoint(3, 6))
    assert cfg.a == qm.r0.width and cfg.logit_width > 0


def test_reset_mid_digit_restarts_cleanly():
    """A synchronous reset in the middle of a digit: the next digit is exact again."""
    from amaranth.hdl import ClockDomain, Module
    from amaranth.sim import Simulator

    qm = random_qmodel(3, 2, 2, seed=9, extreme=True)
    T, reset_at = 4, 60
    core = HwssmCore(qm, DesignPoint(2, T))
    top = Module()
    top.domains.sync = cd = ClockDomain()
    top.submodules.core = core
    rng = np.random.default_rng(3)
    junk, digit = ([int(p) for p in rng.integers(0, 256, T)] for _ in range(2))
    got = {"dbg": [], "cls": []}

    async def tb(ctx):
        ctx.set(core.out_ready, 1)
        i, feed = 0, junk
        for cycle in range(3000):
            if cycle == reset_at:  # junk digit half done: reset for one cycle
                ctx.set(cd.rst, 1)
                ctx.set(core.in_valid, 0)
                await ctx.tick()
                ctx.set(cd.rst, 0)
                i, feed = 0, digit
                continue
            ctx.set(core.in_valid, i < T)
            if i < T:
                ctx.set(core.in_data, feed[i])
                if ctx.get(core.in_ready):
                    i += 1
            if cycle > reset_at and ctx.get(core.dbg_valid):
                got["dbg"].append(ctx.get(core.dbg_data))
            if cycle > reset_at and ctx.get(core.out_valid):
                got["cls"].append(ctx.get(core.out_class))
                return
            await ctx.tick()

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    dbg, _, classes = _expected(qm, [digit])
    assert got == {"dbg": dbg, "cls": classes}
