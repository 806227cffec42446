"""Benchmark of the float model's batched inference against the reference classifier.

Times :meth:`hwssm.model.network.S4DClassifier.predict` (the reference, the float-agreement
pass before :mod:`hwssm.model.fast`) and :meth:`hwssm.model.fast.FastClassifier.predict` on the
same pixels in one run, wall and CPU (process) time, so that the ratio is meaningful on a busy
machine; checks that the predictions are identical and reports the largest relative logit
difference on the first batch.
"""

from __future__ import annotations

import time

import numpy as np

from .checkpoint import Checkpoint
from .fast import FastClassifier
from .network import Mode, S4DClassifier

__all__ = ["run_bench"]


def _timed(f):
    w, c = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - w, time.process_time() - c


def run_bench(ckpt: Checkpoint, pixels: np.ndarray, threads: int | None = None) -> dict:
    """Reference vs fast on ``pixels`` (uint8 (n, T)); ``threads`` for the fast path (None: CPUs).

    Returns
    -------
    dict
        ``{"digits", "reference_s", "reference_cpu_s", "fast_s", "fast_cpu_s", "speedup" (wall),
        "cpu_speedup", "fast_s_per_10k", "same_predictions", "max_rel_logit_diff", "threads"}``.
    """
    T = pixels.shape[1]
    ref = S4DClassifier(ckpt.config, ckpt.params, T=T)
    fast = FastClassifier(ckpt.config, ckpt.params, T=T)
    warm = pixels[:8]
    ref.predict(warm), fast.predict(warm, threads=1)                 # compile the numba kernels
    head = pixels[:64]
    diff = float(np.abs(fast.logits(head) - ref.forward(head, Mode.CONV)).max()
                 / np.abs(ref.forward(head, Mode.CONV)).max())
    p_ref, w_ref, c_ref = _timed(lambda: ref.predict(pixels))
    p_fast, w_fast, c_fast = _timed(lambda: fast.predict(pixels, threads=threads))
    n = len(pixels)
    return {"digits": n, "threads": threads, "reference_s": round(w_ref, 3), "reference_cpu_s": round(c_ref, 3),
            "fast_s": round(w_fast, 3), "fast_cpu_s": round(c_fast, 3),
            "speedup": round(w_ref / w_fast, 2), "cpu_speedup": round(c_ref / c_fast, 2),
            "fast_s_per_10k": round(w_fast * 1e4 / n, 1),
            "same_predictions": bool(np.array_equal(p_ref, p_fast)), "max_rel_logit_diff": diff}
