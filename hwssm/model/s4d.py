"""The S4D kernel in float64 numpy: initialization, discretization, recurrent and convolution modes.

Symbols follow Gu et al., "On the Parameterization and Initialization of Diagonal State Space
Models" (S4D, 2022): per channel h and complex mode m (M = N/2 modes; the conjugate half is
implicit, hence the factor 2 in the readout)::

    x'(t) = A x(t) + B u(t),   y(t) = 2·Re(C x(t)) + D u(t)       (continuous, step Δ = exp(log_dt))
    x[t]  = Ā x[t-1] + B̄ u[t], y[t] = 2·Re(Σ_m C̄ x[t]) + D u[t]    (discrete, x[-1] = 0)
    K[k]  = 2·Re(Σ_m C̄ Ā^k B̄),  y = K * u + D u                    (causal convolution)

Arrays: ``u`` and ``y`` are float64 ``(B, T, H)`` (batch, time, channel); Ā, B̄, C̄ are complex128
``(H, M)``; D is float64 ``(H,)``; the state ``x`` is complex128 ``(B, T, H, M)``.
"""

from __future__ import annotations

import math

import numpy as np

from .config import Discretization, Init

#: Optional per-layer arrays that give Ā and B̄ directly (QAT's "discrete" parameterization).
OVERRIDE_NAMES = ("Abar_re", "Abar_im", "Bbar_re", "Bbar_im")

#: Per-layer SSM arrays required in every checkpoint (the mixing W, b are separate).
SSM_NAMES = ("log_dt", "log_A_real", "A_imag", "B_re", "B_im", "C_re", "C_im", "D")


