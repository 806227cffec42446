"""The float S4D classifier (float64 numpy): forward pass, activation trace, prediction.

The network is the one written in :mod:`hwssm.model.config`; the S4D layer is :mod:`hwssm.model.s4d`.
Activations are float64 ``(B, T, C)`` (batch, time, channels).

Calibration points (names used by PTQ), for block l = 0..L-1:

``"r"``  residual stream entering block l, (B, T, H); ``r[L]`` is the stream after the last block
``"y"``  S4D output, (B, T, H)
``"g"``  GELU(y), (B, T, H)
``"v"``  mixing Linear output, (B, T, 2H)
``"z"``  GLU output, (B, T, H)
``"x"``  SSM state, complex128 (B', T, H, M), only for the sequences asked for (``state_of``)
``"n"``  with a LayerNorm only (:attr:`Trace.n`): prenorm, LN(r_l), the S4D input; postnorm,
         the residual sum r_l + z before the norm; (B, T, H)
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
from collections.abc import Sequence

import numpy as np

from ..errors import HwssmError
from .config import Norm, S4DConfig
from .s4d import discretize, kernel, layer_params, ssm_convolution, ssm_recurrent

#: Names of the calibration points, in the order they occur in a block.
POINTS = ("r", "y", "x", "g", "v", "z")


class Mode(enum.Enum):
    """How the S4D layers are evaluated: FFT convolution (fast) or step-by-step recurrence."""

    CONV = "conv"
    RECURRENT = "recurrent"


_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _erf_scalar(v):
    return math.erf(v)


def _gelu_scalar(v):
    return 0.5 * v * (1.0 + math.erf(v * _INV_SQRT2))


def _sigmoid_scalar(v):
    if v >= 0.0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


@functools.cache
def _ufunc(scalar):
    """``scalar`` as a float64 numba ufunc, compiled (or loaded from numba's cache) on first use."""
    import numba

    from ..config import JIT_FLAGS

    flags = {k: JIT_FLAGS[k] for k in ("nopython", "cache", "fastmath")}
    return numba.vectorize(["float64(float64)"], **flags)(scalar)


def erf(x: np.ndarray) -> np.ndarray:
    """Elementwise error function (libm ``erf``), float64."""
    return _ufunc(_erf_scalar)(np.asarray(x, dtype=np.float64))


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)), float64."""
    return _ufunc(_gelu_scalar)(np.asarray(x, dtype=np.float64))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function 1/(1 + exp(-x)), float64; exp(x)/(1 + exp(x)) for x < 0 (no overflow)."""
    return _ufunc(_sigmoid_scalar)(np.asarray(x, dtype=np.float64))


@dataclasses.dataclass
class Trace:
    """Intermediate activations of one forward pass (see the module docstring for the points).

    ``r`` has L+1 entries, ``y, g, v, z`` have L, ``x`` has L entries when states were asked
    for (else it is empty) and ``state_of`` names the batch rows they belong to.
    ``s`` is the sum-pooled stream (B, H) and ``logits`` (B, n_classes).
    """

    r: list[np.ndarray]
    y: list[np.ndarray]
    g: list[np.ndarray]
    v: list[np.ndarray]
    z: list[np.ndarray]
    x: list[np.ndarray]
    state_of: tuple[int, ...]
    s: np.ndarray | None = None
    logits: np.ndarray | None = None
    n: list[np.ndarray] = dataclasses.field(default_factory=list)

    def ssm_input(self, l: int, prenorm: bool) -> np.ndarray:
        """The S4D input of block l: LN(r_l) for a prenorm LayerNorm (``n[l]``), else r_l."""
        return self.n[l] if prenorm and self.n else self.r[l]

    def point(self, name: str) -> list[np.ndarray]:
        """The per-layer list of point ``name`` (one of :data:`POINTS`)."""
        if name not in POINTS:
            raise KeyError(f"unknown calibration point {name!r}; known: {POINTS}")
        return getattr(self, name)


def _check_pixels(pixels) -> np.ndarray:
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] < 1:
        raise HwssmError(f"pixels must be uint8 of shape (B, T), not {pixels.dtype} {pixels.shape}")
    return pixels


