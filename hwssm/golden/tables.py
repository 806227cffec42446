"""Shift tables: a QModel flattened into the integer arrays the numba kernels read.

Every ``align``/``requant`` of ARITHMETIC.md becomes constants precomputed here:
a left shift for each term, and for each requantization a pre-shift ``lsh``, a
rounding addend ``rnd``, a right shift ``rsh`` (one of lsh/rsh is 0), the
saturation bounds and a wrap width. Applying them is::

    v = ((acc << lsh) + rnd) >> rsh
    v = clip(v, lo, hi)                      # saturate
    v = (v << (64 - w)) >> (64 - w)          # or wrap to w bits (signed)

The module also decides the kernel integer type: int32 when
:func:`hwssm.fixed.accumulator_format` proves every accumulator fits in 31 bits,
else int64.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..fixed import Overflow, QFormat, Rounding, Term, accumulator_format
from ..quant.qmodel import QModel, QParam

# Column order of a requantization record (int64 rows).
RQ_LSH, RQ_RND, RQ_RSH, RQ_LO, RQ_HI, RQ_WRAP = range(6)
RQ_COLS = 6


def requant_record(acc_frac: int, out: QFormat) -> np.ndarray:
    """The 6 constants that turn an accumulator at ``acc_frac`` into a code of ``out``."""
    s = acc_frac - out.frac
    lsh, rsh = max(-s, 0), max(s, 0)
    rnd = (1 << (rsh - 1)) if (rsh > 0 and out.rounding is Rounding.HALF_UP) else 0
    wrap = 64 - out.width if out.overflow is Overflow.WRAP else 0
    return np.array([lsh, rnd, rsh, out.min_code, out.max_code, wrap], dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class Tables:
    """Integer constants for the kernels (names follow ARITHMETIC.md). Shapes in comments."""

    dtype: type                 # np.int32 or np.int64: the kernel's integer type
    acc_width: int              # widest accumulator in bits (from accumulator_format)
    # encoder
    enc_w: np.ndarray           # (H,)    effective We
    enc_b: np.ndarray           # (H,)    effective be
    enc_sh: np.ndarray          # (H, 2)  left shifts of the We·p and be terms
    enc_rq: np.ndarray          # (H, 6)  requant to R_0
    # S4D, per layer
    A: np.ndarray               # (L, 4, H, M)  effective Ar, Ai, Br, Bi
    C: np.ndarray               # (L, 2, H, M)  effective Cr, Ci
    D: np.ndarray               # (L, H)
    x_sh: np.ndarray            # (L, H, 6) shifts: re: Ar·xr, Ai·xi, Br·u ; im: Ar·xi, Ai·xr, Bi·u
    x_rq: np.ndarray            # (L, H, 2, 6) requant to Xre[h], Xim[h]
    y_sh: np.ndarray            # (L, H, 3) shifts: Cr·xr, Ci·xi, D·u (the factor 2 is applied separately)
    y_rq: np.ndarray            # (L, H, 6)
    gelu: np.ndarray            # (L, 2**wy) GELU codes
    y_min: np.ndarray           # (L,) Y_l.min_code
    # mixing + GLU + residual
    W: np.ndarray               # (L, 2H, H) effective
    b: np.ndarray               # (L, 2H)
    v_sh: np.ndarray            # (L, 2H, 2) shifts of Σ W·g and b
    v_rq: np.ndarray            # (L, 2H, 6)
    sig: np.ndarray             # (L, 2**wv) sigmoid codes
    v_min: np.ndarray           # (L,)
    z_rq: np.ndarray            # (L, 6)
    res_sh: np.ndarray          # (L, 2) shifts of z and u
    res_rq: np.ndarray          # (L, 6)
    # decoder
    dec_w: np.ndarray           # (K, H)
    dec_b: np.ndarray           # (K,)
    dec_sh: np.ndarray          # (K, 3) shifts of Σ Wd·S, bd, and the final alignment to max F_k
    logit_frac: int


def _f(p: QParam, row: int) -> int:
    return int(p.frac[row])


def build_tables(qm: QModel, T: int = 784) -> Tables:
    """Flatten ``qm`` for the kernels. ``T`` bounds the pooled sum for the width analysis."""
    H, M, L, K = qm.H, qm.M, qm.L, qm.n_classes
    widths = []
    u8 = qm.u0

    enc_sh = np.zeros((H, 2), np.int64)
    enc_rq = np.zeros((H, RQ_COLS), np.int64)
    for h in range(H):
        we, be = qm.enc_W.effective_format(h), qm.enc_b.effective_format(h)
        F = max(we.frac + 8, be.frac)
        enc_sh[h] = (F - we.frac - 8, F - be.frac)
        enc_rq[h] = requant_record(F, qm.r0)
        widths.append(accumulator_format([Term(we, u8), Term(be)], F - qm.r0.frac).width)

    A = np.zeros((L, 4, H, M), np.int64)
    C = np.zeros((L, 2, H, M), np.int64)
    D = np.zeros((L, H), np.int64)
    x_sh = np.zeros((L, H, 6), np.int64)
    x_rq = np.zeros((L, H, 2, RQ_COLS), np.int64)
    y_sh = np.zeros((L, H, 3), np.int64)
    y_rq = np.zeros((L, H, RQ_COLS), np.int64)
    W = np.zeros((L, 2 * H, H), np.int64)
    b = np.zeros((L, 2 * H), np.int64)
    v_sh = np.zeros((L, 2 * H, 2), np.int64)
    v_rq = np.zeros((L, 2 * H, RQ_COLS), np.int64)
    z_rq = np.zeros((L, RQ_COLS), np.int64)
    res_sh = np.zeros((L, 2), np.int64)
    res_rq = np.zeros((L, RQ_COLS), np.int64)
    wy = max(ly.y.width for ly in qm.layers)
    wv = max(ly.v.width for ly in qm.layers)
    gelu = np.zeros((L, 1 << wy), np.int64)
    sig = np.zeros((L, 1 << wv), np.int64)
    y_min = np.zeros(L, np.int64)
    v_min = np.zeros(L, np.int64)

    for l, ly in enumerate(qm.layers):
        u = qm.r_in(l)
        A[l] = ly.A_re.effective(), ly.A_im.effective(), ly.B_re.effective(), ly.B_im.effective()
        C[l] = ly.C_re.effective(), ly.C_im.effective()
        D[l] = ly.D.effective()
        for h in range(H):
            ar, ai = ly.A_re.effective_format(h), ly.A_im.effective_format(h)
            br, bi = ly.B_re.effective_format(h), ly.B_im.effective_format(h)
            cr, ci = ly.C_re.effective_format(h), ly.C_im.effective_format(h)
            d = ly.D.effective_format(h)
            Xr, Xi = ly.x_re[h], ly.x_im[h]
            Fre = max(ar.frac + Xr.frac, ai.frac + Xi.frac, br.frac + u.frac)
            Fim = max(ar.frac + Xi.frac, ai.frac + Xr.frac, bi.frac + u.frac)
            x_sh[l, h] = (Fre - ar.frac - Xr.frac, Fre - ai.frac - Xi.frac, Fre - br.frac - u.frac,
                          Fim - ar.frac - Xi.frac, Fim - ai.frac - Xr.frac, Fim - bi.frac - u.frac)
            x_rq[l, h, 0] = requant_record(Fre, Xr)
            x_rq[l, h, 1] = requant_record(Fim, Xi)
            widths.append(accumulator_format([Term(ar, Xr), Term(ai, Xi), Term(br, u)], Fre - Xr.frac).width)
            widths.append(accumulator_format([Term(ar, Xi), Term(ai, Xr), Term(bi, u)], Fim - Xi.frac).width)
            G = max(cr.frac + Xr.frac, ci.frac + Xi.frac, d.frac + u.frac)
            y_sh[l, h] = (G - cr.frac - Xr.frac, G - ci.frac - Xi.frac, G - d.frac - u.frac)
            y_rq[l, h] = requant_record(G, ly.y)
            widths.append(accumulator_format(
                [Term(cr, Xr, M, 1), Term(ci, Xi, M, 1), Term(d, u)], G - ly.y.frac).width)
        W[l] = ly.W.effective()
        b[l] = ly.b.effective()
        for j in range(2 * H):
            wf, bf = ly.W.effective_format(j), ly.b.effective_format(j)
            F = max(wf.frac + ly.g.frac, bf.frac)
            v_sh[l, j] = (F - wf.frac - ly.g.frac, F - bf.frac)
            v_rq[l, j] = requant_record(F, ly.v)
            widths.append(accumulator_format([Term(wf, ly.g, H), Term(bf)], F - ly.v.frac).width)
        z_rq[l] = requant_record(ly.v.frac + ly.sig.frac, ly.z)
        widths.append(accumulator_format([Term(ly.v, ly.sig)], ly.v.frac + ly.sig.frac - ly.z.frac).width)
        F = max(ly.z.frac, u.frac)
        res_sh[l] = (F - ly.z.frac, F - u.frac)
        res_rq[l] = requant_record(F, ly.r_out)
        widths.append(accumulator_format([Term(ly.z), Term(u)], F - ly.r_out.frac).width)
        gelu[l, : ly.gelu_lut.size] = ly.gelu_lut
        sig[l, : ly.sigmoid_lut.size] = ly.sigmoid_lut
        y_min[l] = ly.y.min_code
        v_min[l] = ly.v.min_code

    rL = qm.r_final
    Fk = []
    for k in range(K):
        wf, bf = qm.dec_W.effective_format(k), qm.dec_b.effective_format(k)
        Fk.append(max(wf.frac + rL.frac, bf.frac))
    Fmax = max(Fk)
    dec_sh = np.zeros((K, 3), np.int64)
    for k in range(K):
        wf, bf = qm.dec_W.effective_format(k), qm.dec_b.effective_format(k)
        dec_sh[k] = (Fk[k] - wf.frac - rL.frac, Fk[k] - bf.frac, Fmax - Fk[k])

    acc_width = max(widths)
    # The kernel computes every intermediate in its integer type: int32 only when every
    # accumulator (rounding addend included) provably fits in 31 bits.
    dtype = np.int32 if acc_width <= 31 else np.int64
    return Tables(
        dtype=dtype, acc_width=acc_width,
        enc_w=qm.enc_W.effective()[:, 0].copy(), enc_b=qm.enc_b.effective(), enc_sh=enc_sh, enc_rq=enc_rq,
        A=A, C=C, D=D, x_sh=x_sh, x_rq=x_rq, y_sh=y_sh, y_rq=y_rq, gelu=gelu, y_min=y_min,
        W=W, b=b, v_sh=v_sh, v_rq=v_rq, sig=sig, v_min=v_min, z_rq=z_rq, res_sh=res_sh, res_rq=res_rq,
        dec_w=qm.dec_W.effective(), dec_b=qm.dec_b.effective(), dec_sh=dec_sh, logit_frac=Fmax,
    )
