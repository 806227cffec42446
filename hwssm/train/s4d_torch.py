"""The float S4D classifier as a torch module, mirroring :mod:`hwssm.model.network`.

Same network, same parameter names and shapes as :meth:`S4DConfig.param_shapes`, so a state
dict and a float checkpoint's arrays are the same dict (:meth:`S4DTorch.from_params`,
:meth:`S4DTorch.to_params`). Activations use the channel-first layout ``(B, C, T)`` (batch,
channel, time), so that the FFT runs along the contiguous axis and the mixing Linear is one
broadcast matmul.

The S4D layers run in convolution mode: the kernel K[h, k] = 2·Re(Σ_m C̄ Ā^k B̄) comes from the
Vandermonde powers of Ā, computed in float64 (complex128) from the float32 parameters and then
rounded to float32, and y = K * u + D·u is a real FFT of length 2^⌈log2 2T⌉ (no wrap-around),
always in float32 even under autocast. Only the mixing Linear layers follow autocast (bf16 on
the GPU when the caller enables it).

Dropout (training only; absent from the exported network) is channel dropout tied over time,
applied to GELU(y) before the mixing Linear, as in the S4 recipe.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..model.config import Discretization, Norm, S4DConfig

#: SSM parameters of a block, trained at the lower SSM learning rate without weight decay.
SSM_PARAMS = ("log_dt", "log_A_real", "A_imag", "B_re", "B_im")


def ssm_kernel(log_dt: torch.Tensor, log_A_real: torch.Tensor, A_imag: torch.Tensor,
               B_re: torch.Tensor, B_im: torch.Tensor, C_re: torch.Tensor, C_im: torch.Tensor,
               T: int, discretization: Discretization) -> torch.Tensor:
    """Convolution kernel K[h, k] = 2·Re(Σ_m C̄ Ā^k B̄), k = 0..T-1, as float32 (H, T).

    Discretization as :func:`hwssm.model.s4d.discretize` (ZOH: Ā = exp(ΔA), B̄ = (Ā - 1)/A·B;
    bilinear: Ā = (1 + ΔA/2)/(1 - ΔA/2), B̄ = Δ/(1 - ΔA/2)·B; C̄ = C), computed in complex128.
    Ā^k = exp(k·log Ā), with log Ā = ΔA exactly for ZOH.
    """
    f64 = torch.float64
    dt = torch.exp(log_dt.to(f64))[:, None]                                # (H, 1) Δ
    A = torch.complex(-torch.exp(log_A_real.to(f64)), A_imag.to(f64))      # (H, M)
    B = torch.complex(B_re.to(f64), B_im.to(f64))                          # (H, M)
    C = torch.complex(C_re.to(f64), C_im.to(f64))                          # (H, M)
    dtA = dt * A                                                           # (H, M)
    if discretization is Discretization.ZOH:
        Abar = torch.exp(dtA)
        Bbar = (Abar - 1.0) / A * B
        logA = dtA
    elif discretization is Discretization.BILINEAR:
        Abar = (1.0 + dtA / 2) / (1.0 - dtA / 2)
        Bbar = dt / (1.0 - dtA / 2) * B
        logA = torch.log(Abar)
    else:
        raise ValueError(f"unknown discretization {discretization!r}")
    k = torch.arange(T, dtype=f64, device=log_dt.device)                  # (T,)
    V = torch.exp(logA[..., None] * k)                                    # (H, M, T) Ā^k
    K = 2.0 * torch.einsum("hm,hmt->ht", C * Bbar, V).real                # (H, T)
    return K.to(torch.float32)


def fft_length(T: int) -> int:
    """FFT length for a causal convolution of T steps: the power of two ≥ 2T."""
    return 1 << (2 * T - 1).bit_length()


def causal_conv(u: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """y[b, h, t] = Σ_{k≤t} K[h, k]·u[b, h, t-k] via FFT; u float32 (B, H, T), K float32 (H, T)."""
    T = u.shape[-1]
    n = fft_length(T)
    uf = torch.fft.rfft(u, n=n)                                          # (B, H, n/2+1)
    Kf = torch.fft.rfft(K, n=n)                                          # (H, n/2+1)
    return torch.fft.irfft(uf * Kf, n=n)[..., :T]                        # (B, H, T)


class _Linear(nn.Module):
    """Parameters ``W`` (out, in) and ``b`` (out,), named as the checkpoint names them."""

    def __init__(self, n_out: int, n_in: int):
        super().__init__()
        self.W = nn.Parameter(torch.zeros(n_out, n_in))
        self.b = nn.Parameter(torch.zeros(n_out))


class _Embedding(nn.Module):
    """Parameter ``E`` (V, H): a token model's encoder ``encoder.E``."""

    def __init__(self, V: int, H: int):
        super().__init__()
        self.E = nn.Parameter(torch.zeros(V, H))


def layer_norm(r: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float) -> torch.Tensor:
    """LayerNorm over the channel axis of channel-first r (B, H, T): (r − μ)/√(σ² + ε)·γ + β (biased σ²)."""
    mu = r.mean(dim=1, keepdim=True)
    var = (r - mu).square().mean(dim=1, keepdim=True)
    return (r - mu) * torch.rsqrt(var + eps) * gamma[:, None] + beta[:, None]


