"""What float training needs to know about each model family, in one place.

:func:`torch_model` builds the torch module of a config (S4D: :class:`~hwssm.train.s4d_torch.S4DTorch`,
S5: :class:`~hwssm.train.s5_torch.S5Torch`), :func:`numpy_classifier` the float64 reference,
:data:`RECIPE_DEFAULTS` the family's training defaults (S4D: the S4 recipe; S5: Q-S5's sMNIST
recipe, SSM learning rate 0.004 and the others 4× that), :func:`describe` the words of its
checkpoint meta and plot.
"""

from __future__ import annotations

import numpy as np

from ..model.config import Family, S4DConfig
from ..model.s5_config import S5Config
from .s4d_torch import SSM_PARAMS as S4D_SSM_PARAMS
from .s4d_torch import S4DTorch
from .s5_torch import SSM_PARAMS as S5_SSM_PARAMS
from .s5_torch import S5Torch

#: Defaults of :class:`~hwssm.train.float_train.Recipe` fields that differ by family.
RECIPE_DEFAULTS: dict[Family, dict] = {
    Family.S4D: {"epochs": 100, "batch_size": 128, "lr": 1e-2, "ssm_lr": 1e-3, "weight_decay": 0.01},
    Family.S5: {"epochs": 150, "batch_size": 50, "lr": 4 * 0.004, "ssm_lr": 0.004, "weight_decay": 0.01},
}

#: Per-block parameter names (last component) of the SSM group (ssm_lr, no weight decay).
SSM_PARAM_NAMES: dict[Family, tuple[str, ...]] = {Family.S4D: S4D_SSM_PARAMS, Family.S5: S5_SSM_PARAMS}


def torch_model(config: S4DConfig | S5Config, params: dict[str, np.ndarray], dropout: float = 0.0):
    """The torch module of ``config``'s family holding ``params`` (float32, on the CPU)."""
    cls = S5Torch if config.family is Family.S5 else S4DTorch
    return cls.from_params(config, params, dropout)


def numpy_classifier(config: S4DConfig | S5Config, params: dict[str, np.ndarray]):
    """The float64 numpy reference classifier (``.predict(pixels, batch_size)``)."""
    if config.family is Family.S5:
        from ..model.s5_network import S5Classifier

        return S5Classifier(config, params)
    from ..model.network import S4DClassifier

    return S4DClassifier(config, params)


def describe(config: S4DConfig | S5Config) -> tuple[str, str, str]:
    """(checkpoint kind, plot title prefix, recipe notes) of a float training run."""
    if config.family is Family.S5:
        return ("float S5 classifier, sMNIST",
                f"S5 float H={config.H} P={config.P} L={config.L} {config.norm.value}norm {config.glu.value} GLU",
                "AdamW; SSM params (Lambda, log_dt, B) at ssm_lr, no weight decay; C, D, norm, GLU, encoder "
                "at lr with weight decay; decoder.W initialised /784 and trained at lr/784 with "
                "weight_decay*784 (mean-pool equivalent); warm-up then cosine; dropout tied over time after "
                "GELU and GLU; parallel (Hillis-Steele) scan in float32, discretization in float64")
    return ("float S4D classifier, sMNIST",
            f"S4D float H={config.H} N={config.N} L={config.L}",
            "AdamW; SSM params (log_dt, log_A_real, A_imag, B) at ssm_lr, no weight decay; "
            "decoder.W initialised /784 and trained at lr/784 with weight_decay*784 "
            "(mean-pool equivalent); warm-up then cosine; channel dropout after GELU; "
            "bf16 autocast for mixing Linear layers, SSM kernel in complex128, FFT in float32")
