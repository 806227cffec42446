"""S4DConfig: the shape and recipe of a float S4D classifier, and its parameter schema.

Symbols follow the S4/S4D papers:

H
    model width (channels, "heads" of the SSM),
N
    state size per channel; the SSM keeps N/2 complex modes per channel (written M = N/2),
L
    number of S4D blocks (depth). The sequence length is written T (784 for sMNIST).

The network (see ``hwssm/model/s4d.py``)::

    u0[t]      = pixel[t] / 256                              # (T, C), C input channels (1 for sMNIST)
    r_0        = encoder.W @ u0 + encoder.b                  # (T, H)
    (token models, vocab V: r_0[t] = encoder.E[token[t]], an embedding (V, H))
    for l in 0..L-1:
        y      = S4D_l(r_l)                                  # (T, H), y = 2·Re(C̄x) + D·u
        g      = GELU(y)
        v      = g @ W_l.T + b_l                             # (T, 2H)
        z      = v[:, :H] * sigmoid(v[:, H:])                # GLU
        r_{l+1} = r_l + z                                    # residual
    s          = Σ_t r_L[t]                                  # (H,) sum-pool over time
    logits     = decoder.W @ s + decoder.b                   # (10,)

With a LayerNorm per block (``norm = Norm.LAYER``, the ``state-spaces/s4`` example's ``norms``),
LN(r)[h] = (r[h] − μ)/√(σ² + ε)·γ_l[h] + β_l[h] over the H channels of one step (μ, σ² the mean
and biased variance): prenorm applies it to the S4D input, ``y = S4D_l(LN_l(r_l))`` (the residual
adds the un-normalized r_l); postnorm to the block output, ``r_{l+1} = LN_l(r_l + z)``.
"""

from __future__ import annotations

import dataclasses
import enum
import operator


class Family(enum.Enum):
    """Model family of a float checkpoint: S4D (H SISO systems of N/2 modes) or S5 (one MIMO
    system of P modes shared by the H channels, :mod:`hwssm.model.s5_config`)."""

    S4D = "s4d"
    S5 = "s5"


class Norm(enum.Enum):
    """Per-block normalization of an S4D classifier: none, or a LayerNorm over the H channels
    (placed before the S4D layer or after the residual, :attr:`S4DConfig.prenorm`)."""

    NONE = "none"
    LAYER = "layer"


class Init(enum.Enum):
    """Initialization of A: S4D-Lin (A_n = -1/2 + iπn) or S4D-Inv (A_n = -1/2 + i N/π (N/(2n+1) - 1))."""

    LIN = "lin"
    INV = "inv"


class Discretization(enum.Enum):
    """Discretization of (A, B) with step Δ: zero-order hold or bilinear."""

    ZOH = "zoh"
    BILINEAR = "bilinear"


