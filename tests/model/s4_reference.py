"""A re-implementation, for the importer's equivalence test, of the forward pass of the
``state-spaces/s4`` example classifier (``example.py``'s S4Model over ``models/s4/s4d.py``'s S4D).

Written from the reference's equations; module and parameter names match its state dict
(``encoder``, ``s4_layers.{l}.kernel.{log_dt, C, log_A_real, A_imag}``, ``s4_layers.{l}.D``,
``s4_layers.{l}.output_linear.0``, ``norms.{l}``, ``decoder``). Inference only (dropout omitted).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Kernel(nn.Module):
    """K[h, k] = 2·Re(Σ_n C[h,n]·(exp(ΔA) − 1)/A·exp(ΔA·k)), ZOH with B = 1 (or a given B)."""

    def __init__(self, H: int, N: int, inv_real: bool = False, with_B: bool = False):
        super().__init__()
        self.inv_real = inv_real
        self.log_dt = nn.Parameter(torch.rand(H) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))
        self.C = nn.Parameter(torch.view_as_real(torch.randn(H, N // 2, dtype=torch.cfloat)))
        real = torch.log(0.5 * torch.ones(H, N // 2)) + 0.1 * torch.randn(H, N // 2)
        if inv_real:
            self.inv_A_real = nn.Parameter(real)
        else:
            self.log_A_real = nn.Parameter(real)
        self.A_imag = nn.Parameter(math.pi * torch.arange(N // 2).repeat(H, 1).float())
        if with_B:
            self.B = nn.Parameter(torch.view_as_real(1 + 0.3 * torch.randn(H, N // 2, dtype=torch.cfloat)))

    def forward(self, T: int) -> torch.Tensor:
        dt = torch.exp(self.log_dt)                                        # (H,)
        C = torch.view_as_complex(self.C)                                  # (H, M)
        if hasattr(self, "B"):
            C = C * torch.view_as_complex(self.B)
        re = self.inv_A_real if self.inv_real else self.log_A_real
        A = -torch.exp(re) + 1j * self.A_imag                              # (H, M)
        dtA = A * dt[:, None]
        powers = torch.exp(dtA[..., None] * torch.arange(T, device=A.device))   # (H, M, T)
        return 2 * torch.einsum("hm,hmt->ht", C * (torch.exp(dtA) - 1.0) / A, powers).real


class S4DLayer(nn.Module):
    def __init__(self, H: int, N: int, **kernel_args):
        super().__init__()
        self.D = nn.Parameter(torch.randn(H))
        self.kernel = Kernel(H, N, **kernel_args)
        self.output_linear = nn.Sequential(nn.Conv1d(H, 2 * H, kernel_size=1), nn.GLU(dim=-2))

    def forward(self, u: torch.Tensor) -> torch.Tensor:                    # u (B, H, T)
        T = u.shape[-1]
        k = self.kernel(T)
        y = torch.fft.irfft(torch.fft.rfft(u, n=2 * T) * torch.fft.rfft(k, n=2 * T), n=2 * T)[..., :T]
        y = y + u * self.D[:, None]
        return self.output_linear(nn.functional.gelu(y))


class S4Model(nn.Module):
    """Encoder → L × (norm?, S4D, residual) → mean over time → decoder. Input (B, T, 1)."""

    def __init__(self, H=16, N=8, L=2, K=10, norm: str | None = None, prenorm=False, **kernel_args):
        super().__init__()
        self.prenorm = prenorm
        self.encoder = nn.Linear(1, H)
        self.s4_layers = nn.ModuleList(S4DLayer(H, N, **kernel_args) for _ in range(L))
        if norm == "layer":
            self.norms = nn.ModuleList(nn.LayerNorm(H) for _ in range(L))
        elif norm == "batch":
            self.norms = nn.ModuleList(nn.BatchNorm1d(H) for _ in range(L))
        self.decoder = nn.Linear(H, K)

    def _norm(self, l, x):                                                 # x (B, H, T)
        n = self.norms[l]
        return n(x.transpose(-1, -2)).transpose(-1, -2) if isinstance(n, nn.LayerNorm) else n(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.encoder(x).transpose(-1, -2)                              # (B, H, T)
        for l, layer in enumerate(self.s4_layers):
            z = self._norm(l, x) if self.prenorm and hasattr(self, "norms") else x
            x = layer(z) + x
            if not self.prenorm and hasattr(self, "norms"):
                x = self._norm(l, x)
        return self.decoder(x.transpose(-1, -2).mean(dim=1))
