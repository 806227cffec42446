"""The integer S4D recurrence of one layer (ARITHMETIC.md §2.2, state update and readout sum).

For every sequence b, channel h and mode m, from ``x = 0``::

    accr = (Ar·xr << s1) - (Ai·xi << s2) + (Br·u << s3);   xr' = requant(accr, Xre[h])
    acci = (Ar·xi << s4) + (Ai·xr << s5) + (Bi·u << s6);   xi' = requant(acci, Xim[h])
    s[b, t, h] = Σ_m (Cr·xr' << c1) - (Ci·xi' << c2)

(the shifts and requantization records are the contract's lowering, :mod:`hwssm.quant.lowering`).
The caller finishes the readout, ``y = requant(2·s + (D·u << c3))``.

Two implementations compute the same integers:

- :mod:`hwssm.train.qat_triton`: fused GPU kernels, one lane per (b, h, m) looping over time
  (forward, and a reverse-time kernel for the backward pass);
- the torch loop here (CPU fallback and reference; fine for short sequences).

Backward (straight-through): each requantization is the linear map ``acc·2**(lsh-rsh)``
where the rounded value lies inside the state format, and 0 where it saturated or wrapped;
the mask is recomputed from the stored previous state. With ``ρ`` the masked gradient of a
new state, in reverse time::

    gxr[t] = γ1·Cr·gs[t] + α1·Ar·ρr[t+1] + β5·Ai·ρi[t+1];   ρr[t] = mr[t]·gxr[t]
    gxi[t] = -γ2·Ci·gs[t] - α2·Ai·ρr[t+1] + β4·Ar·ρi[t+1];  ρi[t] = mi[t]·gxi[t]
    gu[t]  = Σ_m α3·Br·ρr[t] + β6·Bi·ρi[t]
    gAr += α1·ρr·xr[t-1] + β4·ρi·xi[t-1]     gAi += -α2·ρr·xi[t-1] + β5·ρi·xr[t-1]
    gBr += α3·ρr·u[t]     gBi += β6·ρi·u[t]   gCr += γ1·gs·xr[t]      gCi -= γ2·gs·xi[t]

with α_k = 2**(lsh_re - rsh_re + s_k), β_k = 2**(lsh_im - rsh_im + s_k), γ_k = 2**c_k.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..quant.lowering import RQ_HI, RQ_LO, RQ_LSH, RQ_RND, RQ_RSH, RQ_WRAP
from .qat_frame import Frame

#: Order of the six parameter tensors stacked into one (6, H, M) tensor.
P_ORDER = ("A_re", "A_im", "B_re", "B_im", "C_re", "C_im")


@dataclasses.dataclass(frozen=True)
class ScanConsts:
    """Constants of one layer's recurrence on one device.

    sh : int64 (H, 6)      left shifts s1..s6
    c : int64 (H, 2)       left shifts c1, c2 of the readout
    rq : int64 (H, 2, 6)   requant records to Xre[h], Xim[h] (RQ_* column order)
    coef : float32 (H, 8)  α1, α2, α3, β4, β5, β6, γ1, γ2 (backward)
    wrap : bool            states wrap instead of saturating
    acc64 : bool           the recurrence needs 64-bit integers
    state_dtype            torch.int16 or int32: the stored states
    """

    sh: torch.Tensor
    c: torch.Tensor
    rq: torch.Tensor
    coef: torch.Tensor
    wrap: bool
    acc64: bool
    state_dtype: torch.dtype

    @classmethod
    def of(cls, frame: Frame, l: int, device) -> "ScanConsts":
        ly = frame.lowering.layers[l]
        sh = ly.x_sh.astype(np.int64)                            # (H, 6)
        rq = ly.x_rq.astype(np.int64)                            # (H, 2, 6)
        c = ly.y_sh[:, :2].astype(np.int64)                      # (H, 2)
        gre = (rq[:, 0, RQ_LSH] - rq[:, 0, RQ_RSH])[:, None]
        gim = (rq[:, 1, RQ_LSH] - rq[:, 1, RQ_RSH])[:, None]
        coef = np.concatenate([gre + sh[:, 0:3], gim + sh[:, 3:6], c], axis=1).astype(np.float64)
        wrap = bool(np.any(rq[:, :, RQ_WRAP] != 0))
        dev = torch.device(device)
        return cls(torch.as_tensor(sh, device=dev), torch.as_tensor(c, device=dev), torch.as_tensor(rq, device=dev),
                   torch.as_tensor(np.exp2(coef), dtype=torch.float32, device=dev), wrap, frame.acc64,
                   torch.int16 if frame.state_bits <= 16 else torch.int32)


# -- torch reference (CPU fallback) --------------------------------------------------------

def _rq_ref(acc: torch.Tensor, rq: torch.Tensor, wrap: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(codes, in-range mask) of a requantization; ``acc`` int64 (B, H, M), ``rq`` int64 (H, 6)."""
    col = lambda k: rq[:, k][:, None]  # noqa: E731  (H, 1)
    v = ((acc << col(RQ_LSH)) + col(RQ_RND)) >> col(RQ_RSH)
    inside = (v >= col(RQ_LO)) & (v <= col(RQ_HI))
    if wrap:
        wb = col(RQ_WRAP)
        return (v << wb) >> wb, inside
    return torch.minimum(torch.maximum(v, col(RQ_LO)), col(RQ_HI)), inside