class S4DBlock(nn.Module):
    """One block: r + GLU(W·GELU(S4D(r)) + b), channel-first (B, H, T); with a LayerNorm,
    r + GLU(W·GELU(S4D(LN(r))) + b) (prenorm) or LN(r + GLU(...)) (postnorm).

    Parameters are those of ``layers.{l}.*`` in :meth:`S4DConfig.param_shapes`.
    """

    def __init__(self, config: S4DConfig, dropout: float = 0.0):
        super().__init__()
        H, M = config.H, config.M
        self.config = config
        self.log_dt = nn.Parameter(torch.zeros(H))
        for name in ("log_A_real", "A_imag", "B_re", "B_im", "C_re", "C_im"):
            setattr(self, name, nn.Parameter(torch.zeros(H, M)))
        self.D = nn.Parameter(torch.zeros(H))
        self.W = nn.Parameter(torch.zeros(2 * H, H))
        self.b = nn.Parameter(torch.zeros(2 * H))
        if config.norm is Norm.LAYER:
            self.norm_scale = nn.Parameter(torch.ones(H))
            self.norm_bias = nn.Parameter(torch.zeros(H))
        self.dropout = nn.Dropout1d(dropout) if dropout > 0 else nn.Identity()

    def kernel(self, T: int) -> torch.Tensor:
        """The S4D convolution kernel of this block, float32 (H, T)."""
        return ssm_kernel(self.log_dt, self.log_A_real, self.A_imag, self.B_re, self.B_im,
                          self.C_re, self.C_im, T, self.config.discretization)

    def ssm(self, r: torch.Tensor) -> torch.Tensor:
        """y = K * r + D·r in float32, (B, H, T) -> (B, H, T)."""
        with torch.autocast(r.device.type, enabled=False):
            r = r.float()
            return causal_conv(r, self.kernel(r.shape[-1])) + self.D[:, None] * r

    def norm(self, r: torch.Tensor) -> torch.Tensor:
        """The block's LayerNorm of r (B, H, T), in float32."""
        with torch.autocast(r.device.type, enabled=False):
            return layer_norm(r.float(), self.norm_scale, self.norm_bias, self.config.eps)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        layer = self.config.norm is Norm.LAYER
        y = self.ssm(self.norm(r) if layer and self.config.prenorm else r)   # (B, H, T)
        g = self.dropout(F.gelu(y))                                       # exact erf GELU
        v = torch.matmul(self.W, g) + self.b[:, None]                     # (B, 2H, T)
        z = F.glu(v, dim=1)                                               # v[:H]·σ(v[H:])
        return self.norm(r + z) if layer and not self.config.prenorm else r + z


class S4DTorch(nn.Module):
    """The float S4D classifier of :mod:`hwssm.model.config`.

    ``forward(pixels)`` takes uint8 pixel sequences (B, T) (or (B, T, C) samples, or token ids
    (B, T) of a token model: r = encoder.E[token]) and returns float32 logits
    (B, n_classes): u0 = pixel/256; r = encoder.W·u0 + encoder.b; L blocks; s = Σ_t r;
    logits = decoder.W·s + decoder.b (the pooling and decoder always in float32).
    """

    def __init__(self, config: S4DConfig, dropout: float = 0.0):
        super().__init__()
        self.config = config
        self.encoder = _Embedding(config.vocab, config.H) if config.tokens else _Linear(config.H, config.C)
        self.layers = nn.ModuleList(S4DBlock(config, dropout) for _ in range(config.L))
        self.decoder = _Linear(config.n_classes, config.H)

    @classmethod
    def from_params(cls, config: S4DConfig, params: dict[str, np.ndarray], dropout: float = 0.0) -> "S4DTorch":
        """A module holding ``params`` (names as :meth:`S4DConfig.param_shapes`), float32, on the CPU."""
        model = cls(config, dropout)
        model.load_params(params)
        return model

    def load_params(self, params: dict[str, np.ndarray]) -> None:
        """Copy checkpoint arrays into the parameters (exactly the names of param_shapes)."""
        shapes = self.config.param_shapes()
        missing = sorted(set(shapes) - set(params))
        if missing:
            raise KeyError(f"parameters lack {missing[0]!r}")
        state = {k: torch.as_tensor(np.asarray(params[k], dtype=np.float32)) for k in shapes}
        self.load_state_dict(state, strict=True)

    def to_params(self) -> dict[str, np.ndarray]:
        """The parameters as float32 numpy arrays, keyed as :meth:`S4DConfig.param_shapes`."""
        return {k: v.detach().to("cpu", torch.float32).numpy().copy() for k, v in self.named_parameters()}

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        if self.config.tokens:                                            # token ids (B, T)
            r = self.encoder.E[pixels.long()].transpose(1, 2)            # (B, H, T)
        elif self.config.C == 1:
            u0 = pixels.float() * (1.0 / 256.0)                           # (B, T)
            r = self.encoder.W[None, :, :] * u0[:, None, :] + self.encoder.b[None, :, None]  # (B, H, T)
        else:                                                             # (B, T, C) samples
            u0 = pixels.float() * (1.0 / 256.0)
            r = (u0 @ self.encoder.W.t() + self.encoder.b).transpose(1, 2)   # (B, H, T)
        for block in self.layers:
            r = block(r)
        with torch.autocast(r.device.type, enabled=False):
            s = r.float().sum(dim=-1)                                     # (B, H) sum-pool
            return s @ self.decoder.W.t() + self.decoder.b                # (B, n_classes)


def n_params(model: nn.Module) -> int:
    """Number of real parameters of ``model``."""
    return sum(math.prod(p.shape) for p in model.parameters())
