"""Private numba kernel of the golden S5 engine (ARITHMETIC.md §6). Callers go through
:mod:`hwssm.golden.s5_engine`.

Exact integer sums, never fastmath: every sum is legal (its accumulator, with the rounding
addend and the left pre-shift, fits in 64 bits, :mod:`hwssm.quant.s5_lowering`), so partial
sums never overflow.

Lanes. Sequences run in blocks of ``LANE`` (the unit of parallel work, prange over blocks;
the last block padded with zero sequences whose results are dropped). Every activation and
state array of a block is stored lane-minor, ``(..., LANE)``: each step, every operation
(the B̄u, readout and GLU GEMVs, the state update, the requantizations, the table look-ups)
is an element-wise loop over the ``LANE`` sequences, which LLVM vectorizes (their trip count
``nl`` is a run-time value on purpose: a constant one is unrolled first and then left scalar);
a GEMV (:func:`_gemv`, written in LLVM IR) is one vector multiply-add per weight, the weight
loaded once per block, not once per sequence, and no dot product ends in a horizontal sum.

Integer types. Parameters, state and activations are stored in one operand type (decided by
:func:`hwssm.golden.s5_engine.run_s5`): int32 when every one of them fits and every GEMV sum
(Σ_h B̄·u, Σ_p C̃'·x, Σ_h W·g) provably fits in 31 bits, else int64. The GEMV sums run in the
operand type, modulo ``2**bits`` (:func:`_gemv`, exact: only the final sum, which fits, or a
partial sum of the same row, which fits as well, is used); every other sum is int64. C̃ arrives
pre-shifted, C̃' = C̃ << (alignment + 1) (the readout's 2 included), so the readout is a plain
dot product.

Schedule. Each block is step-major: encoder, then per S5 block B̄u, state update, readout,
GELU, GLU Linear, gate and residual; then the sum-pool; the decoder after the last step.

A fit record ``q`` (int64 (7,): lsh, rnd, rsh, lo, hi, wsh, mask; built from a requantization
record by :func:`hwssm.golden.s5_engine._fit_records`) is applied branch-free as
``v = ((acc << lsh) + rnd) >> rsh``, then ``v = ((v << wsh) >> wsh) & mask``, then clipped to
[lo, hi]: a saturating format has wsh = 0, mask = -1; a wrapping one has [lo, hi] the whole
int64 range and keeps its low bits by sign extension (signed, wsh = wrap) or by the mask
(unsigned), which is ARITHMETIC.md's requant(acc, F, out).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from ..config import JIT_FLAGS, wide_vectors

wide_vectors()  # before the first @njit below: 512-bit vectors on AVX-512 (config.wide_vectors)


LANE = 16       # sequences per block (the vector dimension of every loop)

_FLAGS = {k: v for k, v in JIT_FLAGS.items() if k != "nopython"}


@njit(inline="always", **_FLAGS)
def _rec(q):
    """The fields of a fit record ``q`` (int64 (7,)) as scalars (loaded once, before a lane loop)."""
    return q[0], q[1], q[2], q[3], q[4], q[5], q[6]


@njit(inline="always", **_FLAGS)
def _fit(acc, f):
    """requant(acc, F, out) of an int64 ``acc`` with ``f = _rec(q)``, ``q`` the fit record of ``out``."""
    lsh, rnd, rsh, lo, hi, wsh, mask = f
    v = ((acc << lsh) + rnd) >> rsh
    v = ((v << wsh) >> wsh) & mask
    return min(max(v, lo), hi)


@intrinsic
def _gemv(typingctx, w, x, s):
    """``s[b] = Σ_k w[k]·x[k, b]`` for b < ``LANE``, k < len(w), modulo ``2**bits`` (exact when the
    sum fits): ``w`` (K,), ``x`` (>= K, ``LANE``) and ``s`` (``LANE``,) contiguous arrays of one
    integer type.

    Written in LLVM IR, one vector multiply-add per weight with the sum in a register: a loop over
    the lanes of a constant trip count is unrolled by LLVM and then left scalar, and a sum kept
    in ``s`` is stored back at every k (``s`` may alias ``x`` for all LLVM knows).
    """
    arrays = (w, x, s)
    ok = (all(isinstance(a, types.Array) and a.layout == "C" for a in arrays) and w.ndim == 1 and x.ndim == 2
          and s.ndim == 1 and isinstance(s.dtype, types.Integer) and w.dtype == x.dtype == s.dtype)
    if not ok:
        return None

    def codegen(context, builder, sig, args):
        wa, xa, sa = (context.make_array(t)(context, builder, a) for t, a in zip(sig.args, args))
        ety = context.get_value_type(sig.args[2].dtype)
        vty = ir.VectorType(ety, LANE)
        align = sig.args[2].dtype.bitwidth // 8
        xv = builder.bitcast(xa.data, vty.as_pointer())
        n = cgutils.unpack_tuple(builder, wa.shape, 1)[0]
        acc = cgutils.alloca_once_value(builder, ir.Constant(vty, None))     # promoted to a register by LLVM
        splat = ir.Constant(ir.VectorType(ir.IntType(32), LANE), [0] * LANE)
        with cgutils.for_range(builder, n) as loop:
            wk = builder.load(builder.gep(wa.data, [loop.index]))
            wb = builder.shuffle_vector(builder.insert_element(ir.Constant(vty, ir.Undefined), wk,
                                                               ir.Constant(ir.IntType(32), 0)),
                                        ir.Constant(vty, ir.Undefined), splat)
            row = builder.load(builder.gep(xv, [loop.index]), align=align)
            builder.store(builder.add(builder.load(acc), builder.mul(row, wb)), acc)
        builder.store(builder.load(acc), builder.bitcast(sa.data, vty.as_pointer()), align=align)
        return context.get_dummy_value()
    return types.none(w, x, s), codegen


@njit(**_FLAGS)
def _layer(l, nl, r, bu, xr, xi, g, v, rn, s, s2, B, beta, bu_sh, bu_q, A, x_sh, x_q, C, D, dl, yd_sh, y_q, gelu,
           y_min, W, bb, v_sh, v_q, sig, v_min, half, z_q, res_sh, res_q, ty):
    """S5 block ``l`` at one step for the ``LANE`` sequences: ``r`` (H, LANE) is u in, r_{l+1} out.

    State ``xr``, ``xi`` (P, LANE) of the block, updated; ``bu`` (2, P, LANE), ``g`` (H, LANE),
    ``v`` (J, LANE), ``rn`` (H, LANE), ``s``, ``s2`` (LANE,) are scratch of the operand type;
    ``ty`` (H, LANE) int64 receives the readout codes y. ``nl`` is ``LANE``, passed at run time:
    element-wise loops of a run-time trip count are vectorized by LLVM (a constant one is
    unrolled first, and then left scalar).
    """
    H, P, J = r.shape[0], xr.shape[0], v.shape[0]
    for part in range(2):                                      # B̄u (§6)
        for m in range(P):
            _gemv(B[l, part, m], r, s)
            sh0, sh1 = bu_sh[l, part, m, 0], bu_sh[l, part, m, 1]
            c = beta[l, part, m] << sh1
            f = _rec(bu_q[l, part, m])
            o = bu[part, m]
            for b in range(nl):
                o[b] = _fit((np.int64(s[b]) << sh0) + c, f)
    for m in range(P):                                         # state update
        ar, ai = np.int64(A[l, 0, m]), np.int64(A[l, 1, m])
        s0, s1, s2_, s3, s4, s5 = x_sh[l, m, 0], x_sh[l, m, 1], x_sh[l, m, 2], x_sh[l, m, 3], x_sh[l, m, 4], x_sh[l, m, 5]
        fr, fi = _rec(x_q[l, m, 0]), _rec(x_q[l, m, 1])
        pr_, pi_, ur, ui = xr[m], xi[m], bu[0, m], bu[1, m]
        for b in range(nl):
            pr, pi = np.int64(pr_[b]), np.int64(pi_[b])
            nr = _fit(((ar * pr) << s0) - ((ai * pi) << s1) + (np.int64(ur[b]) << s2_), fr)
            ni = _fit(((ar * pi) << s3) + ((ai * pr) << s4) + (np.int64(ui[b]) << s5), fi)
            pr_[b] = nr
            pi_[b] = ni
    vm, ym = v_min[l], y_min[l]
    gl, sl = gelu[l], sig[l]
    for h in range(H):                                         # readout
        _gemv(C[l, 0, h], xr, s)
        _gemv(C[l, 1, h], xi, s2)
        d, sh0 = np.int64(D[l, h]), yd_sh[l, h, 0]
        c = dl[l, h] << yd_sh[l, h, 1]
        f = _rec(y_q[l, h])
        u, o = r[h], ty[h]
        for b in range(nl):
            o[b] = _fit(((d * np.int64(u[b])) << sh0) + c + (np.int64(s[b]) - np.int64(s2[b])), f)
    for h in range(H):                                         # GELU
        yh, o = ty[h], g[h]
        for b in range(nl):
            o[b] = gl[yh[b] - ym]
    for j in range(J):                                         # GLU Linear
        _gemv(W[l, j], g, s)
        sh0 = v_sh[l, j, 0]
        c = bb[l, j] << v_sh[l, j, 1]
        f = _rec(v_q[l, j])
        o = v[j]
        for b in range(nl):
            o[b] = _fit((np.int64(s[b]) << sh0) + c, f)
    fz, fr = _rec(z_q[l]), _rec(res_q[l])
    zs, us = res_sh[l, 0], res_sh[l, 1]
    for h in range(H):                                         # gate (value·σ into rn), residual
        o = rn[h]
        if half:
            val, gate = g[h], v[h]
        else:
            val, gate = v[h], v[H + h]
        for b in range(nl):
            o[b] = _fit(np.int64(val[b]) * sl[np.int64(gate[b]) - vm], fz)
        u = r[h]
        for b in range(nl):
            u[b] = _fit((np.int64(o[b]) << zs) + (np.int64(u[b]) << us), fr)


@njit(**_FLAGS)
def _block(pix, b0, nv, nl, enc_w, enc_b, enc_sh, enc_q, B, beta, bu_sh, bu_q, A, x_sh, x_q, C, D, dl, yd_sh, y_q, gelu,
           y_min, W, bb, v_sh, v_q, sig, v_min, half, z_q, res_sh, res_q, dec_w, dec_b, dec_sh, logits, trace,
           tr_r, tr_bu, tr_x, tr_y, tr_v):
    """Run one block: ``pix`` (T, LANE) int64 pixels, the first ``nv`` lanes real (sequences b0..b0+nv-1)."""
    T = pix.shape[0]
    L, _, P, H = B.shape
    J = W.shape[1]
    st = B.dtype
    r = np.zeros((H, LANE), st)
    rn = np.zeros((H, LANE), st)
    bu = np.zeros((2, P, LANE), st)
    xr = np.zeros((L, P, LANE), st)
    xi = np.zeros((L, P, LANE), st)
    g = np.zeros((H, LANE), st)
    v = np.zeros((J, LANE), st)
    s = np.zeros(LANE, st)
    s2 = np.zeros(LANE, st)
    ty = np.zeros((H, LANE), np.int64)
    pool = np.zeros((H, LANE), np.int64)
    for t in range(T):
        for h in range(H):                                     # encoder (§2.1)
            w, c, sh, f = enc_w[h], enc_b[h] << enc_sh[h, 1], enc_sh[h, 0], _rec(enc_q[h])
            o, p = r[h], pix[t]
            for b in range(nl):
                o[b] = _fit(((w * p[b]) << sh) + c, f)
        if trace:
            for b in range(nv):
                for h in range(H):
                    tr_r[b0 + b, 0, t, h] = r[h, b]
        for l in range(L):
            _layer(l, nl, r, bu, xr[l], xi[l], g, v, rn, s, s2, B, beta, bu_sh, bu_q, A, x_sh, x_q, C, D, dl, yd_sh, y_q,
                   gelu, y_min, W, bb, v_sh, v_q, sig, v_min, half, z_q, res_sh, res_q, ty)
            if trace:
                for b in range(nv):
                    for m in range(P):
                        tr_bu[b0 + b, l, t, 0, m] = bu[0, m, b]
                        tr_bu[b0 + b, l, t, 1, m] = bu[1, m, b]
                        tr_x[b0 + b, l, t, 0, m] = xr[l, m, b]
                        tr_x[b0 + b, l, t, 1, m] = xi[l, m, b]
                    for h in range(H):
                        tr_y[b0 + b, l, t, h] = ty[h, b]
                        tr_r[b0 + b, l + 1, t, h] = r[h, b]
                    for j in range(J):
                        tr_v[b0 + b, l, t, j] = v[j, b]
        for h in range(H):                                     # sum-pool (§2.3)
            for b in range(LANE):
                pool[h, b] += np.int64(r[h, b])
    for k in range(dec_w.shape[0]):                            # decoder
        for b in range(nv):
            acc = np.int64(0)
            for h in range(H):
                acc += dec_w[k, h] * pool[h, b]
            logits[b0 + b, k] = ((acc << dec_sh[k, 0]) + (dec_b[k] << dec_sh[k, 1])) << dec_sh[k, 2]


@njit(parallel=True, **_FLAGS)
def run_s5(pix, enc_w, enc_b, enc_sh, enc_q, B, beta, bu_sh, bu_q, A, x_sh, x_q, C, D, dl, yd_sh, y_q,
           gelu, y_min, W, bb, v_sh, v_q, sig, v_min, half, z_q, res_sh, res_q, dec_w, dec_b, dec_sh, logits,
           trace, tr_r, tr_bu, tr_x, tr_y, tr_v, nl):
    """Run ``pix`` (n, T) int64 sequences, blocks of ``LANE`` in parallel; ``logits`` (n, K) int64 out.

    Parameters (operand type): ``B`` (L, 2, P, H), ``A`` (L, 2, P), ``C`` (L, 2, H, P) pre-shifted,
    ``D`` (L, H), ``W`` (L, J, H); every other array int64: biases, alignments (``*_sh``), fit
    records (``*_q``, (..., 7)), tables ``gelu``/``sig`` (L, entries) from codes ``y_min``/``v_min``.
    Traces (int64, dummies when not ``trace``): see :class:`hwssm.golden.s5_engine.S5GoldenResult`.
    ``nl`` must be ``LANE`` (a run-time value on purpose, see :func:`_layer`).
    """
    n, T = pix.shape
    nblocks = (n + LANE - 1) // LANE
    for blk in prange(nblocks):
        b0 = blk * LANE
        nv = min(b0 + LANE, n) - b0
        p = np.zeros((T, LANE), np.int64)
        for b in range(nv):
            for t in range(T):
                p[t, b] = pix[b0 + b, t]
        _block(p, b0, nv, nl, enc_w, enc_b, enc_sh, enc_q, B, beta, bu_sh, bu_q, A, x_sh, x_q, C, D, dl, yd_sh, y_q,
               gelu, y_min, W, bb, v_sh, v_q, sig, v_min, half, z_q, res_sh, res_q, dec_w, dec_b, dec_sh, logits,
               trace, tr_r, tr_bu, tr_x, tr_y, tr_v)
