"""Private numba kernels of :mod:`hwssm.model.fast`: GELU, and the GLU with its bias and residual add.

Never fastmath. GELU is the formula of :mod:`hwssm.model.network` with :func:`_erf`, an erf
written out branch-free (a Taylor series below 1, exp(-x²) times a Chebyshev series of erfcx up
to 6), so that LLVM vectorizes the GELU loop (libm's ``erf``, a call per element, took a quarter
of the float pass); its absolute error is within about 1.1e-16, as libm's, and on 2.2 million
float32 inputs GELU rounds to the same float32 as with libm's erf. The GLU's sigmoid uses
:func:`_exp`, an exp written out (Cody-Waite reduction by ln 2, degree-13 Taylor polynomial, the
power of two built from its bits) so that LLVM vectorizes the GLU loop; libm's ``exp`` is a
call per element. Its error is within about 1 ulp (float64) over the range used, as libm's, and
far below the float32 storage of the activations.
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


#: erf(a) = a · Σ_n _ERF_TAYLOR[n] · a^(2n) for |a| < 1: 2/√π · (-1)^n / (n! (2n+1)), rounded from
#: 50-digit values (mpmath); the first omitted term is below 1e-19 there.
_ERF_TAYLOR = (
    1.1283791670955126, -0.37612638903183754, 0.11283791670955126, -0.026866170645131252,
    0.005223977625442188, -0.0008548327023450853, 0.00012055332981789664, -1.492565035840625e-05,
    1.6462114365889248e-06, -1.6365844691234924e-07, 1.4807192815879218e-08, -1.2290555301717928e-09,
    9.422759064650411e-11, -6.7113668551641105e-12, 4.4632242632864775e-13, -2.7835162072109215e-14,
    1.6342614095367152e-15, -9.063970842808673e-17, 4.763348040515068e-18, -2.3784598852774293e-19,
)
#: erfcx(a) = exp(a²)·erfc(a) on 1 <= a <= 6 as Σ_k _ERFCX_CHEB[k] · T_k((a - 3.5) / 2.5): the
#: Chebyshev interpolant at 31 nodes, computed with 50-digit mpmath (the last coefficient is 1e-18).
_ERFCX_CHEB = (
    0.20196598791223083, -0.147884835533987, 0.05188222158351389, -0.017525709964867527,
    0.005721802417478219, -0.0018109803028142997, 0.0005570714353927344, -0.00016689473052528832,
    4.878565911493746e-05, -1.3935932859822488e-05, 3.895514595190115e-06, -1.0668392337070025e-06,
    2.865502572057316e-07, -7.555861081756622e-08, 1.957586342968354e-08, -4.987110132992565e-09,
    1.2501871239431183e-09, -3.0858852312872416e-10, 7.504484747602075e-11, -1.7990193064432053e-11,
    4.253478301220876e-12, -9.923156075376293e-13, 2.285294689026742e-13, -5.197545128776439e-14,
    1.1678402644045538e-14, -2.5933005231183116e-15, 5.693143913467755e-16, -1.2359966733061698e-16,
    2.6542847147814128e-17, -5.6306967324699184e-18, 1.135584892446982e-18,
)


def _float_tuple(x, c) -> bool:
    return x == types.float64 and isinstance(c, types.UniTuple) and c.dtype == types.float64 and c.count >= 2


@intrinsic
def _horner(typingctx, x, c):
    """Σ_k c[k]·x^k by Horner's rule, written out (a loop over the tuple would stay a loop)."""
    if not _float_tuple(x, c):
        return None

    def codegen(context, builder, sig, args):
        xv, cv = args
        p = builder.extract_value(cv, c.count - 1)
        for k in range(c.count - 2, -1, -1):
            p = builder.fadd(builder.fmul(p, xv), builder.extract_value(cv, k))
        return p
    return types.float64(x, c), codegen


@intrinsic
def _clenshaw(typingctx, s, c):
    """Σ_k c[k]·T_k(s) by Clenshaw's recurrence, written out: b_k = 2s·b_{k+1} - b_{k+2} + c[k]
    for k = n-1 .. 1, then s·b_1 - b_2 + c[0]."""
    if not _float_tuple(s, c):
        return None

    def codegen(context, builder, sig, args):
        sv, cv = args
        s2 = builder.fmul(ir.Constant(ir.DoubleType(), 2.0), sv)
        b1, b2 = ir.Constant(ir.DoubleType(), 0.0), ir.Constant(ir.DoubleType(), 0.0)
        for k in range(c.count - 1, 0, -1):
            b1, b2 = builder.fadd(builder.fsub(builder.fmul(s2, b1), b2), builder.extract_value(cv, k)), b1
        return builder.fadd(builder.fsub(builder.fmul(sv, b1), b2), builder.extract_value(cv, 0))
    return types.float64(s, c), codegen


@njit(inline="always", **_FLAGS)
def _erf(x):
    """erf(x) in float64, branch-free (so that a loop of it vectorizes; libm's ``erf`` is a call
    per element). Absolute error within about 1.1e-16, as libm's (measured against 50-digit
    values on [0, 6]): the Taylor series below 1, 1 - exp(-x²)·erfcx(|x|) up to 6, ±1 beyond
    (where erf rounds to ±1 in float64)."""
    a = abs(x)
    t = a * a
    s = (min(max(a, 1.0), 6.0) - 3.5) * 0.4        # (a - 3.5) / 2.5, within an ulp: no vector division
    e = a * _horner(t, _ERF_TAYLOR) if a < 1.0 else (
        (1.0 - _exp(-t) * _clenshaw(s, _ERFCX_CHEB)) if a < 6.0 else 1.0)
    return e if x >= 0.0 else -e


@njit(**_GLU_FLAGS)
def gelu_rows(y, out):
    """out[i, j] = GELU(y[i, j]) = y/2 · (1 + erf(y/√2)) (the formula of :mod:`hwssm.model.network`
    with the vectorizable :func:`_erf`), float 2-D arrays."""
    n, m = y.shape
    for i in range(n):
        for j in range(m):
            v = y[i, j]
            out[i, j] = 0.5 * v * (1.0 + _erf(v * 0.7071067811865476))


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