def check_inputs(x, config: S4DConfig) -> np.ndarray:
    """The model's input, checked: uint8 (B, T) or (B, T, C) samples (u8.8 codes) of a linear
    encoder with C channels, or integer (B, T) token ids in [0, V) of a token model.
    Returns (B, T) for C = 1 and token models, else (B, T, C)."""
    x = np.asarray(x)
    if config.tokens:
        if x.ndim == 3 and x.shape[2] == 1:
            x = x[:, :, 0]
        if x.dtype.kind not in "iu" or x.ndim != 2 or x.shape[1] < 1:
            raise HwssmError(f"tokens must be integers of shape (B, T), not {x.dtype} {x.shape}")
        if x.size and (x.min() < 0 or x.max() >= config.vocab):
            raise HwssmError(f"token ids must lie in [0, {config.vocab})")
        return x
    if x.ndim == 3 and config.C == 1 and x.shape[2] == 1:
        x = x[:, :, 0]
    if config.C == 1:
        return _check_pixels(x)
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1] < 1 or x.shape[2] != config.C:
        raise HwssmError(f"samples must be uint8 of shape (B, T, {config.C}), not {x.dtype} {x.shape}")
    return x


def encode(params: dict[str, np.ndarray], config: S4DConfig, x: np.ndarray) -> np.ndarray:
    """The encoder's output r_0 (B, T, H), float64, of checked inputs (:func:`check_inputs`)."""
    if config.tokens:
        return np.asarray(params["encoder.E"], dtype=np.float64)[x]
    encW = np.asarray(params["encoder.W"], dtype=np.float64)          # (H, C)
    encb = np.asarray(params["encoder.b"], dtype=np.float64)          # (H,)
    if config.C == 1:
        u0 = x.astype(np.float64) / 256.0                             # (B, T)
        return u0[:, :, None] * encW[:, 0] + encb
    return (x.astype(np.float64) / 256.0) @ encW.T + encb


