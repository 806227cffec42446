"""S5 in torch: the parallel scan, torch forward == numpy reference, Q-S5's optimizer split,
a few CPU steps lower the loss, resume and export as an S5 checkpoint, the CLI's family options."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hwssm.data.mnist import Split, load_mnist, sequences  # noqa: E402
from hwssm.model.checkpoint import load_checkpoint  # noqa: E402
from hwssm.model.config import Discretization, Family  # noqa: E402
from hwssm.model.s5_config import Glu, Norm, S5Config  # noqa: E402
from hwssm.model.s5_network import forward, init_params  # noqa: E402
from hwssm.train.float_train import Recipe, export, initial_params, param_groups, train  # noqa: E402
from hwssm.train.s5_torch import S5Torch, scan  # noqa: E402

pytestmark = pytest.mark.train

TINY = S5Config(H=6, P=3, L=1)
RECIPE = Recipe(epochs=2, batch_size=16, lr=0.1, ssm_lr=0.02, dropout=0.0, warmup_epochs=0.5,
                train_limit=64, val_limit=32)


def _quiet(_line: str) -> None:
    pass


def _perturbed(cfg, seed):
    """Initial parameters with random BatchNorm statistics and a larger decoder (logits of order 1..10)."""
    params = initial_params(cfg, seed)
    rng = np.random.default_rng(seed + 1)
    for l in range(cfg.L):
        if cfg.norm is Norm.BATCH:
            params[f"layers.{l}.norm_mean"] = rng.normal(size=cfg.H).astype(np.float32)
            params[f"layers.{l}.norm_var"] = rng.uniform(0.3, 2.0, cfg.H).astype(np.float32)
        if cfg.norm is not Norm.NONE:
            params[f"layers.{l}.norm_scale"] = rng.normal(1.0, 0.5, cfg.H).astype(np.float32)
    params["decoder.W"] *= 100
    return params


def test_scan_equals_the_sequential_recurrence():
    rng = np.random.default_rng(0)
    lam = (0.9 + 0.05 * rng.random(5)) * np.exp(1j * rng.uniform(-3, 3, 5))
    bu = rng.normal(size=(2, 37, 5)) + 1j * rng.normal(size=(2, 37, 5))
    x_re, x_im = scan(torch.from_numpy(bu.real), torch.from_numpy(bu.imag), torch.from_numpy(np.log(lam)))
    x = np.zeros((2, 5), complex)
    for t in range(37):
        x = lam * x + bu[:, t]
        np.testing.assert_allclose(x_re[:, t].numpy() + 1j * x_im[:, t].numpy(), x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("disc", list(Discretization))
@pytest.mark.parametrize("cfg", [S5Config(H=7, P=5, L=2, n_classes=4),
                                 S5Config(H=5, P=3, L=1, glu=Glu.FULL, norm=Norm.LAYER, J=3),
                                 S5Config(H=4, P=7, L=2, norm=Norm.NONE)], ids=["bn-half", "ln-full", "none"])
def test_torch_forward_matches_numpy(cfg, disc):
    cfg = S5Config(**{**cfg.__dict__, "discretization": disc})
    params = _perturbed(cfg, 3)
    pixels = np.random.default_rng(5).integers(0, 256, (3, 120)).astype(np.uint8)
    want = forward(params, cfg, pixels)
    assert np.abs(want).max() > 0.1
    model = S5Torch.from_params(cfg, params).eval()
    with torch.no_grad():
        got32 = model(torch.from_numpy(pixels)).numpy()
        got64 = model.double()(torch.from_numpy(pixels)).numpy()
    scale = np.abs(want).max()
    np.testing.assert_allclose(got32, want, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(got64, want, rtol=0, atol=1e-12 * scale)


def test_names_are_the_checkpoint_names_and_the_optimizer_split():
    model = S5Torch(TINY)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == TINY.param_shapes()
    params = init_params(TINY, 0)
    back = S5Torch.from_params(TINY, params).to_params()
    assert list(back) == list(params)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    ssm, dec, rest = param_groups(model, RECIPE)
    names = {id(p): n for n, p in model.named_parameters()}
    assert sorted(names[id(p)].split(".")[-1] for p in ssm["params"]) == \
        sorted(["Lambda_re", "Lambda_im", "log_dt", "B_re", "B_im"])
    assert (ssm["lr"], ssm["weight_decay"]) == (0.02, 0.0)
    assert (rest["lr"], rest["weight_decay"]) == (0.1, 0.01)
    assert {names[id(p)].split(".")[-1] for p in rest["params"]} >= {"C_re", "C_im", "D", "W", "norm_scale"}
    assert [names[id(p)] for p in dec["params"]] == ["decoder.W"]


def _train_loss(model, recipe):
    images, labels = load_mnist(Split.TRAIN)
    x = torch.from_numpy(sequences(images)[:recipe.train_limit].copy())
    y = torch.from_numpy(labels[:recipe.train_limit].astype(np.int64))
    with torch.no_grad():
        return torch.nn.functional.cross_entropy(model.eval()(x), y).item()


def test_training_lowers_the_loss_resumes_and_exports(tmp_path):
    recipe = Recipe(**{**RECIPE.to_json(), "epochs": 4})
    before = _train_loss(S5Torch.from_params(TINY, initial_params(TINY, recipe.seed)), recipe)
    first = train(TINY, recipe, tmp_path / "w", device="cpu", stop_after=2, say=_quiet)
    assert not first.done and first.epoch == 2
    lines = []
    out = train(TINY, recipe, tmp_path / "w", device="cpu", say=lines.append)
    assert lines[0].startswith("resumed") and out.done and out.epoch == 4
    after = _train_loss(out.model, recipe)
    assert after < before - 0.1, (before, after)
    stats = out.model.to_params()["layers.0.norm_var"]
    assert not np.allclose(stats, 1.0)            # BatchNorm running statistics were trained
    path = export(out, tmp_path / "s5", test_limit=50, say=_quiet)
    ckpt = load_checkpoint(path)
    assert ckpt.family is Family.S5 and ckpt.config == TINY
    assert ckpt.meta["kind"] == "float S5 classifier, sMNIST"
    for k, v in out.model.to_params().items():
        np.testing.assert_array_equal(ckpt.params[k], v)


def test_cli_family_options(capsys):
    from hwssm.cli import main

    assert main(["train", "float", "--out", "x", "--work", "y", "--family", "s5", "--N", "8"]) == 2
    assert capsys.readouterr().err.strip() == "hwssm: error: --N is an option of --family s4d, not s5"
    assert main(["train", "float", "--out", "x", "--work", "y", "--P", "8"]) == 2
    assert capsys.readouterr().err.strip() == "hwssm: error: --P is an option of --family s5, not s4d"
    assert main(["train", "float", "--out", "x", "--work", "y", "--family", "s5", "--P", "6", "--J", "4"]) == 2
    assert "must be divisible by J=4" in capsys.readouterr().err


def test_s5_recipe_defaults_are_qs5s():
    from hwssm.train.families import RECIPE_DEFAULTS

    d = RECIPE_DEFAULTS[Family.S5]
    assert (d["ssm_lr"], d["lr"], d["weight_decay"], d["batch_size"], d["epochs"]) == (0.004, 0.016, 0.01, 50, 150)
