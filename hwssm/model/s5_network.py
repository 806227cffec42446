"""The float S5 classifier (float64 numpy): initialization, forward pass, trace, BatchNorm fold.

The network is the one written in :mod:`hwssm.model.s5_config`; the S5 SSM is
:mod:`hwssm.model.s5`; GELU and sigmoid are those of :mod:`hwssm.model.network`.
Activations are float64 ``(B, T, C)`` (batch, time, channels).

Trace points per block l: ``r`` (stream entering the block, (B, T, H); ``r[L]`` after the last),
``n`` (prenorm output), ``bu`` (B̄n, complex (B, T, P)), ``x`` (state, complex (B, T, P)),
``y`` (SSM output), ``g`` (GELU(y)), ``v`` (GLU Linear output, H or 2H), ``z`` (GLU output).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..errors import HwssmError
from .network import _check_pixels, gelu, sigmoid
from .s4d import layer_params
from .s5 import DiscreteS5, discretize, fold_batchnorm, init_ssm, ssm_recurrent
from .s5_config import Glu, Norm, S5Config


def init_params(config: S5Config, seed: int) -> dict[str, np.ndarray]:
    """Random float32 parameters for ``config`` (no training), deterministic in ``seed``.

    SSM arrays as :func:`hwssm.model.s5.init_ssm`; norm γ = 1, β = 0, running μ = 0, σ² = 1;
    encoder, GLU and decoder Linear layers ~ U[-1/√fan_in, 1/√fan_in] (PyTorch's default).
    Draw order: encoder, blocks 0..L-1 (SSM, then W, b), decoder.
    """
    rng = np.random.default_rng(seed)
    H = config.H

    def linear(fan_out: int, fan_in: int):
        bound = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, (fan_out, fan_in)), rng.uniform(-bound, bound, fan_out)

    init_norm = {"norm_scale": 1.0, "norm_bias": 0.0, "norm_mean": 0.0, "norm_var": 1.0}
    params: dict[str, np.ndarray] = {}
    params["encoder.W"], params["encoder.b"] = linear(H, 1)
    for l in range(config.L):
        ssm = init_ssm(H, config.P, config.J, config.dt_min, config.dt_max, rng)
        params.update({f"layers.{l}.{k}": v for k, v in ssm.items()})
        params[f"layers.{l}.W"], params[f"layers.{l}.b"] = linear(config.glu_rows, H)
        for name in config.norm_names():
            params[f"layers.{l}.{name}"] = np.full(H, init_norm[name])
    params["decoder.W"], params["decoder.b"] = linear(config.n_classes, H)
    return {k: np.asarray(params[k], dtype=np.float32) for k in config.param_shapes()}


def prenorm(r: np.ndarray, p: dict[str, np.ndarray], config: S5Config) -> np.ndarray:
    """The block's prenorm of r (B, T, H): BatchNorm with running statistics, LayerNorm over H, or r."""
    f = lambda k: np.asarray(p[k], dtype=np.float64)  # noqa: E731
    if config.norm is Norm.BATCH:
        return (r - f("norm_mean")) / np.sqrt(f("norm_var") + config.eps) * f("norm_scale") + f("norm_bias")
    if config.norm is Norm.LAYER:
        mu = r.mean(axis=-1, keepdims=True)
        var = ((r - mu) ** 2).mean(axis=-1, keepdims=True)
        return (r - mu) / np.sqrt(var + config.eps) * f("norm_scale") + f("norm_bias")
    return r


def glu(g: np.ndarray, W: np.ndarray, b: np.ndarray, kind: Glu) -> tuple[np.ndarray, np.ndarray]:
    """(v, z): v = g Wᵀ + b; half GLU z = g ⊙ σ(v), full GLU z = v[:H] ⊙ σ(v[H:])."""
    v = g @ W.T + b
    if kind is Glu.HALF:
        return v, g * sigmoid(v)
    H = g.shape[-1]
    return v, v[..., :H] * sigmoid(v[..., H:])


def folded_layers(config: S5Config, params: dict[str, np.ndarray]) -> list[DiscreteS5]:
    """Per block the discrete SSM with its prenorm folded in (the integer path's view).

    BatchNorm folds into B̄ and D (:func:`hwssm.model.s5.fold_batchnorm`); no norm leaves zero
    biases. LayerNorm is refused: it needs a per-step mean and 1/√variance over the H channels.
    """
    if config.norm is Norm.LAYER:
        raise HwssmError("an S5 model with LayerNorm has no integer form: LayerNorm needs a per-step "
                         "mean and 1/sqrt(variance) over the channels; train with BatchNorm or no norm")
    out = []
    for l in range(config.L):
        p = layer_params(params, l)
        d = discretize(p, config.discretization)
        if config.norm is Norm.BATCH:
            d = fold_batchnorm(d, p["norm_scale"], p["norm_bias"], p["norm_mean"], p["norm_var"], config.eps)
        out.append(d)
    return out


@dataclasses.dataclass
class Trace:
    """Activations of one forward pass, per block (see the module docstring); ``r`` has L+1."""

    r: list[np.ndarray] = dataclasses.field(default_factory=list)
    n: list[np.ndarray] = dataclasses.field(default_factory=list)
    bu: list[np.ndarray] = dataclasses.field(default_factory=list)
    x: list[np.ndarray] = dataclasses.field(default_factory=list)
    y: list[np.ndarray] = dataclasses.field(default_factory=list)
    g: list[np.ndarray] = dataclasses.field(default_factory=list)
    v: list[np.ndarray] = dataclasses.field(default_factory=list)
    z: list[np.ndarray] = dataclasses.field(default_factory=list)
    s: np.ndarray | None = None
    logits: np.ndarray | None = None


def forward(params: dict[str, np.ndarray], config: S5Config, pixels: np.ndarray, *,
            trace: bool = False, folded: bool = False):
    """Logits of a batch of pixel sequences, float64 (B, n_classes) (and a :class:`Trace`).

    Parameters
    ----------
    params : dict of name -> float array, as :meth:`S5Config.param_shapes`.
    config : S5Config
    pixels : uint8 (B, T); the input is u0 = pixel/256.
    trace : bool
        Also return every activation (about 8·B·T·(6H + 4P) bytes per block).
    folded : bool
        Evaluate with the BatchNorm folded into B̄ and D (:func:`folded_layers`); equal to the
        unfolded network up to rounding (``n`` is then not traced).
    """
    pixels = _check_pixels(pixels)
    f64 = lambda k: np.asarray(params[k], dtype=np.float64)  # noqa: E731
    try:
        ssms = folded_layers(config, params) if folded else [
            discretize(layer_params(params, l), config.discretization) for l in range(config.L)]
        r = (pixels.astype(np.float64) / 256.0)[:, :, None] * f64("encoder.W")[:, 0] + f64("encoder.b")
        tr = Trace() if trace else None
        for l, d in enumerate(ssms):
            p = layer_params(params, l)
            n = r if folded else prenorm(r, p, config)                               # (B, T, H)
            y, x = ssm_recurrent(n, d, return_state=True)                            # (B, T, H), (B, T, P)
            g = gelu(y)
            v, z = glu(g, np.asarray(p["W"], np.float64), np.asarray(p["b"], np.float64), config.glu)
            if tr is not None:
                tr.r.append(r), tr.y.append(y), tr.x.append(x), tr.g.append(g), tr.v.append(v), tr.z.append(z)
                tr.bu.append(n @ d.B_bar.T + d.bu_bias)
                if not folded:
                    tr.n.append(n)
            r = r + z
        s = r.sum(axis=1)                                                            # (B, H) sum-pool
        logits = s @ f64("decoder.W").T + f64("decoder.b")
    except KeyError as exc:
        raise HwssmError(f"parameters lack {exc.args[0]!r}") from None
    if tr is None:
        return logits
    tr.r.append(r)
    tr.s, tr.logits = s, logits
    return logits, tr


class S5Classifier:
    """A float S5 classifier (:func:`forward` with its config and parameters bound)."""

    def __init__(self, config: S5Config, params: dict[str, np.ndarray]):
        self.config = config
        self.params = params

    def forward(self, pixels: np.ndarray, **kw):
        """See :func:`forward`."""
        return forward(self.params, self.config, pixels, **kw)

    def predict(self, pixels: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Predicted class per sequence, int64 (B,)."""
        pixels = _check_pixels(pixels)
        out = [self.forward(pixels[i:i + batch_size]).argmax(axis=1) for i in range(0, len(pixels), batch_size)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
