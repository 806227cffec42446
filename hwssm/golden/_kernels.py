"""Private numba kernels of the golden engine. Callers go through hwssm.golden.engine.

Arithmetic is exact integer arithmetic (ARITHMETIC.md); never fastmath.

Kernel integer type. The hot loops compute in the type of the tables
(:attr:`hwssm.golden.tables.Tables.dtype`): int32 when every requantized sum
provably fits in 31 bits, else int64. numba promotes ``int32 * int32`` to int64,
and AVX2 has no 64-bit vector multiply, so the hot loops use the ``_mul``/``_add``/
``_sra``/``_shl`` intrinsics below, which stay in the operands' own width: modulo
``2**bits`` arithmetic, exact because only the final sum (which fits) is shifted right.

Schedule. Sequences run in blocks of ``BLOCK`` (blocks in parallel, prange). The
network is layer-major inside a chunk of ``TCHUNK`` steps: for each chunk, the
encoder runs over the chunk, then each layer runs its recurrence channel by
channel over the whole chunk (the 2·M state words of a channel stay in L1 and the
loop over modes vectorizes, with the C̄ readout fused in as a vector reduction),
then its mixing, GLU and residual step by step. A layer at step t only needs the
layer below at step t, so this order computes the same integers as step-major order.

Aliasing. LLVM vectorizes a loop that stores into one array and loads from others
only after a runtime check that their address ranges do not overlap, hoisted over
the whole loop nest. Arrays written in a hot loop are therefore separate
allocations (re and im state apart), or the check fails and the scalar loop runs.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from ..config import JIT_FLAGS

BLOCK = 16      # sequences per block (the unit of parallel work)
TCHUNK = 32     # time steps per chunk (bounds the per-block activation buffers)

_FLAGS = {k: v for k, v in JIT_FLAGS.items() if k != "nopython"}


# -- same-width integer operations (no promotion to int64) -------------------------------

def _same_int(a, b) -> bool:
    return isinstance(a, types.Integer) and isinstance(b, types.Integer) and a.bitwidth == b.bitwidth


@intrinsic
def _mul(typingctx, a, b):
    """``a * b`` modulo ``2**bits`` in ``a``'s type (``a``, ``b`` of the same width)."""
    if not _same_int(a, b):
        return None
    return a(a, b), lambda context, builder, sig, args: builder.mul(args[0], args[1])


@intrinsic
def _add(typingctx, a, b):
    """``a + b`` modulo ``2**bits`` in ``a``'s type."""
    if not _same_int(a, b):
        return None
    return a(a, b), lambda context, builder, sig, args: builder.add(args[0], args[1])


@intrinsic
def _sra(typingctx, a, s):
    """Arithmetic shift right of ``a`` by ``s`` (0 <= s < bits), in ``a``'s type."""
    if not _same_int(a, s):
        return None
    return a(a, s), lambda context, builder, sig, args: builder.ashr(args[0], args[1])


@intrinsic
def _shl(typingctx, a, s):
    """``a << s`` modulo ``2**bits`` (0 <= s < bits), in ``a``'s type."""
    if not _same_int(a, s):
        return None
    return a(a, s), lambda context, builder, sig, args: builder.shl(args[0], args[1])


