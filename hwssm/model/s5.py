"""The S5 SSM in float64 numpy: HiPPO-N initialization, discretization, recurrence, BatchNorm fold.

Symbols follow Smith et al., "Simplified State Space Layers for Sequence Modeling" (S5, 2023).
One MIMO system per block, P complex modes shared by the H channels (conjugate symmetry: the
other P modes are the conjugates, hence 2·Re in the readout)::

    x'(t) = Λ x(t) + B̃ u(t),            y(t) = 2·Re(C̃ x(t)) + D ⊙ u(t)   (continuous, Δ_p = exp(log_dt_p))
    x[t]  = Λ̄ ⊙ x[t-1] + B̄ u[t],        y[t] = 2·Re(C̃ x[t]) + D ⊙ u[t]    (discrete, x[-1] = 0)

Arrays: ``u`` and ``y`` float64 ``(B, T, H)``; Λ, Λ̄ complex128 ``(P,)``; B̃, B̄ complex128
``(P, H)``; C̃ complex128 ``(H, P)``; D float64 ``(H,)``; the state ``x`` complex128 ``(B, T, P)``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .config import Discretization

#: Per-block SSM arrays of an S5 checkpoint (the norm and GLU arrays are separate).
SSM_NAMES = ("Lambda_re", "Lambda_im", "log_dt", "B_re", "B_im", "C_re", "C_im", "D")

#: flax's truncated-normal correction: the std of a standard normal truncated to [-2, 2].
_TRUNC_STD = 0.87962566103423978


def hippo_normal(N: int) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of the normal part of HiPPO-LegS of size N (even): (Λ (N,), V (N, N)).

    HiPPO-LegS A_nk = -(√(2n+1)√(2k+1)) for n > k, -(n+1) on the diagonal; adding p pᵀ with
    p_n = √(n + 1/2) makes it normal: S = -1/2·I + (skew-symmetric part). Re Λ = mean(diag S)
    = -1/2 for every mode; Im Λ and the unitary V from eigh of the Hermitian -i·(skew part),
    eigenvalues ascending (the first N/2 have Im Λ < 0; their conjugates are the rest).
    """
    q = np.sqrt(1.0 + 2.0 * np.arange(N))
    A = -(np.tril(np.outer(q, q)) - np.diag(np.arange(N, dtype=np.float64)))   # (N, N) -HiPPO-LegS
    p = np.sqrt(np.arange(N) + 0.5)
    S = A + np.outer(p, p)                                                       # (N, N) normal
    diag = np.diag(S)
    lam_imag, V = np.linalg.eigh(-1j * (S - np.diag(diag)))                      # Hermitian
    return np.full(N, diag.mean()) + 1j * lam_imag, V


