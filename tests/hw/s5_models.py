"""Small S5 QModels for the hardware tests: a random float S5 (non-trivial folded BatchNorm
statistics, so β and δ are not 0) through PTQ, calibrated on darker digits than the tests feed
(so formats saturate or wrap)."""

from __future__ import annotations

import numpy as np

from hwssm.model.s5_config import Norm, S5Config
from hwssm.model.s5_network import init_params
from hwssm.quant.plan import resolve_plan
from hwssm.quant.s5_ptq import ptq_s5
from hwssm.quant.s5_qmodel import S5QModel


def s5_model(cfg: S5Config, code: str, seed: int = 0) -> S5QModel:
    """PTQ of a random float S5 ``cfg`` with plan ``code``."""
    params = init_params(cfg, seed)
    rng = np.random.default_rng(seed + 10)
    for l in range(cfg.L):
        if cfg.norm is Norm.BATCH:
            params[f"layers.{l}.norm_mean"] = rng.normal(0, 0.5, cfg.H).astype(np.float32)
            params[f"layers.{l}.norm_var"] = rng.uniform(0.2, 2.0, cfg.H).astype(np.float32)
            params[f"layers.{l}.norm_bias"] = rng.normal(0, 0.5, cfg.H).astype(np.float32)
    params["decoder.W"] = (params["decoder.W"] / 20).astype(np.float32)
    calib = rng.integers(0, 64, (3, 40)).astype(np.uint8)
    return ptq_s5(cfg, params, resolve_plan(code), calib)


def s5_pixels(n: int, T: int, seed: int = 1) -> np.ndarray:
    """``n`` random uint8 sequences of ``T`` steps, the first one bright from step T/3 on."""
    pix = np.random.default_rng(seed).integers(0, 256, (n, T)).astype(np.uint8)
    pix[0, T // 3:] = 255
    return pix