@intrinsic
def _zero(typingctx, a):
    """0 in ``a``'s integer type."""
    if not isinstance(a, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        return context.get_constant(sig.return_type, 0)
    return a(a), codegen


@njit(inline="always", **_FLAGS)
def _fit(v, rsh, lo, hi, wsh):
    """Kernel-type requantization tail: shift right, wrap to ``bits - wsh`` bits, clip to [lo, hi].

    Saturating formats have ``wsh = 0``; wrapping formats have [lo, hi] = their full range,
    so only the applicable one of wrap/clip changes the value.
    """
    return min(max(_sra(_shl(_sra(v, rsh), wsh), wsh), lo), hi)


@njit(inline="always", **_FLAGS)
def _rq64(acc, rq):
    """Requantize an int64 accumulator with a record (lsh, rnd, rsh, lo, hi, wrap)."""
    v = ((acc << rq[0]) + rq[1]) >> rq[2]
    if rq[5] != 0:
        return (v << rq[5]) >> rq[5]
    return min(max(v, rq[3]), rq[4])


# -- the hot loops -----------------------------------------------------------------------

@njit(**_FLAGS)
def _ssm_channel(cf, q, d, xr, xi, r, g, h, nt, gelu, y_min, trace, tr_y, b0, nv, l, t0):
    """Recurrence and readout of channel ``h`` of one layer over ``nt`` steps, all sequences of a block.

    ``cf`` (8, M), ``q`` (3, 5), ``d``: pre-shifted coefficients, fit records and D (Tables.ssm_*).
    ``xr``, ``xi`` (B, M): the state, updated. ``r`` (TCHUNK, H, B): the layer input u.
    ``g`` (TCHUNK, B, H) receives GELU(y); ``tr_y`` (n, L, T, H) y itself when tracing.
    """
    B, M = xr.shape
    c0, c1, c2, c3, c4, c5, c6, c7 = cf[0], cf[1], cf[2], cf[3], cf[4], cf[5], cf[6], cf[7]
    rr, sr, lr, hr, wr = q[0, 0], q[0, 1], q[0, 2], q[0, 3], q[0, 4]
    ri, si, li, hi, wi = q[1, 0], q[1, 1], q[1, 2], q[1, 3], q[1, 4]
    ry, sy, ly, hy, wy = q[2, 0], q[2, 1], q[2, 2], q[2, 3], q[2, 4]
    for t in range(nt):
        for b in range(B):
            u = r[t, h, b]
            acc = _zero(u)
            for m in range(M):
                pr = xr[b, m]
                pi = xi[b, m]
                ar = _add(_add(_mul(c0[m], pr), _mul(c1[m], pi)), _add(_mul(c2[m], u), rr))
                ai = _add(_add(_mul(c3[m], pi), _mul(c4[m], pr)), _add(_mul(c5[m], u), ri))
                nr = _fit(ar, sr, lr, hr, wr)
                ni = _fit(ai, si, li, hi, wi)
                xr[b, m] = nr
                xi[b, m] = ni
                acc = _add(acc, _add(_mul(c6[m], nr), _mul(c7[m], ni)))
            yv = _fit(_add(_add(acc, _mul(d, u)), ry), sy, ly, hy, wy)
            g[t, b, h] = gelu[yv - y_min]
            if trace and b < nv:
                tr_y[b0 + b, l, t0 + t, h] = yv


@njit(**_FLAGS)
def _mix(W, mq, g, t, b, v):
    """Mixing Linear(H -> 2H) of sequence ``b`` at chunk step ``t``: ``v`` (2H,) from ``g`` (TCHUNK, B, H)."""
    J, H = W.shape
    for j in range(J):
        s = _zero(mq[j, 0])
        for k in range(H):
            s = _add(s, _mul(W[j, k], g[t, b, k]))
        v[j] = _fit(_add(s, mq[j, 0]), mq[j, 1], mq[j, 2], mq[j, 3], mq[j, 4])


@njit(**_FLAGS)
def _block(pix, b0, nv, enc_w, enc_b, enc_sh, enc_rq, ssm_cf, ssm_d, ssm_q, gelu, y_min,
           mix_w, mix_q, sig, v_min, z_rq, res_sh, res_rq, dec_w, dec_b, dec_sh,
           logits, trace, tr_r, tr_y, tr_v, xr, xi, r, g, v):
    """Run one block: ``pix`` (T, B) uint8, the first ``nv`` sequences real (``b0`` their index).

    ``logits`` (n, K) int64 out (rows b0..b0+nv). Traces (see engine.run) when ``trace``.
    Scratch of the kernel type: ``xr``, ``xi`` (L, H, B, M) state, ``r`` (TCHUNK, H, B)
    residual stream, ``g`` (TCHUNK, B, H) GELU outputs, ``v`` (2H,) mixing outputs.
    """
    T, B = pix.shape
    L, H = ssm_d.shape
    K = dec_w.shape[0]
    pool = np.zeros((H, B), np.int64)
    xr[:] = 0
    xi[:] = 0
    for t0 in range(0, T, TCHUNK):
        nt = min(TCHUNK, T - t0)
        # encoder (ARITHMETIC 2.1)
        for t in range(nt):
            for h in range(H):
                w = np.int64(enc_w[h])
                bterm = np.int64(enc_b[h]) << enc_sh[h, 1]
                s0 = enc_sh[h, 0]
                for b in range(B):
                    r[t, h, b] = _rq64(((w * np.int64(pix[t0 + t, b])) << s0) + bterm, enc_rq[h])
        if trace:
            for b in range(nv):
                for t in range(nt):
                    for h in range(H):
                        tr_r[b0 + b, 0, t0 + t, h] = r[t, h, b]
        for l in range(L):
            # state update, readout and GELU (ARITHMETIC 2.2), channel by channel
            gl = gelu[l]
            for h in range(H):
                _ssm_channel(ssm_cf[l, h], ssm_q[l, h], ssm_d[l, h], xr[l, h], xi[l, h], r, g, h, nt,
                             gl, y_min[l], trace, tr_y, b0, nv, l, t0)
            # mixing, GLU and residual, step by step
            zs, us = res_sh[l, 0], res_sh[l, 1]
            vm = v_min[l]
            for t in range(nt):
                for b in range(B):
                    _mix(mix_w[l], mix_q[l], g, t, b, v)
                    if trace and b < nv:
                        for j in range(2 * H):
                            tr_v[b0 + b, l, t0 + t, j] = v[j]
                    for h in range(H):
                        sg = np.int64(sig[l, np.int64(v[H + h]) - vm])
                        z = _rq64(np.int64(v[h]) * sg, z_rq[l])
                        r[t, h, b] = _rq64((z << zs) + (np.int64(r[t, h, b]) << us), res_rq[l])
            if trace:
                for b in range(nv):
                    for t in range(nt):
                        for h in range(H):
                            tr_r[b0 + b, l + 1, t0 + t, h] = r[t, h, b]
        # sum-pool (ARITHMETIC 2.3)
        for t in range(nt):
            for h in range(H):
                for b in range(B):
                    pool[h, b] += r[t, h, b]
    # decoder
    for k in range(K):
        for b in range(nv):
            s = np.int64(0)
            for h in range(H):
                s += np.int64(dec_w[k, h]) * pool[h, b]
            o = (s << dec_sh[k, 0]) + (np.int64(dec_b[k]) << dec_sh[k, 1])
            logits[b0 + b, k] = o << dec_sh[k, 2]


@njit(parallel=True, **_FLAGS)
def run_blocks(pix, enc_w, enc_b, enc_sh, enc_rq, ssm_cf, ssm_d, ssm_q, gelu, y_min,
               mix_w, mix_q, sig, v_min, z_rq, res_sh, res_rq, dec_w, dec_b, dec_sh,
               logits, trace, tr_r, tr_y, tr_v):
    """Run ``pix`` (n, T) uint8 sequences; ``logits`` (n, K) int64 out.

    The kernel type is that of ``ssm_cf`` (int32 or int64); every ``ssm_*``/``mix_*`` array
    and the traces ``tr_*`` (dummies when not ``trace``) have it.
    """
    n, T = pix.shape
    L, H, _, M = ssm_cf.shape
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        b0 = blk * BLOCK
        nv = min(b0 + BLOCK, n) - b0
        p = np.zeros((T, BLOCK), np.uint8)
        for b in range(nv):
            for t in range(T):
                p[t, b] = pix[b0 + b, t]
        xr = np.zeros((L, H, BLOCK, M), ssm_cf.dtype)
        xi = np.zeros((L, H, BLOCK, M), ssm_cf.dtype)
        r = np.zeros((TCHUNK, H, BLOCK), ssm_cf.dtype)
        g = np.zeros((TCHUNK, BLOCK, H), ssm_cf.dtype)
        v = np.zeros(2 * H, ssm_cf.dtype)
        _block(p, b0, nv, enc_w, enc_b, enc_sh, enc_rq, ssm_cf, ssm_d, ssm_q, gelu, y_min,
               mix_w, mix_q, sig, v_min, z_rq, res_sh, res_rq, dec_w, dec_b, dec_sh,
               logits, trace, tr_r, tr_y, tr_v, xr, xi, r, g, v)