def _accs(P: torch.Tensor, xr, xi, u, sh):
    """Both state accumulators (int64) from the previous state and the input ``u`` (B, H, 1)."""
    s = lambda k: sh[:, k][:, None]  # noqa: E731
    Ar, Ai, Br, Bi = P[0], P[1], P[2], P[3]
    accr = ((Ar * xr) << s(0)) - ((Ai * xi) << s(1)) + ((Br * u) << s(2))
    acci = ((Ar * xi) << s(3)) + ((Ai * xr) << s(4)) + ((Bi * u) << s(5))
    return accr, acci


def scan_forward_ref(u: torch.Tensor, P: torch.Tensor, k: ScanConsts, save: bool):
    """Reference forward. ``u`` integer (B, T, H), ``P`` integer (6, H, M).

    Returns ``s`` int64 (B, T, H) and, with ``save``, the states xr, xi (B, T, H, M) (else None).
    """
    u = u.to(torch.int64)
    P = P.to(torch.int64)
    Bn, T, H = u.shape
    M = P.shape[2]
    xr = torch.zeros((Bn, H, M), dtype=torch.int64, device=u.device)
    xi = torch.zeros_like(xr)
    s = torch.empty((Bn, T, H), dtype=torch.int64, device=u.device)
    xs_r = torch.empty((Bn, T, H, M), dtype=k.state_dtype, device=u.device) if save else None
    xs_i = torch.empty_like(xs_r) if save else None
    c1, c2 = k.c[:, 0][:, None], k.c[:, 1][:, None]
    for t in range(T):
        accr, acci = _accs(P, xr, xi, u[:, t, :, None], k.sh)
        xr, _ = _rq_ref(accr, k.rq[:, 0], k.wrap)
        xi, _ = _rq_ref(acci, k.rq[:, 1], k.wrap)
        s[:, t] = ((P[4] * xr) << c1).sum(-1) - ((P[5] * xi) << c2).sum(-1)
        if save:
            xs_r[:, t] = xr
            xs_i[:, t] = xi
    return s, xs_r, xs_i


