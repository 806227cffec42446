"""Sweeps: results equal the golden evaluation, cache hits, resume after an interruption,
process pool and Dask cluster give the same points."""

from __future__ import annotations

import numpy as np
import pytest

from hwssm.data import Split
from hwssm.explore.cache import RecordKind
from hwssm.explore.pool import Parallelism
from hwssm.explore.spec import SweepSpec
from hwssm.explore.sweep import run_sweep
from hwssm.golden import evaluate as golden_eval
from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm.quant.resolve import resolve_model

from .conftest import CALIB, LIMIT

PLANS = (NAMED_PLANS["uniform8"], NAMED_PLANS["uniform4"], NAMED_PLANS["hetero"], parse_code("A6x10-W6-a6-h"))


def _spec(model, plans=PLANS):
    return SweepSpec(model=model, plans=plans, limit=LIMIT, calib_digits=CALIB)


def _accuracies(res):
    return {p["plan_code"]: p["accuracy"] for p in res.points}


def test_accuracy_points_are_the_golden_evaluation_of_the_ptq_model(tiny_checkpoint, cache):
    res = run_sweep(_spec(tiny_checkpoint), cache=cache)
    assert [p["plan_code"] for p in res.points] == [p.code for p in PLANS]
    assert (res.computed, res.cached, res.failed) == (len(PLANS), 0, 0)
    pixels, labels = golden_eval.test_pixels(Split.TEST, LIMIT)
    for plan in (PLANS[0], PLANS[3]):
        qm = resolve_model(tiny_checkpoint, plan, calib_digits=CALIB).qmodel
        point = next(p for p in res.points if p["plan_code"] == plan.code)
        ev = golden_eval.evaluate(qm, pixels, labels)
        assert point["accuracy"] == ev.accuracy
        assert point["digits"] == LIMIT
        assert point["memory_bits"] == qm.footprint_bits == sum(point["memory_breakdown"].values())
        assert point["component_bits"]["A_re"] == plan.A_re.bits
    assert cache.count(RecordKind.CALIBRATION) == 1
    assert cache.count(RecordKind.ACCURACY) == len(PLANS)


def test_rerun_is_all_cache_hits(tiny_checkpoint, cache):
    first = run_sweep(_spec(tiny_checkpoint), cache=cache)
    again = run_sweep(_spec(tiny_checkpoint), cache=cache)
    assert (again.computed, again.cached) == (0, len(PLANS))
    assert again.points == first.points
    # a new limit is a new record; the others stay cached
    more = run_sweep(SweepSpec(model=tiny_checkpoint, plans=PLANS[:2], limit=LIMIT + 1, calib_digits=CALIB), cache=cache)
    assert (more.computed, more.cached) == (2, 0)


def test_interrupted_sweep_resumes_with_only_the_missing_records(tiny_checkpoint, cache):
    k = 2
    seen = []

    def stop_after_k(done, total):
        seen.append(done)
        if done == k:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(_spec(tiny_checkpoint), cache=cache, progress=stop_after_k)
    assert cache.count(RecordKind.ACCURACY) == k
    res = run_sweep(_spec(tiny_checkpoint), cache=cache)
    assert (res.computed, res.cached) == (len(PLANS) - k, k)
    ref = run_sweep(_spec(tiny_checkpoint), cache=cache)
    assert _accuracies(ref) == _accuracies(res)


def test_process_pool_gives_the_same_points(tiny_checkpoint, cache, tmp_path, monkeypatch):
    inline = run_sweep(_spec(tiny_checkpoint), cache=cache)
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "other"))
    from hwssm.explore.cache import RecordCache

    pooled = run_sweep(_spec(tiny_checkpoint), Parallelism(jobs=2, threads=1), cache=RecordCache.default())
    assert pooled.computed == len(PLANS)
    assert pooled.points == inline.points


def test_dask_local_cluster_gives_the_same_points(tiny_checkpoint, cache, tmp_path):
    import distributed  # the dev extra installs it
    inline = run_sweep(_spec(tiny_checkpoint, PLANS[:2]), cache=cache)
    from hwssm.explore.cache import RecordCache

    other = RecordCache(tmp_path / "dask-records")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        res = run_sweep(_spec(tiny_checkpoint, PLANS[:2]), Parallelism(scheduler=cluster.scheduler_address), cache=other)
    assert res.computed == 2
    assert res.points == inline.points


def test_a_failing_record_is_reported_and_not_stored(tiny_checkpoint, cache, monkeypatch):
    from hwssm.explore import sweep as sweep_mod

    def broken(task):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(sweep_mod, "accuracy_task", broken)
    res = run_sweep(_spec(tiny_checkpoint, PLANS[:1]), cache=cache)
    assert res.failed == 1 and "engine exploded" in res.errors[0]
    assert res.points[0]["accuracy"] is None and res.points[0]["status"] == "error"
    assert cache.count(RecordKind.ACCURACY) == 0


def test_qmodel_input_sweeps_its_own_plan(tmp_path, cache):
    from hwssm.quant.qmodel_io import save_qmodel
    from hwssm.quant.random_qmodel import random_qmodel

    qm = random_qmodel(4, 2, 1, plan=NAMED_PLANS["uniform6"])
    path = save_qmodel(qm, tmp_path / "m")
    res = run_sweep(SweepSpec(model=path, limit=3), cache=cache)
    assert len(res.points) == 1 and res.points[0]["plan_code"] == qm.plan.code
    assert res.source["kind"] == "qmodel"
    assert 0.0 <= res.points[0]["accuracy"] <= 1.0
    assert np.isclose(res.points[0]["compression"], qm.compression, rtol=1e-3)
