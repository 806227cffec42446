"""The integration contract in Amaranth's simulator: in_ready low during reset, the
last-pixel-to-class latency of the cycle model, and the in_last framer (framed streams keep
every cycle; a framing error is flagged and the next sequence is right again)."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Elaboratable, Module
from amaranth.sim import Simulator

from hwssm.errors import HwssmError
from hwssm.golden.engine import run
from hwssm.hw import cycle_model
from hwssm.hw.options import DesignPoint
from hwssm.hw.rtl.core import HwssmCore
from hwssm.hw.rtl.integration import CoreInterface
from hwssm.quant.plan import resolve_plan
from hwssm.quant.random_qmodel import random_qmodel
from tests.hw.rtl.rtl_run import rtl_run

T = 5


@pytest.fixture(scope="module")
def qm():
    return random_qmodel(3, 2, 2, resolve_plan("A8x8-W8-a8-h-asym"), seed=4)


class _Top(Elaboratable):
    """The core in an explicit sync domain, so that the testbench can drive its reset."""

    def __init__(self, core):
        self.core, self.cd = core, ClockDomain("sync")

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = self.cd
        m.submodules.core = self.core
        return m


def _drive(core, pixels, lasts, n_classes, reset_cycles=0, max_cycles=20_000):
    """Offer ``pixels`` (with ``lasts`` as in_last) from cycle 0 with rst high for
    ``reset_cycles``; returns (accepted cycles, [(cycle, class)], logits, error cycles, ready-in-reset)."""
    acc, classes, logits, errors, ready_in_reset = [], [], [], [], []
    top = _Top(core)
    rst = top.cd.rst

    async def tb(ctx):
        i = 0
        ctx.set(core.out_ready, 1)
        for cycle in range(max_cycles):
            ctx.set(rst, cycle < reset_cycles)
            ctx.set(core.in_valid, i < len(pixels))
            if i < len(pixels):
                ctx.set(core.in_data, int(pixels[i]))
                if core.interface.last:
                    ctx.set(core.in_last, int(lasts[i]))
            in_reset = cycle < reset_cycles
            if in_reset and ctx.get(core.in_ready):
                ready_in_reset.append(cycle)
            if i < len(pixels) and ctx.get(core.in_ready):
                acc.append(cycle)
                i += 1
            if core.interface.last and ctx.get(core.frame_error):
                errors.append(cycle)
            if ctx.get(core.logit_valid):
                logits.append(ctx.get(core.logit_data))
            if ctx.get(core.out_valid):
                classes.append((cycle, ctx.get(core.out_class)))
                if len(classes) == n_classes:
                    return
            await ctx.tick()
        raise AssertionError("the core did not finish")

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    return acc, classes, logits, errors, ready_in_reset


def test_in_ready_low_during_reset(qm):
    core = HwssmCore(qm, DesignPoint(3, T))
    rng = np.random.default_rng(0)
    px = rng.integers(0, 256, T)
    acc, classes, logits, _, ready_in_reset = _drive(core, px, [0] * T, 1, reset_cycles=3)
    assert ready_in_reset == [] and acc[0] >= 3
    assert logits == run(qm, px[None]).logits[0].tolist()


def test_last_to_class_latency_is_the_cycle_models(qm):
    """Pixels back to back: the class comes cycle_model.last_to_class cycles after the last
    pixel is taken (the manifest's integration.latency_cycles.last_to_class)."""
    for lanes, t in ((3, T), (1, 3), (2, 1)):
        core = HwssmCore(qm, DesignPoint(lanes, t))
        digits = [[int(p) for p in np.random.default_rng(lanes).integers(0, 256, t)]]
        res = rtl_run(core, digits)
        assert res.classes[0][0] - res.accepted[t - 1] == cycle_model.last_to_class(core.config), (lanes, t)


def test_framed_stream_keeps_every_cycle(qm):
    rng = np.random.default_rng(1)
    px = rng.integers(0, 256, 2 * T)
    lasts = [int(i % T == T - 1) for i in range(2 * T)]
    plain = _drive(HwssmCore(qm, DesignPoint(3, T)), px, lasts, 2)
    framed = _drive(HwssmCore(qm, DesignPoint(3, T), CoreInterface(last=True)), px, lasts, 2)
    assert framed[:3] == plain[:3] and framed[3] == []
    assert framed[2] == run(qm, px.reshape(2, T)).logits.reshape(-1).tolist()


@pytest.mark.parametrize("error", ["early", "missing"])
def test_framing_error_is_flagged_and_the_next_sequence_is_right(qm, error):
    rng = np.random.default_rng(2)
    good = rng.integers(0, 256, T)
    if error == "early":   # a sequence of T-2 pixels marked last, then a good one
        px = list(rng.integers(0, 256, T - 2)) + list(good)
        lasts = [0] * (T - 3) + [1] + [0] * (T - 1) + [1]
    else:                  # T+2 pixels with no last, the last of them marked; then a good one
        px = list(rng.integers(0, 256, T + 2)) + list(good)
        lasts = [0] * (T + 1) + [1] + [0] * (T - 1) + [1]
    core = HwssmCore(qm, DesignPoint(3, T), CoreInterface(last=True))
    acc, classes, logits, errors, _ = _drive(core, px, lasts, 2)
    assert len(errors) == 1
    assert len(acc) == len(px)
    assert logits[-qm.n_classes:] == run(qm, good[None]).logits[0].tolist()
    assert classes[-1][1] == int(run(qm, good[None]).pred[0])


def test_interface_validation():
    assert CoreInterface("acme_", True).to_json() == {"prefix": "acme_", "last": True}
    assert CoreInterface.from_json({"prefix": "x_"}) == CoreInterface("x_")
    for bad in ("1x", "a-b", "a b", "ä"):
        with pytest.raises(HwssmError, match="prefix"):
            CoreInterface(bad)