def scan_backward_ref(u: torch.Tensor, P: torch.Tensor, xs_r: torch.Tensor, xs_i: torch.Tensor,
                      gs: torch.Tensor, k: ScanConsts):
    """Reference backward. Returns ``gu`` (B, T, H) and ``gP`` (6, H, M) in the dtype of ``gs``."""
    u = u.to(torch.int64)
    P = P.to(torch.int64)
    Bn, T, H = u.shape
    M = P.shape[2]
    fd = gs.dtype
    Pf = P.to(fd)
    Ar, Ai, Br, Bi, Cr, Ci = Pf
    co = k.coef.to(fd)
    a1, a2, a3, b4, b5, b6, g1, g2 = (co[:, j][:, None] for j in range(8))
    rr = torch.zeros((Bn, H, M), dtype=fd, device=u.device)
    ri = torch.zeros_like(rr)
    gu = torch.empty((Bn, T, H), dtype=fd, device=u.device)
    gP = torch.zeros((6, H, M), dtype=fd, device=u.device)
    zero = torch.zeros((Bn, H, M), dtype=torch.int64, device=u.device)
    for t in range(T - 1, -1, -1):
        g = gs[:, t, :, None]
        xr_t, xi_t = xs_r[:, t].to(torch.int64), xs_i[:, t].to(torch.int64)
        xr_p = xs_r[:, t - 1].to(torch.int64) if t > 0 else zero
        xi_p = xs_i[:, t - 1].to(torch.int64) if t > 0 else zero
        ut = u[:, t, :, None]
        gxr = g1 * Cr * g + a1 * Ar * rr + b5 * Ai * ri
        gxi = -g2 * Ci * g - a2 * Ai * rr + b4 * Ar * ri
        accr, acci = _accs(P, xr_p, xi_p, ut, k.sh)
        _, mr = _rq_ref(accr, k.rq[:, 0], k.wrap)
        _, mi = _rq_ref(acci, k.rq[:, 1], k.wrap)
        rr = torch.where(mr, gxr, 0.0)
        ri = torch.where(mi, gxi, 0.0)
        gu[:, t] = (a3 * Br * rr + b6 * Bi * ri).sum(-1)
        xrp, xip, uf = xr_p.to(fd), xi_p.to(fd), ut.to(fd)
        gP[0] += (a1 * rr * xrp + b4 * ri * xip).sum(0)
        gP[1] += (-a2 * rr * xip + b5 * ri * xrp).sum(0)
        gP[2] += (a3 * rr * uf).sum(0)
        gP[3] += (b6 * ri * uf).sum(0)
        gP[4] += (g1 * g * xr_t.to(fd)).sum(0)
        gP[5] += (-g2 * g * xi_t.to(fd)).sum(0)
    return gu, gP


# -- dispatch + autograd ---------------------------------------------------------------------

def scan_forward(u, P, k: ScanConsts, save: bool):
    """Forward on u's device: the Triton kernel on CUDA, the torch loop elsewhere."""
    if u.is_cuda:
        from .qat_triton import scan_forward_gpu

        return scan_forward_gpu(u, P, k, save)
    return scan_forward_ref(u, P, k, save)


def scan_backward(u, P, xs_r, xs_i, gs, k: ScanConsts):
    if u.is_cuda:
        from .qat_triton import scan_backward_gpu

        return scan_backward_gpu(u, P, xs_r, xs_i, gs, k)
    return scan_backward_ref(u, P, xs_r, xs_i, gs, k)


class _ScanFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, P, k: ScanConsts, save: bool):
        ity = torch.int64 if k.acc64 else torch.int32
        ui, Pi = u.to(ity), P.to(ity)
        s, xs_r, xs_i = scan_forward(ui, Pi, k, save)
        if save:
            ctx.save_for_backward(ui, Pi, xs_r, xs_i)
        ctx.k = k
        return s.to(u.dtype)

    @staticmethod
    def backward(ctx, gs):
        ui, Pi, xs_r, xs_i = ctx.saved_tensors
        dt = torch.float32 if gs.is_cuda else gs.dtype
        gu, gP = scan_backward(ui, Pi, xs_r, xs_i, gs.to(dt).contiguous(), ctx.k)
        return gu.to(gs.dtype), gP.to(gs.dtype), None, None


def ssm_scan(u: torch.Tensor, P: torch.Tensor, k: ScanConsts) -> torch.Tensor:
    """Readout sums ``s`` (B, T, H) float64 of codes ``u`` (B, T, H) and effective parameters
    ``P`` (6, H, M) (float64 integers, order :data:`P_ORDER`); differentiable in both."""
    save = torch.is_grad_enabled() and (u.requires_grad or P.requires_grad)
    return _ScanFn.apply(u, P, k, save)
