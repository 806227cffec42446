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
"""

from __future__ import annotations

import numpy as np

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


def ptq_s5(config: S5Config, params: dict, plan: PrecisionPlan, calib_pixels: np.ndarray,
           meta: dict | None = None, method: Calibration = Calibration.MINMAX,
           percentile: float = 99.99, trace=None) -> S5QModel:
    """Calibrate on ``calib_pixels`` (n, T) uint8 digits (``method``), then quantize; the model is validated.

    ``trace``: the folded float trace of ``calib_pixels`` (``forward(params, config, calib_pixels,
    trace=True, folded=True)[1]``) when the caller already has it (it does not depend on the plan:
    a sweep of plans computes it once); None: computed here."""
    ssms = folded_layers(config, params)
    plan.check_layers(config.L)
    tr = trace if trace is not None else forward(params, config, np.asarray(calib_pixels), trace=True, folded=True)[1]
    a = plan.act.bits

    def rng(values, axis=None):
        return magnitude(values, method, percentile, axis)

    def act(values) -> QFormat:
        return act_format(float(rng(values)), a, plan.rounding, plan.overflow)

    f64 = lambda k: np.asarray(params[k], dtype=np.float64)  # noqa: E731
    layers = []
    top = plan
    for l, d in enumerate(ssms):
        plan = top.for_layer(l)
        bu_bits = plan.bu_bits()
        y, v, z = act(tr.y[l]), act(tr.v[l]), act(tr.z[l])
        g = table_format(act(tr.g[l]))
        sig = sigmoid_format(a, v)
        bu, x = tr.bu[l], tr.x[l]                                          # (n, T, P) complex
        layers.append(S5QLayer(
            A_re=quantize_param(d.Lambda_bar.real, plan.A_re), A_im=quantize_param(d.Lambda_bar.imag, plan.A_im),
            B_re=quantize_param(d.B_bar.real, plan.B), B_im=quantize_param(d.B_bar.imag, plan.B),
            beta_re=quantize_param(d.bu_bias.real, plan.bias), beta_im=quantize_param(d.bu_bias.imag, plan.bias),
            C_re=quantize_param(d.C_tilde.real, plan.C), C_im=quantize_param(d.C_tilde.imag, plan.C),
            D=quantize_param(d.D, plan.D), delta=quantize_param(d.y_bias, plan.bias),
            W=quantize_param(f64(f"layers.{l}.W"), plan.weight), b=quantize_param(f64(f"layers.{l}.b"), plan.bias),
            x_re=_state_formats(rng(x.real, (0, 1)), plan.x_re, plan),
            x_im=_state_formats(rng(x.imag, (0, 1)), plan.x_im, plan),
            bu_re=act_format(float(rng(bu.real)), bu_bits[0], plan.rounding, plan.overflow),
            bu_im=act_format(float(rng(bu.imag)), bu_bits[1], plan.rounding, plan.overflow),
            y=y, g=g, v=v, z=z, r_out=act(tr.r[l + 1]), sig=sig,
            gelu_lut=gelu_table(y, g), sigmoid_lut=sigmoid_table(v, sig),
        ))
    plan = top
    info = {"quantization": "ptq", "calibration": method.value, "calibration_digits": int(len(calib_pixels)),
            "norm": config.norm.value, "folded": "BatchNorm folded into B̄, D (biases β, δ)"}
    if method is Calibration.PERCENTILE:
        info["percentile"] = percentile
    info.update(meta or {})
    qm = S5QModel(
        H=config.H, P=config.P, L=config.L, n_classes=config.n_classes, glu=config.glu, plan=plan,
        enc_W=quantize_param(f64("encoder.W"), plan.weight), enc_b=quantize_param(f64("encoder.b"), plan.bias),
        r0=act(tr.r[0]), layers=tuple(layers),
        dec_W=quantize_param(f64("decoder.W"), plan.weight), dec_b=quantize_param(f64("decoder.b"), plan.bias),
        meta=info,
    )
    qm.validate()
    return qm
