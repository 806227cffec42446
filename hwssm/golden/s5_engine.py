"""The golden engine of the S5 family: run an S5QModel over a batch of sequences, bit-exactly.

The arithmetic is ``hwssm/quant/ARITHMETIC.md`` §6; the kernel (``_s5_kernels.py``, private)
reads the records of :func:`hwssm.quant.s5_lowering.lower_s5`. This module validates the input,
packs the per-block records into stacked int64 arrays and sets the numba thread count.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import HwssmError
from ..model.s5_config import Glu
from ..quant.s5_lowering import lower_s5
from ..quant.s5_qmodel import S5QModel
from .engine import _pixels, _set_threads

__all__ = ["S5GoldenResult", "S5Tables", "pack_s5", "run_s5"]


@dataclasses.dataclass(frozen=True)
class S5GoldenResult:
    """Outputs of the S5 golden engine for n sequences.

    Attributes
    ----------
    logits : int64 (n, n_classes)   integer logits at ``logit_frac`` fractional bits
    pred : int64 (n,)               argmax of the logits (smallest index on ties)
    logit_frac : int
    r, bu, x, y, v : int64 arrays or None
        With ``trace=True``: residual stream r (n, L+1, T, H) (r[:, 0] the encoder output),
        B̄u codes bu (n, L, T, 2, P) (re, im), state x (n, L, T, 2, P), readout y (n, L, T, H),
        GLU Linear outputs v (n, L, T, J), J = H (half GLU) or 2H (full GLU).
    """

    logits: np.ndarray
    pred: np.ndarray
    logit_frac: int
    r: np.ndarray | None = None
    bu: np.ndarray | None = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    v: np.ndarray | None = None


def _stack(layers, get) -> np.ndarray:
    return np.ascontiguousarray(np.stack([get(ly) for ly in layers]), dtype=np.int64)


def _tables(lw, name):
    """Stacked lookup tables (L, max entries) and their first input codes (L,)."""
    luts = [getattr(ly, name) for ly in lw]
    n = max(lt.codes.size for lt in luts)
    out = np.zeros((len(luts), n), np.int64)
    for l, lt in enumerate(luts):
        out[l, :lt.codes.size] = lt.codes
    return out, np.array([lt.min_code for lt in luts], np.int64)


def _storage(qm: S5QModel, low) -> type:
    """int32 when every stored operand (parameters, state, bu, activations) fits in 32 bits,
    else int64 (the sums are int64 either way)."""
    fmts = [qm.r0] + [f for ly in qm.layers for f in (ly.bu_re, ly.bu_im, ly.y, ly.g, ly.v, ly.z, ly.r_out,
                                                       *ly.x_re, *ly.x_im)]
    arrays = [a for ly in low.layers for a in (ly.B, ly.A, ly.C, ly.D, ly.W)]
    lo, hi = -(1 << 31), (1 << 31) - 1
    small = all(lo <= f.min_code and f.max_code <= hi for f in fmts) and all(
        a.size == 0 or (lo <= a.min() and a.max() <= hi) for a in arrays)
    return np.int32 if small else np.int64


def _shifted_C(lw) -> np.ndarray:
    """C̃' = C̃ << (alignment + 1) per block (L, 2, H, P) int64: the readout's 2 and alignments folded in."""
    return np.stack([ly.C << (np.moveaxis(ly.y_sh, 2, 0) + 1) for ly in lw])


def _operand_type(qm: S5QModel, low, Cs: np.ndarray) -> type:
    """int32 when the storage is int32 (:func:`_storage`), C̃' fits in 32 bits and every GEMV sum
    (B̄u, readout, GLU Linear rows: their accumulator widths) fits in 31 bits; else int64."""
    if _storage(qm, low) is not np.int32:
        return np.int64
    lo, hi = -(1 << 31), (1 << 31) - 1
    rows = [r for ly in low.layers for r in ly.rows]
    if Cs.size and (Cs.min() < lo or Cs.max() > hi):
        return np.int64
    return np.int32 if all(r.width <= 31 for r in rows) else np.int64


def _fit_records(rq: np.ndarray) -> np.ndarray:
    """Requantization records (..., 6) (RQ_* columns: lsh, rnd, rsh, lo, hi, wrap) as the kernel's
    branch-free fit records (..., 7): lsh, rnd, rsh, lo, hi, wsh, mask (see ``_s5_kernels``).

    Saturating: wsh = 0, mask = -1. Wrapping (wrap > 0) to a signed format (lo < 0): wsh = wrap,
    mask = -1; to an unsigned one: wsh = 0, mask = 2**(64 - wrap) - 1; both with [lo, hi] the
    whole int64 range (a wrapped code is never clipped)."""
    rq = np.asarray(rq, np.int64)
    out = np.zeros(rq.shape[:-1] + (7,), np.int64)
    out[..., :5] = rq[..., :5]
    out[..., 6] = -1
    wrap = rq[..., 5] != 0
    signed = wrap & (rq[..., 3] < 0)
    unsigned = wrap & ~signed
    out[..., 5] = np.where(signed, rq[..., 5], 0)
    bits = np.where(unsigned, 64 - rq[..., 5], 63)
    out[..., 6] = np.where(unsigned, (np.left_shift(np.int64(1), bits.astype(np.int64)) - 1), -1)
    out[..., 3] = np.where(wrap, np.iinfo(np.int64).min, out[..., 3])
    out[..., 4] = np.where(wrap, np.iinfo(np.int64).max, out[..., 4])
    return np.ascontiguousarray(out)


@dataclasses.dataclass(frozen=True)
class S5Tables:
    """An S5QModel lowered and packed for the kernel, for sequences of ``T`` steps: build it once
    with :func:`pack_s5` and pass it to every :func:`run_s5` call on that model (the lowering
    takes about 0.2 s on the Q-S5 shape).

    Attributes
    ----------
    T : int
    dtype : type
        Operand type of the kernel (np.int32 or np.int64, :func:`_operand_type`).
    logit_frac : int
    shape : tuple
        (L, H, P, J, K) of the model.
    args : tuple of numpy arrays
        The kernel's parameter arguments, in :func:`hwssm.golden._s5_kernels.run_s5`'s order.
    """

    T: int
    dtype: type
    logit_frac: int
    shape: tuple
    args: tuple


def pack_s5(qm: S5QModel, T: int) -> S5Tables:
    """Lower ``qm`` for ``T``-step sequences and pack its kernel arguments (see :class:`S5Tables`)."""
    if not isinstance(qm, S5QModel):
        raise HwssmError(f"expected an S5QModel, not {type(qm).__name__}")
    low = lower_s5(qm, T)
    lw, enc, dec = low.layers, low.encoder, low.decoder
    gelu, y_min = _tables(lw, "gelu")
    sig, v_min = _tables(lw, "sigmoid")
    Cs = _shifted_C(lw)
    st = _operand_type(qm, low, Cs)
    op = lambda get: _stack(lw, get).astype(st)  # noqa: E731
    fit = lambda get: _fit_records(_stack(lw, get))  # noqa: E731
    args = (
        enc.W.astype(np.int64), enc.b.astype(np.int64), enc.sh, _fit_records(enc.rq),
        op(lambda x: x.B), _stack(lw, lambda x: x.beta), _stack(lw, lambda x: x.bu_sh),
        fit(lambda x: x.bu_rq), op(lambda x: x.A), _stack(lw, lambda x: x.x_sh),
        fit(lambda x: x.x_rq), np.ascontiguousarray(Cs.astype(st)), op(lambda x: x.D),
        _stack(lw, lambda x: x.delta), _stack(lw, lambda x: x.yd_sh),
        fit(lambda x: x.y_rq), gelu, y_min, op(lambda x: x.W), _stack(lw, lambda x: x.b),
        _stack(lw, lambda x: x.v_sh), fit(lambda x: x.v_rq), sig, v_min, qm.glu is Glu.HALF,
        fit(lambda x: x.z_rq), _stack(lw, lambda x: x.res_sh), fit(lambda x: x.res_rq),
        dec.W.astype(np.int64), dec.b.astype(np.int64), np.ascontiguousarray(dec.sh, dtype=np.int64),
    )
    return S5Tables(int(T), st, dec.logit_frac, (qm.L, qm.H, qm.P, qm.glu_rows, qm.n_classes), args)


def run_s5(qm: S5QModel, pixels, *, trace: bool = False, tables: S5Tables | None = None) -> S5GoldenResult:
    """Run ``qm`` over ``pixels`` (n, T) uint8 sequences (traces: about 8·n·T·L·(2H + 4P + J) bytes).

    ``tables``: ``pack_s5(qm, T)`` built beforehand (else built here)."""
    from . import _s5_kernels

    if not isinstance(qm, S5QModel):
        raise HwssmError(f"expected an S5QModel, not {type(qm).__name__}")
    pix = _pixels(pixels).astype(np.int64)
    n, T = pix.shape
    tb = tables if tables is not None else pack_s5(qm, T)
    if tb.T != T or tb.shape != (qm.L, qm.H, qm.P, qm.glu_rows, qm.n_classes):
        raise HwssmError(f"S5 tables were packed for T={tb.T} and shape {tb.shape}, not T={T} and this model")
    L, H, P, J, K = tb.shape
    logits = np.zeros((n, K), np.int64)
    shapes = ((n, L + 1, T, H), (n, L, T, 2, P), (n, L, T, 2, P), (n, L, T, H), (n, L, T, J))
    tr = [np.zeros(s if trace else (1,) * len(s), np.int64) for s in shapes]
    _set_threads()
    _s5_kernels.run_s5(pix, *tb.args, logits, trace, *tr, _s5_kernels.LANE)
    pred = np.argmax(logits, axis=1).astype(np.int64)
    if not trace:
        return S5GoldenResult(logits, pred, tb.logit_frac)
    return S5GoldenResult(logits, pred, tb.logit_frac, *tr)
