"""S5Config: the shape and recipe of a float S5 classifier, and its parameter schema.

Symbols follow Smith, Warrington, Linderman, "Simplified State Space Layers for Sequence
Modeling" (S5, 2023) and Q-S5 (Abreu et al., 2024):

H
    model width (channels of the residual stream),
P
    complex modes kept of the one MIMO state shared by all H channels (conjugate symmetry:
    the state has 2P modes, the conjugate half is implicit, hence the 2·Re in the readout),
L
    number of S5 blocks; J the number of HiPPO blocks of the initial Λ (block-diagonal init).

The network (same encoder, residual stream, sum-pool and decoder as S4D, see
:mod:`hwssm.model.config`; the sum-pool is the reference's mean-pool with 1/T in decoder.W)::

    r_0        = encoder.W @ u0 + encoder.b                  # (T, H), u0 = pixel/256
    for l in 0..L-1:
        n      = Norm_l(r_l)                                 # prenorm: BatchNorm, LayerNorm or none
        y      = S5_l(n)                                     # (T, H), y = 2·Re(C̃x) + D·n
        g      = GELU(y)
        z      = g * sigmoid(g @ W_l.T + b_l)                # half GLU, W (H, H)
               | v[:, :H] * sigmoid(v[:, H:]), v = g @ W_l.T + b_l   # full GLU, W (2H, H)
        r_{l+1} = r_l + z                                    # residual
    logits     = decoder.W @ Σ_t r_L[t] + decoder.b
"""

from __future__ import annotations

import dataclasses
import enum
import operator

from .config import Discretization, Family


class Norm(enum.Enum):
    """Prenorm of an S5 block: none, BatchNorm (running statistics; folds into B̄ and D for the
    integer path) or LayerNorm (float only: a per-step divide)."""

    NONE = "none"
    BATCH = "batch"
    LAYER = "layer"


class Glu(enum.Enum):
    """Gate after the GELU: half GLU g·σ(W g + b) (the S5 default) or full GLU out1(g)·σ(out2(g))."""

    HALF = "half"
    FULL = "full"


@dataclasses.dataclass(frozen=True)
class S5Config:
    """Shape of an S5 classifier (defaults: Q-S5's sMNIST model, about 139k parameters).

    Parameters
    ----------
    H : int
        Channels.
    P : int
        Complex modes kept per block (the state has 2P, conjugate pairs).
    L : int
        Number of S5 blocks.
    n_classes : int
        Output classes.
    J : int
        HiPPO blocks of the initial Λ (P divisible by J).
    discretization : Discretization
        ZOH (default) or bilinear.
    dt_min, dt_max : float
        Range of the log-uniform initial step Δ (one per mode).
    norm : Norm
        Prenorm of every block.
    glu : Glu
        Half or full GLU.
    eps : float
        Norm epsilon (σ² + eps).
    """

    H: int = 96
    P: int = 64
    L: int = 4
    n_classes: int = 10
    J: int = 1
    discretization: Discretization = Discretization.ZOH
    dt_min: float = 1e-3
    dt_max: float = 1e-1
    norm: Norm = Norm.BATCH
    glu: Glu = Glu.HALF
    eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("H", "P", "L", "n_classes", "J"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"S5Config {name} must be an integer, not {type(value).__name__}")
            if operator.index(value) < 1:
                raise ValueError(f"S5Config {name} must be >= 1, not {value}")
        if self.P % self.J:
            raise ValueError(f"S5Config P={self.P} must be divisible by J={self.J} (HiPPO blocks)")
        for name, kind in (("discretization", Discretization), ("norm", Norm), ("glu", Glu)):
            if not isinstance(getattr(self, name), kind):
                raise ValueError(f"S5Config {name} must be a {kind.__name__}, not {getattr(self, name)!r}")
        for name in ("dt_min", "dt_max", "eps"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), (int, float)):
                raise ValueError(f"S5Config {name} must be a number, not {getattr(self, name)!r}")
        if not (0 < self.dt_min <= self.dt_max):
            raise ValueError(f"S5Config needs 0 < dt_min <= dt_max, not {self.dt_min}, {self.dt_max}")
        if not self.eps > 0:
            raise ValueError(f"S5Config eps must be > 0, not {self.eps}")

    @property
    def family(self) -> Family:
        """Always :attr:`Family.S5`."""
        return Family.S5

    @property
    def glu_rows(self) -> int:
        """Rows of the mixing W: H (half GLU) or 2H (full GLU)."""
        return self.H if self.glu is Glu.HALF else 2 * self.H

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        for name in ("discretization", "norm", "glu"):
            d[name] = getattr(self, name).value
        return d

    @classmethod
    def from_json(cls, d: dict) -> "S5Config":
        d = dict(d)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"bad S5Config: unknown fields {sorted(unknown)}")
        missing = sorted(known - set(d))
        if missing:
            raise ValueError(f"bad S5Config: config lacks field {missing[0]!r}")
        try:
            d["discretization"] = Discretization(d["discretization"])
            d["norm"] = Norm(d["norm"])
            d["glu"] = Glu(d["glu"])
        except ValueError as exc:
            raise ValueError(f"bad S5Config: {exc}") from None
        return cls(**d)

    def norm_names(self) -> tuple[str, ...]:
        """Per-block norm arrays (H,): scale γ, bias β, and for BatchNorm the running mean μ, var σ²."""
        if self.norm is Norm.BATCH:
            return ("norm_scale", "norm_bias", "norm_mean", "norm_var")
        if self.norm is Norm.LAYER:
            return ("norm_scale", "norm_bias")
        return ()

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every array of a float checkpoint, by name, with its shape (all float32).

        Per block l:
          ``layers.{l}.Lambda_re``, ``Lambda_im`` (P,)   Λ = Lambda_re + i·Lambda_im
          ``layers.{l}.log_dt`` (P,)                     log Δ, one step per mode
          ``layers.{l}.B_re``, ``B_im`` (P, H)           B̃ = V⁻¹B
          ``layers.{l}.C_re``, ``C_im`` (H, P)           C̃ = CV
          ``layers.{l}.D`` (H,)
          ``layers.{l}.W`` (H or 2H, H), ``b`` (H or 2H,)   GLU Linear (half / full)
          ``layers.{l}.norm_*`` (H,)                     :meth:`norm_names`
        """
        H, P = self.H, self.P
        shapes: dict[str, tuple[int, ...]] = {"encoder.W": (H, 1), "encoder.b": (H,)}
        for l in range(self.L):
            p = f"layers.{l}."
            for name in ("Lambda_re", "Lambda_im", "log_dt"):
                shapes[p + name] = (P,)
            shapes[p + "B_re"] = shapes[p + "B_im"] = (P, H)
            shapes[p + "C_re"] = shapes[p + "C_im"] = (H, P)
            shapes[p + "D"] = (H,)
            shapes[p + "W"] = (self.glu_rows, H)
            shapes[p + "b"] = (self.glu_rows,)
            for name in self.norm_names():
                shapes[p + name] = (H,)
        shapes["decoder.W"] = (self.n_classes, H)
        shapes["decoder.b"] = (self.n_classes,)
        return shapes

    def n_params(self) -> int:
        """Number of real float values stored (BatchNorm running statistics included)."""
        return sum(_prod(s) for s in self.param_shapes().values())

    def n_trainable(self) -> int:
        """Number of trainable real parameters (without the BatchNorm running mean and variance)."""
        stats = ("norm_mean", "norm_var")
        return sum(_prod(s) for k, s in self.param_shapes().items() if k.rsplit(".", 1)[-1] not in stats)


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n
