"""Import the standalone S4D classifier of ``state-spaces/s4`` into an hwssm float checkpoint.

The source is the model of that repository's ``example.py`` (``S4Model``) built from its
minimal S4D layer (``models/s4/s4d.py``), whose state dict reads (H channels, M = N/2 modes,
K classes, block l)::

    encoder.weight (H, 1), encoder.bias (H,)                 Linear(d_input = 1 -> H)
    s4_layers.{l}.D (H,)                                     (or (1, H))
    s4_layers.{l}.kernel.log_dt (H,)
    s4_layers.{l}.kernel.C (H, M, 2)                         complex C as (real, imag)
    s4_layers.{l}.kernel.log_A_real (H, M)                   Re A = -exp(log_A_real)
      or s4_layers.{l}.kernel.inv_A_real (H, M)              Re A = -f(inv_A_real), f = RealTransform
    s4_layers.{l}.kernel.A_imag (H, M)
    s4_layers.{l}.kernel.B (H, M, 2)                         optional (absent: B = 1)
    s4_layers.{l}.output_linear.0.weight (2H, H, 1), .bias (2H,)   Conv1d(H -> 2H, 1) then GLU
    norms.{l}.weight, .bias (H,)                             LayerNorm over H (or BatchNorm1d: .running_*)
    decoder.weight (K, H), decoder.bias (K,)

The source computes, per block, ``y = K * u + D·u`` with ``K[k] = 2·Re(Σ_m C·(exp(ΔA) − 1)/A·exp(ΔA)^k)``
(ZOH with B = 1), then GELU, the 1×1 convolution and the GLU (first half times the sigmoid of
the second), dropout (identity at inference) and the residual; it pools by the *mean* over time
and takes its input as ``u = pixel·scale + offset`` (``ToTensor``: scale 1/255, offset 0).
hwssm's network (:mod:`hwssm.model.config`) has the same blocks with ZOH and B as a parameter,
takes ``u0 = pixel/256`` and pools by the *sum*. The import is exact up to float32 storage:

- encoder: ``W = W_src·scale·256``, ``b = b_src + W_src·offset``;
- decoder: ``W = W_src / T`` (mean → sum over the T steps of :attr:`S4DImport.seq_len`);
- ``C_re, C_im`` from ``kernel.C``; ``B`` from ``kernel.B`` or 1; ``log_A_real`` from the chosen
  transform; ``W, b`` of block l from ``output_linear.0``;
- LayerNorm (every ``norms.{l}`` with ``weight`` and ``bias`` of shape (H,)) becomes the
  network's own LayerNorm (``norm = Norm.LAYER``, γ = ``weight``, β = ``bias``, ε =
  :attr:`S4DImport.ln_eps`), before the S4D layer or after the residual as
  :attr:`S4DImport.norm` says (the reference's ``prenorm`` flag); the residual stream is the
  source's, so nothing is rescaled. (A LayerNorm without affine parameters leaves nothing in the
  state dict and cannot be told from no norm.)
- BatchNorm before the SSM (prenorm) folds its scale ``s = γ/√(σ² + ε)`` into B and D; its
  shift ``c = β − μ·s`` would be a constant input whose step response the S4D network has no
  term for, so a nonzero shift is refused. BatchNorm after the residual (postnorm) is refused
  with the reason; so are norms that mix LayerNorm and BatchNorm.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re

import numpy as np

from ...errors import HwssmError
from ..config import Discretization, Init, Norm, S4DConfig


class RealTransform(enum.Enum):
    """How ``kernel.inv_A_real`` gives Re A (the reference's ``real_transform``): Re A = -f(inv_A_real)."""

    EXP = "exp"
    NONE = "none"
    SOFTPLUS = "softplus"


class NormPlacement(enum.Enum):
    """Where the source applies ``norms.{l}``: before the S4D layer (prenorm) or after the residual."""

    PRE = "pre"
    POST = "post"


@dataclasses.dataclass(frozen=True)
class S4DImport:
    """How to read a source model that its state dict alone does not describe.

    Parameters
    ----------
    seq_len : int
        T, the sequence length the source model averages over (784 for sMNIST).
    input_scale, input_offset : float
        The source model's input is ``pixel·input_scale + input_offset`` (``ToTensor``: 1/255, 0).
    real_transform : RealTransform
        Only read for ``kernel.inv_A_real``.
    norm : NormPlacement
        Placement of ``norms.{l}`` when the state dict has them (the example's default is POST).
    bn_eps : float
        BatchNorm ε (PyTorch's default 1e-5).
    ln_eps : float
        LayerNorm ε (PyTorch's default 1e-5), > 0.
    shift_tolerance : float
        Largest |β − μ·s| of a prenorm BatchNorm accepted as zero.
    """

    seq_len: int = 784
    input_scale: float = 1.0 / 255.0
    input_offset: float = 0.0
    real_transform: RealTransform = RealTransform.EXP
    norm: NormPlacement = NormPlacement.POST
    bn_eps: float = 1e-5
    shift_tolerance: float = 1e-7
    ln_eps: float = 1e-5

    def __post_init__(self) -> None:
        if isinstance(self.seq_len, bool) or not isinstance(self.seq_len, int) or self.seq_len < 1:
            raise HwssmError(f"seq_len must be a positive integer, not {self.seq_len!r}")
        for name in ("input_scale", "input_offset", "bn_eps", "shift_tolerance"):
            if not math.isfinite(getattr(self, name)):
                raise HwssmError(f"{name} must be finite, not {getattr(self, name)!r}")
        if self.input_scale == 0.0:
            raise HwssmError("input_scale must not be 0")
        if not (math.isfinite(self.ln_eps) and self.ln_eps > 0):
            raise HwssmError(f"ln_eps must be a finite number > 0, not {self.ln_eps!r}")
        if not isinstance(self.real_transform, RealTransform) or not isinstance(self.norm, NormPlacement):
            raise HwssmError("real_transform and norm must be a RealTransform and a NormPlacement")

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["real_transform"], d["norm"] = self.real_transform.value, self.norm.value
        return d


_LAYER = re.compile(r"^s4_layers\.(\d+)\.")
_NORM = re.compile(r"^norms\.(\d+)\.")
_BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
_LN_KEYS = ("weight", "bias")


class _Reader:
    """Takes tensors out of the state dict by name, checking shapes; ``rest`` is what nobody took."""

    def __init__(self, state: dict[str, np.ndarray]):
        self.state = dict(state)
        self.rest = set(state)

    def has(self, name: str) -> bool:
        return name in self.state

    def take(self, name: str, *shapes: tuple[int, ...]) -> np.ndarray:
        if name not in self.state:
            raise HwssmError(f"state dict lacks tensor {name!r} (the S4D importer reads the state-spaces/s4 "
                             "example S4Model; see `hwssm import s4d --help`)")
        a = self.state[name]
        if shapes and a.shape not in shapes:
            raise HwssmError(f"tensor {name!r} has shape {tuple(a.shape)}, expected "
                             + " or ".join(str(s) for s in shapes))
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise HwssmError(f"tensor {name!r} holds NaN or infinite values")
        self.rest.discard(name)
        return a


def _count(state, pattern: re.Pattern, what: str) -> int:
    found = sorted({int(m.group(1)) for k in state if (m := pattern.match(k))})
    if found != list(range(len(found))):
        raise HwssmError(f"{what} indices are {found}, expected 0..{len(found) - 1} without gaps")
    return len(found)


def _log_A_real(r: _Reader, p: str, shape, transform: RealTransform) -> np.ndarray:
    if r.has(p + "kernel.log_A_real"):
        return r.take(p + "kernel.log_A_real", shape)
    inv = r.take(p + "kernel.inv_A_real", shape)
    if transform is RealTransform.EXP:
        return inv
    neg_re = inv if transform is RealTransform.NONE else np.logaddexp(0.0, inv)      # softplus
    if (neg_re <= 0).any():
        raise HwssmError(f"tensor {p}kernel.inv_A_real gives Re A >= 0 under the {transform.value!r} "
                         "transform (an unstable mode); check --real-transform")
    return np.log(neg_re)


def _layer_norm(r: _Reader, l: int, H: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(γ, β) of block l's LayerNorm, None when ``norms.{l}`` is not a LayerNorm."""
    p = f"norms.{l}."
    if {k[len(p):] for k in r.state if k.startswith(p)} != set(_LN_KEYS):
        return None
    return r.take(p + "weight", (H,)), r.take(p + "bias", (H,))


def _norm_scale(r: _Reader, l: int, H: int, opts: S4DImport) -> np.ndarray | None:
    """The prenorm BatchNorm scale s (H,) of block l, None without a norm; refuses the rest."""
    p = f"norms.{l}."
    keys = {k[len(p):] for k in r.state if k.startswith(p)}
    if not keys:
        return None
    if not {"running_mean", "running_var"} <= keys or not keys <= set(_BN_KEYS):
        raise HwssmError(f"norms.{l} has tensors {sorted(keys)}: neither a LayerNorm nor a BatchNorm1d")
    if opts.norm is NormPlacement.POST:
        raise HwssmError(f"norms.{l} is a BatchNorm after the residual (postnorm): it rescales the residual "
                         "stream, which the S4D network r[l+1] = r[l] + z has no term for; only a BatchNorm "
                         "before the S4D layer (--norm pre) folds")
    gamma = r.take(p + "weight", (H,)) if "weight" in keys else np.ones(H)
    beta = r.take(p + "bias", (H,)) if "bias" in keys else np.zeros(H)
    mu, var = r.take(p + "running_mean", (H,)), r.take(p + "running_var", (H,))
    if "num_batches_tracked" in keys:
        r.take(p + "num_batches_tracked")
    if (var + opts.bn_eps <= 0).any():
        raise HwssmError(f"norms.{l}.running_var + eps is not positive")
    s = gamma / np.sqrt(var + opts.bn_eps)
    shift = np.abs(beta - mu * s).max()
    if shift > opts.shift_tolerance:
        raise HwssmError(f"norms.{l}: a BatchNorm before the S4D layer with a nonzero shift (max |β − μ·s| = "
                         f"{shift:.3g}) adds a constant input whose step response the S4D network has no term "
                         "for; only its scale folds")
    return s


def import_s4d(state: dict[str, np.ndarray], options: S4DImport = S4DImport()
               ) -> tuple[S4DConfig, dict[str, np.ndarray]]:
    """The hwssm S4D config and float64 parameters equal to a ``state-spaces/s4`` S4D classifier.

    Parameters
    ----------
    state : dict of name -> array
        The source state dict (:func:`~hwssm.model.importers.state_dict.read_state_dict`).
    options : S4DImport

    Returns
    -------
    config : S4DConfig (ZOH; ``init`` is LIN, which only matters for a new training)
    params : dict of name -> float64 array, as :meth:`S4DConfig.param_shapes`

    Raises
    ------
    HwssmError
        A missing, extra or misshapen tensor (named), more than one input channel, or a norm the
        network cannot realise (with the reason).
    """
    r = _Reader(state)
    encW = r.take("encoder.weight")
    if encW.ndim != 2:
        raise HwssmError(f"tensor 'encoder.weight' has shape {tuple(encW.shape)}, expected (H, d_input)")
    H, d_input = encW.shape
    if d_input != 1:
        raise HwssmError(f"encoder.weight takes {d_input} input channels; hwssm's S4D encoder takes one "
                         "(one sample per step)")
    encb = r.take("encoder.bias", (H,))
    L = _count(state, _LAYER, "s4_layers")
    if L == 0:
        raise HwssmError("state dict has no s4_layers.{l}.* tensors (is it the state-spaces/s4 example S4Model?)")
    n_norms = _count(state, _NORM, "norms")
    if n_norms not in (0, L):
        raise HwssmError(f"state dict has {n_norms} norms for {L} s4_layers")
    C0 = r.state.get("s4_layers.0.kernel.C")
    if C0 is None or C0.ndim != 3 or C0.shape[0] != H or C0.shape[2] != 2:
        shape = None if C0 is None else tuple(C0.shape)
        raise HwssmError(f"tensor 's4_layers.0.kernel.C' has shape {shape}, expected ({H}, N/2, 2)")
    M = C0.shape[1]
    params: dict[str, np.ndarray] = {}
    params["encoder.W"] = encW * options.input_scale * 256.0
    params["encoder.b"] = encb + encW[:, 0] * options.input_offset
    lns = 0
    for l in range(L):
        p, q = f"s4_layers.{l}.", f"layers.{l}."
        C = r.take(p + "kernel.C", (H, M, 2))
        B = r.take(p + "kernel.B", (H, M, 2)) if r.has(p + "kernel.B") else np.stack(
            [np.ones((H, M)), np.zeros((H, M))], axis=-1)
        D = r.take(p + "D", (H,), (1, H)).reshape(H)
        ln = _layer_norm(r, l, H)
        if ln is not None:
            params[q + "norm_scale"], params[q + "norm_bias"] = ln
            lns += 1
        s = None if ln is not None else _norm_scale(r, l, H, options)
        if s is not None:
            B, D = B * s[:, None, None], D * s
        W = r.take(p + "output_linear.0.weight", (2 * H, H, 1), (2 * H, H)).reshape(2 * H, H)
        params.update({
            q + "log_dt": r.take(p + "kernel.log_dt", (H,)),
            q + "log_A_real": _log_A_real(r, p, (H, M), options.real_transform),
            q + "A_imag": r.take(p + "kernel.A_imag", (H, M)),
            q + "B_re": B[..., 0], q + "B_im": B[..., 1],
            q + "C_re": C[..., 0], q + "C_im": C[..., 1],
            q + "D": D, q + "W": W, q + "b": r.take(p + "output_linear.0.bias", (2 * H,)),
        })
    decW = r.take("decoder.weight")
    if decW.ndim != 2 or decW.shape[1] != H:
        raise HwssmError(f"tensor 'decoder.weight' has shape {tuple(decW.shape)}, expected (K, {H})")
    K = decW.shape[0]
    params["decoder.W"] = decW / options.seq_len
    params["decoder.b"] = r.take("decoder.bias", (K,))
    if r.rest:
        extra = sorted(r.rest)
        raise HwssmError(f"state dict has tensor {extra[0]!r} that the S4D importer does not know "
                         f"({len(extra)} unknown); is it the state-spaces/s4 example S4Model?")
    if lns not in (0, L):
        raise HwssmError(f"state dict has {lns} LayerNorms among {L} norms: the others are BatchNorms; "
                         "hwssm's blocks take one kind of norm")
    norm = dict(norm=Norm.LAYER, prenorm=options.norm is NormPlacement.PRE, eps=options.ln_eps) if lns else {}
    config = S4DConfig(H=H, N=2 * M, L=L, n_classes=K, init=Init.LIN, discretization=Discretization.ZOH, **norm)
    return config, {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
