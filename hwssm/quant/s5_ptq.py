"""Post-training quantization of a float S5 model: checkpoint + precision plan + calibration → S5QModel.

The prenorm BatchNorm is folded into B̄ and D first (:func:`hwssm.model.s5_network.folded_layers`;
LayerNorm is refused there). Parameters are quantized from their own values by the plan's
components (Λ̄ by ``A_re``/``A_im``, B̄ by ``B``, C̃ by ``C``, D by ``D``, the folded biases β, δ and
the GLU bias by ``bias``, the GLU weights and the encoder/decoder by ``weight``/``bias``); per-head
granularity is per mode for Λ̄, B̄, β and the state, per channel for C̃, D, δ. Activation, ``bu``
and state formats cover the range seen on the calibration digits (float64 reference, folded):
min-max (the largest magnitude), or percentile (as :func:`hwssm.quant.calibrate.calibrate`: the
given percentile of |value| per batch of 32 digits, averaged over batches; per mode for the
state). ``bu`` takes the plan's ``bu_re``/``bu_im`` widths (the state's when the plan has none).
Per-layer plans: block l uses ``plan.for_layer(l)``. Every scale is a power of two (ARITHMETIC.md §6).

PTQ is two steps: :func:`s5_ranges` (the plan-independent magnitudes of one float trace, an
:class:`S5Ranges`, which a sweep computes once and caches) and :func:`quantize_s5` (any plan);
:func:`ptq_s5` does both.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import HwssmError
from ..fixed import QFormat
from ..model.s5_config import S5Config
from ..model.s5_network import folded_layers, forward
from .luts import gelu_table, sigmoid_format, sigmoid_table, table_format
from .calibrate import Calibration
from .plan import Granularity, PrecisionPlan, Spec
from .quantizers import act_format, frac_for_maxabs, quantize_param
from .s5_qmodel import S5QLayer, S5QModel


def _state_formats(maxabs: np.ndarray, spec: Spec, plan: PrecisionPlan) -> tuple[QFormat, ...]:
    """One state format per mode; per-tensor plans share the largest range."""
    if spec.granularity is Granularity.PER_TENSOR:
        maxabs = np.full_like(maxabs, maxabs.max())
    return tuple(QFormat(spec.bits, frac_for_maxabs(float(m), spec.bits), True, plan.rounding, plan.overflow)
                 for m in maxabs)


#: Digits per calibration batch of the percentile method (as hwssm.quant.calibrate).
BATCH = 32


def magnitude(values: np.ndarray, method: Calibration, percentile: float, axis=None) -> np.ndarray:
    """The range of |values| (n, ...) over the digits (axis 0) and ``axis``: the largest
    magnitude (MINMAX), or the ``percentile`` of each batch of :data:`BATCH` digits, averaged."""
    mag = np.abs(values)
    if method is Calibration.MINMAX:
        return np.max(mag, axis=axis)
    per = [np.percentile(mag[i:i + BATCH], percentile, axis=axis) for i in range(0, len(mag), BATCH)]
    return np.mean(per, axis=0)


@dataclasses.dataclass(frozen=True)
class S5Ranges:
    """The calibrated magnitudes of a float S5 model: what PTQ needs of the calibration digits,
    independent of the plan (a sweep computes them once for every plan, and caches them).

    Attributes
    ----------
    r : tuple of float, L+1
        |r| range of each block's input (r[0]: the encoder output) and of the last block's output.
    y, g, v, z : tuple of float, L
        Ranges of the SSM output y, the GELU output g, the GLU gate input v and the block output z.
    bu_re, bu_im : tuple of float, L
        Ranges of the real and imaginary parts of B̄u (with β).
    x_re, x_im : tuple of float64 arrays (P,), L
        Per-mode ranges of the state's real and imaginary parts.
    digits : int
        Calibration digits.
    method : Calibration
    percentile : float
        The PERCENTILE method's percentile (unused by MINMAX).
    """

    r: tuple[float, ...]
    y: tuple[float, ...]
    g: tuple[float, ...]
    v: tuple[float, ...]
    z: tuple[float, ...]
    bu_re: tuple[float, ...]
    bu_im: tuple[float, ...]
    x_re: tuple[np.ndarray, ...]
    x_im: tuple[np.ndarray, ...]
    digits: int
    method: Calibration
    percentile: float

    def to_json(self) -> dict:
        """JSON form (floats round-trip exactly)."""
        scalars = {k: list(getattr(self, k)) for k in ("r", "y", "g", "v", "z", "bu_re", "bu_im")}
        return {**scalars, "x_re": [m.tolist() for m in self.x_re], "x_im": [m.tolist() for m in self.x_im],
                "digits": self.digits, "method": self.method.value, "percentile": self.percentile}

    @classmethod
    def from_json(cls, d: dict) -> "S5Ranges":
        """Inverse of :meth:`to_json`; KeyError / TypeError / ValueError on a malformed record."""
        scalars = {k: tuple(float(x) for x in d[k]) for k in ("r", "y", "g", "v", "z", "bu_re", "bu_im")}
        modes = {k: tuple(np.asarray(m, dtype=np.float64) for m in d[k]) for k in ("x_re", "x_im")}
        return cls(**scalars, **modes, digits=int(d["digits"]), method=Calibration(d["method"]),
                   percentile=float(d["percentile"]))


def s5_ranges(trace, digits: int, method: Calibration = Calibration.MINMAX, percentile: float = 99.99) -> S5Ranges:
    """The ranges of a folded float trace (``forward(params, config, pixels, trace=True,
    folded=True)[1]``) of ``digits`` calibration digits, by ``method`` (:func:`magnitude`)."""
    def rng(values, axis=None):
        return magnitude(values, method, percentile, axis)

    L = len(trace.y)
    scalar = lambda values: tuple(float(rng(values[l])) for l in range(L))  # noqa: E731
    return S5Ranges(
        r=tuple(float(rng(trace.r[l])) for l in range(L + 1)), y=scalar(trace.y), g=scalar(trace.g),
        v=scalar(trace.v), z=scalar(trace.z), bu_re=tuple(float(rng(b.real)) for b in trace.bu[:L]),
        bu_im=tuple(float(rng(b.imag)) for b in trace.bu[:L]),
        x_re=tuple(np.asarray(rng(x.real, (0, 1)), dtype=np.float64) for x in trace.x[:L]),
        x_im=tuple(np.asarray(rng(x.imag, (0, 1)), dtype=np.float64) for x in trace.x[:L]),
        digits=int(digits), method=method, percentile=float(percentile))


def ptq_s5(config: S5Config, params: dict, plan: PrecisionPlan, calib_pixels: np.ndarray,
           meta: dict | None = None, method: Calibration = Calibration.MINMAX,
           percentile: float = 99.99) -> S5QModel:
    """Calibrate on ``calib_pixels`` (n, T) uint8 digits (``method``), then quantize; the model is validated."""
    ssms = folded_layers(config, params)
    plan.check_layers(config.L)
    tr = forward(params, config, np.asarray(calib_pixels), trace=True, folded=True)[1]
    return _quantize(config, params, plan, ssms, s5_ranges(tr, len(calib_pixels), method, percentile), meta)


def quantize_s5(config: S5Config, params: dict, plan: PrecisionPlan, ranges: S5Ranges,
                meta: dict | None = None) -> S5QModel:
    """Quantize with ranges calibrated earlier (:func:`s5_ranges`); the same model as :func:`ptq_s5`
    on the calibration digits of ``ranges``. HwssmError when ``ranges`` are of another shape."""
    ssms = folded_layers(config, params)
    plan.check_layers(config.L)
    if len(ranges.y) != config.L or any(m.shape != (config.P,) for m in ranges.x_re + ranges.x_im):
        raise HwssmError(f"S5 ranges of {len(ranges.y)} blocks do not fit a model of L={config.L}, P={config.P}")
    return _quantize(config, params, plan, ssms, ranges, meta)


def _quantize(config: S5Config, params: dict, plan: PrecisionPlan, ssms, ranges: S5Ranges,
              meta: dict | None) -> S5QModel:
    """The parameters quantized by ``plan``, the formats from ``ranges``; validated."""
    a = plan.act.bits

    def act(maxabs: float) -> QFormat:
        return act_format(maxabs, a, plan.rounding, plan.overflow)

    f64 = lambda k: np.asarray(params[k], dtype=np.float64)  # noqa: E731
    layers = []
    top = plan
    for l, d in enumerate(ssms):
        plan = top.for_layer(l)
        bu_bits = plan.bu_bits()
        y, v, z = act(ranges.y[l]), act(ranges.v[l]), act(ranges.z[l])
        g = table_format(act(ranges.g[l]))
        sig = sigmoid_format(a, v)
        layers.append(S5QLayer(
            A_re=quantize_param(d.Lambda_bar.real, plan.A_re), A_im=quantize_param(d.Lambda_bar.imag, plan.A_im),
            B_re=quantize_param(d.B_bar.real, plan.B), B_im=quantize_param(d.B_bar.imag, plan.B),
            beta_re=quantize_param(d.bu_bias.real, plan.bias), beta_im=quantize_param(d.bu_bias.imag, plan.bias),
            C_re=quantize_param(d.C_tilde.real, plan.C), C_im=quantize_param(d.C_tilde.imag, plan.C),
            D=quantize_param(d.D, plan.D), delta=quantize_param(d.y_bias, plan.bias),
            W=quantize_param(f64(f"layers.{l}.W"), plan.weight), b=quantize_param(f64(f"layers.{l}.b"), plan.bias),
            x_re=_state_formats(ranges.x_re[l], plan.x_re, plan),
            x_im=_state_formats(ranges.x_im[l], plan.x_im, plan),
            bu_re=act_format(ranges.bu_re[l], bu_bits[0], plan.rounding, plan.overflow),
            bu_im=act_format(ranges.bu_im[l], bu_bits[1], plan.rounding, plan.overflow),
            y=y, g=g, v=v, z=z, r_out=act(ranges.r[l + 1]), sig=sig,
            gelu_lut=gelu_table(y, g), sigmoid_lut=sigmoid_table(v, sig),
        ))
    plan = top
    info = {"quantization": "ptq", "calibration": ranges.method.value, "calibration_digits": ranges.digits,
            "norm": config.norm.value, "folded": "BatchNorm folded into B̄, D (biases β, δ)"}
    if ranges.method is Calibration.PERCENTILE:
        info["percentile"] = ranges.percentile
    info.update(meta or {})
    qm = S5QModel(
        H=config.H, P=config.P, L=config.L, n_classes=config.n_classes, glu=config.glu, plan=plan,
        enc_W=quantize_param(f64("encoder.W"), plan.weight), enc_b=quantize_param(f64("encoder.b"), plan.bias),
        r0=act(ranges.r[0]), layers=tuple(layers),
        dec_W=quantize_param(f64("decoder.W"), plan.weight), dec_b=quantize_param(f64("decoder.b"), plan.bias),
        meta=info,
    )
    qm.validate()
    return qm
