"""The float S4D classifier with a LayerNorm per block (prenorm or postnorm)."""

import json

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.model.checkpoint import init_params, load_checkpoint, save_checkpoint
from hwssm.model.config import Norm, S4DConfig
from hwssm.model.fast import FastClassifier
from hwssm.model.network import Mode, S4DClassifier, forward, layer_norm


def _ckpt(prenorm, H=8):
    config = S4DConfig(H=H, N=4, L=2, norm=Norm.LAYER, prenorm=prenorm, eps=1e-4)
    params = init_params(config, 0)
    rng = np.random.default_rng(0)
    for l in range(2):
        params[f"layers.{l}.norm_scale"] = rng.uniform(0.5, 2, H).astype(np.float32)
        params[f"layers.{l}.norm_bias"] = rng.uniform(-1, 1, H).astype(np.float32)
    return config, params


def test_config_json_without_norm_is_unchanged_and_with_norm_round_trips():
    assert set(S4DConfig().to_json()) == {"H", "N", "L", "n_classes", "init", "discretization", "dt_min", "dt_max"}
    c = S4DConfig(H=8, norm=Norm.LAYER, prenorm=True, eps=1e-6)
    assert c.to_json()["norm"] == "layer" and S4DConfig.from_json(json.loads(json.dumps(c.to_json()))) == c
    assert "layers.0.norm_scale" in c.param_shapes() and "layers.0.norm_scale" not in S4DConfig().param_shapes()
    for bad in (dict(eps=0.0), dict(norm="layer"), dict(prenorm=1)):
        with pytest.raises(ValueError):
            S4DConfig(**bad)


def test_shipped_checkpoint_reads_unchanged():
    ck = load_checkpoint("models/s4d_float")
    assert ck.config.norm is Norm.NONE and "norm" not in json.loads(open("models/s4d_float.json").read())["config"]


@pytest.mark.parametrize("prenorm", [False, True], ids=["postnorm", "prenorm"])
def test_modes_torch_and_fast_agree(tmp_path, prenorm):
    config, params = _ckpt(prenorm)
    ck = load_checkpoint(save_checkpoint(tmp_path / "ln", config, params))
    assert ck.config == config
    pix = np.random.default_rng(1).integers(0, 256, (3, 40)).astype(np.uint8)
    a = forward(ck.params, config, pix, Mode.CONV)
    np.testing.assert_allclose(forward(ck.params, config, pix, Mode.RECURRENT), a, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(FastClassifier(config, ck.params, T=40).logits(pix), a, rtol=1e-12, atol=1e-12)
    torch = pytest.importorskip("torch")
    from hwssm.train.s4d_torch import S4DTorch

    t = S4DTorch.from_params(config, ck.params)(torch.from_numpy(pix)).detach().numpy()
    np.testing.assert_allclose(t, a, rtol=1e-4, atol=1e-4)
    plain = S4DConfig(H=8, N=4, L=2)
    assert not np.allclose(a, forward({k: v for k, v in params.items() if "norm" not in k}, plain, pix))


@pytest.mark.parametrize("prenorm", [False, True], ids=["postnorm", "prenorm"])
def test_trace_records_the_layernorm_point(prenorm):
    config, params = _ckpt(prenorm)
    pix = np.random.default_rng(2).integers(0, 256, (2, 20)).astype(np.uint8)
    _, tr = S4DClassifier(config, params, T=20).forward(pix, trace=True, state_of=[0])
    assert len(tr.n) == 2
    g, b = (np.asarray(params[f"layers.1.norm_{k}"], np.float64) for k in ("scale", "bias"))
    normed = tr.n[1] if prenorm else tr.r[2]                  # the LayerNorm's output
    np.testing.assert_allclose(normed, layer_norm(tr.r[1] if prenorm else tr.n[1], g, b, 1e-4))
    assert tr.ssm_input(1, prenorm) is (tr.n[1] if prenorm else tr.r[1])


def test_missing_layernorm_arrays_are_one_line_errors():
    config, params = _ckpt(False)
    del params["layers.1.norm_bias"]
    with pytest.raises(HwssmError, match="layers.1.norm_bias"):
        forward(params, config, np.zeros((1, 4), np.uint8))


def test_train_command_builds_a_layernorm_config():
    import argparse

    from hwssm.commands.train import _config, register
    from hwssm.model.config import Family

    p = argparse.ArgumentParser()
    register(p)
    args = p.parse_args(["float", "--out", "x", "--work", "w", "--norm", "layer", "--prenorm"])
    c = _config(args, Family.S4D, 10)
    assert c.norm is Norm.LAYER and c.prenorm
    assert _config(p.parse_args(["float", "--out", "x", "--work", "w"]), Family.S4D, 10).norm is Norm.NONE
    with pytest.raises(HwssmError, match="--norm batch"):
        _config(p.parse_args(["float", "--out", "x", "--work", "w", "--norm", "batch"]), Family.S4D, 10)
