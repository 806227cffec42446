"""Private numba kernel of the golden S5 engine (ARITHMETIC.md §6). Callers go through
:mod:`hwssm.golden.s5_engine`.

Exact int64 sums, never fastmath: every sum is legal (its accumulator, with the
rounding addend and the left pre-shift, fits in 64 bits, :mod:`hwssm.quant.s5_lowering`), so
partial sums never overflow. Parameters, state and activations are stored in one operand
type (decided by :func:`hwssm.golden.s5_engine.run_s5`): int32 when every one of them fits and
every GEMV sum (Σ_h B̄·u, Σ_p C̃'·x, Σ_h W·g) provably fits in 31 bits, else int64. The GEMV dot
products (:func:`_dot`) run in the operand type with the wrapping ``_mul``/``_add`` intrinsics of
:mod:`hwssm.golden._kernels` (exact: only the final sum, which fits, is used), so that they
vectorize; every other sum is int64. C̃ arrives pre-shifted, C̃' = C̃ << (alignment + 1) (the
readout's 2 included), so the readout is a plain dot product. Sequences run in parallel (prange over sequences); each one is
step-major: encoder, then per block B̄u, state update, readout, GELU, GLU Linear, gate and
residual, then the sum-pool; the decoder after the last step.

A requantization record ``q`` (RQ_* columns: lsh, rnd, rsh, lo, hi, wrap) is applied as
``v = ((acc << lsh) + rnd) >> rsh``, then clipped to [lo, hi], or, when ``wrap`` is not 0, the
low ``64 - wrap`` bits kept (sign-extended for a signed format, lo < 0; masked for unsigned).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..config import JIT_FLAGS, wide_vectors

wide_vectors()  # before the first @njit below: 512-bit vectors on AVX-512 (config.wide_vectors)

from ._kernels import _add, _mul, _zero  # noqa: E402

_FLAGS = {k: v for k, v in JIT_FLAGS.items() if k != "nopython"}


@njit(inline="always", **_FLAGS)
def _rq(acc, q):
    """requant(acc, F, out) with the record ``q`` (int64 (6,)) of ``out``."""
    v = ((acc << q[0]) + q[1]) >> q[2]
    if q[5] != 0:
        if q[3] < 0:
            return (v << q[5]) >> q[5]
        return v & ((np.int64(1) << (64 - q[5])) - 1)
    return min(max(v, q[3]), q[4])


@njit(inline="always", **_FLAGS)
def _dot(w, x):
    """Σ_k w[k]·x[k] in the operands' type (wrapping; exact when the sum fits), as int64."""
    s = _zero(x[0])
    for k in range(x.shape[0]):
        s = _add(s, _mul(w[k], x[k]))
    return np.int64(s)


