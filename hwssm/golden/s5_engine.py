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

__all__ = ["S5GoldenResult", "run_s5"]


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


def run_s5(qm: S5QModel, pixels, *, trace: bool = False) -> S5GoldenResult:
    """Run ``qm`` over ``pixels`` (n, T) uint8 sequences (traces: about 8·n·T·L·(2H + 4P + J) bytes)."""
    from . import _s5_kernels

    if not isinstance(qm, S5QModel):
        raise HwssmError(f"expected an S5QModel, not {type(qm).__name__}")
    pix = _pixels(pixels).astype(np.int64)
    n, T = pix.shape
    low = lower_s5(qm, T)
    lw, enc, dec = low.layers, low.encoder, low.decoder
    L, H, P, J, K = qm.L, qm.H, qm.P, qm.glu_rows, qm.n_classes
    gelu, y_min = _tables(lw, "gelu")
    sig, v_min = _tables(lw, "sigmoid")
    Cs = _shifted_C(lw)
    st = _operand_type(qm, low, Cs)
    op = lambda get: _stack(lw, get).astype(st)  # noqa: E731
    logits = np.zeros((n, K), np.int64)
    shapes = ((n, L + 1, T, H), (n, L, T, 2, P), (n, L, T, 2, P), (n, L, T, H), (n, L, T, J))
    tr = [np.zeros(s if trace else (1,) * len(s), np.int64) for s in shapes]
    _set_threads()
    _s5_kernels.run_s5(
        pix, enc.W.astype(np.int64), enc.b.astype(np.int64), enc.sh, enc.rq,
        op(lambda x: x.B), _stack(lw, lambda x: x.beta), _stack(lw, lambda x: x.bu_sh),
        _stack(lw, lambda x: x.bu_rq), op(lambda x: x.A), _stack(lw, lambda x: x.x_sh),
        _stack(lw, lambda x: x.x_rq), np.ascontiguousarray(Cs.astype(st)), op(lambda x: x.D),
        _stack(lw, lambda x: x.delta), _stack(lw, lambda x: x.yd_sh),
        _stack(lw, lambda x: x.y_rq), gelu, y_min, op(lambda x: x.W), _stack(lw, lambda x: x.b),
        _stack(lw, lambda x: x.v_sh), _stack(lw, lambda x: x.v_rq), sig, v_min, qm.glu is Glu.HALF,
        _stack(lw, lambda x: x.z_rq), _stack(lw, lambda x: x.res_sh), _stack(lw, lambda x: x.res_rq),
        dec.W.astype(np.int64), dec.b.astype(np.int64), dec.sh, logits, trace, *tr,
    )
    pred = np.argmax(logits, axis=1).astype(np.int64)
    if not trace:
        return S5GoldenResult(logits, pred, dec.logit_frac)
    return S5GoldenResult(logits, pred, dec.logit_frac, *tr)
