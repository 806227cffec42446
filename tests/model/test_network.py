"""Float S4D classifier: shapes, modes, sum-pool, trace, a naive per-step reference."""

import math

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.model.checkpoint import init_params
from hwssm.model.config import Discretization, Init, S4DConfig
from hwssm.model.network import POINTS, Mode, S4DClassifier, erf, forward, gelu, sigmoid
from hwssm.model.s4d import discretize, layer_params

TINY = S4DConfig(H=4, N=6, L=2, n_classes=3)


def _pixels(B, T, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(B, T), dtype=np.uint8)


def _naive_logits(params, config, pix):
    """The network of hwssm/model/config.py, one sequence, one step at a time, scalar math."""
    H, T = config.H, len(pix)
    r = [[params["encoder.W"][h, 0] * (p / 256) + params["encoder.b"][h] for h in range(H)] for p in pix]
    for l in range(config.L):
        Abar, Bbar, Cbar, D = discretize(layer_params(params, l), config.discretization)
        W, b = params[f"layers.{l}.W"], params[f"layers.{l}.b"]
        x = np.zeros_like(Abar)
        for t in range(T):
            x = Abar * x + Bbar * np.array(r[t])[:, None]
            y = [2 * (Cbar[h] * x[h]).sum().real + D[h] * r[t][h] for h in range(H)]
            g = [v / 2 * (1 + math.erf(v / math.sqrt(2))) for v in y]
            v = [sum(W[j, h] * g[h] for h in range(H)) + b[j] for j in range(2 * H)]
            z = [v[h] / (1 + math.exp(-v[H + h])) for h in range(H)]
            r[t] = [r[t][h] + z[h] for h in range(H)]
    s = [sum(r[t][h] for t in range(T)) for h in range(H)]
    return [sum(params["decoder.W"][c, h] * s[h] for h in range(H)) + params["decoder.b"][c]
            for c in range(config.n_classes)]


def test_erf_and_gelu_match_libm():
    x = np.linspace(-8, 8, 4001)
    np.testing.assert_array_equal(erf(x), [math.erf(v) for v in x])
    np.testing.assert_allclose(sigmoid(x), [1 / (1 + math.exp(-v)) for v in x], rtol=1e-15)
    assert sigmoid(np.array([-1000.0, -40.0, 1000.0])).tolist() == [0.0, math.exp(-40) / (1 + math.exp(-40)), 1.0]
    assert gelu(np.array([0.0, 1.0, -1.0])) == pytest.approx([0.0, 0.8413447460685429, -0.15865525393145707],
                                                             rel=1e-15)


@pytest.mark.parametrize("config", [TINY, S4DConfig(H=3, N=4, L=1, n_classes=2, init=Init.INV,
                                                     discretization=Discretization.BILINEAR)])
def test_forward_matches_naive_reference(config):
    params = init_params(config, seed=7)
    pix = _pixels(2, 25)
    logits = forward(params, config, pix, Mode.CONV)
    for i in range(2):
        np.testing.assert_allclose(logits[i], _naive_logits(params, config, pix[i]), rtol=1e-9, atol=1e-9)


def test_shapes_finite_and_modes_agree():
    params = init_params(TINY, seed=1)
    pix = _pixels(5, 120)
    conv = forward(params, TINY, pix, Mode.CONV)
    rec = forward(params, TINY, pix, Mode.RECURRENT)
    assert conv.shape == (5, 3) and conv.dtype == np.float64 and np.isfinite(conv).all()
    assert np.abs(conv - rec).max() <= 1e-9 * np.abs(rec).max()
    # Rows are independent: a batch equals its rows one at a time.
    np.testing.assert_allclose(conv[2], forward(params, TINY, pix[2:3])[0], rtol=1e-12)


def test_sum_pool_semantics():
    params = init_params(TINY, seed=2)
    for l in range(TINY.L):                              # z = 0, so r_L = r_0
        params[f"layers.{l}.W"][:] = 0
        params[f"layers.{l}.b"][:] = 0
    pix = _pixels(3, 50)
    W, b = params["encoder.W"][:, 0].astype(float), params["encoder.b"].astype(float)
    s = np.outer(pix.sum(axis=1) / 256, W) + 50 * b      # Σ_t (W u0[t] + b)
    expect = s @ params["decoder.W"].T.astype(float) + params["decoder.b"]
    np.testing.assert_allclose(forward(params, TINY, pix), expect, rtol=1e-12)


def test_trace_points_and_states():
    params = init_params(TINY, seed=3)
    pix = _pixels(4, 40)
    logits, tr = forward(params, TINY, pix, trace=True, state_of=[1, 3])
    H, M = TINY.H, TINY.M
    assert len(tr.r) == TINY.L + 1 and all(len(tr.point(n)) == TINY.L for n in POINTS if n != "r")
    assert tr.v[0].shape == (4, 40, 2 * H) and tr.y[1].shape == (4, 40, H)
    assert tr.x[0].shape == (2, 40, H, M) and tr.x[0].dtype == np.complex128 and tr.state_of == (1, 3)
    np.testing.assert_allclose(tr.s, tr.r[-1].sum(axis=1), rtol=1e-15)
    np.testing.assert_array_equal(tr.logits, logits)
    for l in range(TINY.L):
        np.testing.assert_allclose(tr.r[l + 1], tr.r[l] + tr.z[l], rtol=1e-15)
        _, _, Cbar, D = discretize(layer_params(params, l), TINY.discretization)
        y = 2 * (Cbar * tr.x[l]).sum(-1).real + D * tr.r[l][[1, 3]]
        np.testing.assert_allclose(y, tr.y[l][[1, 3]], rtol=1e-9, atol=1e-12)
    _, plain = forward(params, TINY, pix, trace=True)
    assert plain.x == [] and plain.state_of == ()
    with pytest.raises(KeyError):
        tr.point("q")


def test_classifier_predict_and_overrides():
    params = init_params(TINY, seed=4)
    pix = _pixels(7, 60)
    clf = S4DClassifier(TINY, params, T=784)
    np.testing.assert_allclose(clf.forward(pix), forward(params, TINY, pix), rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(pix, batch_size=3), forward(params, TINY, pix).argmax(axis=1))
    over = dict(params)
    for l in range(TINY.L):
        Abar, Bbar, _, _ = discretize(layer_params(params, l), TINY.discretization)
        over.update({f"layers.{l}.Abar_re": Abar.real, f"layers.{l}.Abar_im": Abar.imag,
                     f"layers.{l}.Bbar_re": Bbar.real, f"layers.{l}.Bbar_im": Bbar.imag})
    np.testing.assert_allclose(forward(over, TINY, pix), forward(params, TINY, pix), rtol=1e-12)


@pytest.mark.parametrize("bad", [np.zeros((2, 5), np.int32), np.zeros(5, np.uint8), np.zeros((2, 0), np.uint8)])
def test_bad_pixels(bad):
    with pytest.raises(HwssmError, match="pixels must be uint8"):
        forward(init_params(TINY, 0), TINY, bad)


def test_bad_params_and_rows():
    params = init_params(TINY, 0)
    del params["layers.1.C_im"]
    with pytest.raises(HwssmError, match="layers.1.C_im"):
        forward(params, TINY, _pixels(1, 5))
    with pytest.raises(HwssmError, match="state_of"):
        forward(init_params(TINY, 0), TINY, _pixels(2, 5), state_of=[2])
