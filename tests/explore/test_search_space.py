"""hwssm search: the space (plans × lanes × mixing columns × pipeline) and the estimator pruning."""

from __future__ import annotations

import pytest

from hwssm.errors import HwssmError
from hwssm.explore.cache import RecordKind
from hwssm.explore.estimate_point import Fit, estimate_point
from hwssm.explore.models import sweep_qmodels
from hwssm.explore.search_prune import Capacity, estimate_candidates
from hwssm.explore.search_space import Depth, HardwareGrid, PlanGrid, SearchSpace
from hwssm.explore.spec import SweepSpec
from hwssm.explore.sweep import model_digest
from hwssm.hw.options import ParamStorage, Pipeline
from hwssm.quant.plan import parse_code
from hwssm.targets import ECP5_25K, UP5K

from .conftest import CALIB

PLANS = (parse_code("A8x12-B4C4D4-W6-a8"), parse_code("A6x8-B4C4D4-W4-a6"), parse_code("A10x12-B6C6D6-W6-a8-h"))


def test_default_space_has_at_least_500_points_on_the_up5k():
    space = SearchSpace.default()
    assert len(space.plans) == 3 * 3 * 3 * 2 * 2 * 2 == 216
    assert space.size(UP5K, 784) == 216 * 3 * 2 * 2 == 2592 >= 500
    assert len({p.code for p in space.plans}) == 216
    cands = space.candidates(UP5K, 784)
    assert len(cands) == 2592
    # storage and soft multipliers stay the device's build profile; the pipeline knobs vary
    assert {c.design.storage for c in cands} == {ParamStorage.LOAD}
    assert {c.design.soft_mul_bits for c in cands} == {UP5K.profile.soft_mul_bits}
    assert {(c.design.lanes, c.design.pipeline.mix_cols, c.depth) for c in cands} == {
        (P, k, d) for P in (1, 2, 4) for k in (4, 8) for d in Depth}
    shallow = next(c for c in cands if c.depth is Depth.SHALLOW)
    assert shallow.design.pipeline == Pipeline(mix_cols=shallow.design.pipeline.mix_cols)


@pytest.mark.parametrize("bad", [dict(A=()), dict(A=(8, 8)), dict(x=(1,)), dict(act=(17,))])
def test_bad_plan_grid_is_one_line(bad):
    with pytest.raises(HwssmError):
        PlanGrid(**bad)


def test_bad_hardware_grid_and_duplicate_plans_are_refused():
    with pytest.raises(HwssmError):
        HardwareGrid(mix_cols=(5,))
    with pytest.raises(HwssmError):
        HardwareGrid(lanes=(0,))
    with pytest.raises(HwssmError):
        SearchSpace((PLANS[0], PLANS[0]))


def _estimated(tiny_checkpoint, cache, device, capacity=None):
    qms, _ = sweep_qmodels(SweepSpec(model=tiny_checkpoint, plans=PLANS, calib_digits=CALIB), cache)
    digests = {c: model_digest(q) for c, q in qms.items()}
    cands = SearchSpace(PLANS).candidates(device, 784)
    cap = capacity or Capacity.of(device)
    return qms, cands, estimate_candidates(cands, qms, digests, device, cap, cache)


def test_pruning_agrees_with_the_estimator_and_is_cached(tiny_checkpoint, cache):
    qms, cands, est = _estimated(tiny_checkpoint, cache, ECP5_25K)
    stored = cache.count(RecordKind.ESTIMATE)
    assert 0 < stored <= len(cands)
    for e in est:
        if e.record is None:
            continue
        pe = estimate_point(qms[e.candidate.plan.code], e.candidate.design, ECP5_25K)
        assert e.fit is pe.fit  # no budget: the device's own fit
        assert e.lut == pe.counts()["lut"] and e.latency_ms == pytest.approx(pe.latency_ms)
        assert e.kept == (pe.fit is not Fit.NO)
    again = _estimated(tiny_checkpoint, cache, ECP5_25K)[2]
    assert cache.count(RecordKind.ESTIMATE) == stored
    assert [(a.fit, a.record) for a in again] == [(b.fit, b.record) for b in est]


def test_lanes_shortcut_prunes_only_what_does_not_fit(tiny_checkpoint, cache):
    qms, cands, est = _estimated(tiny_checkpoint, cache, UP5K)
    skipped = [e for e in est if e.record is None and e.reason.startswith("a hard block")]
    assert skipped, "the UP5K runs out of SPRAM/DSP at P=1 for these plans"
    for e in skipped:  # the shortcut's claim, checked: the larger P fails a hard block too
        pe = estimate_point(qms[e.candidate.plan.code], e.candidate.design, UP5K)
        assert pe.fit is Fit.NO
        assert any(b[0] > a for b, a in ((pe.bounds()[r], pe.available()[r]) for r in ("dsp", "bram", "spram")))


def test_budgets_cap_the_device(tiny_checkpoint, cache):
    cap = Capacity.of(ECP5_25K, lut_budget=1500, dsp_budget=12)
    assert (cap.lut, cap.dsp, cap.bram) == (1500, 12, ECP5_25K.bram)
    _, _, est = _estimated(tiny_checkpoint, cache, ECP5_25K, cap)
    for e in est:
        if e.kept:
            assert e.record["resources"]["dsp"]["estimate"] <= 12 and e.record["resources"]["lut"]["low"] <= 1500
    assert not any(e.kept for e in _estimated(tiny_checkpoint, cache, ECP5_25K, Capacity.of(ECP5_25K, lut_budget=10))[2])
    with pytest.raises(HwssmError):
        Capacity.of(ECP5_25K, lut_budget=-1)
