"""The float S5 classifier as a torch module, mirroring :mod:`hwssm.model.s5_network`.

Same network, same parameter names and shapes as :meth:`S5Config.param_shapes` (the BatchNorm
running mean and variance are buffers), so a state dict and a float checkpoint's arrays are the
same dict (:meth:`S5Torch.from_params`, :meth:`S5Torch.to_params`). Activations use the
channel-last layout ``(B, T, C)``: B̄u and C̃x are matmuls over the last axis.

The recurrence x[t] = Λ̄ x[t-1] + B̄u[t] runs as a parallel scan over time (Hillis–Steele:
⌈log2 T⌉ steps, step k adds Λ̄^(2^k)·x[t - 2^k] to every x[t] with t ≥ 2^k; Λ̄ is time-invariant,
so the powers are exp(2^k·log Λ̄), computed in float64). The complex state is a (re, im) pair of
real tensors. Λ̄ and B̄ are discretized in float64 from the parameters and rounded to the
working dtype (float32; float64 when the module is ``.double()``); the SSM never autocasts.

Training-only parts (absent from the exported network): dropout tied over time (one mask per
sequence and channel) after the GELU and after the GLU, as in the S5 recipe; BatchNorm in
training mode normalizes by the batch statistics over (B, T) and updates the running ones
(momentum 0.1; torch's unbiased running variance).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..model.config import Discretization
from ..model.s5_config import Glu, Norm, S5Config

#: SSM parameters of a block: trained at the SSM learning rate without weight decay (Q-S5's split).
SSM_PARAMS = ("Lambda_re", "Lambda_im", "log_dt", "B_re", "B_im")
#: Non-trainable per-block arrays of the checkpoint (BatchNorm running statistics).
BUFFERS = ("norm_mean", "norm_var")


def discretize(Lambda_re: torch.Tensor, Lambda_im: torch.Tensor, log_dt: torch.Tensor,
               B_re: torch.Tensor, B_im: torch.Tensor, discretization: Discretization):
    """(Λ̄, B̄, log Λ̄) in complex128 as :func:`hwssm.model.s5.discretize`: (P,), (P, H), (P,)."""
    f64 = torch.float64
    lam = torch.complex(Lambda_re.to(f64), Lambda_im.to(f64))                  # (P,)
    Bt = torch.complex(B_re.to(f64), B_im.to(f64))                             # (P, H)
    dt = torch.exp(log_dt.to(f64))                                             # (P,)
    if discretization is Discretization.ZOH:
        lam_bar = torch.exp(lam * dt)
        gain = (lam_bar - 1.0) / lam
        log_lam_bar = lam * dt
    elif discretization is Discretization.BILINEAR:
        inv = 1.0 / (1.0 - dt / 2.0 * lam)
        lam_bar = inv * (1.0 + dt / 2.0 * lam)
        gain = inv * dt
        log_lam_bar = torch.log(lam_bar)
    else:
        raise ValueError(f"unknown discretization {discretization!r}")
    return lam_bar, gain[:, None] * Bt, log_lam_bar


def scan(bu_re: torch.Tensor, bu_im: torch.Tensor, log_lam_bar: torch.Tensor):
    """Parallel scan of x[t] = Λ̄ x[t-1] + bu[t], x[-1] = 0, over axis 1 of (B, T, P) real pairs.

    Hillis–Steele: for d = 1, 2, 4, ... < T, x[t] += Λ̄^d · x[t - d] (t ≥ d); after ⌈log2 T⌉
    steps x[t] = Σ_{s ≤ t} Λ̄^(t-s) bu[s]. ``log_lam_bar`` is complex128 (P,); Λ̄^d = exp(d·log Λ̄)
    is rounded to the dtype of ``bu_re``. Returns (x_re, x_im), (B, T, P).
    """
    T = bu_re.shape[1]
    x_re, x_im = bu_re, bu_im
    d = 1
    while d < T:
        a = torch.exp(log_lam_bar * d)
        a_re, a_im = a.real.to(bu_re.dtype), a.imag.to(bu_re.dtype)             # (P,)
        p_re, p_im = x_re[:, :-d], x_im[:, :-d]
        x_re = torch.cat([x_re[:, :d], x_re[:, d:] + a_re * p_re - a_im * p_im], dim=1)
        x_im = torch.cat([x_im[:, :d], x_im[:, d:] + a_re * p_im + a_im * p_re], dim=1)
        d *= 2
    return x_re, x_im


def _tied_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Dropout with one mask per (sequence, channel), tied over time; x (B, T, C)."""
    if not training or p == 0.0:
        return x
    mask = F.dropout(torch.ones(x.shape[0], 1, x.shape[2], device=x.device, dtype=x.dtype), p, True)
    return x * mask


