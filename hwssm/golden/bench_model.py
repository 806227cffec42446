"""Benchmark of the golden engine on a given integer model (any family: S4D QModel or S5QModel).

``hwssm bench golden --model Q`` times :func:`hwssm.golden.engine.run` (which runs an S5 model
through :func:`hwssm.golden.s5_engine.run_s5`) on random 784-step sequences and reports useful
MAC/s (the model's ``macs_per_step`` · T + the decoder's K·H per sequence) beside this machine's
int32 MAC peak measured alternately in the same run (:mod:`hwssm.golden.bench`).
"""

from __future__ import annotations

import time

import numpy as np

from ..model.config import Family
from .bench import _peak_once, _peak_operands, _peak_reps


def run_model_bench(qm, digits: int = 64, T: int = 784, repeats: int = 3) -> dict:
    """Time the golden engine on ``digits`` random uint8 sequences of ``T`` steps (best of
    ``repeats``, alternated with the MAC peak); returns the JSON-able record."""
    import numba

    from .engine import run

    rng = np.random.default_rng(1)
    pix = rng.integers(0, 256, (digits, T)).astype(np.uint8)
    macs_per_digit = qm.macs_per_step * T + qm.n_classes * qm.H
    run(qm, pix[:1])  # compile / warm
    a, b = _peak_operands()
    reps = _peak_reps(a, b, 0.5)
    best, peak = float("inf"), 0.0
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        run(qm, pix)
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, _peak_once(a, b, reps))
    engine = macs_per_digit * digits / best
    shape = {"family": getattr(qm, "family", Family.S4D).value, "H": qm.H, "L": qm.L, "T": T, "plan": qm.plan.name}
    shape.update({"P": qm.P} if hasattr(qm, "P") else {"N": 2 * qm.M} if hasattr(qm, "M") else {})
    return {
        "model": shape,
        "digits": digits,
        "threads": numba.get_num_threads(),
        "macs_per_digit": macs_per_digit,
        "engine_seconds": best,
        "macs_per_s": engine,
        "peak_macs_per_s": peak,
        "fraction_of_peak": engine / peak,
        "test_set_seconds": 10000 * macs_per_digit / engine,
    }
