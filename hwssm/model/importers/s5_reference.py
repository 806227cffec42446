"""Import the S5 classifier of ``lindermanlab/S5`` (JAX/flax) into an hwssm S5 float checkpoint.

The source is ``s5/seq_model.py``'s ``ClassificationModel`` (a ``StackedEncoderModel`` of
``s5/layers.py``'s ``SequenceLayer`` around ``s5/ssm.py``'s ``S5SSM``, a Dense decoder). Its
flax variables, flattened with ``flax.traverse_util.flatten_dict(variables, sep="/")`` and
saved with ``np.savez`` (an array per leaf, named by its path joined with ``/``)::

    params/encoder/encoder/kernel (d_input, H), .../bias (H,)       Dense(d_input -> H), d_input = 1
    params/encoder/layers_{l}/seq/Lambda_re (P,), Lambda_im (P,)    Λ (P complex modes; the conjugate
                                                                    half is implicit when conj_sym)
    params/encoder/layers_{l}/seq/B (P, H, 2)                        B̃ as (real, imag)
    params/encoder/layers_{l}/seq/C (H, P, 2)                        C̃ as (real, imag)
    params/encoder/layers_{l}/seq/D (H,)
    params/encoder/layers_{l}/seq/log_step (P, 1)                    log Δ per mode
    params/encoder/layers_{l}/out2/kernel (H, H), bias (H,)          the GLU gate (half_glu1)
    params/encoder/layers_{l}/out1/kernel (H, H), bias (H,)          and the value (full_glu only)
    params/encoder/layers_{l}/norm/scale (H,), bias (H,)             BatchNorm γ, β (or LayerNorm)
    batch_stats/encoder/layers_{l}/norm/mean (H,), var (H,)          BatchNorm running μ, σ²
    params/decoder/kernel (H, K), bias (K,)

Keys without a ``params/`` or ``batch_stats/`` prefix are read as ``params/`` (a file of
``flatten_dict(state.params)`` alone, with the BatchNorm statistics added as ``batch_stats/...``).
Flax's Dense computes ``x @ kernel + bias``. The source computes, per block (inference: dropout
is the identity, BatchNorm uses its running statistics, ``y = BN(x) = (x − μ)/√(σ² + ε)·γ + β``)::

    n = Norm(r)                                    (prenorm; postnorm: Norm after the residual)
    Λ̄, B̄ = ZOH or bilinear of (Λ, B̃, Δ = step_rescale·exp(log_step))
    x[t] = Λ̄ x[t-1] + B̄ n[t];  y = 2·Re(C̃ x) + D ⊙ n        (Re(C̃x) without conj_sym)
    half_glu1: g = GELU(y), z = g ⊙ σ(out2(g));  full_glu: z = out1(g) ⊙ σ(out2(g))
    r ← r + z
    logits = decoder(mean_t r[t])                  (mode "pool", unpadded)

hwssm's S5 network (:mod:`hwssm.model.s5_config`) has the same blocks, takes ``u0 = pixel/256``
and pools by the *sum*. The import maps, exactly up to float32 storage:

- encoder: ``W = kernelᵀ·scale·256``, ``b = bias + kernel[0]·offset`` (the source's input is
  ``pixel·scale + offset``; S5's MNIST loader: ``ToTensor``, scale 1/255, offset 0);
- ``Lambda_re`` (clipped to ≤ −1e-4 when the source ran with ``clip_eigs``), ``Lambda_im``;
  ``log_dt = log_step[:, 0] + log(step_rescale)``; ``B_re, B_im`` from ``B``; ``C_re, C_im``
  from ``C`` (halved without ``conj_sym``, since hwssm reads out 2·Re); ``D``;
- GLU: half ``W = out2.kernelᵀ``, ``b = out2.bias``; full ``W = [out1.kernelᵀ; out2.kernelᵀ]``,
  ``b = [out1.bias; out2.bias]``;
- a prenorm BatchNorm as hwssm's ``norm = batch`` (its arrays as they are; the integer path
  folds it into B̄ and D, :func:`hwssm.model.s5.fold_batchnorm`), ε = ``bn_eps`` (flax: 1e-5);
- decoder: ``W = kernelᵀ / T`` (mean → sum over the T = ``seq_len`` steps), ``b = bias``.

Refused with the reason, in one line: a LayerNorm (norm arrays without batch statistics), a
postnorm BatchNorm, the ``half_glu2`` and ``gelu`` activations, a bidirectional SSM (``C1``,
``C2``), more than one input channel; and any missing, extra, misshapen or non-finite array.

Not visible in the tree, so taken on trust: mean pooling (``mode="pool"``, not ``"last"``,
no padding masks), and GELU. hwssm's GELU is the exact one, x·Φ(x); flax's ``nn.gelu``
defaults to the tanh approximation, which differs from it by at most about 5e-4 per
activation (far below an 8-bit activation step), so a source trained with the default is
imported close to, not exactly onto, its float logits (tests/model/test_import_s5.py measures it).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from pathlib import Path

import numpy as np

from ...errors import HwssmError
from ..config import Discretization
from ..s5_config import Glu, Norm, S5Config
from .s4d_reference import NormPlacement
from .state_dict import _as_array, _read_npz

__all__ = ["S5Activation", "S5Import", "import_s5", "read_param_tree", "PARAMS", "BATCH_STATS"]

PARAMS, BATCH_STATS = "params/", "batch_stats/"
_LAYER = re.compile(r"^params/encoder/layers_(\d+)/")
_MIN_RE = -1e-4        # S5SSM's clip_eigs bound on Re Λ


class S5Activation(enum.Enum):
    """The source's ``activation_fn``; hwssm's block has a GELU then a half or a full GLU."""

    HALF_GLU1 = "half_glu1"
    HALF_GLU2 = "half_glu2"
    FULL_GLU = "full_glu"
    GELU = "gelu"


@dataclasses.dataclass(frozen=True)
class S5Import:
    """How to read a source model that its parameter tree alone does not describe.

    Parameters
    ----------
    seq_len : int
        T, the sequence length the source averages over (784 for sMNIST).
    input_scale, input_offset : float
        The source's input is ``pixel·input_scale + input_offset`` (S5's MNIST: 1/255, 0).
    discretization : Discretization
        The source's ``discretization`` (zoh, its default, or bilinear).
    activation : S5Activation or None
        The source's ``activation_fn``; None reads it from the tree (``out1`` present: full_glu,
        else half_glu1, S5's default).
    norm : NormPlacement
        The source's ``prenorm`` (True, its default: PRE).
    conj_sym, clip_eigs : bool
        The source's ``conj_sym`` (default True) and ``clip_eigs`` (default False).
    step_rescale : float
        The source's ``step_rescale`` (Δ = step_rescale·exp(log_step); default 1).
    bn_eps : float
        BatchNorm ε (flax's default 1e-5).
    """

    seq_len: int = 784
    input_scale: float = 1.0 / 255.0
    input_offset: float = 0.0
    discretization: Discretization = Discretization.ZOH
    activation: S5Activation | None = None
    norm: NormPlacement = NormPlacement.PRE
    conj_sym: bool = True
    clip_eigs: bool = False
    step_rescale: float = 1.0
    bn_eps: float = 1e-5

    def __post_init__(self) -> None:
        if isinstance(self.seq_len, bool) or not isinstance(self.seq_len, int) or self.seq_len < 1:
            raise HwssmError(f"seq_len must be a positive integer, not {self.seq_len!r}")
        for name in ("input_scale", "input_offset", "step_rescale", "bn_eps"):
            if not math.isfinite(getattr(self, name)):
                raise HwssmError(f"{name} must be finite, not {getattr(self, name)!r}")
        if self.input_scale == 0.0:
            raise HwssmError("input_scale must not be 0")
        if not self.step_rescale > 0 or not self.bn_eps > 0:
            raise HwssmError("step_rescale and bn_eps must be > 0")
        if not isinstance(self.discretization, Discretization) or not isinstance(self.norm, NormPlacement):
            raise HwssmError("discretization and norm must be a Discretization and a NormPlacement")
        if self.activation is not None and not isinstance(self.activation, S5Activation):
            raise HwssmError(f"activation must be an S5Activation or None, not {self.activation!r}")

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["discretization"], d["norm"] = self.discretization.value, self.norm.value
        d["activation"] = None if self.activation is None else self.activation.value
        return d


def read_param_tree(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a flattened flax variable tree saved as NPZ, keyed ``params/...`` or
    ``batch_stats/...`` (a key without either prefix is a ``params/`` key), float64.

    Raises HwssmError (one line): a missing or unreadable file, another suffix, pickled or
    non-numeric arrays, no arrays, a key given both with and without ``params/``.
    """
    path = Path(path)
    if not path.is_file():
        raise HwssmError(f"{path}: no such file (give the flattened flax variables as .npz)")
    if path.suffix.lower() != ".npz":
        raise HwssmError(f"{path}: expected an .npz of the flattened flax variables, not {path.suffix!r}")
    raw = _read_npz(path)
    if not raw:
        raise HwssmError(f"{path}: holds no arrays")
    out: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        key = name if name.startswith((PARAMS, BATCH_STATS)) else PARAMS + name
        if key in out:
            raise HwssmError(f"{path}: array {key!r} is given twice (with and without the 'params/' prefix)")
        out[key] = _as_array(name, value, str(path))
    return out


class _Tree:
    """Takes arrays out of the flattened tree by path, checking shapes; ``rest`` is what nobody took."""

    def __init__(self, tree: dict[str, np.ndarray]):
        self.tree = {k if k.startswith((PARAMS, BATCH_STATS)) else PARAMS + k: v for k, v in tree.items()}
        self.rest = set(self.tree)

    def has(self, name: str) -> bool:
        return name in self.tree

    def take(self, name: str, *shapes: tuple[int, ...]) -> np.ndarray:
        if name not in self.tree:
            raise HwssmError(f"parameter tree lacks array {name!r} (the S5 importer reads lindermanlab/S5's "
                             "ClassificationModel; see `hwssm import s5 --help`)")
        a = np.asarray(self.tree[name])
        if shapes and a.shape not in shapes:
            raise HwssmError(f"array {name!r} has shape {tuple(a.shape)}, expected "
                             + " or ".join(str(s) for s in shapes))
        if a.dtype.kind not in "fiu" or not np.isfinite(a).all():
            raise HwssmError(f"array {name!r} holds NaN, infinite or non-numeric values")
        self.rest.discard(name)
        return a.astype(np.float64)


def _count_layers(tree: _Tree) -> int:
    found = sorted({int(m.group(1)) for k in tree.tree if (m := _LAYER.match(k))})
    if found != list(range(len(found))):
        raise HwssmError(f"encoder layers_ indices are {found}, expected 0..{len(found) - 1} without gaps")
    if not found:
        raise HwssmError("parameter tree has no params/encoder/layers_{l}/... arrays (is it lindermanlab/S5's "
                         "ClassificationModel, flattened with '/'?)")
    return len(found)


def _activation(tree: _Tree, L: int, opts: S5Import) -> Glu:
    has1 = [tree.has(f"params/encoder/layers_{l}/out1/kernel") for l in range(L)]
    has2 = [tree.has(f"params/encoder/layers_{l}/out2/kernel") for l in range(L)]
    act = opts.activation
    if act is None:
        act = S5Activation.FULL_GLU if has1[0] else (S5Activation.HALF_GLU1 if has2[0] else S5Activation.GELU)
    if act is S5Activation.HALF_GLU2:
        raise HwssmError("activation half_glu2 gates the SSM output itself, y·σ(out2(GELU(y))); hwssm's half GLU "
                         "is GELU(y)·σ(out2(GELU(y))) (half_glu1), so the model has no hwssm form")
    if act is S5Activation.GELU:
        raise HwssmError("activation gelu has no GLU (no out2 Dense); hwssm's S5 block always ends in a GLU "
                         "(half_glu1 or full_glu)")
    want1 = act is S5Activation.FULL_GLU
    for l in range(L):
        if has1[l] != want1 or not has2[l]:
            what = "out1 and out2" if want1 else "out2 (and no out1)"
            raise HwssmError(f"params/encoder/layers_{l} does not have the Dense layers of {act.value}: "
                             f"expected {what}")
    return Glu.FULL if want1 else Glu.HALF


def _norm(tree: _Tree, L: int, opts: S5Import) -> Norm:
    has = [tree.has(f"params/encoder/layers_{l}/norm/scale") or tree.has(f"params/encoder/layers_{l}/norm/bias")
           or tree.has(f"batch_stats/encoder/layers_{l}/norm/mean") for l in range(L)]
    if not any(has):
        return Norm.NONE
    if not all(has):
        raise HwssmError(f"encoder/layers_{has.index(False)} has no norm arrays while other layers have them")
    for l in range(L):
        if not tree.has(f"batch_stats/encoder/layers_{l}/norm/mean"):
            raise HwssmError(f"encoder/layers_{l}/norm is a LayerNorm (no batch_stats mean/var): it needs a per-step "
                             "mean and 1/sqrt(variance) over the H channels, which hwssm's integer path does not "
                             "have; train with --batchnorm True (or add the batch_stats arrays)")
    if opts.norm is NormPlacement.POST:
        raise HwssmError("the BatchNorm sits after the residual (prenorm False): it rescales the residual stream, "
                         "which hwssm's S5 block r[l+1] = r[l] + z has no term for; only a prenorm BatchNorm folds")
    return Norm.BATCH


def import_s5(tree: dict[str, np.ndarray], options: S5Import = S5Import()) -> tuple[S5Config, dict[str, np.ndarray]]:
    """The hwssm S5 config and float64 parameters equal to a ``lindermanlab/S5`` classifier.

    Parameters
    ----------
    tree : dict of path -> array
        The flattened flax variables (:func:`read_param_tree`; keys as the module docstring).
    options : S5Import

    Returns
    -------
    config : S5Config (J = 1: J only shapes a new initialization)
    params : dict of name -> float64 array, as :meth:`S5Config.param_shapes`

    Raises
    ------
    HwssmError
        A missing, extra, misshapen or non-finite array (named), or a part of the source that
        hwssm's S5 network has no form for (with the reason); one line.
    """
    t = _Tree(tree)
    kernel = t.take("params/encoder/encoder/kernel")
    if kernel.ndim != 2:
        raise HwssmError(f"array 'params/encoder/encoder/kernel' has shape {kernel.shape}, expected (d_input, H)")
    d_input, H = kernel.shape
    if d_input != 1:
        raise HwssmError(f"the encoder Dense takes {d_input} input features; hwssm's S5 encoder reads one sample "
                         "per step")
    bias = t.take("params/encoder/encoder/bias", (H,))
    L = _count_layers(t)
    seq0 = "params/encoder/layers_0/seq/"
    if t.has(seq0 + "C1") or t.has(seq0 + "C2"):
        raise HwssmError("the SSM is bidirectional (seq/C1, seq/C2): hwssm runs causal, one-directional S5 blocks")
    lam0 = t.tree.get(seq0 + "Lambda_re")
    if lam0 is None or np.ndim(lam0) != 1:
        raise HwssmError(f"array {seq0 + 'Lambda_re'!r} is missing or not 1-D (P,)")
    P = int(np.shape(lam0)[0])
    glu, norm = _activation(t, L, options), _norm(t, L, options)
    rows = H if glu is Glu.HALF else 2 * H
    params: dict[str, np.ndarray] = {"encoder.W": kernel.T * options.input_scale * 256.0,
                                     "encoder.b": bias + kernel[0] * options.input_offset}
    for l in range(L):
        s, q = f"params/encoder/layers_{l}/", f"layers.{l}."
        lam_re = t.take(s + "seq/Lambda_re", (P,))
        if options.clip_eigs:
            lam_re = np.minimum(lam_re, _MIN_RE)
        B = t.take(s + "seq/B", (P, H, 2))
        C = t.take(s + "seq/C", (H, P, 2)) * (1.0 if options.conj_sym else 0.5)
        log_step = t.take(s + "seq/log_step", (P, 1), (P,)).reshape(P)
        k2, b2 = t.take(s + "out2/kernel", (H, H)), t.take(s + "out2/bias", (H,))
        if glu is Glu.FULL:
            W = np.concatenate([t.take(s + "out1/kernel", (H, H)).T, k2.T])
            b = np.concatenate([t.take(s + "out1/bias", (H,)), b2])
        else:
            W, b = k2.T, b2
        params.update({
            q + "Lambda_re": lam_re, q + "Lambda_im": t.take(s + "seq/Lambda_im", (P,)),
            q + "log_dt": log_step + math.log(options.step_rescale),
            q + "B_re": B[..., 0], q + "B_im": B[..., 1], q + "C_re": C[..., 0], q + "C_im": C[..., 1],
            q + "D": t.take(s + "seq/D", (H,)), q + "W": W.reshape(rows, H), q + "b": b,
        })
        if norm is Norm.BATCH:
            st = f"batch_stats/encoder/layers_{l}/norm/"
            var = t.take(st + "var", (H,))
            if (var + options.bn_eps <= 0).any():
                raise HwssmError(f"array {st + 'var'!r} + eps is not positive")
            params.update({
                q + "norm_scale": t.take(s + "norm/scale", (H,)) if t.has(s + "norm/scale") else np.ones(H),
                q + "norm_bias": t.take(s + "norm/bias", (H,)) if t.has(s + "norm/bias") else np.zeros(H),
                q + "norm_mean": t.take(st + "mean", (H,)), q + "norm_var": var,
            })
    dk = t.take("params/decoder/kernel")
    if dk.ndim != 2 or dk.shape[0] != H:
        raise HwssmError(f"array 'params/decoder/kernel' has shape {dk.shape}, expected ({H}, K)")
    K = dk.shape[1]
    params["decoder.W"] = dk.T / options.seq_len
    params["decoder.b"] = t.take("params/decoder/bias", (K,))
    if t.rest:
        extra = sorted(t.rest)
        raise HwssmError(f"parameter tree has array {extra[0]!r} that the S5 importer does not know "
                         f"({len(extra)} unknown); is it lindermanlab/S5's ClassificationModel?")
    config = S5Config(H=H, P=P, L=L, n_classes=K, J=1, discretization=options.discretization, norm=norm, glu=glu,
                      eps=options.bn_eps)
    return config, {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
