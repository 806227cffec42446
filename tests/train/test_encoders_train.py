"""Float training with the multi-channel (C > 1) and token (embedding) encoders: the torch
model equals the numpy reference, and ``hwssm train float --data`` runs on a tiny NPZ of each."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hwssm.cli import main  # noqa: E402
from hwssm.model.checkpoint import init_params, load_checkpoint  # noqa: E402
from hwssm.model.config import S4DConfig  # noqa: E402
from hwssm.model.network import forward  # noqa: E402
from hwssm.train.s4d_torch import S4DTorch  # noqa: E402

pytestmark = pytest.mark.train
T = 16


@pytest.mark.parametrize("config", [S4DConfig(H=6, N=4, L=2, C=3), S4DConfig(H=6, N=4, L=2, vocab=11)],
                         ids=["C3", "tokens"])
def test_torch_forward_matches_numpy(config):
    params = init_params(config, 2)
    params["decoder.W"] = params["decoder.W"] * 100
    rng = np.random.default_rng(0)
    x = (rng.integers(0, 11, (4, T)) if config.tokens
         else rng.integers(0, 256, (4, T, config.C), dtype=np.uint8))
    with torch.no_grad():
        got = S4DTorch.from_params(config, params)(torch.from_numpy(x)).numpy()
    want = forward(params, config, x)
    scale = np.abs(want).max()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)


def _npz(path, C=None, vocab=None):
    rng = np.random.default_rng(1)
    arrays = {}
    for s, n in (("train", 24), ("val", 8), ("test", 8)):
        if vocab:
            arrays[f"{s}_x"] = rng.integers(0, vocab, (n, T)).astype(np.uint8)
        else:
            arrays[f"{s}_x"] = rng.integers(0, 256, (n, T, C), dtype=np.uint8)
        arrays[f"{s}_y"] = rng.integers(0, 3, n)
    np.savez(path.with_suffix(".npz"), **arrays)
    if vocab:
        path.with_suffix(".json").write_text(json.dumps({"encoding": "tokens", "vocab": vocab}))
    return path.with_suffix(".npz")


@pytest.mark.parametrize("kind", ["C2", "tokens"])
def test_train_float_on_an_npz(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    data = _npz(tmp_path / kind, C=2) if kind == "C2" else _npz(tmp_path / kind, vocab=7)
    assert main(["train", "float", "--out", str(tmp_path / "m"), "--work", str(tmp_path / "w"), "--data", str(data),
                 "--epochs", "1", "--H", "4", "--N", "4", "--L", "1", "--batch-size", "8", "--device", "cpu",
                 "--dropout", "0", "--no-amp"]) == 0
    ckpt = load_checkpoint(tmp_path / "m.json")
    want = {"C": 2, "vocab": None} if kind == "C2" else {"C": 1, "vocab": 7}
    assert {"C": ckpt.config.C, "vocab": ckpt.config.vocab} == want and ckpt.config.n_classes == 3
    stem = str(tmp_path / "q")
    assert main(["ptq", "--model", str(tmp_path / "m.json"), "--plan", "uniform8", "--out", stem, "--data", str(data),
                 "--calib-digits", "8"]) == 0
    assert main(["golden", "eval", "--model", stem + ".qmodel.json", "--data", str(data), "--json"]) == 0

