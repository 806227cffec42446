"""Benchmark of the golden engine on a given integer model (any family: S4D QModel or S5QModel).

``hwssm bench golden --model Q`` times the golden engine (:func:`hwssm.golden.engine.run`, or
:func:`hwssm.golden.s5_engine.run_s5` for an S5 model) on random 784-step sequences and reports
useful MAC/s (the model's ``macs_per_step`` · T + the decoder's K·H per sequence). Measured
alternately in the same run, best of ``repeats`` each:

- this machine's int32 MAC peak (:mod:`hwssm.golden.bench`);
- the reference: the S4D engine on the random model of ``hwssm bench golden`` (H=64, N=64, L=4,
  uniform8), on the same sequences; ``ratio_to_reference`` is the model's MAC/s over it.

The engine's tables (shift tables, or the S5 lowering) are built once, outside the timed runs.
"""

from __future__ import annotations

import time

import numpy as np

from ..model.config import Family
from .bench import _peak_once, _peak_operands, _peak_reps

#: The reference S4D model (the default of ``hwssm bench golden``): H, M = N/2, L, plan.
REFERENCE = (64, 32, 4, "uniform8")


def _runner(qm, T: int):
    """A function pixels -> GoldenResult running ``qm`` with its tables built once."""
    from .engine import run

    if getattr(qm, "family", Family.S4D) is Family.S5:
        from .s5_engine import pack_s5, run_s5

        tb5 = pack_s5(qm, T)
        return lambda pix: run_s5(qm, pix, tables=tb5)
    from .tables import build_tables

    tb = build_tables(qm, T)
    return lambda pix: run(qm, pix, tables=tb)


def _macs(qm, T: int) -> int:
    return qm.macs_per_step * T + qm.n_classes * qm.H


def run_model_bench(qm, digits: int = 64, T: int = 784, repeats: int = 3) -> dict:
    """Time the golden engine on ``digits`` random uint8 sequences of ``T`` steps (best of
    ``repeats``, alternated with the MAC peak and the reference engine); returns the JSON-able record."""
    import numba

    from ..quant.plan import NAMED_PLANS
    from ..quant.random_qmodel import random_qmodel

    rng = np.random.default_rng(1)
    pix = rng.integers(0, 256, (digits, T)).astype(np.uint8)
    H, M, L, plan = REFERENCE
    ref = random_qmodel(H, M, L, NAMED_PLANS[plan], seed=0)
    run, run_ref = _runner(qm, T), _runner(ref, T)
    run(pix[:1])  # compile / warm
    run_ref(pix[:1])
    a, b = _peak_operands()
    reps = _peak_reps(a, b, 0.5)
    best = best_ref = float("inf")
    peak = 0.0
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        run(pix)
        best = min(best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_ref(pix)
        best_ref = min(best_ref, time.perf_counter() - t0)
        peak = max(peak, _peak_once(a, b, reps))
    macs_per_digit = _macs(qm, T)
    engine = macs_per_digit * digits / best
    reference = _macs(ref, T) * digits / best_ref
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
        "reference": {"family": "s4d", "H": H, "N": 2 * M, "L": L, "plan": plan},
        "reference_macs_per_s": reference,
        "ratio_to_reference": engine / reference,
        "test_set_seconds": 10000 * macs_per_digit / engine,
    }
