"""The float S5 reference: HiPPO-N init, discretization, conjugate symmetry, BatchNorm fold, checkpoints."""

import json
from pathlib import Path

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.model.checkpoint import load_checkpoint, save_checkpoint
from hwssm.model.config import Discretization, Family
from hwssm.model.s4d import layer_params
from hwssm.model.s5 import discretize, hippo_normal, init_lambda_v, ssm_recurrent
from hwssm.model.s5_config import Glu, Norm, S5Config
from hwssm.model.s5_network import folded_layers, forward, init_params

ROOT = Path(__file__).resolve().parents[2]


def _random_bn(params, cfg, seed=1):
    rng = np.random.default_rng(seed)
    for l in range(cfg.L):
        for name, v in (("norm_mean", rng.normal(size=cfg.H)), ("norm_var", rng.uniform(0.3, 2.0, cfg.H)),
                        ("norm_scale", rng.normal(size=cfg.H)), ("norm_bias", rng.normal(size=cfg.H))):
            params[f"layers.{l}.{name}"] = v.astype(np.float32)
    return params


def test_qs5_smnist_parameter_count():
    cfg = S5Config()          # Q-S5 sMNIST: L=4, H=96, P=64, BatchNorm, half GLU
    assert (cfg.L, cfg.H, cfg.P, cfg.norm, cfg.glu) == (4, 96, 64, Norm.BATCH, Glu.HALF)
    assert cfg.n_trainable() == 138_634       # "about 139k"
    assert cfg.n_params() == 138_634 + 4 * 2 * 96    # plus BatchNorm running mean and variance


def test_hippo_normal_decomposition():
    lam, V = hippo_normal(8)
    np.testing.assert_allclose(lam.real, -0.5)
    np.testing.assert_allclose(V.conj().T @ V, np.eye(8), atol=1e-12)
    q = np.sqrt(1.0 + 2.0 * np.arange(8))
    A = -(np.tril(np.outer(q, q)) - np.diag(np.arange(8.0)))
    p = np.sqrt(np.arange(8) + 0.5)
    np.testing.assert_allclose(V @ np.diag(lam) @ V.conj().T, A + np.outer(p, p), atol=1e-10)
    # kept half: Im Λ < 0, and the dropped half are their conjugates
    kept, _ = init_lambda_v(4, 1)
    assert np.all(kept.imag < 0)
    np.testing.assert_allclose(np.sort(-kept.imag), np.sort(lam.imag[4:]), atol=1e-10)


def test_block_init_repeats_hippo():
    lam, V = init_lambda_v(6, 3)
    small, Vs = init_lambda_v(2, 1)
    np.testing.assert_allclose(lam, np.tile(small, 3))
    np.testing.assert_allclose(V[4:8, 2:4], Vs)
    assert V.shape == (12, 6) and np.count_nonzero(V[:4, 2:]) == 0


@pytest.mark.parametrize("disc", list(Discretization))
def test_discretization_formulas(disc):
    cfg = S5Config(H=3, P=5, L=1, discretization=disc)
    p = layer_params(init_params(cfg, 3), 0)
    d = discretize(p, disc)
    lam = p["Lambda_re"].astype(float) + 1j * p["Lambda_im"].astype(float)
    dt = np.exp(p["log_dt"].astype(float))
    Bt = p["B_re"].astype(float) + 1j * p["B_im"].astype(float)
    if disc is Discretization.ZOH:
        np.testing.assert_allclose(d.Lambda_bar, np.exp(lam * dt))
        # B̄ = ∫_0^Δ exp(Λs) ds · B̃, by the midpoint rule
        s = (np.arange(20000) + 0.5) / 20000
        integral = (np.exp(lam[:, None] * dt[:, None] * s) * dt[:, None]).mean(axis=1)
        np.testing.assert_allclose(d.B_bar, integral[:, None] * Bt, rtol=1e-7)
    else:
        np.testing.assert_allclose(d.Lambda_bar, (1 + dt * lam / 2) / (1 - dt * lam / 2))
        np.testing.assert_allclose(d.B_bar, (dt / (1 - dt * lam / 2))[:, None] * Bt)


