"""Public API of the golden engine: run a QModel over a batch of sequences, bit-exactly.

The arithmetic is ``hwssm/quant/ARITHMETIC.md``. The kernels (``_kernels.py``)
are private; this module validates inputs, builds the shift tables, picks the
integer type and sets the numba thread count.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..config import threads
from ..errors import HwssmError
from ..model.config import Family
from ..quant.qmodel import QModel
from .norm_tables import build_norm_tables
from .tables import Tables, build_tables

__all__ = ["GoldenResult", "run", "accuracy"]


@dataclasses.dataclass(frozen=True)
class GoldenResult:
    """Outputs of the golden engine for n sequences.

    Attributes
    ----------
    logits : int64 (n, n_classes)
        Integer logits at ``logit_frac`` fractional bits (not rescaled).
    pred : int64 (n,)
        argmax of the logits (smallest index on ties).
    logit_frac : int
    r, y, v : int64 arrays or None
        With ``trace=True``: the residual stream r (n, L+1, T, H) — r[:, 0] is the
        encoder output and r[:, l+1] the output of block l —, the S4D outputs
        y (n, L, T, H) and the mixing outputs v (n, L, T, 2H).
    """

    logits: np.ndarray
    pred: np.ndarray
    logit_frac: int
    r: np.ndarray | None = None
    y: np.ndarray | None = None
    v: np.ndarray | None = None


def _pixels(pixels, qm: QModel | None = None) -> np.ndarray:
    """The kernel's input (n, T, C): uint8 samples, or int32 token ids of a token model.

    Accepts (T,), (n, T) (one channel) or (n, T, C) with C = ``qm.C`` (1 for tokens).
    Without ``qm`` (the S5 engine): one channel, returned as (n, T) uint8."""
    C = 1 if qm is None or qm.tokens else qm.C
    a = np.asarray(pixels)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] != C:
        kind = "token ids" if qm is not None and qm.tokens else "pixels"
        raise HwssmError(f"sequences must be a 2-D array (n, T) of {kind} or a 3-D array (n, T, {C}), "
                         f"not shape {a.shape}")
    if a.shape[1] == 0:
        raise HwssmError("sequences must have at least one step")
    if qm is not None and qm.tokens:
        if a.dtype.kind not in "iu" or (a.size and (a.min() < 0 or a.max() >= qm.vocab)):
            raise HwssmError(f"token ids must be integers in [0, {qm.vocab})")
        return np.ascontiguousarray(a, dtype=np.int32)
    if a.dtype != np.uint8:
        if a.dtype.kind not in "iu" or (a.size and (a.min() < 0 or a.max() > 255)):
            raise HwssmError("pixels must be integers in [0, 255]")
        a = a.astype(np.uint8)
    return np.ascontiguousarray(a if qm is not None else a[:, :, 0])


def _set_threads() -> int:
    """Apply the requested numba thread count; returns the count in use."""
    import numba

    n = threads()
    if n is not None:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return numba.get_num_threads()


def run(qm: QModel, pixels, *, trace: bool = False, tables: Tables | None = None) -> GoldenResult:
    """Run ``qm`` over ``pixels``: (n, T) or (n, T, C) uint8 samples, or (n, T) token ids of a
    token model. Returns a GoldenResult.

    ``trace=True`` also returns per-layer, per-step traces (memory: about
    8·n·T·(L+1)·H·4 bytes; use it on a few sequences).
    """
    from . import _kernels

    if getattr(qm, "family", None) is Family.S5:   # the S5 family's engine (golden/s5_engine.py)
        from .s5_engine import run_s5

        return run_s5(qm, pixels, trace=trace)
    if not isinstance(qm, QModel):
        raise HwssmError(f"expected a QModel, not {type(qm).__name__}")
    pix = _pixels(pixels, qm)
    tb = tables or build_tables(qm, T=pix.shape[1])
    n, T = pix.shape[:2]
    L, H, K = qm.L, qm.H, qm.n_classes
    dt, st = tb.dtype, tb.store_dtype
    cast = lambda a: np.ascontiguousarray(a, dtype=dt)  # noqa: E731
    store = lambda a: np.ascontiguousarray(a, dtype=st)  # noqa: E731
    logits = np.zeros((n, K), np.int64)
    if trace:
        tr_r = np.zeros((n, L + 1, T, H), dt)
        tr_y = np.zeros((n, L, T, H), dt)
        tr_v = np.zeros((n, L, T, 2 * H), dt)
    else:
        tr_r = np.zeros((1, 1, 1, 1), dt)
        tr_y = np.zeros((1, 1, 1, 1), dt)
        tr_v = np.zeros((1, 1, 1, 1), dt)
    nthreads = _set_threads()
    nm = build_norm_tables(qm)   # LayerNorm constants (ARITHMETIC.md §7); all-zero kinds without one
    _kernels.run_blocks(
        pix, store(tb.enc_k), cast(tb.enc_q), store(tb.enc_table), tb.tokens, store(tb.ssm_cf), store(tb.ssm_d),
        np.ascontiguousarray(tb.ssm_q, dtype=tb.ssm_dtype), store(tb.gelu), tb.y_min,
        np.ascontiguousarray(tb.mix_raw, dtype=tb.mix_dtype), cast(tb.mix_sh), cast(tb.mix_q), store(tb.sig), tb.v_min,
        cast(tb.glu_sh), cast(tb.glu_q),
        tb.dec_w, tb.dec_b, tb.dec_sh, logits, trace, tr_r, tr_y, tr_v, nthreads, nm.kind, nm.E, nm.half_up, nm.cg, nm.q,
    )
    pred = np.argmax(logits, axis=1).astype(np.int64)
    if not trace:
        return GoldenResult(logits, pred, tb.logit_frac)
    return GoldenResult(logits, pred, tb.logit_frac, tr_r.astype(np.int64), tr_y.astype(np.int64), tr_v.astype(np.int64))


def accuracy(qm: QModel, pixels, labels) -> float:
    """Fraction of sequences whose prediction equals the label."""
    labels = np.asarray(labels)
    res = run(qm, pixels)
    if labels.shape != res.pred.shape:
        raise HwssmError(f"labels shape {labels.shape} does not match {res.pred.shape} sequences")
    return float(np.mean(res.pred == labels))
