"""Shift tables: a QModel flattened into the integer arrays the numba kernels read.

Every ``align``/``requant`` of ARITHMETIC.md becomes constants precomputed here:
a left shift for each term, and for each requantization a pre-shift ``lsh``, a
rounding addend ``rnd``, a right shift ``rsh`` (one of lsh/rsh is 0), the
saturation bounds and a wrap width. Applying them is::

    v = ((acc << lsh) + rnd) >> rsh
    v = clip(v, lo, hi)                      # saturate
    v = (v << (64 - w)) >> (64 - w)          # or wrap to w bits (signed)

The module also decides the kernel integer type: int32 when
:func:`hwssm.fixed.accumulator_format` proves every accumulator, pre-shift
included, fits in 31 bits (and no unsigned wrapping format is 32 bits or wider),
else int64.

Kernel-ready constants (``ssm_*``, ``mix_*``) go one step further for the hot
loops: every left shift of a sum (the term alignment and the requantization
pre-shift ``lsh``) is folded into the constant coefficient, so that a hot loop
only multiplies, adds, shifts right once and fits. They are stored reduced
modulo ``2**bits`` of the kernel type: the kernel computes in that ring, which
is exact because the final sum provably fits (``kernel_width``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import HwssmError
from ..fixed import Overflow, QFormat, Rounding, Term, accumulator_format
from ..quant.qmodel import QModel, QParam

# Column order of a requantization record (int64 rows).
RQ_LSH, RQ_RND, RQ_RSH, RQ_LO, RQ_HI, RQ_WRAP = range(6)
RQ_COLS = 6

#: Kernel constants multiplied in the hot loops, held in the storage type (Tables.store_dtype).
STORED = ("enc_k", "ssm_cf", "ssm_d", "mix_w")

# Column order of a kernel fit record (``ssm_q``, ``mix_q``; kernel integer type).
KQ_ADD, KQ_RSH, KQ_LO, KQ_HI, KQ_WSH, KQ_MASK = range(6)
KQ_COLS = 6
#: Rows of ``ssm_cf``: the pre-shifted Ar, -Ai, Br (real part), Ar, Ai, Bi (imaginary part), 2Cr, -2Ci.
SSM_ROWS = 8


def requant_record(acc_frac: int, out: QFormat) -> np.ndarray:
    """The 6 constants that turn an accumulator at ``acc_frac`` into a code of ``out``."""
    s = acc_frac - out.frac
    lsh, rsh = max(-s, 0), max(s, 0)
    rnd = (1 << (rsh - 1)) if (rsh > 0 and out.rounding is Rounding.HALF_UP) else 0
    wrap = 64 - out.width if out.overflow is Overflow.WRAP else 0
    # Shifts of 64 or more are not defined on int64; these equal ones are (|acc| < 2**63; a
    # nonzero acc shifted left that far would not fit, which kernel_width rules out).
    return np.array([min(lsh, 63), rnd, min(rsh, 63), out.min_code, out.max_code, wrap], dtype=np.int64)


def _ring(values, shifts, bits: int) -> np.ndarray:
    """``values << shifts`` reduced to signed ``bits``-bit integers (two's complement), as int64."""
    v = np.asarray(values, dtype=np.int64)
    sh = np.broadcast_to(np.asarray(shifts, dtype=np.int64), v.shape)
    out = v.astype(np.uint64) << np.minimum(sh, 63).astype(np.uint64)
    out = np.where(sh >= 64, np.uint64(0), out)
    if bits == 32:
        return out.astype(np.uint32).astype(np.int32).astype(np.int64)
    return out.astype(np.int64)


def _ring_int(value: int, bits: int) -> int:
    """A Python integer reduced to a signed ``bits``-bit integer (two's complement)."""
    half = 1 << (bits - 1)
    return ((value + half) % (1 << bits)) - half


def _kernel_fit(rec: np.ndarray, bits: int, out: QFormat) -> tuple[int, int, int, int, int, int]:
    """(rounding addend, right shift, lo, hi, wrap shift, mask) of a requant record for ``bits``-bit kernels.

    The kernel computes ``clip(((v >> rsh) << wsh >> wsh) & mask, lo, hi)`` (arithmetic shifts).
    lo/hi are clipped to the kernel type (the value being fitted always lies in it). The wrap
    shift is ``bits - width`` (0 when the format is at least as wide as the kernel type, where
    a signed wrap cannot change an in-range value); the mask keeps the low ``width`` bits of an
    unsigned wrapping format (-1, no-op, otherwise).
    """
    tmin, tmax = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    wrap = out.overflow is Overflow.WRAP
    wsh = max(bits - out.width, 0) if wrap else 0
    mask = (1 << out.width) - 1 if (wrap and not out.signed) else -1
    lo, hi = max(int(rec[RQ_LO]), tmin), min(int(rec[RQ_HI]), tmax)
    return int(rec[RQ_RND]), min(int(rec[RQ_RSH]), bits - 1), lo, hi, wsh, mask


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
    # kernel-ready constants (int64 arrays holding values of the kernel type, see the module doc)
    kernel_width: int           # widest requantized sum before the right shift, (acc << lsh) + rnd, in bits
    store_dtype: type           # np.int32 or np.int64: the kernel's type for STORED constants, state,
                                # activations and table codes (int32 whenever dtype is)
    enc_k: np.ndarray           # (H,) pre-shifted We
    enc_q: np.ndarray           # (H, 6) fit records; KQ_ADD holds the aligned be plus the rounding addend
    ssm_cf: np.ndarray          # (L, H, 8, M) pre-shifted coefficients, rows as SSM_ROWS
    ssm_d: np.ndarray           # (L, H) pre-shifted D
    ssm_q: np.ndarray           # (L, H, 3, 6) fit records (KQ_*) of xr, xi, y
    mix_w: np.ndarray           # (L, 2H, H) pre-shifted mixing weights
    mix_q: np.ndarray           # (L, 2H, 6) fit records; KQ_ADD holds the aligned bias plus the rounding addend
    glu_sh: np.ndarray          # (L, 3) left shifts of v·σ (GLU) and of z, u (residual), lsh included
    glu_q: np.ndarray           # (L, 2, 6) fit records of z and of r_{l+1}


def _f(p: QParam, row: int) -> int:
    return int(p.frac[row])


def build_tables(qm: QModel, T: int = 784) -> Tables:
    """Flatten ``qm`` for the kernels. ``T`` bounds the pooled sum for the width analysis."""
    H, M, L, K = qm.H, qm.M, qm.L, qm.n_classes
    widths: list[int] = []      # accumulator widths (accumulator_format)
    kwidths: list[int] = []     # the same sums after the requantization pre-shift lsh
    outs: list[QFormat] = []    # every requantization's output format

    def need(terms, F: int, out: QFormat) -> None:
        w = accumulator_format(terms, F - out.frac).width
        widths.append(w)
        kwidths.append(w + max(out.frac - F, 0))
        outs.append(out)

    u8 = qm.u0

    enc_sh = np.zeros((H, 2), np.int64)
    enc_rq = np.zeros((H, RQ_COLS), np.int64)
    for h in range(H):
        we, be = qm.enc_W.effective_format(h), qm.enc_b.effective_format(h)
        F = max(we.frac + 8, be.frac)
        enc_sh[h] = (F - we.frac - 8, F - be.frac)
        enc_rq[h] = requant_record(F, qm.r0)
        need([Term(we, u8), Term(be)], F, qm.r0)

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
            need([Term(ar, Xr), Term(ai, Xi), Term(br, u)], Fre, Xr)
            need([Term(ar, Xi), Term(ai, Xr), Term(bi, u)], Fim, Xi)
            G = max(cr.frac + Xr.frac, ci.frac + Xi.frac, d.frac + u.frac)
            y_sh[l, h] = (G - cr.frac - Xr.frac, G - ci.frac - Xi.frac, G - d.frac - u.frac)
            y_rq[l, h] = requant_record(G, ly.y)
            need([Term(cr, Xr, M, 1), Term(ci, Xi, M, 1), Term(d, u)], G, ly.y)
        W[l] = ly.W.effective()
        b[l] = ly.b.effective()
        for j in range(2 * H):
            wf, bf = ly.W.effective_format(j), ly.b.effective_format(j)
            F = max(wf.frac + ly.g.frac, bf.frac)
            v_sh[l, j] = (F - wf.frac - ly.g.frac, F - bf.frac)
            v_rq[l, j] = requant_record(F, ly.v)
            need([Term(wf, ly.g, H), Term(bf)], F, ly.v)
        z_rq[l] = requant_record(ly.v.frac + ly.sig.frac, ly.z)
        need([Term(ly.v, ly.sig)], ly.v.frac + ly.sig.frac, ly.z)
        F = max(ly.z.frac, u.frac)
        res_sh[l] = (F - ly.z.frac, F - u.frac)
        res_rq[l] = requant_record(F, ly.r_out)
        need([Term(ly.z), Term(u)], F, ly.r_out)
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
    kernel_width = max(kwidths)
    # The kernel computes every sum in its integer type: int32 only when every accumulator
    # (rounding addend and requantization pre-shift included) provably fits in 31 bits.
    if kernel_width > 64:
        raise HwssmError(f"a requantized sum needs {kernel_width} bits, more than the golden engine's 64: "
                         "narrow the formats")
    # An unsigned wrapping format holds codes up to 2**width - 1: they must fit the kernel type.
    uwrap = max((f.width for f in outs if f.overflow is Overflow.WRAP and not f.signed), default=0)
    if uwrap >= 64:
        raise HwssmError(f"an unsigned wrapping format of {uwrap} bits does not fit the golden engine's int64")
    dtype = np.int32 if kernel_width <= 31 and uwrap < 32 else np.int64
    enc_w, enc_b = qm.enc_W.effective()[:, 0].copy(), qm.enc_b.effective()
    kernel = _kernel_constants(np.dtype(dtype).itemsize * 8, qm, dict(
        enc_w=enc_w, enc_b=enc_b, enc_sh=enc_sh, enc_rq=enc_rq, A=A, C=C, D=D, x_sh=x_sh, x_rq=x_rq,
        y_sh=y_sh, y_rq=y_rq, W=W, b=b, v_sh=v_sh, v_rq=v_rq, z_rq=z_rq, res_sh=res_sh, res_rq=res_rq))
    # Storage type: int64 sums can still store their operands (pre-shifted constants, state,
    # activations, table codes) as int32 when every one fits; AVX2 then multiplies 32x32 -> 64.
    stored = [kernel[k] for k in STORED] + [gelu, sig]
    fmts = [qm.r0, *outs] + [f for ly in qm.layers for f in (ly.g, ly.sig)]
    narrow = (all(np.all(a >= -(1 << 31)) and np.all(a < (1 << 31)) for a in stored)
              and all(-(1 << 31) <= f.min_code and f.max_code < (1 << 31) for f in fmts))
    store_dtype = np.int32 if narrow else np.int64
    return Tables(
        dtype=dtype, acc_width=acc_width, store_dtype=store_dtype,
        enc_w=enc_w, enc_b=enc_b, enc_sh=enc_sh, enc_rq=enc_rq,
        A=A, C=C, D=D, x_sh=x_sh, x_rq=x_rq, y_sh=y_sh, y_rq=y_rq, gelu=gelu, y_min=y_min,
        W=W, b=b, v_sh=v_sh, v_rq=v_rq, sig=sig, v_min=v_min, z_rq=z_rq, res_sh=res_sh, res_rq=res_rq,
        dec_w=qm.dec_W.effective(), dec_b=qm.dec_b.effective(), dec_sh=dec_sh, logit_frac=Fmax,
        kernel_width=kernel_width, **kernel,
    )


def _kernel_constants(bits: int, qm: QModel, t: dict) -> dict:
    """The pre-shifted constants and fit records of the kernels (see the module doc)."""
    L, _, H, M = t["A"].shape
    A, C, D, x_sh, x_rq, y_sh, y_rq = (t[k] for k in ("A", "C", "D", "x_sh", "x_rq", "y_sh", "y_rq"))
    W, b, v_sh, v_rq = t["W"], t["b"], t["v_sh"], t["v_rq"]

    def add(value: int, shift: int, rec) -> int:
        # an aligned constant term plus the rounding addend, as one kernel-type constant
        return _ring_int((int(value) << int(shift)) + int(rec[RQ_RND]), bits)

    enc_k = np.zeros(H, np.int64)
    enc_q = np.zeros((H, KQ_COLS), np.int64)
    for h in range(H):
        rec = t["enc_rq"][h]
        enc_k[h] = _ring(t["enc_w"][h], t["enc_sh"][h, 0] + rec[RQ_LSH], bits)
        enc_q[h] = _kernel_fit(rec, bits, qm.r0)
        enc_q[h, KQ_ADD] = add(t["enc_b"][h], t["enc_sh"][h, 1] + rec[RQ_LSH], rec)
    ssm_cf = np.zeros((L, H, SSM_ROWS, M), np.int64)
    ssm_d = np.zeros((L, H), np.int64)
    ssm_q = np.zeros((L, H, 3, KQ_COLS), np.int64)
    mix_w = np.zeros((L, 2 * H, H), np.int64)
    mix_q = np.zeros((L, 2 * H, KQ_COLS), np.int64)
    glu_sh = np.zeros((L, 3), np.int64)
    glu_q = np.zeros((L, 2, KQ_COLS), np.int64)
    for l, ly in enumerate(qm.layers):
        for h in range(H):
            sh, lr, li, lyy = x_sh[l, h], x_rq[l, h, 0, RQ_LSH], x_rq[l, h, 1, RQ_LSH], y_rq[l, h, RQ_LSH]
            Ar, Ai, Br, Bi = A[l, :, h]
            # x' = (Σ terms << lsh + rnd) >> rsh; the real part subtracts Ai·xi, the readout Ci·xi.
            for row, (coef, s) in enumerate(((Ar, sh[0] + lr), (-Ai, sh[1] + lr), (Br, sh[2] + lr),
                                             (Ar, sh[3] + li), (Ai, sh[4] + li), (Bi, sh[5] + li),
                                             (C[l, 0, h], y_sh[l, h, 0] + 1 + lyy),
                                             (-C[l, 1, h], y_sh[l, h, 1] + 1 + lyy))):
                ssm_cf[l, h, row] = _ring(coef, s, bits)
            ssm_d[l, h] = _ring(D[l, h], y_sh[l, h, 2] + lyy, bits)
            ssm_q[l, h, 0] = _kernel_fit(x_rq[l, h, 0], bits, ly.x_re[h])
            ssm_q[l, h, 1] = _kernel_fit(x_rq[l, h, 1], bits, ly.x_im[h])
            ssm_q[l, h, 2] = _kernel_fit(y_rq[l, h], bits, ly.y)
        for j in range(2 * H):
            rec = v_rq[l, j]
            mix_w[l, j] = _ring(W[l, j], v_sh[l, j, 0] + rec[RQ_LSH], bits)
            mix_q[l, j] = _kernel_fit(rec, bits, ly.v)
            mix_q[l, j, KQ_ADD] = add(b[l, j], v_sh[l, j, 1] + rec[RQ_LSH], rec)
        # GLU: z = fit(((v·σ) << lsh + rnd) >> rsh); residual: r = fit(((z << zs) + (u << us) + rnd) >> rsh)
        zr, rr = t["z_rq"][l], t["res_rq"][l]
        glu_sh[l] = [min(int(zr[RQ_LSH]), bits - 1), min(int(t["res_sh"][l, 0] + rr[RQ_LSH]), bits - 1),
                     min(int(t["res_sh"][l, 1] + rr[RQ_LSH]), bits - 1)]
        glu_q[l, 0] = _kernel_fit(zr, bits, ly.z)
        glu_q[l, 1] = _kernel_fit(rr, bits, ly.r_out)
    return dict(enc_k=enc_k, enc_q=enc_q, ssm_cf=ssm_cf, ssm_d=ssm_d, ssm_q=ssm_q, mix_w=mix_w, mix_q=mix_q,
                glu_sh=glu_sh, glu_q=glu_q)
