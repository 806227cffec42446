"""Private numba kernels of the golden engine. Callers go through hwssm.golden.engine.

Arithmetic is exact integer arithmetic (ARITHMETIC.md); never fastmath.

Kernel integer type. The hot loops compute in the type of the tables
(:attr:`hwssm.golden.tables.Tables.dtype`): int32 when every requantized sum
provably fits in 31 bits, else int64. numba promotes ``int32 * int32`` to int64,
and AVX2 has no 64-bit vector multiply, so the hot loops use the ``_mul``/``_add``/
``_sra``/``_shl`` intrinsics (:mod:`hwssm.golden._intops`), which stay in the operands' own width: modulo
``2**bits`` arithmetic, exact because only the final sum (which fits) is shifted right.
On the int64 path the operands (constants, state, activations) are still stored as
int32 when they fit (:attr:`~hwssm.golden.tables.Tables.store_dtype`), so that products
are 32x32->64 (one vpmuldq) rather than emulated 64x64 multiplies.

Schedule. Sequences run in blocks of up to ``BLOCK`` (blocks in parallel, prange). The
network is layer-major inside a chunk of ``TCHUNK`` steps: for each chunk, the
encoder runs over the chunk, then each layer runs its recurrence channel by
channel over the whole chunk (the 2·M state words of a channel stay in L1 and the
loop over modes vectorizes, with the C̄ readout fused in as a vector reduction),
then its mixing over the whole chunk (one product of W (2H, H) with the chunk's GELU
outputs, vectorized over (step, sequence) columns), then GLU and residual step by step.
A layer at step t only needs the layer below at step t, so this order computes the same
integers as step-major order.

Narrower hot loops. The S4D loop computes in its own sum type (Tables.ssm_dtype: int32
whenever every S4D sum fits, even when a mixing row needs int64), and the mixing sums the
raw products Σ W·g in float32 when each such sum is an integer below 2**24 (exact; float
multiplies run on two ports, int32 ones on one), else in int32 or int64, then shifts and
fits once per output (Tables.mix_raw/mix_sh/mix_dtype). Column indices of the mixing are
unsigned: numba's negative-index wrap on a signed index made LLVM gather and scatter.

Aliasing. LLVM vectorizes a loop that stores into one array and loads from others
only after a runtime check that their address ranges do not overlap, hoisted over
the whole loop nest. Arrays written in a hot loop are therefore separate
allocations (re and im state apart), or the check fails and the scalar loop runs.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..config import JIT_FLAGS, wide_vectors
from ._intops import _add, _and, _mac4, _mul, _narrow, _shl, _sra, _to, _widen, _zero
from ._norm_kernels import layer_norm

wide_vectors()  # before the first @njit below: 512-bit vectors on AVX-512 (config.wide_vectors)

BLOCK = 16      # most sequences per block (the unit of parallel work); a multiple of 4
TCHUNK = 32     # time steps per chunk (bounds the per-block activation buffers)
MIX_TILE = 64   # columns (step, sequence) per mixing tile: constant, so that the loop is whole vectors

_FLAGS = {k: v for k, v in JIT_FLAGS.items() if k != "nopython"}


@njit(inline="always", **_FLAGS)
def _fq(q):
    """The fit part (rsh, lo, hi, wsh, mask) of a fit record ``q`` (Tables KQ_*), as scalars."""
    return q[1], q[2], q[3], q[4], q[5]


@njit(inline="always", **_FLAGS)
def _fit(v, f):
    """Kernel-type requantization tail with ``f = _fq(record)``.

    Shift right by rsh, wrap to ``bits - wsh`` bits (sign-extended, then masked for an
    unsigned format), clip to [lo, hi]. Saturating formats have ``wsh = 0`` and
    ``mask = -1``; wrapping formats have [lo, hi] = their full range, so only the
    applicable one of wrap/clip changes the value.
    """
    rsh, lo, hi, wsh, mask = f
    return min(max(_and(_sra(_shl(_sra(v, rsh), wsh), wsh), mask), lo), hi)


# -- the hot loops -----------------------------------------------------------------------
# Two integer types: the sum type S (Tables.dtype: every sum, shift and fit, and the fit
# records) and the storage type (Tables.store_dtype: the pre-shifted constants, the state,
# activations and table codes). They are equal on the int32 path; on the int64 path the
# storage is int32 whenever the values fit, and ``_widen`` turns products into 32x32->64
# multiplies (vpmuldq) instead of emulated 64x64 ones.

@njit(inline="always", **_FLAGS)
def _ssm_steps(cf, q, d, xr, xi, r, ya, h, nt, wrap):
    """The body of :func:`_ssm_channel`; ``wrap`` is a constant there, so each copy is branch-free."""
    B, M = xr.shape
    c0, c1, c2, c3, c4, c5, c6, c7 = cf[0], cf[1], cf[2], cf[3], cf[4], cf[5], cf[6], cf[7]
    rr, fr, sr, lr, hr = q[0, 0], _fq(q[0]), q[0, 1], q[0, 2], q[0, 3]
    ri, fi, si, li, hi = q[1, 0], _fq(q[1]), q[1, 1], q[1, 2], q[1, 3]
    ry = q[2, 0]
    dd = _widen(d, ry)
    for t in range(nt):
        for b in range(B):
            u = _widen(r[t, h, b], ry)
            acc = _zero(ry)
            for m in range(M):
                pr = _widen(xr[b, m], ry)
                pi = _widen(xi[b, m], ry)
                ar = _add(_add(_mul(_widen(c0[m], ry), pr), _mul(_widen(c1[m], ry), pi)),
                          _add(_mul(_widen(c2[m], ry), u), rr))
                ai = _add(_add(_mul(_widen(c3[m], ry), pi), _mul(_widen(c4[m], ry), pr)),
                          _add(_mul(_widen(c5[m], ry), u), ri))
                if wrap:
                    nr = _narrow(_fit(ar, fr), d)
                    ni = _narrow(_fit(ai, fi), d)
                else:
                    nr = _narrow(min(max(_sra(ar, sr), lr), hr), d)
                    ni = _narrow(min(max(_sra(ai, si), li), hi), d)
                xr[b, m] = nr
                xi[b, m] = ni
                acc = _add(acc, _add(_mul(_widen(c6[m], ry), _widen(nr, ry)),
                                     _mul(_widen(c7[m], ry), _widen(ni, ry))))
            ya[t, b] = _add(_add(acc, _mul(dd, u)), ry)


@njit(**_FLAGS)
def _ssm_channel(cf, q, d, xr, xi, r, ya, g, h, nt, gelu, y_min, trace, tr_y, b0, nv, l, t0):
    """Recurrence and readout of channel ``h`` of one layer over ``nt`` steps, all sequences of a block.

    ``cf`` (8, M), ``d``: pre-shifted coefficients and D (storage type); ``q`` (3, 6) fit records
    (the S4D sum type, Tables.ssm_dtype) (Tables.ssm_*). ``xr``, ``xi`` (B, M): the state, updated.
    ``r`` (TCHUNK, H, B): the layer input u. ``g`` (H, TCHUNK·B) receives GELU(y) (column t·B + b,
    in the mixing's raw-sum type); ``tr_y`` (n, L, T, H) y itself when tracing. ``ya`` (TCHUNK, B, sum type) is scratch for the readout sums: y is fitted and looked
    up after the recurrence loop, which keeps that loop short. Saturating and wrapping states
    take separate loops (decided here, once per channel).
    """
    if q[0, 4] == 0 and q[1, 4] == 0 and q[0, 5] == -1 and q[1, 5] == -1:
        _ssm_steps(cf, q, d, xr, xi, r, ya, h, nt, False)
    else:
        _ssm_steps(cf, q, d, xr, xi, r, ya, h, nt, True)
    fy = _fq(q[2])
    B = xr.shape[0]
    for t in range(nt):
        for b in range(B):
            yv = _fit(ya[t, b], fy)
            g[h, t * B + b] = gelu[yv - y_min]
            if trace and b < nv:
                tr_y[b0 + b, l, t0 + t, h] = yv


@njit(**_FLAGS)
def _mix(W, ms, mq, g, nc, v, acc):
    """Mixing Linear(H -> 2H) of the columns (step, sequence) ``0..nc-1`` of a chunk:
    ``v`` (2H, TCHUNK·B) from ``g`` (H, TCHUNK·B).

    ``W`` (2H, H) the raw effective weights and ``g`` in the raw-sum type Tables.mix_dtype
    (float32 when every sum is an integer below 2**24: exact, and twice the multiplies per
    cycle of int32), ``ms`` (2H,) their shifts and ``mq`` (2H, 6) the fit records (sum type):
    v[j] = fit((Σ_k W[j,k]·g[k] << ms[j]) + mq[j, KQ_ADD]). Columns run in tiles of MIX_TILE
    (``nc`` rounded up: the columns past it are scratch), each tile's row sums in ``acc``
    (MIX_TILE,) of the raw-sum type; the tile of g stays in L1 across the 2H rows.
    """
    J, H = W.shape
    for tile in range((nc + MIX_TILE - 1) // MIX_TILE):
        c0 = np.uint64(tile * MIX_TILE)   # unsigned column indices: no negative-index wrap, so the loads are contiguous
        for j in range(J):
            for c in range(MIX_TILE):
                acc[c] = 0
            for k in range(0, H, 4):   # four rows of g per pass over acc (rows past H: weight 0, row k)
                k1, k2, k3 = min(k + 1, H - 1), min(k + 2, H - 1), min(k + 3, H - 1)
                w0 = W[j, k]
                w1 = W[j, k1] if k + 1 < H else _zero(w0)
                w2 = W[j, k2] if k + 2 < H else _zero(w0)
                w3 = W[j, k3] if k + 3 < H else _zero(w0)
                for c in range(MIX_TILE):
                    cc = c0 + np.uint64(c)
                    acc[c] = _mac4(acc[c], w0, g[k, cc], w1, g[k1, cc], w2, g[k2, cc], w3, g[k3, cc])
            s, a, f = ms[j], mq[j, 0], _fq(mq[j])
            for c in range(MIX_TILE):
                v[j, c0 + np.uint64(c)] = _fit(_add(_shl(_to(acc[c], a), s), a), f)


@njit(**_FLAGS)
def _glu_residual(v, sig, v_min, sh, q, r, t, sg):
    """GLU and residual at chunk step ``t``, every sequence: ``r[t]`` (H, B) is u in, r_{l+1} out.

    ``v`` (2H, TCHUNK·B) mixing outputs (column t·B + b); ``sig`` the sigmoid table; ``sh``,
    ``q`` Tables.glu_sh/glu_q of the layer (sum type); ``sg`` (B,) scratch for the looked-up
    sigmoid codes.
    """
    H = r.shape[1]
    B = r.shape[2]
    c0 = t * B
    zl, zs, us = sh[0], sh[1], sh[2]
    za, fz = q[0, 0], _fq(q[0])
    ra, fr = q[1, 0], _fq(q[1])
    for h in range(H):
        for b in range(B):
            sg[b] = sig[np.int64(v[H + h, c0 + b]) - v_min]
        for b in range(B):
            z = _fit(_add(_shl(_mul(_widen(v[h, c0 + b], za), _widen(sg[b], za)), zl), za), fz)
            r[t, h, b] = _fit(_add(_add(_shl(z, zs), _shl(_widen(r[t, h, b], za), us)), ra), fr)


@njit(**_FLAGS)
def _block(pix, b0, nv, enc_k, enc_q, enc_table, tokens, ssm_cf, ssm_d, ssm_q, gelu, y_min, mix_w, mix_sh, mix_q, sig,
           v_min, glu_sh, glu_q, dec_w, dec_b, dec_sh, logits, trace, tr_r, tr_y, tr_v, xr, xi, r, ya, g, v, sg, macc,
           nk, ne, nh, ncg, nq, un):
    """Run one block: ``pix`` (T, C, B) samples (token ids when ``tokens``), the first ``nv``
    sequences real (``b0`` their index). The encoder sums C products per row (``enc_k`` (H, C)),
    or reads a token's R_0 codes from ``enc_table`` (V, H).

    ``logits`` (n, K) int64 out (rows b0..b0+nv). Traces (see engine.run) when ``trace``.
    Scratch: ``xr``, ``xi`` (L, H, B, M) state, ``r`` (TCHUNK, H, B) residual stream,
    ``v`` (2H, TCHUNK·B) mixing outputs and ``sg`` (B,), of the storage type (as ``pix``); ``g``
    (H, TCHUNK·B) GELU outputs in the mixing's raw-sum type; ``ya`` (TCHUNK, B) readout sums of the S4D sum type; ``macc``
    (MIX_TILE,) the mixing's raw sums (``mix_w`` (L, 2H, H) raw weights, ``mix_sh`` (L, 2H)
    their shifts: :func:`_mix`).
    LayerNorms (ARITHMETIC 7, hwssm.golden.norm_tables): ``nk`` (L,) kind (0 none, 1 prenorm,
    2 postnorm), ``ne``, ``nh``, ``ncg``, ``nq`` their constants; ``un`` (TCHUNK, H, B) scratch
    for the normalized S4D input of a prenorm block.
    """
    T, C, B = pix.shape
    L, H = ssm_d.shape
    K = dec_w.shape[0]
    pool = np.zeros((H, B), np.int64)
    xr[:] = 0
    xi[:] = 0
    for t0 in range(0, T, TCHUNK):
        nt = min(TCHUNK, T - t0)
        # encoder (ARITHMETIC 2.1)
        if tokens:
            for t in range(nt):
                for h in range(H):
                    for b in range(B):
                        r[t, h, b] = enc_table[pix[t0 + t, 0, b], h]
        elif C == 1:
            for t in range(nt):
                for h in range(H):
                    c, f = enc_q[h, 0], _fq(enc_q[h])
                    w = _widen(enc_k[h, 0], c)
                    for b in range(B):
                        r[t, h, b] = _fit(_add(_mul(w, _widen(pix[t0 + t, 0, b], c)), c), f)
        else:
            for t in range(nt):
                for h in range(H):
                    c, f = enc_q[h, 0], _fq(enc_q[h])
                    for b in range(B):
                        acc = c
                        for ch in range(C):
                            acc = _add(_mul(_widen(enc_k[h, ch], c), _widen(pix[t0 + t, ch, b], c)), acc)
                        r[t, h, b] = _fit(acc, f)
        if trace:
            for b in range(nv):
                for t in range(nt):
                    for h in range(H):
                        tr_r[b0 + b, 0, t0 + t, h] = r[t, h, b]
        for l in range(L):
            # state update, readout and GELU (ARITHMETIC 2.2), channel by channel
            gl = gelu[l]
            src = r
            if nk[l] == 1:   # prenorm LayerNorm: the S4D input is LN(r_l)
                for t in range(nt):
                    layer_norm(r, t, un, ne[l], nh[l], ncg[l], nq[l])
                src = un
            for h in range(H):
                _ssm_channel(ssm_cf[l, h], ssm_q[l, h], ssm_d[l, h], xr[l, h], xi[l, h], src, ya, g, h, nt,
                             gl, y_min[l], trace, tr_y, b0, nv, l, t0)
            # mixing of the whole chunk (it reads only g), then GLU and residual step by step
            _mix(mix_w[l], mix_sh[l], mix_q[l], g, nt * B, v, macc)
            if trace:
                for b in range(nv):
                    for t in range(nt):
                        for j in range(2 * H):
                            tr_v[b0 + b, l, t0 + t, j] = v[j, t * B + b]
            for t in range(nt):
                _glu_residual(v, sig[l], v_min[l], glu_sh[l], glu_q[l], r, t, sg)
                if nk[l] == 2:   # postnorm LayerNorm: r_{l+1} = LN(z + r_l)
                    layer_norm(r, t, r, ne[l], nh[l], ncg[l], nq[l])
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
def run_blocks(pix, enc_k, enc_q, enc_table, tokens, ssm_cf, ssm_d, ssm_q, gelu, y_min, mix_w, mix_sh, mix_q, sig,
               v_min, glu_sh, glu_q, dec_w, dec_b, dec_sh, logits, trace, tr_r, tr_y, tr_v, nthreads, nk, ne, nh, ncg, nq):
    """Run ``pix`` (n, T, C) uint8 sequences (int32 token ids when ``tokens``) on ``nthreads`` numba threads; ``logits`` (n, K) int64 out.

    Integer types (see "the hot loops"): ``ssm_cf`` has the storage type, like ``enc_k``,
    ``ssm_d``, ``gelu`` and ``sig``; ``enc_q``, ``mix_sh``, ``mix_q``, ``glu_sh``, ``glu_q`` and the
    traces ``tr_*`` (dummies when not ``trace``) the sum type; ``ssm_q`` the S4D sum type
    (Tables.ssm_dtype) and ``mix_w`` the raw weights in the raw-sum type (Tables.mix_dtype).
    ``y_min``, ``v_min`` and the decoder are int64, like the LayerNorm constants ``nk``..``nq``
    (:class:`hwssm.golden.norm_tables.NormTables`: kind, E, half_up, cg, q).
    """
    n, T, C = pix.shape
    L, H, _, M = ssm_cf.shape
    st, su, sp = ssm_cf.dtype, ssm_q.dtype, mix_w.dtype
    # Small batches: smaller blocks (a multiple of 4), so that every thread gets work and
    # little is spent on padding sequences.
    per_thread = (n + nthreads - 1) // max(nthreads, 1)
    bs = min(BLOCK, max(4, (per_thread + 3) // 4 * 4))
    nblocks = (n + bs - 1) // bs
    for blk in prange(nblocks):
        b0 = blk * bs
        nv = min(b0 + bs, n) - b0
        p = np.zeros((T, C, bs), st)
        for b in range(nv):
            for t in range(T):
                for ch in range(C):
                    p[t, ch, b] = pix[b0 + b, t, ch]
        xr = np.zeros((L, H, bs, M), st)
        xi = np.zeros((L, H, bs, M), st)
        r = np.zeros((TCHUNK, H, bs), st)
        ya = np.zeros((TCHUNK, bs), su)
        g = np.zeros((H, TCHUNK * bs), sp)   # GELU codes, in the mixing's raw-sum type
        v = np.zeros((2 * H, TCHUNK * bs), st)
        macc = np.zeros(MIX_TILE, sp)
        sg = np.zeros(bs, st)
        un = np.zeros((TCHUNK, H, bs), st)
        _block(p, b0, nv, enc_k, enc_q, enc_table, tokens, ssm_cf, ssm_d, ssm_q, gelu, y_min, mix_w, mix_sh, mix_q, sig,
               v_min, glu_sh, glu_q, dec_w, dec_b, dec_sh, logits, trace, tr_r, tr_y, tr_v, xr, xi, r, ya, g, v, sg, macc,
               nk, ne, nh, ncg, nq, un)
