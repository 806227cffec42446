"""QAT with the multi-channel (C > 1) and token (embedding ROM) encoders: the integer forward,
its export and the golden engine agree bit for bit; ``hwssm qat --data`` runs on a tiny NPZ."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hwssm.cli import main  # noqa: E402
from hwssm.errors import HwssmError  # noqa: E402
from hwssm.golden.engine import run as golden_run  # noqa: E402
from hwssm.model.checkpoint import init_params  # noqa: E402
from hwssm.model.config import S4DConfig  # noqa: E402
from hwssm.quant.plan import NAMED_PLANS, parse_code  # noqa: E402
from hwssm.quant.ptq import ptq  # noqa: E402
from hwssm.quant.qmodel_io import load_qmodel  # noqa: E402
from hwssm.quant.random_qmodel import random_qmodel  # noqa: E402
from hwssm.train.qat_frame import build_frame  # noqa: E402
from hwssm.train.qat_model import AParam, QATModel  # noqa: E402

pytestmark = pytest.mark.train
T = 24
CONFIGS = {"C3": S4DConfig(H=4, N=4, L=2, C=3), "tokens": S4DConfig(H=4, N=4, L=2, vocab=11)}
PLANS = {"uniform8": NAMED_PLANS["uniform8"], "per_head_asym": parse_code("A8x10-B4C6D5-W6-a6-h-asym")}


def _inputs(config, n, seed=0):
    rng = np.random.default_rng(seed)
    if config.tokens:
        return rng.integers(0, config.vocab, (n, T)).astype(np.uint8)
    return rng.integers(0, 256, (n, T, config.C), dtype=np.uint8)


def _model(config, plan, aparam):
    params = init_params(config, 0)
    params["decoder.W"] = (params["decoder.W"] / T).astype(np.float32)
    x = _inputs(config, 48)
    qm = ptq(config, params, plan, x[:32])
    return QATModel(build_frame(qm, T=T), config, params, aparam), qm, x


@pytest.mark.parametrize("aparam", [AParam.CONTINUOUS, AParam.DISCRETE], ids=lambda a: a.value)
@pytest.mark.parametrize("plan", sorted(PLANS))
@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_qat_forward_equals_golden_engine(kind, plan, aparam):
    config = CONFIGS[kind]
    model, qm0, x = _model(config, PLANS[plan], aparam)
    assert model.to_qmodel().digest() == qm0.digest()          # the start is the PTQ model
    y = torch.from_numpy(np.random.default_rng(1).integers(0, 10, 16))
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    for _ in range(2):                                          # away from the PTQ codes
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x[:16])), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.enc_W.grad is not None and model.enc_W.grad.abs().sum() > 0
    qm = model.to_qmodel()
    assert qm.digest() != qm0.digest() and (qm.C, qm.vocab) == (qm0.C, qm0.vocab)
    test = x[32:40]
    with torch.no_grad():
        _, tr = model(torch.from_numpy(test), trace=True)
    g = golden_run(qm, test, trace=True)
    np.testing.assert_array_equal(tr.r, g.r)
    np.testing.assert_array_equal(tr.y, g.y)
    np.testing.assert_array_equal(tr.v, g.v)
    np.testing.assert_array_equal(tr.logits, g.logits)


def test_token_encoder_reads_the_lowerings_embedding_rom():
    """r_0 of every token is the row of the lowering's table (the hardware's embedding ROM)."""
    model, _, _ = _model(CONFIGS["tokens"], PLANS["per_head_asym"], AParam.FROZEN)
    toks = torch.arange(11, dtype=torch.uint8)[None, :].repeat(2, 1)
    with torch.no_grad():
        _, tr = model(toks, trace=True)
    np.testing.assert_array_equal(tr.r[0, 0], model.frame.lowering.encoder.table)


def test_qat_refuses_a_frame_of_another_encoder():
    cfg = S4DConfig(H=4, N=4, L=1, vocab=5)
    with pytest.raises(HwssmError, match="different encoders"):
        QATModel(build_frame(random_qmodel(4, 2, 1, seed=0, C=2), T), cfg, init_params(cfg, 0), AParam.FROZEN)


def _npz(path, C=None, vocab=None):
    rng = np.random.default_rng(1)
    arrays = {}
    for s, n in (("train", 24), ("val", 8), ("test", 8)):
        arrays[f"{s}_x"] = (rng.integers(0, vocab, (n, T)).astype(np.uint8) if vocab
                            else rng.integers(0, 256, (n, T, C), dtype=np.uint8))
        arrays[f"{s}_y"] = rng.integers(0, 3, n)
    np.savez(path.with_suffix(".npz"), **arrays)
    if vocab:
        path.with_suffix(".json").write_text(json.dumps({"encoding": "tokens", "vocab": vocab}))
    return path.with_suffix(".npz")


@pytest.mark.parametrize("kind", ["C2", "tokens"])
def test_cli_qat_on_an_npz(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    data = _npz(tmp_path / kind, C=2) if kind == "C2" else _npz(tmp_path / kind, vocab=7)
    assert main(["train", "float", "--out", str(tmp_path / "m"), "--work", str(tmp_path / "w"), "--data", str(data),
                 "--epochs", "1", "--H", "4", "--N", "4", "--L", "1", "--batch-size", "8", "--device", "cpu",
                 "--dropout", "0", "--no-amp"]) == 0
    assert main(["qat", "--model", str(tmp_path / "m.json"), "--plan", "uniform8", "--param", "continuous",
                 "--out", str(tmp_path / "q"), "--work", str(tmp_path / "wq"), "--data", str(data), "--epochs", "1",
                 "--batch-size", "8", "--calib-digits", "8", "--device", "cpu"]) == 0
    qm = load_qmodel(tmp_path / "q.qmodel.json")
    assert (qm.C, qm.vocab) == ((2, None) if kind == "C2" else (1, 7))
    assert qm.meta["golden_qat_logits_equal"] == 1.0 and qm.meta["golden_digits"] == 8
