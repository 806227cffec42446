"""Quantizers: float tensors and ranges → integer codes with power-of-two scales.

Every scale in hwssm is ``2**-frac``, so every rescaling in the integer network
is an exact shift. These functions choose ``frac`` (and, for asymmetric
tensors, a zero point) from a range, per tensor or per row (head).
"""

from __future__ import annotations

import math

import numpy as np

from ..fixed import QFormat
from .plan import Granularity, Scheme, Spec
from .qmodel import QParam

#: frac used for an all-zero tensor or range (any frac represents 0 exactly).
ZERO_RANGE_FRAC = 0
#: Chosen fracs stay within ±FRAC_LIMIT (values below 2**-100 quantize to 0).
FRAC_LIMIT = 100


def frac_for_maxabs(maxabs: float, bits: int) -> int:
    """Largest frac with ``round(maxabs · 2**frac) <= 2**(bits-1) - 1`` (signed, symmetric),
    clamped to ±FRAC_LIMIT.
    """
    if not np.isfinite(maxabs):
        raise ValueError("range is not finite")
    if maxabs <= 0:
        return bits - 1 if bits > 1 else ZERO_RANGE_FRAC
    top = (1 << (bits - 1)) - 1
    f = int(np.clip(math.floor(math.log2(top) - math.log2(maxabs)), -FRAC_LIMIT, FRAC_LIMIT))
    # floor(log2) can be off by one at exact powers; settle on the largest f that fits after rounding.
    while f < FRAC_LIMIT and math.floor(maxabs * 2.0 ** (f + 1) + 0.5) <= top:
        f += 1
    while f > -FRAC_LIMIT and math.floor(maxabs * 2.0**f + 0.5) > top:
        f -= 1
    return f


def frac_for_span(lo: float, hi: float, bits: int) -> int:
    """Largest frac with ``(hi - lo) · 2**frac <= 2**bits - 1`` (unsigned codes, asymmetric)."""
    span = max(hi, 0.0) - min(lo, 0.0)
    if span <= 0:
        return bits
    top = (1 << bits) - 1
    f = int(np.clip(math.floor(math.log2(top) - math.log2(span)), -FRAC_LIMIT, FRAC_LIMIT))
    while f < FRAC_LIMIT and math.ceil(span * 2.0 ** (f + 1)) <= top:
        f += 1
    while f > -FRAC_LIMIT and math.ceil(span * 2.0**f) > top:
        f -= 1
    return f


def _rows(values: np.ndarray, granularity: Granularity) -> list[np.ndarray]:
    """Views of the rows (first axis) for per-head, or the whole tensor once for per-tensor."""
    if granularity is Granularity.PER_HEAD:
        return [values[i] for i in range(values.shape[0])]
    return [values]


def quantize_param(values, spec: Spec) -> QParam:
    """Quantize a float parameter tensor (rows = first axis) under ``spec``.

    Symmetric: signed codes ``round(v · 2**f)`` saturated to ``bits``; zero point 0.
    Asymmetric: unsigned codes ``round(v · 2**f) + z`` with ``z = round(-min(lo, 0) · 2**f)``,
    saturated to [0, 2**bits - 1]; the effective value is ``code - z``.
    Rounding is half-up (ties toward +inf).
    """
    v = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        raise ValueError("cannot quantize NaN or infinite parameters")
    if v.ndim == 0:
        raise ValueError("parameters must have at least one axis")
    rows = v.shape[0]
    fracs = np.zeros(rows, np.int64)
    zeros = np.zeros(rows, np.int64)
    codes = np.zeros(v.shape, np.int64)
    per_head = spec.granularity is Granularity.PER_HEAD
    groups = [(i, v[i]) for i in range(rows)] if per_head else [(slice(None), v)]
    for idx, block in groups:
        if spec.scheme is Scheme.SYMMETRIC:
            f = frac_for_maxabs(float(np.max(np.abs(block))) if block.size else 0.0, spec.bits)
            fmt = QFormat(spec.bits, f, True)
            codes[idx] = fmt.quantize(block)
            fracs[idx] = f
        else:
            lo, hi = (float(block.min()), float(block.max())) if block.size else (0.0, 0.0)
            f = frac_for_span(lo, hi, spec.bits)
            top = (1 << spec.bits) - 1
            z = int(np.clip(math.floor(-min(lo, 0.0) * 2.0**f + 0.5), 0, top))
            q = np.floor(np.ldexp(block, f) + 0.5).astype(np.int64) + z
            codes[idx] = np.clip(q, 0, top)
            fracs[idx] = f
            zeros[idx] = z
    return QParam(codes, spec.bits, spec.scheme is Scheme.SYMMETRIC, fracs, zeros)


def act_format(maxabs: float, bits: int, rounding, overflow) -> QFormat:
    """Signed activation/state format of ``bits`` whose range covers ``maxabs``."""
    return QFormat(bits, frac_for_maxabs(maxabs, bits), True, rounding, overflow)