def layer_norm(r: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis (H): (r − μ)/√(σ² + ε)·γ + β, σ² the biased variance; float64."""
    mu = r.mean(axis=-1, keepdims=True)
    var = ((r - mu) ** 2).mean(axis=-1, keepdims=True)
    return (r - mu) / np.sqrt(var + eps) * gamma + beta


def _norms(params: dict[str, np.ndarray], config: S4DConfig) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """Per block: the LayerNorm's (γ, β) float64 (H,), or None without a norm."""
    if config.norm is Norm.NONE:
        return [None] * config.L
    try:
        return [tuple(np.asarray(params[f"layers.{l}.{k}"], dtype=np.float64) for k in ("norm_scale", "norm_bias"))
                for l in range(config.L)]
    except KeyError as exc:
        raise HwssmError(f"parameters lack {exc.args[0]} (a LayerNorm model)") from None


def _layers(params: dict[str, np.ndarray], config: S4DConfig):
    """Per block: (Ā, B̄, C̄, D, W (2H, H), b (2H,)), float64 / complex128."""
    out = []
    for l in range(config.L):
        p = layer_params(params, l)
        try:
            Abar, Bbar, Cbar, D = discretize(p, config.discretization)
            W, b = (np.asarray(p[k], dtype=np.float64) for k in ("W", "b"))
        except KeyError as exc:
            raise HwssmError(f"parameters lack layers.{l}.{exc.args[0]}") from None
        out.append((Abar, Bbar, Cbar, D, W, b))
    return out


def forward(params: dict[str, np.ndarray], config: S4DConfig, pixels: np.ndarray,
            mode: Mode = Mode.CONV, *, trace: bool = False,
            state_of: Sequence[int] | None = None, _cache: dict | None = None):
    """Logits of a batch of pixel sequences.

    Parameters
    ----------
    params : dict of name -> float array
        As :meth:`S4DConfig.param_shapes` (plus optional Ā/B̄ overrides), float32 or float64.
    config : S4DConfig
    pixels : uint8 (B, T) or (B, T, C), or int (B, T) token ids
        Raw pixel values; the input is u0 = pixel/256 (:func:`check_inputs`).
    mode : Mode
        CONV (FFT, length 2T) or RECURRENT; they agree to about 1e-12 relative.
    trace : bool
        Also return a :class:`Trace` of every calibration point (8·B·T·6H bytes per block).
    state_of : sequence of int, optional
        Batch rows whose SSM states x to record in the trace (16·T·H·M bytes per row and block).
        Implies ``trace``.

    Returns
    -------
    logits : float64 (B, n_classes), and with ``trace`` also the Trace.
    """
    pixels = check_inputs(pixels, config)
    Bn, T = pixels.shape[:2]
    rows = tuple(int(i) for i in (state_of or ()))
    if any(not 0 <= i < Bn for i in rows):
        raise HwssmError(f"state_of rows must lie in 0..{Bn - 1}, not {rows}")
    trace = trace or state_of is not None
    layers = _cache["layers"] if _cache else _layers(params, config)
    tr = Trace([], [], [], [], [], [], rows) if trace else None

    norms = _cache["norms"] if _cache else _norms(params, config)
    r = encode(params, config, pixels)                                # (B, T, H)
    for l, (Abar, Bbar, Cbar, D, W, b) in enumerate(layers):
        u = r                                                         # the S4D input
        if norms[l] is not None and config.prenorm:
            u = layer_norm(r, *norms[l], config.eps)
            if tr is not None:
                tr.n.append(u)
        if mode is Mode.CONV:
            K = _cache["K"][l] if _cache and _cache["K"][l].shape[1] >= T else kernel(Abar, Bbar, Cbar, T)
            y = ssm_convolution(u, K, D)                              # (B, T, H)
        elif mode is Mode.RECURRENT:
            y = ssm_recurrent(u, Abar, Bbar, Cbar, D)
        else:
            raise ValueError(f"unknown mode {mode!r}")
        g = gelu(y)                                                   # (B, T, H)
        v = g @ W.T + b                                               # (B, T, 2H)
        z = v[..., :config.H] * sigmoid(v[..., config.H:])            # (B, T, H)
        if tr is not None:
            tr.r.append(r), tr.y.append(y), tr.g.append(g), tr.v.append(v), tr.z.append(z)
            if rows:
                tr.x.append(ssm_recurrent(u[list(rows)], Abar, Bbar, Cbar, D, return_state=True)[1])
        r = r + z
        if norms[l] is not None and not config.prenorm:
            if tr is not None:
                tr.n.append(r)
            r = layer_norm(r, *norms[l], config.eps)
    s = r.sum(axis=1)                                                 # (B, H) sum-pool over time
    logits = s @ np.asarray(params["decoder.W"], dtype=np.float64).T + np.asarray(
        params["decoder.b"], dtype=np.float64)                        # (B, n_classes)
    if tr is None:
        return logits
    tr.r.append(r)
    tr.s, tr.logits = s, logits
    return logits, tr


class S4DClassifier:
    """A float S4D classifier with its discretization and convolution kernels computed once.

    Parameters
    ----------
    config : S4DConfig
    params : dict of name -> float array (see :func:`forward`)
    T : int
        Longest sequence length the cached kernels cover (784 for sMNIST); longer inputs
        get their kernels computed per call.
    """

    def __init__(self, config: S4DConfig, params: dict[str, np.ndarray], T: int = 784):
        self.config = config
        self.params = params
        layers = _layers(params, config)
        self._cache = {"layers": layers, "K": [kernel(a, b_, c, T) for a, b_, c, *_ in layers],
                       "norms": _norms(params, config)}

    def forward(self, pixels: np.ndarray, mode: Mode = Mode.CONV, **kw):
        """See :func:`forward`."""
        return forward(self.params, self.config, pixels, mode, _cache=self._cache, **kw)

    def predict(self, pixels: np.ndarray, batch_size: int = 64, mode: Mode = Mode.CONV) -> np.ndarray:
        """Predicted class per sequence, int64 (B,), computed ``batch_size`` sequences at a time."""
        pixels = check_inputs(pixels, self.config)
        out = [self.forward(pixels[i:i + batch_size], mode).argmax(axis=1)
               for i in range(0, len(pixels), batch_size)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
