"""The float model's multi-channel (C > 1) and token (embedding) encoders: numpy reference,
fast classifier and config serialization; PTQ of such models runs in the golden engine."""

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.golden.engine import run
from hwssm.model.checkpoint import init_params
from hwssm.model.config import S4DConfig
from hwssm.model.fast import FastClassifier
from hwssm.model.network import Mode, forward
from hwssm.quant.plan import PrecisionPlan
from hwssm.quant.ptq import ptq

T = 20


def _inputs(cfg, n=3, seed=0):
    rng = np.random.default_rng(seed)
    if cfg.tokens:
        return rng.integers(0, cfg.vocab, (n, T))
    return rng.integers(0, 256, (n, T, cfg.C), dtype=np.uint8)


@pytest.mark.parametrize("cfg", [S4DConfig(H=4, N=4, L=2, C=3), S4DConfig(H=4, N=4, L=2, vocab=9)],
                         ids=["C3", "tokens"])
def test_encoders_agree_across_the_float_models(cfg):
    params = init_params(cfg, 1)
    x = _inputs(cfg)
    conv = forward(params, cfg, x)
    np.testing.assert_allclose(forward(params, cfg, x, Mode.RECURRENT), conv, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(FastClassifier(cfg, params, T=T).logits(x), conv, rtol=1e-9, atol=1e-12)
    _, tr = forward(params, cfg, x, trace=True)
    if cfg.tokens:
        np.testing.assert_array_equal(tr.r[0], np.asarray(params["encoder.E"], np.float64)[x])
    else:
        W, b = (np.asarray(params[k], np.float64) for k in ("encoder.W", "encoder.b"))
        np.testing.assert_allclose(tr.r[0], (x / 256.0) @ W.T + b)
    qm = ptq(cfg, params, PrecisionPlan.uniform(8), x)
    assert (qm.C, qm.vocab) == (cfg.C, cfg.vocab)
    res = run(qm, x)
    assert res.logits.shape == (3, cfg.n_classes)


def test_config_json_omits_defaults():
    d = S4DConfig(H=4, N=4, L=1).to_json()
    assert "C" not in d and "vocab" not in d
    for cfg in (S4DConfig(H=4, N=4, L=1, C=2), S4DConfig(H=4, N=4, L=1, vocab=5)):
        assert S4DConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError, match="one token per step"):
        S4DConfig(H=4, N=4, L=1, C=2, vocab=5)


def test_bad_inputs():
    cfg = S4DConfig(H=4, N=4, L=1, C=2)
    params = init_params(cfg, 0)
    with pytest.raises(HwssmError, match=r"\(B, T, 2\)"):
        forward(params, cfg, np.zeros((1, T, 3), np.uint8))
    tcfg = S4DConfig(H=4, N=4, L=1, vocab=5)
    with pytest.raises(HwssmError, match=r"\[0, 5\)"):
        forward(init_params(tcfg, 0), tcfg, np.full((1, T), 5))
