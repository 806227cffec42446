"""Benchmark of :func:`hwssm.explore.estimate_point.estimate_point`: points per second.

Estimates a model (default: the shipped heterogeneous QModel, H=64 N=64 L=4) at every
registered device's build profile × ``lanes``, twice: the first pass is cold (each design point
derived for the first time), the second warm (the cycle model's schedule cache filled). The
issue's target is at most 1 s per point.
"""

from __future__ import annotations

import time

from ..errors import HwssmError
from ..quant.qmodel import QModel
from ..targets import devices
from .estimate_point import estimate_point

__all__ = ["run_bench", "DEFAULT_LANES"]

#: Lanes P of the benchmark's points.
DEFAULT_LANES = (1, 2, 4, 8, 16)


def run_bench(qm: QModel | None = None, lanes: tuple[int, ...] = DEFAULT_LANES) -> dict:
    """Time ``estimate_point`` over every device × ``lanes``.

    Returns
    -------
    dict
        ``{"model", "points", "cold_s", "warm_s", "points_per_s" (cold), "warm_points_per_s",
        "max_point_s" (slowest single cold point, seconds), "target_s_per_point": 1.0}``.
    """
    if qm is None:
        from ..config import shipped_model
        from ..quant.qmodel_io import load_qmodel

        path = shipped_model("s4d_hetero")
        if path is None:
            raise HwssmError("the shipped model s4d_hetero is not installed; give a QModel")
        qm = load_qmodel(path)
    if not lanes or any(p < 1 for p in lanes):
        raise HwssmError(f"lanes must be >= 1, not {lanes}")
    work = [(d, d.profile.design(p)) for d in devices() for p in lanes]
    per_point, times = [], []
    for _ in range(2):
        t0 = time.perf_counter()
        for dev, design in work:
            t = time.perf_counter()
            estimate_point(qm, design, dev)
            per_point.append(time.perf_counter() - t)
        times.append(time.perf_counter() - t0)
    n = len(work)
    return {"model": f"{qm.plan.name} H={qm.H} N={2 * qm.M} L={qm.L}", "points": n,
            "devices": [d.name for d in devices()], "lanes": list(lanes),
            "cold_s": round(times[0], 4), "warm_s": round(times[1], 4),
            "points_per_s": round(n / times[0], 2), "warm_points_per_s": round(n / times[1], 2),
            "max_point_s": round(max(per_point[:n]), 4), "target_s_per_point": 1.0}
