"""Calibration: float activation and state ranges measured on training digits.

Ranges are magnitudes (max |value|) per calibration point and block, from the
float model (``hwssm.model.network``). Two methods:

MINMAX
    the largest magnitude seen;
PERCENTILE
    the given percentile of |value| per batch, averaged over batches (clips rare outliers).

The SSM state x is always calibrated by its maximum (per head and per part),
computed by a streaming recurrence so that no (B, T, H, M) array is stored.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np

from ..model.config import Norm, S4DConfig
from ..model.network import S4DClassifier


class Calibration(enum.Enum):
    MINMAX = "minmax"
    PERCENTILE = "percentile"


@dataclasses.dataclass(frozen=True)
class Ranges:
    """Calibrated magnitudes. Lists are per block; ``r`` has L+1 entries (r[0] = encoder output).

    ``x_re``/``x_im`` are (L, H) arrays: max |Re x| and max |Im x| per block and head.
    ``n`` (L entries, empty without a LayerNorm): the LayerNorm's point (network.Trace.n).
    """

    r: list[float]
    y: list[float]
    g: list[float]
    v: list[float]
    z: list[float]
    x_re: np.ndarray
    x_im: np.ndarray
    digits: int
    n: list[float] = dataclasses.field(default_factory=list)


def _state_max(u: np.ndarray, Abar: np.ndarray, Bbar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """max over batch and time of |Re x| and |Im x| per head; u (B, T, H) float64 → (H,), (H,)."""
    Bn, T, H = u.shape
    x = np.zeros((Bn, H, Abar.shape[1]), np.complex128)
    mr = np.zeros(H)
    mi = np.zeros(H)
    for t in range(T):
        x = Abar * x + Bbar * u[:, t, :, None]
        mr = np.maximum(mr, np.abs(x.real).max(axis=(0, 2)))
        mi = np.maximum(mi, np.abs(x.imag).max(axis=(0, 2)))
    return mr, mi


def calibrate(config: S4DConfig, params: dict, pixels: np.ndarray, method: Calibration = Calibration.MINMAX,
              percentile: float = 99.99, batch: int = 32, progress=None) -> Ranges:
    """Measure ranges on ``pixels`` (n, T) uint8 with the float model."""
    model = S4DClassifier(config, params, T=pixels.shape[1])
    L = config.L
    points = ("r", "y", "g", "v", "z") + (("n",) if config.norm is Norm.LAYER else ())
    acc: dict[str, list[list[float]]] = {k: [[] for _ in range(L + (k == "r"))] for k in points}
    x_re = np.zeros((L, config.H))
    x_im = np.zeros((L, config.H))
    layers = model._cache["layers"]
    n = len(pixels)
    for start in range(0, n, batch):
        _, tr = model.forward(pixels[start:start + batch], trace=True)
        for key in acc:
            for l, a in enumerate(getattr(tr, key)):
                mag = np.abs(a)
                if method is Calibration.PERCENTILE:
                    acc[key][l].append(float(np.percentile(mag, percentile)))
                else:
                    acc[key][l].append(float(mag.max()))
        for l in range(L):
            Abar, Bbar = layers[l][0], layers[l][1]
            mr, mi = _state_max(tr.ssm_input(l, config.prenorm), Abar, Bbar)
            x_re[l] = np.maximum(x_re[l], mr)
            x_im[l] = np.maximum(x_im[l], mi)
        if progress is not None:
            progress(min(start + batch, n), n)
    reduce = (lambda xs: float(np.mean(xs))) if method is Calibration.PERCENTILE else (lambda xs: float(np.max(xs)))
    out = {k: [reduce(v) for v in lists] for k, lists in acc.items()}
    return Ranges(out["r"], out["y"], out["g"], out["v"], out["z"], x_re, x_im, n, out.get("n", []))
