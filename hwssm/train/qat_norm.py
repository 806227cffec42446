"""The integer LayerNorm of ARITHMETIC.md §7 in the QAT forward: exact int64, straight-through backward.

The forward computes the contract's integers in int64 tensors (the variance sum V needs up to
63 bits, beyond float64's exact 53): S1, d = H·x − S1, Q = Σ d², V = H·Q + E, the mantissa
and ρ = isqrt(⌊2^62/m⌋), and ν = rshift(d·H·ρ, 31 + j − 16). γ·ν + β and its
requantization to the output format then run in float64 like every other sum (the frame
checks that it fits 53 bits). The backward takes ν's gradient from the float LayerNorm it
approximates, ν ≈ d·H·2^16/√V (straight-through: the rounding and the rsqrt approximation are
treated as exact), so gradients reach x, γ and β.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..fixed import Rounding
from ..quant.layernorm import MANT_LO, NU_FRAC, RSQRT_NUM, NormLowering
from .qat_ops import Requant, pow2

__all__ = ["NormConsts", "layer_norm"]


@dataclasses.dataclass(frozen=True)
class NormConsts:
    """Device constants of one block's LayerNorm (from its lowering)."""

    H: int
    E: int
    half_up: bool
    s: torch.Tensor        # (2, H) 2**alignment of γ·ν and of β
    rq: Requant            # requantization to the output format, per channel
    pow2: torch.Tensor     # int64 (63,) 2**k, for the exact bit length of V

    @classmethod
    def of(cls, nl: NormLowering, device) -> "NormConsts":
        return cls(nl.H, nl.E, nl.O.rounding is Rounding.HALF_UP, pow2(nl.sh.T, device), Requant.of(nl.rq, device),
                   torch.as_tensor(np.int64(1) << np.arange(63, dtype=np.int64), device=device))


def _isqrt(n: torch.Tensor) -> torch.Tensor:
    """floor(sqrt(n)) of int64 0 <= n < 2^53, exact (float estimate, then corrected)."""
    r = torch.floor(torch.sqrt(n.to(torch.float64))).to(torch.int64)
    for _ in range(2):
        r = r - (r * r > n).to(torch.int64)
        r = r + ((r + 1) * (r + 1) <= n).to(torch.int64)
    return r


def normalized(x: torch.Tensor, K: NormConsts) -> torch.Tensor:
    """ν (float64 codes at frac NU_FRAC) of x (…, H) float64 codes: the contract's integers forward,
    the float LayerNorm's gradient backward."""
    H = K.H
    xi = x.detach().round().to(torch.int64)                                   # exact codes
    S1 = xi.sum(dim=-1, keepdim=True)
    d = H * xi - S1                                                           # H·(x − μ)
    V = H * (d * d).sum(dim=-1, keepdim=True) + K.E                           # (…, 1)
    nb = (V >= K.pow2).sum(dim=-1, keepdim=True)                             # bit length of V
    j = torch.div(nb - (MANT_LO + 1), 2, rounding_mode="floor")
    m = torch.where(j >= 0, torch.bitwise_right_shift(V, (2 * j).clamp(min=0)),
                    torch.bitwise_left_shift(V, (-2 * j).clamp(min=0)))
    rho = _isqrt(torch.div(torch.full_like(m, RSQRT_NUM), m, rounding_mode="floor"))
    s = 31 + j - NU_FRAC
    add = torch.bitwise_left_shift(torch.ones_like(s), s - 1) if K.half_up else torch.zeros_like(s)
    nu = torch.bitwise_right_shift(d * H * rho + add, s).to(torch.float64)
    # the float LayerNorm in the same units, for the gradient only (exactly 0 in the forward)
    xf = x.to(torch.float64)
    df = H * xf - xf.sum(dim=-1, keepdim=True)
    nf = df * (H * 2.0 ** NU_FRAC) / torch.sqrt(H * (df * df).sum(dim=-1, keepdim=True) + K.E)
    return nu + (nf - nf.detach())


def layer_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, K: NormConsts) -> torch.Tensor:
    """The LayerNorm's output codes (float64) of x (…, H) codes; ``gamma``, ``beta`` (H,) effective codes."""
    return K.rq(gamma * normalized(x, K) * K.s[0] + beta * K.s[1])
