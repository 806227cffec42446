"""Benchmark of the golden engine against this machine's MAC peak and a numpy baseline.

All three are measured in the same run, the engine and the peak alternately (best of
``repeats`` each), so ratios are comparable on a noisy machine:

peak
    a trivial, cache-resident int32 multiply-accumulate kernel on all cores (numba, SIMD);
baseline
    :func:`hwssm.golden.baseline.run_numpy`, one sequence at a time, vectorized over H·M;
engine
    :func:`hwssm.golden.engine.run` on a batch of 784-step sequences.

Useful MACs: 8 real multiplies per complex mode update (4 for Ā·x, 2 for B̄·u, 2 for
the C̄·x readout) plus every multiply of the linear layers (QModel.macs_per_step).
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit, prange

from ..config import JIT_FLAGS, wide_vectors
from ..quant.plan import NAMED_PLANS
from ..quant.random_qmodel import random_qmodel

wide_vectors()  # before the first @njit below: 512-bit vectors on AVX-512 (config.wide_vectors)

_FLAGS = {k: v for k, v in JIT_FLAGS.items() if k != "nopython"}
PEAK_VECTOR = 4096  # int32 elements per thread: 16 KiB, resident in L1


@njit(parallel=True, **_FLAGS)
def _peak_kernel(a, b, reps):
    """Each thread: reps × (acc[i] += a[i]·b[i]) over an L1-resident vector; returns a checksum."""
    nthreads, n = a.shape
    out = np.zeros(nthreads, np.int64)
    for t in prange(nthreads):
        acc = np.zeros(n, np.int32)
        for _ in range(reps):
            for i in range(n):
                acc[i] = np.int32(acc[i] + np.int32(a[t, i] * b[t, i]))
        out[t] = acc.sum()
    return out


def _peak_reps(a, b, seconds: float) -> int:
    """Repetitions of the peak kernel that take about ``seconds``."""
    _peak_kernel(a, b, 1)
    reps = 1000
    while True:
        t0 = time.perf_counter()
        _peak_kernel(a, b, reps)
        if time.perf_counter() - t0 >= seconds / 4:
            return max(1, int(reps * seconds / 4 / (time.perf_counter() - t0)))
        reps *= 4


def _peak_operands():
    import numba

    nt = numba.get_num_threads()
    rng = np.random.default_rng(0)
    a = rng.integers(-100, 100, (nt, PEAK_VECTOR)).astype(np.int32)
    b = rng.integers(-100, 100, (nt, PEAK_VECTOR)).astype(np.int32)
    return a, b


def _peak_once(a, b, reps: int) -> float:
    t0 = time.perf_counter()
    _peak_kernel(a, b, reps)
    return a.shape[0] * PEAK_VECTOR * reps / (time.perf_counter() - t0)


def measure_peak(seconds: float = 1.0) -> float:
    """int32 MAC/s on all cores (numba threads): the best of 4 runs of about ``seconds / 4``."""
    a, b = _peak_operands()
    reps = _peak_reps(a, b, seconds)
    return max(_peak_once(a, b, reps) for _ in range(4))


def run_bench(digits: int = 64, baseline_digits: int = 2, H: int = 64, N: int = 64, L: int = 4,
              T: int = 784, plan: str = "uniform8", repeats: int = 3) -> dict:
    """Measure and return the benchmark record (see ``hwssm bench golden``).

    On a shared machine the load changes while the benchmark runs, so the engine and the
    peak are timed alternately, ``repeats`` times each, and each reports its best; the
    baseline reports its fastest digit. ``test_set_seconds`` extrapolates the engine's
    best rate to the 10,000 test digits.
    """
    import numba

    from .baseline import run_numpy
    from .engine import run
    from .tables import build_tables

    qm = random_qmodel(H, N // 2, L, NAMED_PLANS[plan], seed=0)
    tb = build_tables(qm, T)
    rng = np.random.default_rng(1)
    pix = rng.integers(0, 256, (digits, T)).astype(np.uint8)
    macs_per_digit = qm.macs_per_step * T + qm.n_classes * H
    run(qm, pix[:1], tables=tb)  # compile / warm
    a, b = _peak_operands()
    reps = _peak_reps(a, b, 0.5)
    best, peak = float("inf"), 0.0
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        res = run(qm, pix, tables=tb)
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, _peak_once(a, b, reps))
    engine = macs_per_digit * digits / best
    baseline_digits = max(1, min(baseline_digits, digits))
    base_dt = float("inf")
    base_logits = []
    for i in range(baseline_digits):
        t0 = time.perf_counter()
        base_logits.append(run_numpy(qm, pix[i:i + 1], tb))
        base_dt = min(base_dt, time.perf_counter() - t0)
    baseline = macs_per_digit / base_dt
    if not np.array_equal(np.concatenate(base_logits), res.logits[:baseline_digits]):
        raise RuntimeError("benchmark: numpy baseline and engine disagree; run the test suite")
    return {
        "model": {"H": H, "N": N, "L": L, "T": T, "plan": plan, "kernel_int": np.dtype(tb.dtype).name,
                  "kernel_store": np.dtype(tb.store_dtype).name},
        "digits": digits,
        "threads": numba.get_num_threads(),
        "macs_per_digit": macs_per_digit,
        "engine_seconds": best,
        "macs_per_s": engine,
        "peak_macs_per_s": peak,
        "fraction_of_peak": engine / peak,
        "baseline_macs_per_s": baseline,
        "ratio": engine / baseline,
        "test_set_seconds": 10000 * macs_per_digit / engine,
    }
