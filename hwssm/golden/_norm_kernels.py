"""Private numba kernel of the integer LayerNorm (ARITHMETIC.md §7). Callers: ``_kernels._block``.

Always int64 arithmetic, whatever the kernel type of the rest of the network: the variance
sum V needs up to 63 bits. Inputs and outputs are codes in the storage type of the stream.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..config import JIT_FLAGS

_FLAGS = {k: v for k, v in JIT_FLAGS.items() if k != "nopython"}

#: Fractional bits of ν, the mantissa range and the numerator of ρ (hwssm.quant.layernorm).
NU_FRAC = 16
MANT_LO = 20
RSQRT_NUM = np.int64(1) << np.int64(62)


@njit(inline="always", **_FLAGS)
def isqrt(n):
    """floor(sqrt(n)) of an int64 0 <= n < 2^53, exact (a float estimate, then corrected)."""
    r = np.int64(np.sqrt(np.float64(n)))
    while r * r > n:
        r -= 1
    while (r + 1) * (r + 1) <= n:
        r += 1
    return r


@njit(**_FLAGS)
def layer_norm(src, t, dst, E, half_up, cg, q):
    """LayerNorm of step ``t`` of every sequence: ``src[t]`` (H, B) codes of X in, ``dst[t]`` (H, B)
    codes of O out (``dst`` may be ``src``).

    ``E`` the ε term, ``half_up`` 1 when O rounds HALF_UP (the rounding of ν); ``cg`` (H,) γ
    pre-shifted by its alignment and the requantization's pre-shift; ``q`` (H, 6) fit records
    (KQ_* of :mod:`hwssm.golden.tables`, int64; KQ_ADD holds the aligned β plus the rounding addend).
    """
    H = src.shape[1]
    B = src.shape[2]
    Hn = np.int64(H)
    for b in range(B):
        S1 = np.int64(0)
        for h in range(H):
            S1 += np.int64(src[t, h, b])
        Q = np.int64(0)
        for h in range(H):
            d = Hn * np.int64(src[t, h, b]) - S1
            Q += d * d
        V = Hn * Q + E
        nb = np.int64(0)
        v = V
        while v > 0:
            v >>= 1
            nb += 1
        j = (nb - (MANT_LO + 1)) // 2
        m = V >> (2 * j) if j >= 0 else V << (-2 * j)
        rho = isqrt(RSQRT_NUM // m)
        s = np.int64(31) + j - NU_FRAC   # >= 5: j >= -10
        add = (np.int64(1) << (s - 1)) if half_up else np.int64(0)
        for h in range(H):
            d = Hn * np.int64(src[t, h, b]) - S1
            nu = (d * Hn * rho + add) >> s
            acc = cg[h] * nu + q[h, 0]
            rsh, lo, hi, wsh, mask = q[h, 1], q[h, 2], q[h, 3], q[h, 4], q[h, 5]
            o = ((((acc >> rsh) << wsh) >> wsh) & mask)
            dst[t, h, b] = min(max(o, lo), hi)
