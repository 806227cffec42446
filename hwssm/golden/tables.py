"""Kernel packing: a lowered QModel flattened into the integer arrays the numba kernels read.

The arithmetic's integers (term alignments, accumulator widths, requantization records
``lsh, rnd, rsh, lo, hi, wrap``) come from :func:`hwssm.quant.lowering.lower`, the contract
lowered once; this module only packs them for the kernels. Applying a requantization
record is::

    v = ((acc << lsh) + rnd) >> rsh
    v = clip(v, lo, hi)                      # saturate
    v = (v << (64 - w)) >> (64 - w)          # or wrap to w bits (signed)

The module decides the kernel integer type: int32 when the lowering proves every
accumulator, pre-shift included, fits in 31 bits (and no unsigned wrapping format is 32
bits or wider), else int64.

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

from ..fixed import Overflow, QFormat
from ..quant.lowering import RQ_HI, RQ_LO, RQ_LSH, RQ_RND, RQ_RSH, Lowering, lower
from ..quant.qmodel import QModel

__all__ = ["Tables", "build_tables", "STORED", "SSM_ROWS", "KQ_ADD", "KQ_RSH", "KQ_LO", "KQ_HI", "KQ_WSH",
           "KQ_MASK", "KQ_COLS"]

#: Kernel constants multiplied in the hot loops, held in the storage type (Tables.store_dtype).
STORED = ("enc_k", "enc_table", "ssm_cf", "ssm_d", "mix_w")

# Column order of a kernel fit record (``ssm_q``, ``mix_q``; kernel integer type).
KQ_ADD, KQ_RSH, KQ_LO, KQ_HI, KQ_WSH, KQ_MASK = range(6)
KQ_COLS = 6
#: Rows of ``ssm_cf``: the pre-shifted Ar, -Ai, Br (real part), Ar, Ai, Bi (imaginary part), 2Cr, -2Ci.
SSM_ROWS = 8


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
    """Integer constants for the kernels (names follow ARITHMETIC.md). Shapes in comments.

    The contract's arrays (effective parameters, ``*_sh`` alignments, ``*_rq`` requantization
    records in RQ_* columns, tables) are the lowering's (:mod:`hwssm.quant.lowering`), stacked
    over layers; the kernel-ready constants below them are this module's packing.
    """

    dtype: type                 # np.int32 or np.int64: the kernel's integer type
    acc_width: int              # widest accumulator in bits (from accumulator_format)
    # encoder
    enc_w: np.ndarray           # (H,)    effective We of input 0
    enc_wc: np.ndarray          # (H, C)  effective We (H, V for a token model)
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
    enc_k: np.ndarray           # (H, C) pre-shifted We (C samples per step)
    enc_q: np.ndarray           # (H, 6) fit records; KQ_ADD holds the aligned be plus the rounding addend
    enc_table: np.ndarray       # (V, H) R_0 codes of each token (a token model's embedding ROM), else (1, H) zeros
    tokens: bool                # a token model: the encoder reads enc_table
    ssm_cf: np.ndarray          # (L, H, 8, M) pre-shifted coefficients, rows as SSM_ROWS
    ssm_d: np.ndarray           # (L, H) pre-shifted D
    ssm_q: np.ndarray           # (L, H, 3, 6) fit records (KQ_*) of xr, xi, y
    mix_w: np.ndarray           # (L, 2H, H) pre-shifted mixing weights
    mix_q: np.ndarray           # (L, 2H, 6) fit records; KQ_ADD holds the aligned bias plus the rounding addend
    glu_sh: np.ndarray          # (L, 3) left shifts of v·σ (GLU) and of z, u (residual), lsh included
    glu_q: np.ndarray           # (L, 2, 6) fit records of z and of r_{l+1}
    # narrower types of the two hot loops (see build_tables)
    ssm_dtype: type = None      # np.int32 or np.int64: the sum type of the S4D sums (ssm_q's records are for it)
    mix_dtype: type = None      # np.float32, np.int32 or np.int64: the type of the mixing's raw sums Σ W·g
    mix_raw: np.ndarray = None  # (L, 2H, H) effective W, not shifted (a row whose shift is past the sum type: 0)
    mix_sh: np.ndarray = None   # (L, 2H) left shift of Σ W·g to the accumulator, lsh included (sum type)


def build_tables(qm: QModel, T: int = 784, lowering: Lowering | None = None) -> Tables:
    """Pack ``qm`` (lowered for sequences of ``T`` steps, or ``lowering``) for the kernels.

    Raises HwssmError (QModelError) when ``qm`` is outside the contract (ARITHMETIC.md §5).
    """
    lw = lowering if lowering is not None else lower(qm, T)
    L, K = qm.L, qm.n_classes
    lys = lw.layers
    wy = max(ly.gelu.fin.width for ly in lys)
    wv = max(ly.sigmoid.fin.width for ly in lys)
    gelu = np.zeros((L, 1 << wy), np.int64)
    sig = np.zeros((L, 1 << wv), np.int64)
    for l, ly in enumerate(lys):
        gelu[l, : ly.gelu.codes.size] = ly.gelu.codes
        sig[l, : ly.sigmoid.codes.size] = ly.sigmoid.codes
    t = dict(
        enc_w=lw.encoder.W, enc_wc=lw.encoder.Wc, enc_table=lw.encoder.table, enc_b=lw.encoder.b, enc_sh=lw.encoder.sh, enc_rq=lw.encoder.rq,
        A=np.stack([ly.A for ly in lys]), C=np.stack([ly.C for ly in lys]), D=np.stack([ly.D for ly in lys]),
        x_sh=np.stack([ly.x_sh for ly in lys]), x_rq=np.stack([ly.x_rq for ly in lys]),
        y_sh=np.stack([ly.y_sh for ly in lys]), y_rq=np.stack([ly.y_rq for ly in lys]),
        W=np.stack([ly.W for ly in lys]), b=np.stack([ly.b for ly in lys]),
        v_sh=np.stack([ly.v_sh for ly in lys]), v_rq=np.stack([ly.v_rq for ly in lys]),
        z_rq=np.stack([ly.z_rq for ly in lys]), res_sh=np.stack([ly.res_sh for ly in lys]),
        res_rq=np.stack([ly.res_rq for ly in lys]),
    )
    acc_width, kernel_width = lw.acc_width, lw.pre_width
    # The kernel computes every sum in its integer type: int32 only when every accumulator
    # (rounding addend and requantization pre-shift included) provably fits in 31 bits, and
    # every unsigned wrapping format's codes (up to 2**width - 1) fit the type.
    dtype = np.int32 if kernel_width <= 31 and lw.unsigned_wrap_width < 32 else np.int64
    kernel = _kernel_constants(np.dtype(dtype).itemsize * 8, qm, t)
    del t["enc_table"]   # the kernel's enc_table (zeros (1, H) for a linear encoder) takes its place
    # Storage type: int64 sums can still store their operands (pre-shifted constants, state,
    # activations, table codes) as int32 when every one fits; AVX2 then multiplies 32x32 -> 64.
    stored = [kernel[k] for k in STORED] + [gelu, sig]
    fmts = [qm.r0, *lw.out_formats] + [f for ly in qm.layers for f in (ly.g, ly.sig)]
    narrow = (all(np.all(a >= -(1 << 31)) and np.all(a < (1 << 31)) for a in stored)
              and all(-(1 << 31) <= f.min_code and f.max_code < (1 << 31) for f in fmts))
    store_dtype = np.int32 if narrow else np.int64
    # The S4D sums alone are often narrower than the widest sum (a mixing row): with int32
    # storage, they are computed in int32 when each of them fits (16 lanes of AVX-512, not 8).
    ssm = [s for ly in lys for row in ly.ssm for s in (row.xr, row.xi, row.y)]
    ssm32 = store_dtype is np.int32 and max(s.pre_width for s in ssm) <= 31 and not any(
        s.rq.out.overflow is Overflow.WRAP and not s.rq.out.signed and s.rq.out.width >= 32 for s in ssm)
    ssm_dtype = np.int32 if ssm32 else dtype
    if ssm_dtype is not dtype:
        kernel["ssm_q"] = _ssm_records(32, qm, t)
    mix = _mix_raw(np.dtype(dtype).itemsize * 8, qm, t, store_dtype)
    return Tables(
        dtype=dtype, acc_width=acc_width, store_dtype=store_dtype, gelu=gelu, sig=sig, ssm_dtype=ssm_dtype, **mix,
        y_min=np.array([ly.gelu.min_code for ly in lys], np.int64),
        v_min=np.array([ly.sigmoid.min_code for ly in lys], np.int64),
        dec_w=lw.decoder.W, dec_b=lw.decoder.b, dec_sh=lw.decoder.sh, logit_frac=lw.decoder.logit_frac,
        kernel_width=kernel_width, **t, **kernel,
    )


def _kernel_constants(bits: int, qm: QModel, t: dict) -> dict:
    """The pre-shifted constants and fit records of the kernels (see the module doc)."""
    L, _, H, M = t["A"].shape
    A, C, D, x_sh, x_rq, y_sh, y_rq = (t[k] for k in ("A", "C", "D", "x_sh", "x_rq", "y_sh", "y_rq"))
    W, b, v_sh, v_rq = t["W"], t["b"], t["v_sh"], t["v_rq"]

    def add(value: int, shift: int, rec) -> int:
        # an aligned constant term plus the rounding addend, as one kernel-type constant
        return _ring_int((int(value) << int(shift)) + int(rec[RQ_RND]), bits)

    enc_wc = t["enc_wc"]
    enc_k = np.zeros((H, 1 if qm.tokens else enc_wc.shape[1]), np.int64)
    enc_q = np.zeros((H, KQ_COLS), np.int64)
    for h in range(H):
        rec = t["enc_rq"][h]
        for c in range(enc_k.shape[1]):
            enc_k[h, c] = _ring(enc_wc[h, c], t["enc_sh"][h, 0] + rec[RQ_LSH], bits)
        enc_q[h] = _kernel_fit(rec, bits, qm.r0)
        enc_q[h, KQ_ADD] = add(t["enc_b"][h], t["enc_sh"][h, 1] + rec[RQ_LSH], rec)
    ssm_cf = np.zeros((L, H, SSM_ROWS, M), np.int64)
    ssm_d = np.zeros((L, H), np.int64)
    ssm_q = _ssm_records(bits, qm, t)
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
        glu_q[l, 1] = _kernel_fit(rr, bits, qm.res_out(l))   # R_{l+1}, or N_l before a postnorm LayerNorm
    table = t["enc_table"]
    enc_table = table.copy() if table is not None else np.zeros((1, H), np.int64)
    return dict(enc_k=enc_k, enc_q=enc_q, enc_table=enc_table, tokens=table is not None, ssm_cf=ssm_cf, ssm_d=ssm_d, ssm_q=ssm_q, mix_w=mix_w, mix_q=mix_q,
                glu_sh=glu_sh, glu_q=glu_q)


def _ssm_records(bits: int, qm: QModel, t: dict) -> np.ndarray:
    """(L, H, 3, KQ_COLS) fit records of xr', xi' and y for ``bits``-bit S4D sums."""
    x_rq, y_rq = t["x_rq"], t["y_rq"]
    L, H = y_rq.shape[:2]
    ssm_q = np.zeros((L, H, 3, KQ_COLS), np.int64)
    for l, ly in enumerate(qm.layers):
        for h in range(H):
            ssm_q[l, h, 0] = _kernel_fit(x_rq[l, h, 0], bits, ly.x_re[h])
            ssm_q[l, h, 1] = _kernel_fit(x_rq[l, h, 1], bits, ly.x_im[h])
            ssm_q[l, h, 2] = _kernel_fit(y_rq[l, h], bits, ly.y)
    return ssm_q


def _mix_raw(bits: int, qm: QModel, t: dict, store_dtype) -> dict:
    """The mixing as raw sums: ``v = fit((Σ_k W[j,k]·g[k] << mix_sh[j]) + mix_q[j, KQ_ADD])``.

    Σ W·g of the effective (unshifted) weights is exact in float32 when its worst case
    Σ_k |W[j,k]|·max|g| is at most 2**24 (every partial sum is then an exactly represented
    integer, whatever the order), else in int32 when it fits in 31 bits (``mix_dtype``;
    int64 otherwise, or with int64 storage); the shift and the add then run once per row in the ``bits``-bit sum type, the
    same ring as the pre-shifted ``mix_w``: exact, because the final sum fits. A row whose
    shift reaches ``bits`` contributes 0 in that ring (its raw weights are zeroed).
    """
    W, v_sh, v_rq = t["W"], t["v_sh"], t["v_rq"]
    sh = v_sh[..., 0] + v_rq[..., RQ_LSH]                                   # (L, 2H)
    raw = np.where((sh >= bits)[..., None], 0, W).astype(np.int64)
    bound = 0
    for l, ly in enumerate(qm.layers):
        gmax = max(abs(ly.g.min_code), abs(ly.g.max_code))
        bound = max(bound, int(np.abs(raw[l]).sum(axis=1).max(initial=0)) * gmax)
    mix_dtype = (np.float32 if bound <= (1 << 24) else np.int32 if store_dtype is np.int32 and bound < (1 << 31)
                 else np.int64)
    return dict(mix_dtype=mix_dtype, mix_raw=raw, mix_sh=np.where(sh >= bits, 0, sh).astype(np.int64))
