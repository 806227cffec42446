"""Private numba kernels of :mod:`hwssm.model.fast`: GELU, and the GLU with its bias and residual add.

Never fastmath. GELU uses libm's ``erf`` (the formula of :mod:`hwssm.model.network`). The GLU's
sigmoid uses :func:`_exp`, an exp written out (Cody-Waite reduction by ln 2, degree-13 Taylor
polynomial, the power of two built from its bits) so that LLVM vectorizes the GLU loop; libm's
``exp`` is a call per element. Its error is within about 1 ulp (float64) over the range used,
as libm's, and far below the float32 storage of the activations.
"""

from __future__ import annotations

import math

import numpy as np

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from ..config import JIT_FLAGS, wide_vectors

wide_vectors()  # before the first @njit below: 512-bit vectors on AVX-512 (config.wide_vectors)

_FLAGS = {k: v for k, v in JIT_FLAGS.items() if k != "nopython"}
#: The GLU kernel divides by 1 + exp(-a) >= 1: numpy's error model (no zero-division check, a
#: branch that would keep the loop scalar).
_GLU_FLAGS = {**_FLAGS, "error_model": "numpy"}

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01     # ln 2 rounded to 32 significant bits (k·_LN2_HI exact for |k| < 2**20)
_LN2_LO = 1.90821492927058770002e-10     # ln 2 - _LN2_HI
#: 1/n! for n = 2..13 (Taylor coefficients of exp; the remainder is below 1e-17 relative for |r| <= ln2/2)
_C = tuple(1.0 / math.factorial(n) for n in range(2, 14))
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C


@intrinsic
def _f64_from_bits(typingctx, i):
    """The float64 whose IEEE-754 bits are the int64 ``i``."""
    if not (isinstance(i, types.Integer) and i.bitwidth == 64):
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(i), codegen


@njit(inline="always", **_FLAGS)
def _exp(x):
    """exp(x) in float64 for finite x, branch-free; x is clamped to [-708, 709] (exp(-708) ~ 3e-308)."""
    x = min(max(x, -708.0), 709.0)
    k = np.floor(x * _LOG2E + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = _C13
    p = p * r + _C12
    p = p * r + _C11
    p = p * r + _C10
    p = p * r + _C9
    p = p * r + _C8
    p = p * r + _C7
    p = p * r + _C6
    p = p * r + _C5
    p = p * r + _C4
    p = p * r + _C3
    p = p * r + _C2
    p = (p * r + 1.0) * r + 1.0
    return p * _f64_from_bits((np.int64(k) + 1023) << 52)


@njit(**_FLAGS)
def gelu_rows(y, out):
    """out[i, j] = GELU(y[i, j]) (exact, libm erf), float 2-D arrays."""
    n, m = y.shape
    for i in range(n):
        for j in range(m):
            v = y[i, j]
            out[i, j] = 0.5 * v * (1.0 + math.erf(v * 0.7071067811865476))


@njit(**_GLU_FLAGS)
def glu_residual_rows(v, b, r, c0):
    """r[h, c0 + j] += (v[h, j] + b[h]) · σ(v[H + h, j] + b[H + h]) for the (2H, n) mixing product v
    (without its bias b (2H,)) and the columns c0..c0+n-1 of the (H, m) stream r (C-contiguous, so
    that the loop vectorizes); σ(a) = 1 / (1 + exp(-a)) in float64."""
    H, m = r.shape[0], v.shape[1]
    for h in range(H):
        bv, bg = b[h], b[H + h]
        rh, vh, gh = r[h, c0:c0 + m], v[h], v[H + h]
        for j in range(m):
            rh[j] += (vh[j] + bv) * (1.0 / (1.0 + _exp(-float(gh[j] + bg))))
