"""Fused Triton kernels of the integer S4D recurrence (see :mod:`hwssm.train.qat_scan`).

One lane per state (sequence b, channel h, mode m): a program holds ``BLOCK_R`` rows
(b, h) × ``MP`` modes (M padded to a power of two; padded lanes have zero parameters and
stay 0) and loops over the T time steps. The readout sum over modes is a row reduction in
registers, so the forward writes only ``s`` (B, T, H) and, for training, the states
(B, T, H, M) as int16/int32. The backward kernel walks time in reverse, recomputes each
saturation mask from the stored previous state, and accumulates the parameter gradients per
lane (summed over sequences afterwards).

Integer arithmetic is exact: products and sums in int32 when the lowering's width analysis
allows it (else int64), requantization in int64. Only imported on CUDA.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .qat_scan import ScanConsts

#: Rows (b, h) per program are chosen so that a program holds LANES lanes.
LANES = 128
NUM_WARPS = 4


@triton.jit
def _ld_rows(ptr, rows_h, k: tl.constexpr, stride: tl.constexpr, rmask):
    """Per-row constant ``ptr[h*stride + k]`` as a (R, 1) column."""
    return tl.load(ptr + rows_h * stride + k, mask=rmask, other=0)[:, None]


@triton.jit
def _requant(acc, lsh, rnd, rsh, lo, hi, wb, WRAP: tl.constexpr):
    v = ((acc.to(tl.int64) << lsh) + rnd) >> rsh
    inside = (v >= lo) & (v <= hi)
    if WRAP:
        v = (v << wb) >> wb
    else:
        v = tl.minimum(tl.maximum(v, lo), hi)
    return v, inside


@triton.jit
def _scan_fwd(u_ptr, p_ptr, sh_ptr, c_ptr, rq_ptr, s_ptr, xr_ptr, xi_ptr,
              T, H, M, R,
              BLOCK_R: tl.constexpr, MP: tl.constexpr, ITY: tl.constexpr, WRAP: tl.constexpr,
              SAVE: tl.constexpr):
    pid = tl.program_id(0)
    rows = pid * BLOCK_R + tl.arange(0, BLOCK_R)
    rmask = rows < R
    b = (rows // H).to(tl.int64)
    h = rows % H
    m = tl.arange(0, MP)
    pm = rmask[:, None] & (m < M)[None, :]
    pidx = h[:, None] * M + m[None, :]
    HM = H * M
    ity = ITY
    Ar = tl.load(p_ptr + pidx, mask=pm, other=0).to(ity)
    Ai = tl.load(p_ptr + HM + pidx, mask=pm, other=0).to(ity)
    Br = tl.load(p_ptr + 2 * HM + pidx, mask=pm, other=0).to(ity)
    Bi = tl.load(p_ptr + 3 * HM + pidx, mask=pm, other=0).to(ity)
    Cr = tl.load(p_ptr + 4 * HM + pidx, mask=pm, other=0).to(ity)
    Ci = tl.load(p_ptr + 5 * HM + pidx, mask=pm, other=0).to(ity)
    s1 = _ld_rows(sh_ptr, h, 0, 6, rmask).to(ity)
    s2 = _ld_rows(sh_ptr, h, 1, 6, rmask).to(ity)
    s3 = _ld_rows(sh_ptr, h, 2, 6, rmask).to(ity)
    s4 = _ld_rows(sh_ptr, h, 3, 6, rmask).to(ity)
    s5 = _ld_rows(sh_ptr, h, 4, 6, rmask).to(ity)
    s6 = _ld_rows(sh_ptr, h, 5, 6, rmask).to(ity)
    c1 = _ld_rows(c_ptr, h, 0, 2, rmask).to(ity)
    c2 = _ld_rows(c_ptr, h, 1, 2, rmask).to(ity)
    # requant records (int64): re at columns 0..5, im at 6..11 of a 12-wide row
    lr = _ld_rows(rq_ptr, h, 0, 12, rmask)
    nr = _ld_rows(rq_ptr, h, 1, 12, rmask)
    rr = _ld_rows(rq_ptr, h, 2, 12, rmask)
    lor = _ld_rows(rq_ptr, h, 3, 12, rmask)
    hir = _ld_rows(rq_ptr, h, 4, 12, rmask)
    wr = _ld_rows(rq_ptr, h, 5, 12, rmask)
    li = _ld_rows(rq_ptr, h, 6, 12, rmask)
    ni = _ld_rows(rq_ptr, h, 7, 12, rmask)
    ri = _ld_rows(rq_ptr, h, 8, 12, rmask)
    loi = _ld_rows(rq_ptr, h, 9, 12, rmask)
    hii = _ld_rows(rq_ptr, h, 10, 12, rmask)
    wi = _ld_rows(rq_ptr, h, 11, 12, rmask)

    xr = tl.zeros([BLOCK_R, MP], dtype=ity)
    xi = tl.zeros([BLOCK_R, MP], dtype=ity)
    ubase = b * T * H + h                         # (R,) offset of u[b, 0, h]
    xbase = (b * T * H + h)[:, None] * M + m[None, :]
    for t in range(T):
        uu = tl.load(u_ptr + ubase + t * H, mask=rmask, other=0).to(ity)[:, None]
        accr = ((Ar * xr) << s1) - ((Ai * xi) << s2) + ((Br * uu) << s3)
        acci = ((Ar * xi) << s4) + ((Ai * xr) << s5) + ((Bi * uu) << s6)
        vr, _ = _requant(accr, lr, nr, rr, lor, hir, wr, WRAP)
        vi, _ = _requant(acci, li, ni, ri, loi, hii, wi, WRAP)
        xr = vr.to(ity)
        xi = vi.to(ity)
        if SAVE:
            off = xbase + t * H * M
            tl.store(xr_ptr + off, xr.to(xr_ptr.dtype.element_ty), mask=pm)
            tl.store(xi_ptr + off, xi.to(xi_ptr.dtype.element_ty), mask=pm)
        sv = tl.sum(((Cr * xr) << c1) - ((Ci * xi) << c2), axis=1)
        tl.store(s_ptr + ubase + t * H, sv.to(tl.int64), mask=rmask)


@triton.jit
def _scan_bwd(u_ptr, p_ptr, sh_ptr, rq_ptr, co_ptr, xr_ptr, xi_ptr, gs_ptr, gu_ptr, gp_ptr,
              T, H, M, R, NB,
              BLOCK_R: tl.constexpr, MP: tl.constexpr, ITY: tl.constexpr, WRAP: tl.constexpr):
    pid = tl.program_id(0)
    rows = pid * BLOCK_R + tl.arange(0, BLOCK_R)
    rmask = rows < R
    b = (rows // H).to(tl.int64)
    h = rows % H
    m = tl.arange(0, MP)
    pm = rmask[:, None] & (m < M)[None, :]
    pidx = h[:, None] * M + m[None, :]
    HM = H * M
    ity = ITY
    Ar = tl.load(p_ptr + pidx, mask=pm, other=0).to(ity)
    Ai = tl.load(p_ptr + HM + pidx, mask=pm, other=0).to(ity)
    Br = tl.load(p_ptr + 2 * HM + pidx, mask=pm, other=0).to(ity)
    Bi = tl.load(p_ptr + 3 * HM + pidx, mask=pm, other=0).to(ity)
    Cr = tl.load(p_ptr + 4 * HM + pidx, mask=pm, other=0).to(ity)
    Ci = tl.load(p_ptr + 5 * HM + pidx, mask=pm, other=0).to(ity)
    Arf = Ar.to(tl.float32)
    Aif = Ai.to(tl.float32)
    Brf = Br.to(tl.float32)
    Bif = Bi.to(tl.float32)
    Crf = Cr.to(tl.float32)
    Cif = Ci.to(tl.float32)
    s1 = _ld_rows(sh_ptr, h, 0, 6, rmask).to(ity)
    s2 = _ld_rows(sh_ptr, h, 1, 6, rmask).to(ity)
    s3 = _ld_rows(sh_ptr, h, 2, 6, rmask).to(ity)
    s4 = _ld_rows(sh_ptr, h, 3, 6, rmask).to(ity)
    s5 = _ld_rows(sh_ptr, h, 4, 6, rmask).to(ity)
    s6 = _ld_rows(sh_ptr, h, 5, 6, rmask).to(ity)
    lr = _ld_rows(rq_ptr, h, 0, 12, rmask)
    nr = _ld_rows(rq_ptr, h, 1, 12, rmask)
    rr_ = _ld_rows(rq_ptr, h, 2, 12, rmask)
    lor = _ld_rows(rq_ptr, h, 3, 12, rmask)
    hir = _ld_rows(rq_ptr, h, 4, 12, rmask)
    wr = _ld_rows(rq_ptr, h, 5, 12, rmask)
    li = _ld_rows(rq_ptr, h, 6, 12, rmask)
    ni = _ld_rows(rq_ptr, h, 7, 12, rmask)
    ri_ = _ld_rows(rq_ptr, h, 8, 12, rmask)
    loi = _ld_rows(rq_ptr, h, 9, 12, rmask)
    hii = _ld_rows(rq_ptr, h, 10, 12, rmask)
    wi = _ld_rows(rq_ptr, h, 11, 12, rmask)
    a1 = _ld_rows(co_ptr, h, 0, 8, rmask)
    a2 = _ld_rows(co_ptr, h, 1, 8, rmask)
    a3 = _ld_rows(co_ptr, h, 2, 8, rmask)
    b4 = _ld_rows(co_ptr, h, 3, 8, rmask)
    b5 = _ld_rows(co_ptr, h, 4, 8, rmask)
    b6 = _ld_rows(co_ptr, h, 5, 8, rmask)
    g1 = _ld_rows(co_ptr, h, 6, 8, rmask)
    g2 = _ld_rows(co_ptr, h, 7, 8, rmask)

    rho_r = tl.zeros([BLOCK_R, MP], dtype=tl.float32)
    rho_i = tl.zeros([BLOCK_R, MP], dtype=tl.float32)
    gAr = tl.zeros([BLOCK_R, MP], dtype=tl.float32)
    gAi = tl.zeros([BLOCK_R, MP], dtype=tl.float32)
    gBr = tl.zeros([BLOCK_R, MP], dtype=tl.float32)
    gBi = tl.zeros([BLOCK_R, MP], dtype=tl.float32)
    gCr = tl.zeros([BLOCK_R, MP], dtype=tl.float32)
    gCi = tl.zeros([BLOCK_R, MP], dtype=tl.float32)
    ubase = b * T * H + h
    xbase = (b * T * H + h)[:, None] * M + m[None, :]
    x_off = xbase + (T - 1) * H * M
    xr_t = tl.load(xr_ptr + x_off, mask=pm, other=0).to(ity)
    xi_t = tl.load(xi_ptr + x_off, mask=pm, other=0).to(ity)
    for i in range(T):
        t = T - 1 - i
        prev = pm & (t > 0)
        p_off = xbase + (t - 1) * H * M
        xr_p = tl.load(xr_ptr + p_off, mask=prev, other=0).to(ity)
        xi_p = tl.load(xi_ptr + p_off, mask=prev, other=0).to(ity)
        uu = tl.load(u_ptr + ubase + t * H, mask=rmask, other=0).to(ity)[:, None]
        gs = tl.load(gs_ptr + ubase + t * H, mask=rmask, other=0.0)[:, None]
        gxr = g1 * Crf * gs + a1 * Arf * rho_r + b5 * Aif * rho_i
        gxi = -g2 * Cif * gs - a2 * Aif * rho_r + b4 * Arf * rho_i
        accr = ((Ar * xr_p) << s1) - ((Ai * xi_p) << s2) + ((Br * uu) << s3)
        acci = ((Ar * xi_p) << s4) + ((Ai * xr_p) << s5) + ((Bi * uu) << s6)
        _, mr = _requant(accr, lr, nr, rr_, lor, hir, wr, WRAP)
        _, mi = _requant(acci, li, ni, ri_, loi, hii, wi, WRAP)
        rho_r = tl.where(mr & pm, gxr, 0.0)
        rho_i = tl.where(mi & pm, gxi, 0.0)
        gu = tl.sum(a3 * Brf * rho_r + b6 * Bif * rho_i, axis=1)
        tl.store(gu_ptr + ubase + t * H, gu, mask=rmask)
        xrp = xr_p.to(tl.float32)
        xip = xi_p.to(tl.float32)
        uf = uu.to(tl.float32)
        gAr += a1 * rho_r * xrp + b4 * rho_i * xip
        gAi += -a2 * rho_r * xip + b5 * rho_i * xrp
        gBr += a3 * rho_r * uf
        gBi += b6 * rho_i * uf
        gCr += g1 * gs * xr_t.to(tl.float32)
        gCi += -g2 * gs * xi_t.to(tl.float32)
        xr_t = xr_p
        xi_t = xi_p
    # per-sequence partial gradients, (6, B, H, M)
    goff = (b * H + h)[:, None] * M + m[None, :]
    BHM = NB * H * M
    tl.store(gp_ptr + goff, gAr, mask=pm)
    tl.store(gp_ptr + BHM + goff, gAi, mask=pm)
    tl.store(gp_ptr + 2 * BHM + goff, gBr, mask=pm)
    tl.store(gp_ptr + 3 * BHM + goff, gBi, mask=pm)
    tl.store(gp_ptr + 4 * BHM + goff, gCr, mask=pm)
    tl.store(gp_ptr + 5 * BHM + goff, gCi, mask=pm)


def _geometry(M: int) -> tuple[int, int]:
    MP = triton.next_power_of_2(max(M, 1))
    return max(1, LANES // MP), MP


def _ity(k: ScanConsts):
    return tl.int64 if k.acc64 else tl.int32


def _rq12(k: ScanConsts) -> torch.Tensor:
    return k.rq.reshape(k.rq.shape[0], 12).contiguous()


def scan_forward_gpu(u: torch.Tensor, P: torch.Tensor, k: ScanConsts, save: bool):
    """See :func:`hwssm.train.qat_scan.scan_forward_ref` (same integers)."""
    u, P = u.contiguous(), P.contiguous()
    Bn, T, H = u.shape
    M = P.shape[2]
    R = Bn * H
    s = torch.empty((Bn, T, H), dtype=torch.int64, device=u.device)
    if save:
        xs_r = torch.empty((Bn, T, H, M), dtype=k.state_dtype, device=u.device)
        xs_i = torch.empty_like(xs_r)
    else:
        xs_r = xs_i = torch.empty(1, dtype=k.state_dtype, device=u.device)
    BLOCK_R, MP = _geometry(M)
    grid = (triton.cdiv(R, BLOCK_R),)
    _scan_fwd[grid](u, P, k.sh, k.c, _rq12(k), s, xs_r, xs_i, T, H, M, R,
                    BLOCK_R=BLOCK_R, MP=MP, ITY=_ity(k), WRAP=k.wrap, SAVE=save, num_warps=NUM_WARPS)
    return s, (xs_r if save else None), (xs_i if save else None)


def scan_backward_gpu(u, P, xs_r, xs_i, gs, k: ScanConsts):
    """See :func:`hwssm.train.qat_scan.scan_backward_ref` (float32 gradients)."""
    Bn, T, H = u.shape
    M = P.shape[2]
    R = Bn * H
    gs = gs.to(torch.float32).contiguous()
    gu = torch.empty((Bn, T, H), dtype=torch.float32, device=u.device)
    gp = torch.empty((6, Bn, H, M), dtype=torch.float32, device=u.device)
    BLOCK_R, MP = _geometry(M)
    grid = (triton.cdiv(R, BLOCK_R),)
    _scan_bwd[grid](u.contiguous(), P.contiguous(), k.sh, _rq12(k), k.coef, xs_r, xs_i, gs, gu, gp,
                    T, H, M, R, Bn, BLOCK_R=BLOCK_R, MP=MP, ITY=_ity(k), WRAP=k.wrap, num_warps=NUM_WARPS)
    return gu, gp.sum(dim=1)
