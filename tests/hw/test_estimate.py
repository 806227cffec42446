"""The analytic resource estimator: structure, memory mapping rules, monotonicity; against Yosys (synth)."""

from __future__ import annotations

import dataclasses

import pytest

from hwssm.hw.estimate import (
    COEFFICIENTS, COMPONENTS, Block, Kind, cost, estimate, inventory, lut_error, memory_breakdown,
)
from hwssm.quant.plan import NAMED_PLANS, PrecisionPlan, parse_code
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.synth.device import Device


@pytest.fixture(scope="module")
def qm():
    return random_qmodel(8, 4, 2, plan=parse_code("A8x10-B4C4D4-W8-a6"), seed=3)


def test_memory_breakdown_sums_to_the_footprint():
    for plan in (NAMED_PLANS["hetero"], parse_code("A6x8-W6-a6-h-asym")):
        q = random_qmodel(6, 3, 2, plan=plan, seed=1)
        mb = memory_breakdown(q)
        assert sum(mb.values()) == q.footprint_bits
        assert mb["x"] == q.state_bits and set(mb) <= set(COMPONENTS)


@pytest.mark.parametrize("device", list(Device))
def test_totals_are_the_sum_of_blocks_and_components(qm, device):
    e = estimate(qm, 2, device)
    k = COEFFICIENTS[device.family]
    assert e.total.lut == pytest.approx(sum(r.lut for _, r in e.blocks) + k.control_fixed + 2 * k.control)
    assert e.total.ff == pytest.approx(sum(r.ff for _, r in e.blocks) + k.ff_fixed)
    assert e.total.dsp == sum(r.dsp for _, r in e.blocks)
    for field in ("lut", "ff", "dsp", "bram", "lutram"):
        assert getattr(e.total, field) == pytest.approx(sum(getattr(r, field) for r in e.by_component.values()))
    s = e.summary()
    assert set(s["lut_by_component"]) == set(COMPONENTS)
    assert abs(sum(s["lut_by_component"].values()) - s["lut"]) <= len(COMPONENTS)


def test_every_lane_has_eight_multipliers(qm):
    muls = [b for b in inventory(qm, 3) if b.kind is Kind.MUL and "multiplier" in b.name]
    per_lane = sum(b.count for b in muls if b.count % 3 == 0)
    assert per_lane == 8 * 3


@pytest.mark.parametrize("device", list(Device))
def test_more_lanes_cost_more_and_dsps_follow_the_switch(qm, device):
    e1, e4 = estimate(qm, 1, device), estimate(qm, 4, device)
    assert e4.total.lut > e1.total.lut and e4.total.dsp > e1.total.dsp
    nodsp = estimate(qm, 4, device, dsp=False)
    assert nodsp.total.dsp == 0 and nodsp.total.lut > e4.total.lut


def test_wider_plans_cost_more(qm):
    narrow = random_qmodel(8, 4, 2, plan=PrecisionPlan.uniform(4), seed=3)
    wide = random_qmodel(8, 4, 2, plan=PrecisionPlan.uniform(12), seed=3)
    for device in Device:
        assert estimate(wide, 2, device, dsp=False).total.lut > estimate(narrow, 2, device, dsp=False).total.lut


def test_memory_mapping_follows_yosys_costs():
    ice = COEFFICIENTS["ice40"]
    # A ROM goes to block RAM only when that is cheaper than 1/16 logic per bit (64 per SB_RAM40_4K).
    small_rom = Block("r", "A", Kind.ROM, 16, depth=64)     # 1024 bits: cost 64 = 1 BRAM: stays in logic (tie)
    big_rom = Block("r", "A", Kind.ROM, 16, depth=256 * 4)  # 16 kbit: 4 BRAMs (cost 256) < 1024
    assert cost(small_rom, "ice40").bram == 0 and cost(small_rom, "ice40").lut > 0
    assert cost(big_rom, "ice40").bram == 4 and cost(big_rom, "ice40").lut == 0
    # RAM logic costs 1 per bit: anything above 64 bits goes to block RAM on iCE40...
    assert cost(Block("x", "x", Kind.RAM, 8, depth=16), "ice40").bram == 1
    assert cost(Block("x", "x", Kind.RAM, 4, depth=8), "ice40").bram == 0
    # ... and to 16x4 LUT-RAM on ECP5 when that is cheaper than an 18 kbit block.
    r = cost(Block("x", "x", Kind.RAM, 8, depth=16), "ecp5")
    assert (r.bram, r.lutram) == (0, 2)
    assert cost(Block("x", "x", Kind.RAM, 36, depth=512), "ecp5").bram == 1
    # widths above a configuration's split into several blocks
    assert cost(Block("r", "A", Kind.ROM, 32, depth=2048), "ice40").bram == 16
    assert ice.bram_cost == 64


def test_multipliers_split_over_dsps():
    assert cost(Block("m", "A", Kind.MUL, 8, 8), "ice40").dsp == 1
    assert cost(Block("m", "A", Kind.MUL, 4, 4), "ice40").dsp == 0  # 8-bit product: LUTs (DSP_Y_MINWIDTH 11)
    assert cost(Block("m", "A", Kind.MUL, 20, 8), "ice40").dsp == 2
    assert cost(Block("m", "A", Kind.MUL, 20, 8), "ecp5").dsp == 2
    assert cost(Block("m", "A", Kind.MUL, 18, 18), "ecp5").dsp == 1
    assert cost(Block("m", "A", Kind.MUL, 8, 8, count=3), "ecp5", dsp=False).lut == pytest.approx(3 * COEFFICIENTS["ecp5"].soft_mul * 64)


def test_lut_error():
    assert lut_error(115, 100) == pytest.approx(0.15)
    assert lut_error(85, 100) == pytest.approx(-0.15)
    assert lut_error(0, 0) == 0.0


def test_coefficients_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        COEFFICIENTS["ice40"].add = 2.0


@pytest.mark.synth
@pytest.mark.slow
def test_lut_estimate_within_tolerance_of_yosys(tmp_path, monkeypatch):
    """One small core through Yosys on each family: the LUT4 estimate within ±15 %."""
    from hwssm.explore.sweep import measured_lut
    from hwssm.hw.emit import generate
    from hwssm.synth import synthesize

    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    q = random_qmodel(8, 4, 1, plan=parse_code("A8x8-W8-a8"), seed=0)
    generate(q, 2, tmp_path / "rtl")
    # Only the ECP5 here: this 2-lane core needs 20 hard multipliers, more than the UP5K's 8
    # SB_MAC16, so nextpnr rejects it there (DesignDoesNotFit). A UP5K comparison needs a
    # P=1 design with soft multipliers; the sweeps report the UP5K error for every point.
    for device in (Device.ECP5_25K,):
        rep = synthesize(tmp_path / "rtl", device)
        hw = rep.summary()
        err = lut_error(estimate(q, 2, device).total.lut, measured_lut(hw, device))
        assert abs(err) <= 0.15, (device, err)
