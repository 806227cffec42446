"""Fused Triton kernels of the integer S5 state update (see :mod:`hwssm.train.qat_s5_scan`).

One lane per state (sequence b, mode p), ``LANES`` lanes per program (lane ``b·P + p``, so a
program's loads and stores of one step are contiguous). The forward kernel loops over the T
steps and writes the states (B, T, P) as float64 (the QAT model's integer carrier; the
backward reads them back). The backward kernel walks time in reverse, recomputes each
saturation mask from the stored previous state and the input, writes the input gradients and
accumulates the Λ̄ gradients per lane (summed over sequences afterwards).

Integer arithmetic is exact int64 (every sum is legal, ARITHMETIC.md §5: it fits in 64 bits
with its requantization pre-shift); gradients are float64. Each step prefetches the next
step's inputs before the dependent chain of the current one. Only imported on CUDA (or under
``TRITON_INTERPRET=1``, how the CPU tests run these kernels).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .qat_s5_scan import S5ScanConsts

#: Lanes (b, p) per program, and warps per program.
LANES = 32
NUM_WARPS = 1


@triton.jit
def _ld(ptr, p, k: tl.constexpr, stride: tl.constexpr, lm):
    """Per-mode constant ``ptr[p*stride + k]``."""
    return tl.load(ptr + p * stride + k, mask=lm, other=0)


@triton.jit
def _requant(acc, lsh, rnd, rsh, lo, hi, wb):
    """(codes, in-range mask): ``((acc << lsh) + rnd) >> rsh`` saturated to [lo, hi], or the low
    ``64 - wb`` bits sign-extended when ``wb`` is not 0 (signed states only)."""
    v = ((acc << lsh) + rnd) >> rsh
    inside = (v >= lo) & (v <= hi)
    v = tl.where(wb != 0, (v << wb) >> wb, tl.minimum(tl.maximum(v, lo), hi))
    return v, inside


@triton.jit
def _s5_fwd(bur_ptr, bui_ptr, a_ptr, sh_ptr, rq_ptr, xr_ptr, xi_ptr, T, P, R, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    lanes = pid * BLOCK + tl.arange(0, BLOCK)
    lm = lanes < R
    b = (lanes // P).to(tl.int64)
    p = lanes % P
    Ar = tl.load(a_ptr + p, mask=lm, other=0.0).to(tl.int64)
    Ai = tl.load(a_ptr + P + p, mask=lm, other=0.0).to(tl.int64)
    s0 = _ld(sh_ptr, p, 0, 6, lm)
    s1 = _ld(sh_ptr, p, 1, 6, lm)
    s2 = _ld(sh_ptr, p, 2, 6, lm)
    s3 = _ld(sh_ptr, p, 3, 6, lm)
    s4 = _ld(sh_ptr, p, 4, 6, lm)
    s5 = _ld(sh_ptr, p, 5, 6, lm)
    lr = _ld(rq_ptr, p, 0, 12, lm)
    nr = _ld(rq_ptr, p, 1, 12, lm)
    rr = _ld(rq_ptr, p, 2, 12, lm)
    lor = _ld(rq_ptr, p, 3, 12, lm)
    hir = _ld(rq_ptr, p, 4, 12, lm)
    wr = _ld(rq_ptr, p, 5, 12, lm)
    li = _ld(rq_ptr, p, 6, 12, lm)
    ni = _ld(rq_ptr, p, 7, 12, lm)
    ri = _ld(rq_ptr, p, 8, 12, lm)
    loi = _ld(rq_ptr, p, 9, 12, lm)
    hii = _ld(rq_ptr, p, 10, 12, lm)
    wi = _ld(rq_ptr, p, 11, 12, lm)

    base = b * T * P + p                          # offset of [b, 0, p] in (B, T, P)
    xr = tl.zeros([BLOCK], dtype=tl.int64)
    xi = tl.zeros([BLOCK], dtype=tl.int64)
    zt = tl.zeros([BLOCK], dtype=tl.int32)
    ur = tl.load(bur_ptr + base, mask=lm, other=0.0)
    ui = tl.load(bui_ptr + base, mask=lm, other=0.0)
    for t in range(T):
        off = base + t * P
        nxt = lm & ((zt + t + 1) < T)             # step t+1 exists: prefetch its inputs
        ur_n = tl.load(bur_ptr + off + P, mask=nxt, other=0.0)
        ui_n = tl.load(bui_ptr + off + P, mask=nxt, other=0.0)
        accr = ((Ar * xr) << s0) - ((Ai * xi) << s1) + (ur.to(tl.int64) << s2)
        acci = ((Ar * xi) << s3) + ((Ai * xr) << s4) + (ui.to(tl.int64) << s5)
        vr, _ = _requant(accr, lr, nr, rr, lor, hir, wr)
        vi, _ = _requant(acci, li, ni, ri, loi, hii, wi)
        xr = vr
        xi = vi
        tl.store(xr_ptr + off, xr.to(tl.float64), mask=lm)
        tl.store(xi_ptr + off, xi.to(tl.float64), mask=lm)
        ur = ur_n
        ui = ui_n


@triton.jit
def _s5_bwd(bur_ptr, bui_ptr, a_ptr, sh_ptr, rq_ptr, co_ptr, xr_ptr, xi_ptr, gxr_ptr, gxi_ptr,
            gur_ptr, gui_ptr, ga_ptr, T, P, R, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    lanes = pid * BLOCK + tl.arange(0, BLOCK)
    lm = lanes < R
    b = (lanes // P).to(tl.int64)
    p = lanes % P
    Arf = tl.load(a_ptr + p, mask=lm, other=0.0)
    Aif = tl.load(a_ptr + P + p, mask=lm, other=0.0)
    Ar = Arf.to(tl.int64)
    Ai = Aif.to(tl.int64)
    s0 = _ld(sh_ptr, p, 0, 6, lm)
    s1 = _ld(sh_ptr, p, 1, 6, lm)
    s2 = _ld(sh_ptr, p, 2, 6, lm)
    s3 = _ld(sh_ptr, p, 3, 6, lm)
    s4 = _ld(sh_ptr, p, 4, 6, lm)
    s5 = _ld(sh_ptr, p, 5, 6, lm)
    lr = _ld(rq_ptr, p, 0, 12, lm)
    nr = _ld(rq_ptr, p, 1, 12, lm)
    rr = _ld(rq_ptr, p, 2, 12, lm)
    lor = _ld(rq_ptr, p, 3, 12, lm)
    hir = _ld(rq_ptr, p, 4, 12, lm)
    wr = _ld(rq_ptr, p, 5, 12, lm)
    li = _ld(rq_ptr, p, 6, 12, lm)
    ni = _ld(rq_ptr, p, 7, 12, lm)
    ri = _ld(rq_ptr, p, 8, 12, lm)
    loi = _ld(rq_ptr, p, 9, 12, lm)
    hii = _ld(rq_ptr, p, 10, 12, lm)
    wi = _ld(rq_ptr, p, 11, 12, lm)
    k0 = _ld(co_ptr, p, 0, 6, lm)
    k1 = _ld(co_ptr, p, 1, 6, lm)
    k2 = _ld(co_ptr, p, 2, 6, lm)
    k3 = _ld(co_ptr, p, 3, 6, lm)
    k4 = _ld(co_ptr, p, 4, 6, lm)
    k5 = _ld(co_ptr, p, 5, 6, lm)

    base = b * T * P + p
    rho_r = tl.zeros([BLOCK], dtype=tl.float64)
    rho_i = tl.zeros([BLOCK], dtype=tl.float64)
    gAr = tl.zeros([BLOCK], dtype=tl.float64)
    gAi = tl.zeros([BLOCK], dtype=tl.float64)
    zt = tl.zeros([BLOCK], dtype=tl.int32)
    off = base + (T - 1) * P                      # step T-1's inputs; each step prefetches the next
    xr_p = tl.load(xr_ptr + off - P, mask=lm & ((zt + T - 1) > 0), other=0.0)
    xi_p = tl.load(xi_ptr + off - P, mask=lm & ((zt + T - 1) > 0), other=0.0)
    ur_f = tl.load(bur_ptr + off, mask=lm, other=0.0)
    ui_f = tl.load(bui_ptr + off, mask=lm, other=0.0)
    gr = tl.load(gxr_ptr + off, mask=lm, other=0.0)
    gi = tl.load(gxi_ptr + off, mask=lm, other=0.0)
    for j in range(T):
        t = T - 1 - j
        off = base + t * P
        nxt = lm & ((zt + t) > 0)                 # step t-1 exists
        nxp = lm & ((zt + t) > 1)                 # and has a previous state
        xr_pn = tl.load(xr_ptr + off - 2 * P, mask=nxp, other=0.0)
        xi_pn = tl.load(xi_ptr + off - 2 * P, mask=nxp, other=0.0)
        ur_n = tl.load(bur_ptr + off - P, mask=nxt, other=0.0)
        ui_n = tl.load(bui_ptr + off - P, mask=nxt, other=0.0)
        gr_n = tl.load(gxr_ptr + off - P, mask=nxt, other=0.0)
        gi_n = tl.load(gxi_ptr + off - P, mask=nxt, other=0.0)
        ur = ur_f.to(tl.int64)
        ui = ui_f.to(tl.int64)
        Gr = gr + k0 * Arf * rho_r + k4 * Aif * rho_i
        Gi = gi - k1 * Aif * rho_r + k3 * Arf * rho_i
        xrp = xr_p.to(tl.int64)
        xip = xi_p.to(tl.int64)
        accr = ((Ar * xrp) << s0) - ((Ai * xip) << s1) + (ur << s2)
        acci = ((Ar * xip) << s3) + ((Ai * xrp) << s4) + (ui << s5)
        _, mr = _requant(accr, lr, nr, rr, lor, hir, wr)
        _, mi = _requant(acci, li, ni, ri, loi, hii, wi)
        rho_r = tl.where(mr & lm, Gr, 0.0)
        rho_i = tl.where(mi & lm, Gi, 0.0)
        tl.store(gur_ptr + off, k2 * rho_r, mask=lm)
        tl.store(gui_ptr + off, k5 * rho_i, mask=lm)
        gAr += k0 * rho_r * xr_p + k3 * rho_i * xi_p
        gAi += -k1 * rho_r * xi_p + k4 * rho_i * xr_p
        xr_p = xr_pn
        xi_p = xi_pn
        ur_f = ur_n
        ui_f = ui_n
        gr = gr_n
        gi = gi_n
    tl.store(ga_ptr + lanes, gAr, mask=lm)          # per-lane partials, (2, B·P)
    tl.store(ga_ptr + R + lanes, gAi, mask=lm)


def _grid(R: int) -> tuple[int]:
    return (triton.cdiv(R, LANES),)


def s5_forward_gpu(bu_re: torch.Tensor, bu_im: torch.Tensor, A: torch.Tensor, k: S5ScanConsts):
    """States ``xr, xi`` float64 (B, T, P): the integers of
    :func:`hwssm.train.qat_s5_scan.s5_forward_ref`. Inputs float64 contiguous (``A`` (2, P))."""
    Bn, T, P = bu_re.shape
    R = Bn * P
    Xr = torch.empty((Bn, T, P), dtype=torch.float64, device=bu_re.device)
    Xi = torch.empty_like(Xr)
    _s5_fwd[_grid(R)](bu_re, bu_im, A, k.sh, k.rq, Xr, Xi, T, P, R, BLOCK=LANES, num_warps=NUM_WARPS)
    return Xr, Xi


def s5_backward_gpu(bu_re, bu_im, A, Xr, Xi, gXr, gXi, k: S5ScanConsts):
    """See :func:`hwssm.train.qat_s5_scan.s5_backward_ref`: ``gbu_re, gbu_im`` float64 (B, T, P)
    and ``gA`` float64 (2, P)."""
    Bn, T, P = bu_re.shape
    R = Bn * P
    gur = torch.empty((Bn, T, P), dtype=torch.float64, device=bu_re.device)
    gui = torch.empty_like(gur)
    ga = torch.empty((2, Bn, P), dtype=torch.float64, device=bu_re.device)
    _s5_bwd[_grid(R)](bu_re, bu_im, A, k.sh, k.rq, k.coef, Xr, Xi, gXr, gXi, gur, gui, ga, T, P, R,
                      BLOCK=LANES, num_warps=NUM_WARPS)
    return gur, gui, ga.sum(dim=1)
