"""The integer S5 state update of one block (ARITHMETIC.md §6) as one autograd function.

For every sequence b and mode p, from ``x = 0``, at each step t::

    accr = (Λr·xr << s0) - (Λi·xi << s1) + (bu_re[t] << s2);   xr' = requant(accr, Xre[p])
    acci = (Λr·xi << s3) + (Λi·xr << s4) + (bu_im[t] << s5);   xi' = requant(acci, Xim[p])

(``s0..s5`` the alignments ``x_sh[p]``, the records ``x_rq[p]`` of
:class:`hwssm.quant.s5_lowering.S5LayerLowering`; each requantization saturates, or wraps, in
the state format at every step). The integers are those of the golden S5 kernel
(:mod:`hwssm.golden.s5_engine`), bit for bit. The readout is left to the caller (a GEMM over P).

Two implementations compute the same integers:

- :mod:`hwssm.train.qat_s5_triton`: fused GPU kernels, one lane per (b, p) looping over time
  (forward, and a reverse-time kernel for the backward pass);
- the torch loop here (CPU path and reference): int64, vectorized over (b, p), a loop over T.

Inputs and outputs are float64 tensors holding integers (the QAT model's convention,
:mod:`hwssm.train.qat_ops`). Backward (straight-through, as :mod:`hwssm.train.qat_scan` for
S4D): each requantization is the linear map ``acc·2**(lsh-rsh)`` where the rounded value lies
inside the state format and 0 where it saturated or wrapped; the masks are recomputed from the
previous state. With ``gX`` the incoming gradients of the states and ``ρ`` the masked gradient
of a new state, in reverse time::

    Gr[t] = gXr[t] + κ0·Λr·ρr[t+1] + κ4·Λi·ρi[t+1];    ρr[t] = mr[t]·Gr[t]
    Gi[t] = gXi[t] - κ1·Λi·ρr[t+1] + κ3·Λr·ρi[t+1];    ρi[t] = mi[t]·Gi[t]
    gbu_re[t] = κ2·ρr[t]      gbu_im[t] = κ5·ρi[t]
    gΛr += κ0·ρr·xr[t-1] + κ3·ρi·xi[t-1]     gΛi += -κ1·ρr·xi[t-1] + κ4·ρi·xr[t-1]

with κ_k = 2**(lsh_re - rsh_re + s_k) for k < 3 and 2**(lsh_im - rsh_im + s_k) for k ≥ 3: the
gradients of today's float64 loop (requant STE of :mod:`hwssm.train.qat_ops`) up to the order
of float additions.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..errors import HwssmError
from ..quant.lowering import RQ_HI, RQ_LO, RQ_LSH, RQ_RND, RQ_RSH, RQ_WRAP
from ..quant.s5_lowering import S5LayerLowering

F64 = torch.float64


@dataclasses.dataclass(frozen=True)
class S5ScanConsts:
    """Constants of one block's state update on one device.

    sh : int64 (P, 6)     alignments s0..s5 (re: Λr·xr, Λi·xi, bu_re; im: Λr·xi, Λi·xr, bu_im)
    rq : int64 (P, 12)    requant records to Xre[p] (columns 0..5) and Xim[p] (6..11), RQ_* order
    coef : float64 (P, 6) κ0..κ5 of the backward (module docstring)
    """

    sh: torch.Tensor
    rq: torch.Tensor
    coef: torch.Tensor

    @classmethod
    def of(cls, ly: S5LayerLowering, device) -> "S5ScanConsts":
        sh = np.asarray(ly.x_sh, np.int64)                               # (P, 6)
        rq = np.asarray(ly.x_rq, np.int64)                               # (P, 2, 6)
        if np.any((rq[:, :, RQ_WRAP] != 0) & (rq[:, :, RQ_LO] >= 0)):
            raise HwssmError("an S5 state format wraps unsigned; the QAT recurrence supports signed states only")
        gain = (rq[:, :, RQ_LSH] - rq[:, :, RQ_RSH]).astype(np.float64)   # (P, 2)
        coef = np.concatenate([gain[:, :1] + sh[:, 0:3], gain[:, 1:] + sh[:, 3:6]], axis=1)
        dev = torch.device(device)
        return cls(torch.as_tensor(sh, device=dev), torch.as_tensor(rq.reshape(-1, 12).copy(), device=dev),
                   torch.as_tensor(np.exp2(coef), dtype=F64, device=dev))


# -- torch path (CPU, reference) -----------------------------------------------------------

def _rq_ref(acc: torch.Tensor, rq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(codes, in-range mask) of a requantization; ``acc`` int64 (B, P), ``rq`` int64 (P, 6)."""
    v = ((acc << rq[:, RQ_LSH]) + rq[:, RQ_RND]) >> rq[:, RQ_RSH]
    lo, hi, wb = rq[:, RQ_LO], rq[:, RQ_HI], rq[:, RQ_WRAP]
    inside = (v >= lo) & (v <= hi)
    return torch.where(wb != 0, (v << wb) >> wb, torch.minimum(torch.maximum(v, lo), hi)), inside


def _accs(A: torch.Tensor, xr, xi, ur, ui, sh):
    """Both accumulators (int64 (B, P)) from the previous state and the inputs of the step."""
    Ar, Ai = A[0], A[1]
    accr = ((Ar * xr) << sh[:, 0]) - ((Ai * xi) << sh[:, 1]) + (ur << sh[:, 2])
    acci = ((Ar * xi) << sh[:, 3]) + ((Ai * xr) << sh[:, 4]) + (ui << sh[:, 5])
    return accr, acci


