"""Integer operations of ARITHMETIC.md as torch autograd functions with straight-through gradients.

Integers (codes and accumulators) are carried in float64 tensors: every value is an integer
of at most 53 bits (the frame checks the worst-case accumulator widths, see
:func:`hwssm.train.qat_frame.build_frame`), products and sums of such integers and scalings by
powers of two are exact in float64, and ``floor`` of an exact value is exact. So every forward
here computes the same integers as the golden engine's int64 arithmetic.

Gradients are taken with respect to codes. The straight-through estimator treats each
rounding as the identity on the real value (a requantization by ``2**(lsh-rsh)``), and zeroes
the gradient where the value was saturated (or wrapped): "rounding passes gradients through,
saturation masks them".
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..quant.lowering import RQ_HI, RQ_LO, RQ_LSH, RQ_RND, RQ_RSH, RQ_WRAP

F64 = torch.float64


@dataclasses.dataclass(frozen=True)
class Requant:
    """A requantization ``requant(acc, F, out)`` as float64 tensors broadcastable to the data.

    Built from the lowering's requant records (:func:`hwssm.quant.lowering.requant_record`), one per
    element of the last axis (``records`` (n, 6)) or one for all (``records`` (6,)).
    """

    up: torch.Tensor       # 2**lsh
    rnd: torch.Tensor      # rounding addend
    down: torch.Tensor     # 2**-rsh
    lo: torch.Tensor
    hi: torch.Tensor
    gain: torch.Tensor     # 2**(lsh - rsh): the straight-through derivative d out / d acc
    wrap: bool
    mod: torch.Tensor      # 2**width (wrap only)
    half: torch.Tensor     # 2**(width-1)

    @classmethod
    def of(cls, records: np.ndarray, device) -> "Requant":
        rec = np.asarray(records, dtype=np.int64)
        t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64), device=device)  # noqa: E731
        lsh, rsh = rec[..., RQ_LSH], rec[..., RQ_RSH]
        wrapbits = rec[..., RQ_WRAP]
        wrap = bool(np.any(wrapbits != 0))
        if wrap and not np.all(wrapbits != 0):
            raise ValueError("a record set mixes wrap and saturate")
        width = np.where(wrapbits != 0, 64 - wrapbits, 1)
        return cls(t(np.exp2(lsh)), t(rec[..., RQ_RND]), t(np.exp2(-rsh.astype(np.float64))), t(rec[..., RQ_LO]),
                   t(rec[..., RQ_HI]), t(np.exp2((lsh - rsh).astype(np.float64))), wrap,
                   t(np.exp2(width.astype(np.float64))), t(np.exp2(width.astype(np.float64) - 1)))

    def __call__(self, acc: torch.Tensor) -> torch.Tensor:
        return _RequantFn.apply(acc, self)


def requant_value(acc: torch.Tensor, rq: Requant) -> tuple[torch.Tensor, torch.Tensor]:
    """(codes, in-range mask) of ``fit(rshift(acc))`` in float64 (no autograd)."""
    v = torch.floor((acc * rq.up + rq.rnd) * rq.down)
    inside = (v >= rq.lo) & (v <= rq.hi)
    if rq.wrap:
        v = v - rq.mod * torch.floor((v + rq.half) / rq.mod)
    else:
        v = torch.minimum(torch.maximum(v, rq.lo), rq.hi)
    return v, inside


class _RequantFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, acc, rq: Requant):
        v, inside = requant_value(acc, rq)
        ctx.save_for_backward(inside)
        ctx.rq = rq
        return v

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * ctx.rq.gain * inside, None


class _LutFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, table, dtable, offset: int):
        idx = (x - offset).long()
        ctx.save_for_backward(idx)
        ctx.dtable = dtable
        return table[idx]

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_tensors
        return grad * ctx.dtable[idx], None, None, None


def lookup(x: torch.Tensor, table: torch.Tensor, dtable: torch.Tensor, min_code: int) -> torch.Tensor:
    """``table[x - min_code]`` (float64 codes); gradient ``dtable[x - min_code]`` (code units)."""
    return _LutFn.apply(x, table, dtable, int(min_code))


class _QuantFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, scale, zero, lo: float, hi: float):
        q = torch.floor(w.to(F64) * scale + 0.5) + zero
        inside = (q >= lo) & (q <= hi)
        ctx.save_for_backward(inside, scale)
        return torch.clamp(q, lo, hi) - zero

    @staticmethod
    def backward(ctx, grad):
        inside, scale = ctx.saved_tensors
        return grad * scale * inside, None, None, None, None


def quantize(w: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """Effective integer ``clip(floor(w·scale + 1/2) + zero, lo, hi) - zero`` as float64.

    ``scale`` = 2**frac and ``zero`` broadcast per row. Gradient: ``scale`` where the code was
    not clipped, else 0. Half-up rounding as :func:`hwssm.quant.quantizers.quantize_param`, so
    the codes of the starting model are the PTQ codes.
    """
    return _QuantFn.apply(w, scale, zero, float(lo), float(hi))


def pow2(shifts, device) -> torch.Tensor:
    """2**shifts as a float64 tensor (exact)."""
    return torch.as_tensor(np.exp2(np.asarray(shifts, dtype=np.float64)), device=device)