@dataclasses.dataclass(frozen=True)
class S4DConfig:
    """Shape of an S4D classifier.

    Parameters
    ----------
    H : int
        Channels.
    N : int
        State size per channel (even; N/2 complex modes).
    L : int
        Number of S4D blocks.
    n_classes : int
        Output classes (10 for MNIST).
    init : Init
        Initialization of A.
    discretization : Discretization
        ZOH or bilinear.
    dt_min, dt_max : float
        Range of the log-uniform initial step Δ.
    C : int
        Input channels per step (samples u8.8 each); 1 for sMNIST. Written to JSON only when
        not 1, so older checkpoints read (and hash) unchanged.
    vocab : int or None
        Token vocabulary V: the encoder is an embedding ``encoder.E`` (V, H) indexed by the
        token id of each step (C must be 1); None for the linear encoder. Written only when set.
    norm : Norm
        Per-block LayerNorm (``layers.{l}.norm_scale`` γ, ``layers.{l}.norm_bias`` β, (H,) each)
        or none. ``norm``, ``prenorm`` and ``eps`` are written to JSON only with a LayerNorm, so
        older checkpoints read (and hash) unchanged.
    prenorm : bool
        LayerNorm before the S4D layer (True) or after the residual (False, the reference's default).
    eps : float
        LayerNorm ε (σ² + ε), > 0.
    """

    H: int = 64
    N: int = 64
    L: int = 4
    n_classes: int = 10
    init: Init = Init.LIN
    discretization: Discretization = Discretization.ZOH
    dt_min: float = 1e-3
    dt_max: float = 1e-1
    C: int = 1
    vocab: int | None = None
    norm: Norm = Norm.NONE
    prenorm: bool = False
    eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("H", "N", "L", "n_classes", "C") + (("vocab",) if self.vocab is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"S4DConfig {name} must be an integer, not {type(value).__name__}")
            if operator.index(value) < 1:
                raise ValueError(f"S4DConfig {name} must be >= 1, not {value}")
        if self.N % 2:
            raise ValueError(f"S4DConfig N must be even (N/2 complex modes), not {self.N}")
        if not isinstance(self.init, Init):
            raise ValueError(f"S4DConfig init must be an Init, not {self.init!r}")
        if not isinstance(self.discretization, Discretization):
            raise ValueError(f"S4DConfig discretization must be a Discretization, not {self.discretization!r}")
        if not (0 < self.dt_min <= self.dt_max):
            raise ValueError(f"S4DConfig needs 0 < dt_min <= dt_max, not {self.dt_min}, {self.dt_max}")
        if not isinstance(self.norm, Norm):
            raise ValueError(f"S4DConfig norm must be a Norm, not {self.norm!r}")
        if not isinstance(self.prenorm, bool):
            raise ValueError(f"S4DConfig prenorm must be a bool, not {self.prenorm!r}")
        if isinstance(self.eps, bool) or not isinstance(self.eps, (int, float)) or not self.eps > 0:
            raise ValueError(f"S4DConfig eps must be a number > 0, not {self.eps!r}")
        if self.vocab is not None and self.C != 1:
            raise ValueError(f"S4DConfig: a token model (vocab {self.vocab}) reads one token per step, not C={self.C}")

    @property
    def tokens(self) -> bool:
        """True for a token model (embedding encoder)."""
        return self.vocab is not None

    @property
    def family(self) -> Family:
        """Always :attr:`Family.S4D`."""
        return Family.S4D

    @property
    def M(self) -> int:
        """Complex modes per channel, N/2."""
        return self.N // 2

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["init"] = self.init.value
        d["discretization"] = self.discretization.value
        if self.C == 1:
            del d["C"]          # absent means 1: older checkpoints keep their bytes and digests
        if self.vocab is None:
            del d["vocab"]
        if self.norm is Norm.NONE:   # absent means no norm: older checkpoints keep their bytes
            for k in ("norm", "prenorm", "eps"):
                del d[k]
        else:
            d["norm"] = self.norm.value
        return d

    @classmethod
    def from_json(cls, d: dict) -> "S4DConfig":
        d = dict(d)
        try:
            d["init"] = Init(d.get("init", "lin"))
            d["discretization"] = Discretization(d.get("discretization", "zoh"))
            d["norm"] = Norm(d.get("norm", "none"))
        except ValueError as exc:
            raise ValueError(f"bad S4DConfig: {exc}") from None
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"bad S4DConfig: unknown fields {sorted(unknown)}")
        return cls(**d)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every array of a float checkpoint, by name, with its shape (all float32).

        Encoder: ``encoder.W`` (H, C) and ``encoder.b`` (H,), or for a token model only
        ``encoder.E`` (V, H). Per block l:
          ``layers.{l}.log_dt`` (H,)          log Δ
          ``layers.{l}.log_A_real`` (H, M)    A = -exp(log_A_real) + i·A_imag
          ``layers.{l}.A_imag`` (H, M)
          ``layers.{l}.B_re``, ``B_im`` (H, M)
          ``layers.{l}.C_re``, ``C_im`` (H, M)
          ``layers.{l}.D`` (H,)
          ``layers.{l}.W`` (2H, H), ``layers.{l}.b`` (2H,)   mixing Linear(H→2H) before the GLU
          ``layers.{l}.norm_scale``, ``norm_bias`` (H,)       LayerNorm γ, β (only with a LayerNorm)
        """
        H, M = self.H, self.M
        shapes: dict[str, tuple[int, ...]] = ({"encoder.E": (self.vocab, H)} if self.tokens
                                              else {"encoder.W": (H, self.C), "encoder.b": (H,)})
        for l in range(self.L):
            p = f"layers.{l}."
            shapes[p + "log_dt"] = (H,)
            for name in ("log_A_real", "A_imag", "B_re", "B_im", "C_re", "C_im"):
                shapes[p + name] = (H, M)
            shapes[p + "D"] = (H,)
            shapes[p + "W"] = (2 * H, H)
            shapes[p + "b"] = (2 * H,)
            if self.norm is Norm.LAYER:
                shapes[p + "norm_scale"] = (H,)
                shapes[p + "norm_bias"] = (H,)
        shapes["decoder.W"] = (self.n_classes, H)
        shapes["decoder.b"] = (self.n_classes,)
        return shapes

    def n_params(self) -> int:
        """Number of real float parameters."""
        total = 0
        for shape in self.param_shapes().values():
            n = 1
            for s in shape:
                n *= s
            total += n
        return total