@njit(**_FLAGS)
def _sequence(pix, i, enc_w, enc_b, enc_sh, enc_rq, B, beta, bu_sh, bu_rq, A, x_sh, x_rq, C, D, dl, yd_sh,
              y_rq, gelu, y_min, W, bb, v_sh, v_rq, sig, v_min, half, z_rq, res_sh, res_rq, dec_w, dec_b, dec_sh,
              logits, trace, tr_r, tr_bu, tr_x, tr_y, tr_v):
    """Run sequence ``i`` (``pix`` (T,) int64 pixels); logits into ``logits[i]``; traces when ``trace``."""
    T = pix.shape[0]
    L, _, P, H = B.shape
    J = W.shape[1]
    st = B.dtype                     # storage type of parameters, state and activations (int32 or int64)
    xr = np.zeros((L, P), st)
    xi = np.zeros((L, P), st)
    r = np.zeros(H, st)
    rn = np.zeros(H, st)
    bu = np.zeros((2, P), st)
    g = np.zeros(H, st)
    v = np.zeros(J, st)
    pool = np.zeros(H, np.int64)
    for t in range(T):
        p = pix[t]
        for h in range(H):                                     # encoder (§2.1)
            r[h] = _rq(((enc_w[h] * p) << enc_sh[h, 0]) + (enc_b[h] << enc_sh[h, 1]), enc_rq[h])
        if trace:
            tr_r[i, 0, t, :] = r
        for l in range(L):
            for part in range(2):                              # B̄u (§6)
                for m in range(P):
                    s = _dot(B[l, part, m], r)
                    bu[part, m] = _rq((s << bu_sh[l, part, m, 0]) + (beta[l, part, m] << bu_sh[l, part, m, 1]),
                                      bu_rq[l, part, m])
            for m in range(P):                                 # state update
                ar, ai = np.int64(A[l, 0, m]), np.int64(A[l, 1, m])
                pr, pi = np.int64(xr[l, m]), np.int64(xi[l, m])
                sh = x_sh[l, m]
                nr = _rq(((ar * pr) << sh[0]) - ((ai * pi) << sh[1]) + (np.int64(bu[0, m]) << sh[2]), x_rq[l, m, 0])
                ni = _rq(((ar * pi) << sh[3]) + ((ai * pr) << sh[4]) + (np.int64(bu[1, m]) << sh[5]), x_rq[l, m, 1])
                xr[l, m] = nr
                xi[l, m] = ni
            for h in range(H):                                 # readout, GELU
                acc = (np.int64(D[l, h]) * np.int64(r[h])) << yd_sh[l, h, 0]
                acc += dl[l, h] << yd_sh[l, h, 1]
                acc += _dot(C[l, 0, h], xr[l]) - _dot(C[l, 1, h], xi[l])
                yh = _rq(acc, y_rq[l, h])
                if trace:
                    tr_y[i, l, t, h] = yh
                g[h] = gelu[l, yh - y_min[l]]
            for j in range(J):                                 # GLU Linear
                s = _dot(W[l, j], g)
                v[j] = _rq((s << v_sh[l, j, 0]) + (bb[l, j] << v_sh[l, j, 1]), v_rq[l, j])
            for h in range(H):                                 # gate, residual
                if half:
                    z = _rq(np.int64(g[h]) * sig[l, v[h] - v_min[l]], z_rq[l])
                else:
                    z = _rq(np.int64(v[h]) * sig[l, v[H + h] - v_min[l]], z_rq[l])
                rn[h] = _rq((z << res_sh[l, 0]) + (np.int64(r[h]) << res_sh[l, 1]), res_rq[l])
            r[:] = rn
            if trace:
                tr_bu[i, l, t] = bu
                tr_x[i, l, t, 0] = xr[l]
                tr_x[i, l, t, 1] = xi[l]
                tr_v[i, l, t] = v
                tr_r[i, l + 1, t] = r
        for h in range(H):                                     # sum-pool (§2.3)
            pool[h] += np.int64(r[h])
    for k in range(dec_w.shape[0]):                            # decoder
        s = np.int64(0)
        for h in range(H):
            s += dec_w[k, h] * pool[h]
        logits[i, k] = ((s << dec_sh[k, 0]) + (dec_b[k] << dec_sh[k, 1])) << dec_sh[k, 2]


@njit(parallel=True, **_FLAGS)
def run_s5(pix, enc_w, enc_b, enc_sh, enc_rq, B, beta, bu_sh, bu_rq, A, x_sh, x_rq, C, D, dl, yd_sh, y_rq,
           gelu, y_min, W, bb, v_sh, v_rq, sig, v_min, half, z_rq, res_sh, res_rq, dec_w, dec_b, dec_sh, logits,
           trace, tr_r, tr_bu, tr_x, tr_y, tr_v):
    """Run ``pix`` (n, T) int64 sequences in parallel; ``logits`` (n, K) int64 out (see :func:`_sequence`)."""
    for i in prange(pix.shape[0]):
        _sequence(pix[i], i, enc_w, enc_b, enc_sh, enc_rq, B, beta, bu_sh, bu_rq, A, x_sh, x_rq, C, D, dl,
                  yd_sh, y_rq, gelu, y_min, W, bb, v_sh, v_rq, sig, v_min, half, z_rq, res_sh, res_rq, dec_w, dec_b,
                  dec_sh, logits, trace, tr_r, tr_bu, tr_x, tr_y, tr_v)