def test_conjugate_half_equals_full_real_system():
    """2·Re(C̃x) of the P kept modes equals C x of the full 2P-mode system with the conjugates."""
    cfg = S5Config(H=4, P=3, L=1)
    d = discretize(layer_params(init_params(cfg, 5), 0), cfg.discretization)
    u = np.random.default_rng(0).normal(size=(2, 17, 4))
    y = ssm_recurrent(u, d)
    lam = np.concatenate([d.Lambda_bar, d.Lambda_bar.conj()])
    B = np.concatenate([d.B_bar, d.B_bar.conj()])
    C = np.concatenate([d.C_tilde, d.C_tilde.conj()], axis=1)
    x = np.zeros((2, 6), complex)
    for t in range(17):
        x = lam * x + u[:, t] @ B.T
        out = x @ C.T
        np.testing.assert_allclose(out.imag, 0, atol=1e-12)
        np.testing.assert_allclose(y[:, t], out.real + d.D * u[:, t], atol=1e-12)


@pytest.mark.parametrize("glu", list(Glu))
def test_batchnorm_fold_equals_prenorm(glu):
    cfg = S5Config(H=5, P=3, L=2, n_classes=3, glu=glu)
    params = _random_bn(init_params(cfg, 0), cfg)
    px = np.random.default_rng(2).integers(0, 256, (3, 40)).astype(np.uint8)
    a, tr = forward(params, cfg, px, trace=True)
    b = forward(params, cfg, px, folded=True)
    np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10)
    assert len(tr.r) == 3 and tr.x[0].shape == (3, 40, 3) and tr.v[0].shape == (3, 40, cfg.glu_rows)
    d = folded_layers(cfg, params)[0]
    assert np.abs(d.bu_bias).max() > 0 and np.abs(d.y_bias).max() > 0


def test_layernorm_has_no_integer_form():
    cfg = S5Config(H=4, P=2, L=1, norm=Norm.LAYER)
    params = init_params(cfg, 0)
    forward(params, cfg, np.zeros((1, 5), np.uint8))          # float is fine
    with pytest.raises(HwssmError, match="LayerNorm needs a per-step") as info:
        folded_layers(cfg, params)
    assert "\n" not in str(info.value)


def test_s5_checkpoint_round_trip(tmp_path):
    cfg = S5Config(H=3, P=5, L=2, n_classes=4, J=5, norm=Norm.NONE, glu=Glu.FULL,
                   discretization=Discretization.BILINEAR)
    params = init_params(cfg, 7)
    path = save_checkpoint(tmp_path / "s5", cfg, params, {"note": 1})
    doc = json.loads(path.read_text())
    assert doc["family"] == "s5" and doc["n_params"] == cfg.n_params()
    ck = load_checkpoint(path)
    assert ck.family is Family.S5 and ck.config == cfg and list(ck.params) == list(cfg.param_shapes())
    for k, v in params.items():
        np.testing.assert_array_equal(ck.params[k], v)
    doc["family"] = "s6"
    path.write_text(json.dumps(doc))
    with pytest.raises(HwssmError, match="family 's6' is not one of s4d, s5"):
        load_checkpoint(path)
    doc["family"] = "s4d"                       # an S5 config read as S4D: a one-line error
    path.write_text(json.dumps(doc))
    with pytest.raises(HwssmError, match="config lacks field"):
        load_checkpoint(path)


def test_s4d_checkpoints_keep_their_bytes(tmp_path):
    """The shipped S4D checkpoint has no family field and reads as S4D; saving it again writes the
    same JSON (no family field), so S4D digests do not change."""
    shipped = ROOT / "models" / "s4d_float.json"
    doc = json.loads(shipped.read_text())
    assert "family" not in doc
    ck = load_checkpoint(shipped)
    assert ck.family is Family.S4D
    again = json.loads(save_checkpoint(tmp_path / "again", ck.config, ck.params, ck.meta).read_text())
    assert list(again) == list(doc)
    assert {k: v for k, v in again.items() if k not in ("arrays", "arrays_sha256")} == \
        {k: v for k, v in doc.items() if k not in ("arrays", "arrays_sha256")}
