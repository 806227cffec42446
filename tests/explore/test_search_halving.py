"""hwssm search: successive halving (golden PTQ accuracy, cached per plan) and Pareto layers."""

from __future__ import annotations

import math

import pytest

from hwssm.data import Split
from hwssm.errors import HwssmError
from hwssm.explore.cache import RecordKind
from hwssm.explore.models import sweep_qmodels
from hwssm.explore.search_halving import Rungs, pareto_layers, reachable, run_rungs, select
from hwssm.explore.spec import SweepSpec
from hwssm.explore.sweep import model_digest
from hwssm.golden import evaluate as golden_eval
from hwssm.quant.plan import parse_code

from .conftest import CALIB

PLANS = tuple(parse_code(c) for c in ("A8x12-B4C4D4-W6-a8", "A6x8-B4C4D4-W4-a6", "A10x12-B6C6D6-W6-a8-h",
                                      "A8x10-B4C4D4-W4-a8", "A12x14-B8C8D8-W8-a8"))


def test_pareto_layers_and_dominance():
    pts = [(0.9, 100, 1.0), (0.8, 50, 1.0), (0.8, 100, 1.0), (0.9, 100, 0.5), (0.7, 200, 2.0)]
    assert pareto_layers(pts) == [1, 0, 2, 0, 3]


def test_select_drops_plans_below_the_floor_and_keeps_the_best_layers():
    acc = {"a": 0.95, "b": 0.50, "c": 0.93, "d": 0.90}
    designs = {"a": [(300, 1.0)], "b": [(10, 0.1)], "c": [(100, 1.0), (120, 0.5)], "d": [(400, 2.0)]}
    keep, dropped = select(acc, 1000, designs, floor=0.9, keep=2)
    assert "below the floor" in dropped["b"]
    assert keep == ["a", "c"]  # both on the first layer; d is dominated by a
    assert "not among the best 2" in dropped["d"]
    # nothing can reach the floor: the best go on anyway (the best found is measured on the test split)
    keep, dropped = select(acc, 1000, designs, floor=0.999, keep=2)
    assert keep == ["a", "c"] and set(dropped) == {"b", "d"}
    # few digits: a plan just under the floor may still reach it
    assert reachable(0.85, 20, 0.9) and not reachable(0.85, 5000, 0.9)


def test_bad_rungs_are_one_line():
    for bad in (dict(val=()), dict(val=(64, 32)), dict(val=(6000,)), dict(eta=1), dict(test_limit=0)):
        with pytest.raises(HwssmError):
            Rungs(**bad)


def test_rungs_measure_the_golden_engine_and_are_cached(tiny_checkpoint, cache):
    qms, _ = sweep_qmodels(SweepSpec(model=tiny_checkpoint, plans=PLANS, calib_digits=CALIB), cache)
    digests = {c: model_digest(q) for c, q in qms.items()}
    designs = {c: [(100.0 + i, 1.0)] for i, c in enumerate(qms)}
    rungs = Rungs(val=(8, 16), eta=2, test_limit=12)
    out = run_rungs(qms, digests, designs, 0.0, rungs, cache)
    hist = out["plans"]
    sizes = [sum(len(h["rungs"]) > r for h in hist.values()) for r in range(3)]
    assert sizes == [5, math.ceil(5 / 2), math.ceil(math.ceil(5 / 2) / 2)]
    assert out["computed"] == sum(sizes) and out["cached"] == 0
    final = [c for c, h in hist.items() if h["stopped"] == "final"]
    assert len(final) == sizes[2]
    px, lb = golden_eval.test_pixels(Split.VAL, 8)
    for c in qms:  # rung 1 is the golden engine on the first 8 validation digits
        assert hist[c]["rungs"][0]["accuracy"] == golden_eval.evaluate(qms[c], px, lb).accuracy
    tx, tl = golden_eval.test_pixels(Split.TEST, 12)
    for c in final:
        assert hist[c]["rungs"][-1] == {**hist[c]["rungs"][-1], "split": "test", "digits": 12,
                                        "accuracy": golden_eval.evaluate(qms[c], tx, tl).accuracy}
    again = run_rungs(qms, digests, designs, 0.0, rungs, cache)
    assert (again["computed"], again["cached"]) == (0, sum(sizes))
    assert cache.count(RecordKind.ACCURACY) == sum(sizes)
