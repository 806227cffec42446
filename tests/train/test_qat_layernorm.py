"""QAT with LayerNorm (ARITHMETIC.md §7): the integer forward == the golden engine, exactly; STE gradients."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hwssm.data.mnist import Split, load_mnist, sequences  # noqa: E402
from hwssm.golden.engine import run as golden_run  # noqa: E402
from hwssm.model.checkpoint import init_params  # noqa: E402
from hwssm.model.config import Norm, S4DConfig  # noqa: E402
from hwssm.quant.plan import NAMED_PLANS, parse_code  # noqa: E402
from hwssm.quant.ptq import ptq  # noqa: E402
from hwssm.train.qat_frame import build_frame  # noqa: E402
from hwssm.train.qat_model import AParam, QATModel  # noqa: E402

pytestmark = pytest.mark.train

WINDOW = slice(372, 412)
PLANS = {"uniform8": NAMED_PLANS["uniform8"], "hetero-n6": parse_code("A8x8-B4C4D4-W8-a6-n6.12"),
         "floor_wrap": parse_code("A6.8x8.10-W5-a5-floor-wrap")}


@pytest.fixture(scope="module")
def digits():
    images, labels = load_mnist(Split.TRAIN)
    return np.ascontiguousarray(sequences(images[:40])[:, WINDOW]), labels[:40].astype(np.int64)


def _model(plan, prenorm, digits, aparam=AParam.DISCRETE):
    config = S4DConfig(H=4, N=4, L=2, norm=Norm.LAYER, prenorm=prenorm)
    params = init_params(config, 0)
    rng = np.random.default_rng(1)
    params["decoder.W"] = (params["decoder.W"] / 40).astype(np.float32)
    for l in range(config.L):
        params[f"layers.{l}.norm_scale"] = rng.uniform(0.5, 1.5, 4).astype(np.float32)
        params[f"layers.{l}.norm_bias"] = rng.uniform(-0.3, 0.3, 4).astype(np.float32)
    x, _ = digits
    qm = ptq(config, params, plan, x[:24])
    return QATModel(build_frame(qm, T=x.shape[1]), config, params, aparam), qm


def _steps(model, x, y, n=2, lr=3e-2):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(n):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("prenorm", [False, True], ids=["postnorm", "prenorm"])
@pytest.mark.parametrize("name", sorted(PLANS))
def test_qat_forward_with_layernorm_equals_golden(digits, name, prenorm):
    x, y = digits
    model, qm = _model(PLANS[name], prenorm, digits)
    assert model.to_qmodel().digest() == qm.digest()          # the starting point is the PTQ model
    _steps(model, torch.from_numpy(x[:16]), torch.from_numpy(y[:16]))
    test = x[24:32]
    with torch.no_grad():
        _, tr = model(torch.from_numpy(test), trace=True)
    qm2 = model.to_qmodel()
    assert qm2.digest() != qm.digest()                        # γ, β or others moved
    g = golden_run(qm2, test, trace=True)
    np.testing.assert_array_equal(tr.r, g.r)
    np.testing.assert_array_equal(tr.y, g.y)
    np.testing.assert_array_equal(tr.logits, g.logits)


@pytest.mark.parametrize("prenorm", [False, True], ids=["postnorm", "prenorm"])
def test_layernorm_gradients_reach_gamma_beta_and_the_input(digits, prenorm):
    x, y = digits
    model, _ = _model(PLANS["uniform8"], prenorm, digits)
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x[:16])), torch.from_numpy(y[:16]))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    for l in range(2):
        for name in ("norm_scale", "norm_bias", "W"):
            assert getattr(model.layers[l], name).grad.abs().sum() > 0, (l, name)
    assert model.enc_W.grad.abs().sum() > 0                   # through both LayerNorms