def init_lambda_v(P: int, J: int) -> tuple[np.ndarray, np.ndarray]:
    """Initial (Λ (P,) complex, V (2P, P) complex) of J HiPPO blocks, conjugate half dropped.

    Each block is :func:`hippo_normal` of size 2P/J with its first P/J eigenpairs kept; Λ is
    the blocks' Λ repeated J times and V the block-diagonal of the J copies (V⁻¹ = Vᴴ).
    """
    n = 2 * P // J
    lam, V = hippo_normal(n)
    lam, V = lam[:n // 2], V[:, :n // 2]                                          # (P/J,), (2P/J, P/J)
    Vfull = np.zeros((2 * P, P), dtype=np.complex128)
    for j in range(J):
        Vfull[j * n:(j + 1) * n, j * (n // 2):(j + 1) * (n // 2)] = V
    return np.tile(lam, J), Vfull


def _lecun_truncated(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """Truncated normal on [-2σ', 2σ'] with std 1/√fan_in (flax ``lecun_normal``)."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2.0
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return z * (math.sqrt(1.0 / fan_in) / _TRUNC_STD)


def init_ssm(H: int, P: int, J: int, dt_min: float, dt_max: float,
             rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random initial SSM arrays of one block, keyed by :data:`SSM_NAMES`, float64.

    Λ from :func:`init_lambda_v`; B̃ = V⁻¹B with B (2P, H) lecun-normal (fan-in 2P);
    C̃ = CV with C = C₁ + iC₂, each (H, 2P) lecun-normal (fan-in 2P, the reference's
    "trunc_standard_normal"); D ~ N(0, 1) (H,); log_dt ~ U[log dt_min, log dt_max] (P,).
    Draw order (fixed): B, C (re and im interleaved per entry), D, log_dt.
    """
    lam, V = init_lambda_v(P, J)
    Btilde = V.conj().T @ _lecun_truncated(rng, (2 * P, H), 2 * P)               # (P, H)
    C = _lecun_truncated(rng, (H, 2 * P, 2), 2 * P)                                # (H, 2P, 2)
    Ctilde = (C[..., 0] + 1j * C[..., 1]) @ V                                      # (H, P)
    return {
        "Lambda_re": lam.real.copy(), "Lambda_im": lam.imag.copy(),
        "B_re": Btilde.real, "B_im": Btilde.imag, "C_re": Ctilde.real, "C_im": Ctilde.imag,
        "D": rng.normal(0.0, 1.0, size=H),
        "log_dt": rng.uniform(math.log(dt_min), math.log(dt_max), size=P),
    }


@dataclasses.dataclass(frozen=True)
class DiscreteS5:
    """One discrete S5 block, optionally with a folded prenorm (biases zero without one).

    Attributes
    ----------
    Lambda_bar : complex128 (P,)      Λ̄
    B_bar : complex128 (P, H)         B̄ (B̄·diag(s) after a BatchNorm fold)
    bu_bias : complex128 (P,)         added to B̄u every step (B̄c after a fold)
    C_tilde : complex128 (H, P)       C̃
    D : float64 (H,)                  D (D ⊙ s after a fold)
    y_bias : float64 (H,)             added to y every step (D ⊙ c after a fold)
    """

    Lambda_bar: np.ndarray
    B_bar: np.ndarray
    bu_bias: np.ndarray
    C_tilde: np.ndarray
    D: np.ndarray
    y_bias: np.ndarray


def discretize(p: dict[str, np.ndarray], discretization: Discretization) -> DiscreteS5:
    """Discrete S5 block from its arrays ``p`` (:data:`SSM_NAMES`, bare names), no norm fold.

    With Λ = Lambda_re + i·Lambda_im, B̃ = B_re + i·B_im, Δ = exp(log_dt) (per mode):

    - ZOH:      Λ̄ = exp(ΛΔ),                 B̄ = ((Λ̄ - 1)/Λ) · B̃
    - bilinear: Λ̄ = (1 + ΔΛ/2)/(1 - ΔΛ/2),   B̄ = (Δ/(1 - ΔΛ/2)) · B̃
    """
    f = {k: np.asarray(p[k], dtype=np.float64) for k in SSM_NAMES}
    lam = f["Lambda_re"] + 1j * f["Lambda_im"]                                     # (P,)
    Btilde = f["B_re"] + 1j * f["B_im"]                                            # (P, H)
    dt = np.exp(f["log_dt"])                                                       # (P,)
    if discretization is Discretization.ZOH:
        lam_bar = np.exp(lam * dt)
        gain = (lam_bar - 1.0) / lam
    elif discretization is Discretization.BILINEAR:
        inv = 1.0 / (1.0 - dt / 2.0 * lam)
        lam_bar = inv * (1.0 + dt / 2.0 * lam)
        gain = inv * dt
    else:
        raise ValueError(f"unknown discretization {discretization!r}")
    P, H = Btilde.shape
    return DiscreteS5(lam_bar, gain[:, None] * Btilde, np.zeros(P, np.complex128),
                      f["C_re"] + 1j * f["C_im"], f["D"], np.zeros(H))


def fold_batchnorm(d: DiscreteS5, scale: np.ndarray, bias: np.ndarray, mean: np.ndarray,
                   var: np.ndarray, eps: float) -> DiscreteS5:
    """Fold an inference BatchNorm n = s ⊙ u + c before the block into B̄ and D.

    s = γ/√(σ² + eps), c = β - μ s (all (H,)); then B̄n = (B̄·diag(s))u + B̄c and
    D ⊙ n = (D ⊙ s) ⊙ u + D ⊙ c: B̄' = B̄·diag(s), bu_bias += B̄c, D' = D ⊙ s, y_bias += D ⊙ c.
    """
    s = np.asarray(scale, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)   # (H,)
    c = np.asarray(bias, np.float64) - np.asarray(mean, np.float64) * s            # (H,)
    return DiscreteS5(d.Lambda_bar, d.B_bar * s, d.bu_bias + d.B_bar @ c, d.C_tilde,
                      d.D * s, d.y_bias + d.D * c)


def ssm_recurrent(u: np.ndarray, d: DiscreteS5, return_state: bool = False):
    """Step x[t] = Λ̄ ⊙ x[t-1] + (B̄u[t] + bu_bias) from x[-1] = 0;
    y[t] = 2·Re(C̃x[t]) + D ⊙ u[t] + y_bias.

    Parameters
    ----------
    u : float64 (B, T, H)
    d : DiscreteS5
    return_state : bool
        Also return every state x, complex128 (B, T, P) (16·B·T·P bytes).

    Returns
    -------
    y : float64 (B, T, H), and with ``return_state`` also x.
    """
    Bn, T, H = u.shape
    bu = u @ d.B_bar.T + d.bu_bias                                                 # (B, T, P) B̄u
    xs = np.empty_like(bu)
    x = np.zeros((Bn, d.Lambda_bar.shape[0]), dtype=np.complex128)                # (B, P)
    for t in range(T):
        x = d.Lambda_bar * x + bu[:, t]
        xs[:, t] = x
    y = 2.0 * (xs @ d.C_tilde.T).real + d.D * u + d.y_bias                       # (B, T, H)
    return (y, xs) if return_state else y
