"""Post-training quantization: float S4D checkpoint + precision plan + calibration → QModel.

Parameters are quantized from their own values (per tensor or per head,
symmetric or asymmetric, as the plan says). Activation and state formats get
the plan's widths and a frac that covers the calibrated range. The GELU and
sigmoid tables are built from the chosen formats. All scales are powers of two.
A plan with per-layer overrides (:mod:`hwssm.quant.plan_layers`) quantizes block l with
``plan.for_layer(l)`` (its parameters, state, activations and output r_{l+1}); the encoder
and decoder take the defaults.
"""

from __future__ import annotations

import numpy as np

from ..errors import HwssmError
from ..fixed import QFormat
from ..model.config import Family, S4DConfig
from ..model.s4d import discretize, layer_params
from .calibrate import Calibration, Ranges, calibrate
from .luts import gelu_table, sigmoid_format, sigmoid_table, table_format
from .plan import Granularity, PrecisionPlan
from .ptq_norm import quantize_norm
from .qmodel import QLayer, QModel
from .quantizers import act_format, frac_for_maxabs, quantize_param


def _state_formats(maxabs: np.ndarray, spec, plan: PrecisionPlan) -> tuple[QFormat, ...]:
    """One state format per head; per-tensor plans share the largest range."""
    if spec.granularity is Granularity.PER_TENSOR:
        maxabs = np.full_like(maxabs, maxabs.max())
    return tuple(QFormat(spec.bits, frac_for_maxabs(float(m), spec.bits), True, plan.rounding, plan.overflow)
                 for m in maxabs)


def quantize_model(config: S4DConfig, params: dict, plan: PrecisionPlan, ranges: Ranges,
                   meta: dict | None = None) -> QModel:
    """Build the QModel from float parameters and calibrated ranges."""
    H, L = config.H, config.L
    plan.check_layers(L)

    def act(m: float, a: int = plan.act.bits) -> QFormat:
        return act_format(m, a, plan.rounding, plan.overflow)

    f64 = lambda k: np.asarray(params[k], dtype=np.float64)  # noqa: E731
    r0 = act(ranges.r[0])
    layers = []
    for l in range(L):
        lp = plan.for_layer(l)  # block l's plan: the defaults with its overrides
        a = lp.act.bits
        Abar, Bbar, Cbar, D = discretize(layer_params(params, l), config.discretization)
        y, v, z = act(ranges.y[l], a), act(ranges.v[l], a), act(ranges.z[l], a)
        g = table_format(act(ranges.g[l], a))  # the GELU table's output: always saturates
        sig = sigmoid_format(a, v)
        layers.append(QLayer(
            A_re=quantize_param(Abar.real, lp.A_re), A_im=quantize_param(Abar.imag, lp.A_im),
            B_re=quantize_param(Bbar.real, lp.B), B_im=quantize_param(Bbar.imag, lp.B),
            C_re=quantize_param(Cbar.real, lp.C), C_im=quantize_param(Cbar.imag, lp.C),
            D=quantize_param(D, lp.D),
            W=quantize_param(f64(f"layers.{l}.W"), lp.weight), b=quantize_param(f64(f"layers.{l}.b"), lp.bias),
            x_re=_state_formats(ranges.x_re[l], lp.x_re, plan),
            x_im=_state_formats(ranges.x_im[l], lp.x_im, plan),
            y=y, g=g, v=v, z=z, r_out=act(ranges.r[l + 1], a), sig=sig,
            gelu_lut=gelu_table(y, g), sigmoid_lut=sigmoid_table(v, sig),
            norm=quantize_norm(config, params, l, lp, act(ranges.n[l], a), layers[-1].r_out if l else r0)
            if ranges.n else None,
        ))
    if config.tokens:   # the embedding E (V, H) as an encoder over the one-hot token: We = E.T, be = 0
        enc_W, enc_b = quantize_param(f64("encoder.E").T.copy(), plan.weight), quantize_param(np.zeros(H), plan.bias)
    else:
        enc_W, enc_b = quantize_param(f64("encoder.W"), plan.weight), quantize_param(f64("encoder.b"), plan.bias)
    qm = QModel(
        H=H, M=config.M, L=L, n_classes=config.n_classes, plan=plan, enc_W=enc_W, enc_b=enc_b,
        r0=r0, layers=tuple(layers),
        dec_W=quantize_param(f64("decoder.W"), plan.weight), dec_b=quantize_param(f64("decoder.b"), plan.bias),
        meta=dict(meta or {}), C=config.C, vocab=config.vocab,
    )
    qm.validate()
    return qm


def ptq(config: S4DConfig, params: dict, plan: PrecisionPlan, calib_pixels: np.ndarray,
        method: Calibration = Calibration.MINMAX, percentile: float = 99.99, meta: dict | None = None,
        progress=None) -> QModel:
    """Calibrate on ``calib_pixels`` (n, T) uint8 training digits, then quantize.

    An S5 config goes to :func:`hwssm.quant.s5_ptq.ptq_s5` (min-max or percentile) and gives
    an :class:`~hwssm.quant.s5_qmodel.S5QModel`.
    """
    if getattr(config, "family", None) is Family.S5:
        from .s5_ptq import ptq_s5

        return ptq_s5(config, params, plan, calib_pixels, meta, method, percentile)
    if plan.has_s5:
        raise HwssmError(f"plan {plan.name} gives the S5 B̄u format (bu); an S4D model has no B̄u: drop the -u part")
    ranges = calibrate(config, params, calib_pixels, method, percentile, progress=progress)
    info = {"quantization": "ptq", "calibration": method.value, "calibration_digits": ranges.digits}
    if method is Calibration.PERCENTILE:
        info["percentile"] = percentile
    info.update(meta or {})
    return quantize_model(config, params, plan, ranges, info)
