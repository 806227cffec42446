"""PTQ of a block's LayerNorm (ARITHMETIC.md §7): γ, β, the format N_l and the ε term E.

γ and β are quantized from their own values with the plan's ``ln_g``/``ln_b`` Specs (default
``weight``/``bias``, :func:`hwssm.quant.plan_norm.norm_specs`); N_l is an activation format of
the plan's ``act`` width whose frac covers the calibrated range of the float model's ``n``
point (prenorm: LN(r_l); postnorm: r_l + z before the norm); E comes from the float ε and the
frac of the LayerNorm's input (:func:`hwssm.quant.layernorm.eps_code`).
"""

from __future__ import annotations

import numpy as np

from ..fixed import QFormat
from ..model.config import Norm, S4DConfig
from .layernorm import QNorm, eps_code
from .plan import PrecisionPlan
from .plan_norm import norm_specs
from .quantizers import quantize_param


def quantize_norm(config: S4DConfig, params: dict, l: int, plan: PrecisionPlan, n: QFormat,
                  r_in: QFormat) -> QNorm | None:
    """Block l's :class:`QNorm` (None without a LayerNorm): ``n`` is N_l, ``r_in`` the block's
    input format R_l; ``plan`` block l's plan."""
    if config.norm is not Norm.LAYER:
        return None
    gs, bs = norm_specs(plan)
    f64 = lambda k: np.asarray(params[f"layers.{l}.{k}"], dtype=np.float64)  # noqa: E731
    X = r_in if config.prenorm else n
    return QNorm(config.prenorm, quantize_param(f64("norm_scale"), gs), quantize_param(f64("norm_bias"), bs),
                 eps_code(config.eps, config.H, X), n)
