"""Benchmark of :func:`hwssm.explore.estimate_point.estimate_point`: points per second.

Estimates a QModel of either family (default: the shipped heterogeneous S4D QModel, H=64 N=64
L=4; ``hwssm bench estimate --model PATH``: any S4D or S5 QModel) at every registered device's
build profile × ``lanes``, twice: the first pass is cold (each design point
derived for the first time), the second warm (the cycle model's schedule cache filled). The
issue's target is at most 1 s per point.
"""

from __future__ import annotations

import time

from ..errors import HwssmError
from ..quant.qmodel import QModel
from ..quant.s5_qmodel import S5QModel
from ..targets import devices
from .estimate_point import estimate_point

__all__ = ["run_bench", "model_shape", "DEFAULT_LANES"]

#: Lanes P of the benchmark's points.
DEFAULT_LANES = (1, 2, 4, 8, 16)


def model_shape(qm: QModel | S5QModel) -> dict:
    """What the benchmark's model is, from the QModel of either family: ``model`` (``"<plan> H=..
    N=.. L=.."``, S5: ``P=..`` for ``N=..``), ``family``, ``H``, ``L``, the state size per channel
    (``N`` or ``P``), ``state_bits`` (bits of one sequence's recurrent state) and ``macs_per_step``."""
    if isinstance(qm, S5QModel):
        family, state = "s5", {"P": qm.P}
    else:
        family, state = "s4d", {"N": qm.N}
    (name, size), = state.items()
    return {"model": f"{qm.plan.name} H={qm.H} {name}={size} L={qm.L}", "family": family, "H": qm.H, **state,
            "L": qm.L, "state_bits": qm.state_bits, "macs_per_step": qm.macs_per_step}


def run_bench(qm: QModel | S5QModel | None = None, lanes: tuple[int, ...] = DEFAULT_LANES) -> dict:
    """Time ``estimate_point`` over every device × ``lanes`` (``qm``: an S4D or S5 QModel; None:
    the shipped ``s4d_hetero``).

    Returns
    -------
    dict
        :func:`model_shape` of the model, and ``"points", "devices", "lanes", "cold_s", "warm_s"``
        (seconds), ``"points_per_s"`` (cold), ``"warm_points_per_s"``, ``"max_point_s"`` (slowest
        single cold point, seconds), ``"target_s_per_point": 1.0``.
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
    return {**model_shape(qm), "points": n,
            "devices": [d.name for d in devices()], "lanes": list(lanes),
            "cold_s": round(times[0], 4), "warm_s": round(times[1], 4),
            "points_per_s": round(n / times[0], 2), "warm_points_per_s": round(n / times[1], 2),
            "max_point_s": round(max(per_point[:n]), 4), "target_s_per_point": 1.0}