def init_A(N: int, init: Init) -> tuple[np.ndarray, np.ndarray]:
    """Initial A_n for n = 0..M-1 as (log_A_real (M,), A_imag (M,)), float64.

    S4D-Lin: A_n = -1/2 + iπn.  S4D-Inv: A_n = -1/2 + i·(N/π)·(N/(2n+1) - 1).
    Re A is stored as log_A_real = log(1/2), so that A = -exp(log_A_real) + i·A_imag.
    """
    n = np.arange(N // 2, dtype=np.float64)
    if init is Init.LIN:
        A_imag = math.pi * n
    elif init is Init.INV:
        A_imag = N / math.pi * (N / (2 * n + 1) - 1)
    else:
        raise ValueError(f"unknown init {init!r}")
    return np.full(N // 2, math.log(0.5)), A_imag


def init_ssm(H: int, N: int, init: Init, dt_min: float, dt_max: float,
             rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random initial SSM arrays of one layer, keyed by :data:`SSM_NAMES`, float64.

    log_dt ~ U[log dt_min, log dt_max] (H,); A from :func:`init_A`, the same for every channel;
    B = 1 + 0i; C ~ complex normal, variance 1/2 per part (H, M); D ~ N(0, 1) (H,).
    Draw order (fixed): log_dt, C_re, C_im, D.
    """
    M = N // 2
    log_A_real, A_imag = init_A(N, init)
    return {
        "log_dt": rng.uniform(math.log(dt_min), math.log(dt_max), size=H),
        "log_A_real": np.tile(log_A_real, (H, 1)),
        "A_imag": np.tile(A_imag, (H, 1)),
        "B_re": np.ones((H, M)),
        "B_im": np.zeros((H, M)),
        "C_re": rng.normal(0.0, math.sqrt(0.5), size=(H, M)),
        "C_im": rng.normal(0.0, math.sqrt(0.5), size=(H, M)),
        "D": rng.normal(0.0, 1.0, size=H),
    }


def layer_params(params: dict[str, np.ndarray], l: int) -> dict[str, np.ndarray]:
    """The arrays of block ``l`` (``layers.{l}.<name>``) keyed by the bare ``<name>``."""
    prefix = f"layers.{l}."
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}


def discretize(p: dict[str, np.ndarray], discretization: Discretization
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Discrete (Ā, B̄, C̄, D) of one layer from its arrays ``p`` (see :func:`layer_params`).

    With A = -exp(log_A_real) + i·A_imag, B = B_re + i·B_im, Δ = exp(log_dt) (per channel):

    - ZOH:      Ā = exp(ΔA),                 B̄ = (Ā - 1)/A · B
    - bilinear: Ā = (1 + ΔA/2)/(1 - ΔA/2),   B̄ = Δ/(1 - ΔA/2) · B

    C̄ = C. If ``p`` holds all of :data:`OVERRIDE_NAMES`, Ā = Abar_re + i·Abar_im and
    B̄ = Bbar_re + i·Bbar_im are taken as given (B is then unused).

    Returns
    -------
    Abar, Bbar, Cbar : complex128 (H, M)
    D : float64 (H,)
    """
    f = {k: np.asarray(v, dtype=np.float64) for k, v in p.items()}
    Cbar = f["C_re"] + 1j * f["C_im"]                                  # (H, M)
    present = [name for name in OVERRIDE_NAMES if name in f]
    if present:
        if len(present) != len(OVERRIDE_NAMES):
            raise ValueError(f"discrete override needs all of {OVERRIDE_NAMES}, got {present}")
        Abar = f["Abar_re"] + 1j * f["Abar_im"]
        Bbar = f["Bbar_re"] + 1j * f["Bbar_im"]
        return Abar, Bbar, Cbar, f["D"]
    A = -np.exp(f["log_A_real"]) + 1j * f["A_imag"]                    # (H, M)
    B = f["B_re"] + 1j * f["B_im"]                                     # (H, M)
    dtA = np.exp(f["log_dt"])[:, None] * A                             # (H, M) ΔA
    if discretization is Discretization.ZOH:
        Abar = np.exp(dtA)
        Bbar = (Abar - 1.0) / A * B
    elif discretization is Discretization.BILINEAR:
        Abar = (1.0 + dtA / 2) / (1.0 - dtA / 2)
        Bbar = np.exp(f["log_dt"])[:, None] / (1.0 - dtA / 2) * B
    else:
        raise ValueError(f"unknown discretization {discretization!r}")
    return Abar, Bbar, Cbar, f["D"]


def kernel(Abar: np.ndarray, Bbar: np.ndarray, Cbar: np.ndarray, T: int) -> np.ndarray:
    """Convolution kernel K[h, k] = 2·Re(Σ_m C̄ Ā^k B̄), k = 0..T-1, float64 (H, T).

    The Vandermonde powers are exp(k·log Ā) (exact up to rounding for any Ā ≠ 0; Ā = 0 gives
    Ā^0 = 1 and Ā^k = 0 for k > 0).
    """
    k = np.arange(T, dtype=np.float64)                                 # (T,)
    zero = Abar == 0
    logA = np.log(np.where(zero, 1.0, Abar))                           # (H, M)
    V = np.exp(logA[..., None] * k)                                    # (H, M, T) Ā^k
    V[..., 1:] = np.where(zero[..., None], 0.0, V[..., 1:])
    return 2.0 * np.einsum("hm,hmt->ht", Cbar * Bbar, V).real


def fft_size(n: int) -> int:
    """Smallest 5-smooth integer (2^a·3^b·5^c) >= n: a fast FFT length."""
    best = 1 << max(n - 1, 0).bit_length()
    p3 = 1
    while p3 < best:
        p35 = p3
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 5
        p3 *= 3
    return best


def ssm_convolution(u: np.ndarray, K: np.ndarray, D: np.ndarray) -> np.ndarray:
    """y = causal_conv(u, K) + D·u via a real FFT of length >= 2T (no wrap-around).

    The FFT length is :func:`fft_size` (2T) (1600 for T = 784); any length >= 2T-1 gives the
    exact linear convolution.

    Parameters
    ----------
    u : float64 (B, T, H)
    K : float64 (H, T') with T' >= T (only the first T taps are used)
    D : float64 (H,)

    Returns
    -------
    y : float64 (B, T, H)
    """
    T = u.shape[1]
    n = fft_size(2 * T)
    Kf = np.fft.rfft(K[:, :T], n=n, axis=-1)                          # (H, n/2+1)
    uf = np.fft.rfft(np.ascontiguousarray(u.transpose(0, 2, 1)), n=n, axis=-1)   # (B, H, n/2+1)
    y = np.fft.irfft(uf * Kf, n=n, axis=-1)[:, :, :T]                 # (B, H, T)
    return np.ascontiguousarray(y.transpose(0, 2, 1)) + D * u


def ssm_recurrent(u: np.ndarray, Abar: np.ndarray, Bbar: np.ndarray, Cbar: np.ndarray,
                  D: np.ndarray, return_state: bool = False):
    """Step the recurrence x[t] = Ā x[t-1] + B̄ u[t] from x[-1] = 0; y[t] = 2·Re(Σ_m C̄ x[t]) + D u[t].

    Vectorized over batch, channels and modes; loops over T.

    Parameters
    ----------
    u : float64 (B, T, H)
    Abar, Bbar, Cbar : complex128 (H, M)
    D : float64 (H,)
    return_state : bool
        Also return every state (16·B·T·H·M bytes).

    Returns
    -------
    y : float64 (B, T, H), and with ``return_state`` also x : complex128 (B, T, H, M)
    """
    Bn, T, H = u.shape
    x = np.zeros((Bn, H, Abar.shape[1]), dtype=np.complex128)         # (B, H, M)
    y = np.empty((Bn, T, H))
    xs = np.empty((Bn, T) + Abar.shape, dtype=np.complex128) if return_state else None
    for t in range(T):
        x = Abar * x + Bbar * u[:, t, :, None]
        y[:, t] = 2.0 * (Cbar.real * x.real - Cbar.imag * x.imag).sum(axis=-1)
        if xs is not None:
            xs[:, t] = x
    y += D * u
    return (y, xs) if return_state else y
