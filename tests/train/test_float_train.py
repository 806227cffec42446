"""Float training in torch: torch forward == numpy reference, the loss drops, resume, export."""

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hwssm.data.mnist import Split, load_mnist, sequences  # noqa: E402
from hwssm.errors import HwssmError  # noqa: E402
from hwssm.model.checkpoint import init_params, load_checkpoint  # noqa: E402
from hwssm.model.config import Discretization, S4DConfig  # noqa: E402
from hwssm.model.network import forward  # noqa: E402
from hwssm.train.float_train import LOG_FILE, RESUME_FILE, Recipe, export, initial_params, train  # noqa: E402
from hwssm.train.s4d_torch import S4DTorch  # noqa: E402

pytestmark = pytest.mark.train

TINY = S4DConfig(H=8, N=4, L=1)
#: 64 real training digits, 4 steps per epoch, no dropout (deterministic on the CPU).
RECIPE = Recipe(epochs=2, batch_size=16, lr=2e-2, ssm_lr=2e-3, dropout=0.0, warmup_epochs=0.5,
                train_limit=64, val_limit=32)


def _quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def digits():
    images, labels = load_mnist(Split.TEST)
    return sequences(images[:6]).copy(), labels[:6]


@pytest.mark.parametrize("discretization", list(Discretization))
@pytest.mark.parametrize("config", [TINY, S4DConfig(H=6, N=8, L=2)], ids=["H8N4L1", "H6N8L2"])
def test_torch_forward_matches_numpy(digits, config, discretization):
    config = S4DConfig(H=config.H, N=config.N, L=config.L, discretization=discretization)
    params = initial_params(config, seed=3)
    rng = np.random.default_rng(4)
    for l in range(config.L):  # a general complex B and a non-trivial A, not just the init
        for name in ("B_im", "log_A_real", "A_imag"):
            key = f"layers.{l}.{name}"
            params[key] = (params[key] + 0.3 * rng.standard_normal(params[key].shape)).astype(np.float32)
    params["decoder.W"] *= 100  # logits of order 1..10
    pixels, _ = digits
    with torch.no_grad():
        got = S4DTorch.from_params(config, params)(torch.from_numpy(pixels)).numpy()
    want = forward(params, config, pixels)
    scale = np.abs(want).max()
    assert scale > 0.1
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)


def test_parameter_names_are_the_checkpoint_names():
    model = S4DTorch(TINY)
    shapes = {k: tuple(v.shape) for k, v in model.named_parameters()}
    assert shapes == TINY.param_shapes()
    params = init_params(TINY, 0)
    back = S4DTorch.from_params(TINY, params).to_params()
    assert back.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])


def _train_loss(model, recipe):
    images, labels = load_mnist(Split.TRAIN)
    x = torch.from_numpy(sequences(images)[:recipe.train_limit].copy())
    y = torch.from_numpy(labels[:recipe.train_limit].astype(np.int64))
    with torch.no_grad():
        return torch.nn.functional.cross_entropy(model.eval()(x), y).item()


def test_training_lowers_the_loss(tmp_path):
    recipe = Recipe(**{**RECIPE.to_json(), "epochs": 6})
    before = _train_loss(S4DTorch.from_params(TINY, initial_params(TINY, recipe.seed)), recipe)
    out = train(TINY, recipe, tmp_path, device="cpu", say=_quiet)
    after = _train_loss(out.model, recipe)
    assert out.done and out.epoch == 6
    assert [e["epoch"] for e in out.log] == list(range(1, 7))
    assert after < before - 0.1, (before, after)


def test_resume_continues_from_the_saved_epoch(tmp_path):
    lines = []
    first = train(TINY, RECIPE, tmp_path / "split", device="cpu", stop_after=1, say=_quiet)
    assert not first.done and first.epoch == 1
    assert (tmp_path / "split" / RESUME_FILE).is_file() and (tmp_path / "split" / LOG_FILE).is_file()
    second = train(TINY, RECIPE, tmp_path / "split", device="cpu", say=lines.append)
    assert lines[0].startswith("resumed") and "epoch 1/2" in lines[0]
    assert second.done and [e["epoch"] for e in second.log] == [1, 2]
    assert second.log[0] == first.log[0]
    whole = train(TINY, RECIPE, tmp_path / "whole", device="cpu", say=_quiet)
    a, b = second.model.to_params(), whole.model.to_params()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    # Finished: a further call trains nothing and returns the same model.
    again = train(TINY, RECIPE, tmp_path / "split", device="cpu", say=_quiet)
    assert again.done and again.epoch == 2
    np.testing.assert_array_equal(again.model.to_params()["decoder.W"], a["decoder.W"])


def test_resume_refuses_another_recipe(tmp_path):
    train(TINY, RECIPE, tmp_path, device="cpu", stop_after=1, say=_quiet)
    other = Recipe(**{**RECIPE.to_json(), "lr": 1e-3})
    with pytest.raises(HwssmError, match="another recipe"):
        train(TINY, other, tmp_path, device="cpu", say=_quiet)
    with pytest.raises(HwssmError, match="another model"):
        train(S4DConfig(H=8, N=4, L=2), RECIPE, tmp_path, device="cpu", say=_quiet)


def test_export_writes_a_plain_checkpoint(tmp_path):
    out = train(TINY, RECIPE, tmp_path / "work", device="cpu", say=_quiet)
    path = export(out, tmp_path / "m", test_limit=200, say=_quiet)
    ckpt = load_checkpoint(path)
    assert ckpt.config == TINY
    params = out.model.to_params()
    assert ckpt.params.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(ckpt.params[k], params[k])
    assert ckpt.meta["epochs"] == 2 and 0 <= ckpt.meta["test_accuracy"] <= 1
    assert (tmp_path / "m.log.json").is_file()
    assert (tmp_path / "m.training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_without_torch_is_a_one_line_error(monkeypatch, capsys):
    from hwssm.cli import main

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    assert main(["train", "float", "--out", "x", "--work", "y"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "hwssm: error: torch is not installed: pip install -e '.[train]'"