def s5_forward_ref(bu_re: torch.Tensor, bu_im: torch.Tensor, A: torch.Tensor, k: S5ScanConsts):
    """States ``xr, xi`` int64 (B, T, P) of the inputs ``bu_re, bu_im`` int64 (B, T, P) and
    ``A`` = (Λr, Λi) int64 (2, P)."""
    Bn, T, P = bu_re.shape
    xr = torch.zeros((Bn, P), dtype=torch.int64, device=bu_re.device)
    xi = torch.zeros_like(xr)
    Xr = torch.empty((Bn, T, P), dtype=torch.int64, device=bu_re.device)
    Xi = torch.empty_like(Xr)
    for t in range(T):
        accr, acci = _accs(A, xr, xi, bu_re[:, t], bu_im[:, t], k.sh)
        xr, _ = _rq_ref(accr, k.rq[:, :6])
        xi, _ = _rq_ref(acci, k.rq[:, 6:])
        Xr[:, t], Xi[:, t] = xr, xi
    return Xr, Xi


def s5_backward_ref(bu_re, bu_im, A, Xr, Xi, gXr, gXi, k: S5ScanConsts):
    """Gradients ``gbu_re, gbu_im`` (B, T, P) and ``gA`` (2, P) in the dtype of ``gXr``; the
    integer tensors as :func:`s5_forward_ref` (``Xr, Xi`` its outputs)."""
    Bn, T, P = bu_re.shape
    fd = gXr.dtype
    Af = A.to(fd)
    Ar, Ai = Af[0], Af[1]
    co = k.coef.to(fd)
    k0, k1, k2, k3, k4, k5 = (co[:, j] for j in range(6))
    rr = torch.zeros((Bn, P), dtype=fd, device=gXr.device)
    ri = torch.zeros_like(rr)
    gur = torch.empty((Bn, T, P), dtype=fd, device=gXr.device)
    gui = torch.empty_like(gur)
    gA = torch.zeros((2, P), dtype=fd, device=gXr.device)
    zero = torch.zeros((Bn, P), dtype=torch.int64, device=gXr.device)
    for t in range(T - 1, -1, -1):
        Gr = gXr[:, t] + k0 * Ar * rr + k4 * Ai * ri
        Gi = gXi[:, t] - k1 * Ai * rr + k3 * Ar * ri
        xr_p = Xr[:, t - 1] if t > 0 else zero
        xi_p = Xi[:, t - 1] if t > 0 else zero
        accr, acci = _accs(A, xr_p, xi_p, bu_re[:, t], bu_im[:, t], k.sh)
        _, mr = _rq_ref(accr, k.rq[:, :6])
        _, mi = _rq_ref(acci, k.rq[:, 6:])
        rr = torch.where(mr, Gr, 0.0)
        ri = torch.where(mi, Gi, 0.0)
        gur[:, t] = k2 * rr
        gui[:, t] = k5 * ri
        xrp, xip = xr_p.to(fd), xi_p.to(fd)
        gA[0] += (k0 * rr * xrp + k3 * ri * xip).sum(0)
        gA[1] += (-k1 * rr * xip + k4 * ri * xrp).sum(0)
    return gur, gui, gA


# -- dispatch + autograd ---------------------------------------------------------------------

def _i64(x: torch.Tensor) -> torch.Tensor:
    return x.detach().to(torch.int64)


class _S5ScanFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, bu_re, bu_im, A_re, A_im, k: S5ScanConsts):
        bu_re, bu_im = bu_re.detach().to(F64).contiguous(), bu_im.detach().to(F64).contiguous()
        A = torch.stack([A_re.detach(), A_im.detach()]).to(F64).contiguous()
        if bu_re.is_cuda:
            from .qat_s5_triton import s5_forward_gpu

            Xr, Xi = s5_forward_gpu(bu_re, bu_im, A, k)
        else:
            Xr, Xi = s5_forward_ref(_i64(bu_re), _i64(bu_im), _i64(A), k)
            Xr, Xi = Xr.to(F64), Xi.to(F64)
        ctx.save_for_backward(bu_re, bu_im, A, Xr, Xi)
        ctx.k = k
        return Xr, Xi

    @staticmethod
    def backward(ctx, gXr, gXi):
        bu_re, bu_im, A, Xr, Xi = ctx.saved_tensors
        gXr = torch.zeros_like(Xr) if gXr is None else gXr.to(F64).contiguous()
        gXi = torch.zeros_like(Xi) if gXi is None else gXi.to(F64).contiguous()
        if bu_re.is_cuda:
            from .qat_s5_triton import s5_backward_gpu

            gur, gui, gA = s5_backward_gpu(bu_re, bu_im, A, Xr, Xi, gXr, gXi, ctx.k)
        else:
            gur, gui, gA = s5_backward_ref(_i64(bu_re), _i64(bu_im), _i64(A), _i64(Xr), _i64(Xi), gXr, gXi, ctx.k)
        return gur, gui, gA[0], gA[1], None


def s5_scan(bu_re: torch.Tensor, bu_im: torch.Tensor, A_re: torch.Tensor, A_im: torch.Tensor,
            k: S5ScanConsts) -> tuple[torch.Tensor, torch.Tensor]:
    """States ``(xr, xi)`` float64 (B, T, P) of one block's recurrence.

    Parameters
    ----------
    bu_re, bu_im : float64 (B, T, P)
        The B̄u codes (already requantized into BU_re, BU_im), integers.
    A_re, A_im : float64 (P,)
        Effective Λ̄ codes, integers.
    k : S5ScanConsts
        The block's alignments and records, on the inputs' device.

    Differentiable in ``bu_re, bu_im, A_re, A_im`` (straight-through, module docstring). On CUDA
    the Triton kernels run (one lane per (b, p), about one pass over T per direction); elsewhere
    the torch loop.
    """
    return _S5ScanFn.apply(bu_re, bu_im, A_re, A_im, k)
