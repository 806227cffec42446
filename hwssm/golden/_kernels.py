"""Private numba kernels of the golden engine. Callers go through hwssm.golden.engine.

Layout: sequences are processed in blocks of ``BLOCK`` with the sequence index
innermost (``[..., b]``), so that every scalar operation of ARITHMETIC.md
becomes a vector operation over the block. Blocks run in parallel (prange).
Arithmetic is exact integer arithmetic; never fastmath.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..config import JIT_FLAGS

BLOCK = 16

_FLAGS = {k: v for k, v in JIT_FLAGS.items() if k != "nopython"}


@njit(inline="always", **_FLAGS)
def _rq(acc, rq):
    """Requantize one accumulator with a record (lsh, rnd, rsh, lo, hi, wrap)."""
    v = ((acc << rq[0]) + rq[1]) >> rq[2]
    if rq[5] != 0:
        return (v << rq[5]) >> rq[5]
    return min(max(v, rq[3]), rq[4])


@njit(**_FLAGS)
def _block(pix, n_valid, enc_w, enc_b, enc_sh, enc_rq, A, C, D, x_sh, x_rq, y_sh, y_rq, gelu, y_min,
           W, bias, v_sh, v_rq, sig, v_min, z_rq, res_sh, res_rq, dec_w, dec_b, dec_sh,
           logits, trace, tr_r, tr_y, tr_v, xr, xi):
    """Run one block of BLOCK sequences. ``pix`` (T, B) uint8; ``logits`` (B, K) int64 out.

    When ``trace`` is true, ``tr_r`` (B, L+1, T, H), ``tr_y`` (B, L, T, H) and
    ``tr_v`` (B, L, T, 2H) receive the residual stream, S4D outputs and mixing outputs.
    ``xr``/``xi`` (L, H, M, B) are scratch state of the kernel dtype.
    """
    T, B = pix.shape
    L, _, H, M = A.shape
    K = dec_w.shape[0]
    dt = xr.dtype
    r = np.zeros((H, B), dt)
    u = np.zeros((H, B), dt)
    g = np.zeros((H, B), dt)
    v = np.zeros((2 * H, B), dt)
    vacc = np.zeros(B, np.int64)
    sy = np.zeros(B, np.int64)
    pool = np.zeros((H, B), np.int64)
    xr[:] = 0
    xi[:] = 0
    for t in range(T):
        # encoder (ARITHMETIC 2.1)
        for h in range(H):
            w = np.int64(enc_w[h])
            bterm = np.int64(enc_b[h]) << enc_sh[h, 1]
            s0 = enc_sh[h, 0]
            for bb in range(B):
                acc = ((w * np.int64(pix[t, bb])) << s0) + bterm
                r[h, bb] = _rq(acc, enc_rq[h])
        if trace:
            for bb in range(n_valid):
                for h in range(H):
                    tr_r[bb, 0, t, h] = r[h, bb]
        for l in range(L):
            u[:, :] = r
            # state update and readout (ARITHMETIC 2.2)
            for h in range(H):
                s1, s2, s3 = x_sh[l, h, 0], x_sh[l, h, 1], x_sh[l, h, 2]
                s4, s5, s6 = x_sh[l, h, 3], x_sh[l, h, 4], x_sh[l, h, 5]
                c1, c2 = y_sh[l, h, 0], y_sh[l, h, 1]
                rqr = x_rq[l, h, 0]
                rqi = x_rq[l, h, 1]
                sy[:] = 0
                for m in range(M):
                    ar = np.int64(A[l, 0, h, m])
                    ai = np.int64(A[l, 1, h, m])
                    br = np.int64(A[l, 2, h, m])
                    bi = np.int64(A[l, 3, h, m])
                    cr = np.int64(C[l, 0, h, m])
                    ci = np.int64(C[l, 1, h, m])
                    for bb in range(B):
                        pr = np.int64(xr[l, h, m, bb])
                        pi = np.int64(xi[l, h, m, bb])
                        uu = np.int64(u[h, bb])
                        accr = ((ar * pr) << s1) - ((ai * pi) << s2) + ((br * uu) << s3)
                        acci = ((ar * pi) << s4) + ((ai * pr) << s5) + ((bi * uu) << s6)
                        nr = _rq(accr, rqr)
                        ni = _rq(acci, rqi)
                        xr[l, h, m, bb] = nr
                        xi[l, h, m, bb] = ni
                        sy[bb] += ((cr * nr) << c1) - ((ci * ni) << c2)
                d = np.int64(D[l, h])
                c3 = y_sh[l, h, 2]
                for bb in range(B):
                    acc = (sy[bb] << 1) + ((d * np.int64(u[h, bb])) << c3)
                    yv = _rq(acc, y_rq[l, h])
                    if trace and bb < n_valid:
                        tr_y[bb, l, t, h] = yv
                    g[h, bb] = gelu[l, yv - y_min[l]]
            # mixing Linear(H -> 2H)
            for j in range(2 * H):
                vacc[:] = 0
                for h in range(H):
                    wj = np.int64(W[l, j, h])
                    for bb in range(B):
                        vacc[bb] += wj * np.int64(g[h, bb])
                bt = np.int64(bias[l, j]) << v_sh[l, j, 1]
                sw = v_sh[l, j, 0]
                for bb in range(B):
                    v[j, bb] = _rq((vacc[bb] << sw) + bt, v_rq[l, j])
            if trace:
                for bb in range(n_valid):
                    for j in range(2 * H):
                        tr_v[bb, l, t, j] = v[j, bb]
            # GLU and residual
            zs, us = res_sh[l, 0], res_sh[l, 1]
            for h in range(H):
                for bb in range(B):
                    sg = np.int64(sig[l, np.int64(v[H + h, bb]) - v_min[l]])
                    z = _rq(np.int64(v[h, bb]) * sg, z_rq[l])
                    acc = (z << zs) + (np.int64(u[h, bb]) << us)
                    r[h, bb] = _rq(acc, res_rq[l])
            if trace:
                for bb in range(n_valid):
                    for h in range(H):
                        tr_r[bb, l + 1, t, h] = r[h, bb]
        for h in range(H):
            for bb in range(B):
                pool[h, bb] += r[h, bb]
    # decoder (ARITHMETIC 2.3)
    for k in range(K):
        for bb in range(n_valid):
            s = np.int64(0)
            for h in range(H):
                s += np.int64(dec_w[k, h]) * pool[h, bb]
            o = (s << dec_sh[k, 0]) + (np.int64(dec_b[k]) << dec_sh[k, 1])
            logits[bb, k] = o << dec_sh[k, 2]


@njit(parallel=True, **_FLAGS)
def run_blocks(pix, dt_zero, enc_w, enc_b, enc_sh, enc_rq, A, C, D, x_sh, x_rq, y_sh, y_rq, gelu, y_min,
               W, bias, v_sh, v_rq, sig, v_min, z_rq, res_sh, res_rq, dec_w, dec_b, dec_sh,
               logits, trace, tr_r, tr_y, tr_v):
    """Run ``pix`` (n, T) uint8 sequences; ``logits`` (n, K) int64 out. ``dt_zero`` (0-d array) fixes the dtype."""
    n, T = pix.shape
    L, _, H, M = A.shape
    K = dec_w.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        start = blk * BLOCK
        stop = min(start + BLOCK, n)
        nv = stop - start
        p = np.zeros((T, BLOCK), np.uint8)
        for bb in range(nv):
            for t in range(T):
                p[t, bb] = pix[start + bb, t]
        lg = np.zeros((BLOCK, K), np.int64)
        xr = np.zeros((L, H, M, BLOCK), dt_zero.dtype)
        xi = np.zeros((L, H, M, BLOCK), dt_zero.dtype)
        if trace:
            _block(p, nv, enc_w, enc_b, enc_sh, enc_rq, A, C, D, x_sh, x_rq, y_sh, y_rq, gelu, y_min,
                   W, bias, v_sh, v_rq, sig, v_min, z_rq, res_sh, res_rq, dec_w, dec_b, dec_sh,
                   lg, True, tr_r[start:stop], tr_y[start:stop], tr_v[start:stop], xr, xi)
        else:
            _block(p, nv, enc_w, enc_b, enc_sh, enc_rq, A, C, D, x_sh, x_rq, y_sh, y_rq, gelu, y_min,
                   W, bias, v_sh, v_rq, sig, v_min, z_rq, res_sh, res_rq, dec_w, dec_b, dec_sh,
                   lg, False, tr_r, tr_y, tr_v, xr, xi)
        for bb in range(nv):
            for k in range(K):
                logits[start + bb, k] = lg[bb, k]