class S5Block(nn.Module):
    """One block: r + GLU(GELU(S5(Norm(r)))), channel-last (B, T, H).

    Parameters (and the BatchNorm buffers) are those of ``layers.{l}.*`` in
    :meth:`S5Config.param_shapes`.
    """

    def __init__(self, config: S5Config, dropout: float = 0.0):
        super().__init__()
        H, P = config.H, config.P
        self.config = config
        self.p_drop = dropout
        for name in ("Lambda_re", "Lambda_im", "log_dt"):
            setattr(self, name, nn.Parameter(torch.zeros(P)))
        self.B_re, self.B_im = nn.Parameter(torch.zeros(P, H)), nn.Parameter(torch.zeros(P, H))
        self.C_re, self.C_im = nn.Parameter(torch.zeros(H, P)), nn.Parameter(torch.zeros(H, P))
        self.D = nn.Parameter(torch.zeros(H))
        self.W = nn.Parameter(torch.zeros(config.glu_rows, H))
        self.b = nn.Parameter(torch.zeros(config.glu_rows))
        if config.norm is not Norm.NONE:
            self.norm_scale, self.norm_bias = nn.Parameter(torch.ones(H)), nn.Parameter(torch.zeros(H))
        if config.norm is Norm.BATCH:
            self.register_buffer("norm_mean", torch.zeros(H))
            self.register_buffer("norm_var", torch.ones(H))

    def prenorm(self, r: torch.Tensor) -> torch.Tensor:
        """BatchNorm over (B, T) per channel, LayerNorm over H, or r; (B, T, H) -> (B, T, H)."""
        c = self.config
        if c.norm is Norm.BATCH:
            n = F.batch_norm(r.transpose(1, 2), self.norm_mean, self.norm_var, self.norm_scale, self.norm_bias,
                             self.training, 0.1, c.eps)
            return n.transpose(1, 2)
        if c.norm is Norm.LAYER:
            return F.layer_norm(r, (c.H,), self.norm_scale, self.norm_bias, c.eps)
        return r

    def ssm(self, n: torch.Tensor) -> torch.Tensor:
        """y = 2·Re(C̃x) + D·n with the scanned state x; (B, T, H) -> (B, T, H), never autocast."""
        with torch.autocast(n.device.type, enabled=False):
            dtype = torch.float64 if n.dtype == torch.float64 else torch.float32
            n = n.to(dtype)
            _, B_bar, log_lam_bar = discretize(self.Lambda_re, self.Lambda_im, self.log_dt, self.B_re,
                                               self.B_im, self.config.discretization)
            bu_re = n @ B_bar.real.to(dtype).t()                                 # (B, T, P)
            bu_im = n @ B_bar.imag.to(dtype).t()
            x_re, x_im = scan(bu_re, bu_im, log_lam_bar)
            return 2.0 * (x_re @ self.C_re.to(dtype).t() - x_im @ self.C_im.to(dtype).t()) + self.D.to(dtype) * n

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        y = self.ssm(self.prenorm(r))                                            # (B, T, H)
        g = _tied_dropout(F.gelu(y), self.p_drop, self.training)                 # exact erf GELU
        v = torch.matmul(g, self.W.t()) + self.b                                 # (B, T, H or 2H)
        z = g * torch.sigmoid(v) if self.config.glu is Glu.HALF else F.glu(v, dim=-1)
        return r + _tied_dropout(z, self.p_drop, self.training)


class _Linear(nn.Module):
    """Parameters ``W`` (out, in) and ``b`` (out,), named as the checkpoint names them."""

    def __init__(self, n_out: int, n_in: int):
        super().__init__()
        self.W = nn.Parameter(torch.zeros(n_out, n_in))
        self.b = nn.Parameter(torch.zeros(n_out))


class S5Torch(nn.Module):
    """The float S5 classifier of :mod:`hwssm.model.s5_config`.

    ``forward(pixels)`` takes uint8 pixel sequences (B, T) and returns logits (B, n_classes):
    u0 = pixel/256; r = encoder.W·u0 + encoder.b; L blocks; s = Σ_t r; logits = decoder.W·s + decoder.b.
    """

    #: Names (last component) of the SSM parameter group.
    ssm_params = SSM_PARAMS

    def __init__(self, config: S5Config, dropout: float = 0.0):
        super().__init__()
        self.config = config
        self.encoder = _Linear(config.H, 1)
        self.layers = nn.ModuleList(S5Block(config, dropout) for _ in range(config.L))
        self.decoder = _Linear(config.n_classes, config.H)

    @classmethod
    def from_params(cls, config: S5Config, params: dict[str, np.ndarray], dropout: float = 0.0) -> "S5Torch":
        """A module holding ``params`` (names as :meth:`S5Config.param_shapes`), float32, on the CPU."""
        model = cls(config, dropout)
        model.load_params(params)
        return model

    def load_params(self, params: dict[str, np.ndarray]) -> None:
        """Copy checkpoint arrays into the parameters and buffers (exactly the names of param_shapes)."""
        shapes = self.config.param_shapes()
        missing = sorted(set(shapes) - set(params))
        if missing:
            raise KeyError(f"parameters lack {missing[0]!r}")
        state = {k: torch.as_tensor(np.asarray(params[k], dtype=np.float32)) for k in shapes}
        self.load_state_dict(state, strict=True)

    def to_params(self) -> dict[str, np.ndarray]:
        """Parameters and buffers as float32 numpy arrays, keyed and ordered as :meth:`S5Config.param_shapes`."""
        state = self.state_dict()
        return {k: state[k].detach().to("cpu", torch.float32).numpy().copy() for k in self.config.param_shapes()}

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        dtype = self.encoder.W.dtype
        u0 = pixels.to(dtype) * (1.0 / 256.0)                                    # (B, T)
        r = u0[:, :, None] * self.encoder.W[:, 0] + self.encoder.b               # (B, T, H)
        for block in self.layers:
            r = block(r)
        with torch.autocast(r.device.type, enabled=False):
            s = r.to(dtype).sum(dim=1)                                           # (B, H) sum-pool
            return s @ self.decoder.W.t() + self.decoder.b                       # (B, n_classes)


def n_params(model: nn.Module) -> int:
    """Number of real trainable parameters of ``model``."""
    return sum(math.prod(p.shape) for p in model.parameters())
