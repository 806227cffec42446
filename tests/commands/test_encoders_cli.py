"""A C = 2 model and a token model on small NPZs through the commands: golden eval reads them
(golden == naive); their RTL (C·8-bit input word; embedding ROM) is bit-exact in Verilator
with the cycle model exact; the RTL's limits are one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwssm.cli import main
from hwssm.errors import HwssmError
from hwssm.golden.engine import run
from hwssm.hw.cycle_model import cycles_per_step
from hwssm.hw.derive import derive
from hwssm.hw.options import DesignPoint, ParamStorage
from hwssm.quant.qmodel_io import load_qmodel, save_qmodel
from hwssm.quant.random_qmodel import random_qmodel
from tests.naive import run_sequence

T = 12


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    c2, tok = {}, {}
    for s, n in (("train", 6), ("test", 4)):
        c2[f"{s}_x"] = rng.integers(0, 256, (n, T, 2), dtype=np.uint8)
        tok[f"{s}_x"] = rng.integers(0, 6, (n, T)).astype(np.uint8)
        c2[f"{s}_y"] = tok[f"{s}_y"] = rng.integers(0, 10, n)
    c2["train_y"][0] = tok["train_y"][0] = 9   # K = 10
    np.savez(tmp_path / "c2.npz", **c2)
    np.savez(tmp_path / "tok.npz", **tok)
    (tmp_path / "tok.json").write_text(json.dumps({"encoding": "tokens", "vocab": 6}))
    save_qmodel(random_qmodel(4, 2, 1, seed=2, C=2), tmp_path / "c2.qmodel.json")
    save_qmodel(random_qmodel(4, 2, 1, seed=2, vocab=6), tmp_path / "tok.qmodel.json")
    return tmp_path, c2, tok


@pytest.mark.parametrize("kind", ["c2", "tok"])
def test_golden_eval_on_the_data(env, capsys, kind):
    tmp, c2, tok = env
    arrays = c2 if kind == "c2" else tok
    assert main(["golden", "eval", "--model", f"{kind}.qmodel.json", "--data", f"{kind}.npz", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    qm = load_qmodel(tmp / f"{kind}.qmodel.json")
    res = run(qm, arrays["test_x"])
    assert out["digits"] == 4 and out["accuracy"] == pytest.approx(float(np.mean(res.pred == arrays["test_y"])))
    for i in range(2):
        assert res.logits[i].tolist() == run_sequence(qm, arrays["test_x"][i])["logits"]


def test_a_model_of_another_encoder_is_refused(env, capsys):
    for model, data, msg in (("c2", "tok.npz", "holds token sequences"), ("tok", "c2.npz", "token embedding"),
                             ("c2", "smnist", "C=2 channels per step")):
        assert main(["golden", "eval", "--model", f"{model}.qmodel.json", "--data", data]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("hwssm: error: ") and msg in err[0], err


def test_the_rtl_limits_of_c(env):
    with pytest.raises(HwssmError, match="at most 8 samples per step"):
        derive(random_qmodel(3, 2, 1, seed=1, C=9), DesignPoint(2, T))
    with pytest.raises(HwssmError, match="at most 8 samples per step"):
        cycles_per_step(random_qmodel(3, 2, 1, seed=1, C=9), DesignPoint(2, T))


def test_token_rtl_limits():
    with pytest.raises(HwssmError, match="vocabulary of 300 tokens is more than 256"):
        derive(random_qmodel(3, 2, 1, seed=1, vocab=300), DesignPoint(2, T))
    with pytest.raises(HwssmError, match="ROM storage only"):
        derive(random_qmodel(3, 2, 1, seed=1, vocab=6), DesignPoint(2, T, storage=ParamStorage.LOAD))


@pytest.mark.verilator
@pytest.mark.parametrize("kind", ["c2", "tok"])
def test_rtl_is_bit_exact(env, capsys, kind):
    """The C = 2 encoder (16-bit input word, two multipliers) and the embedding-ROM encoder in
    Verilator: every residual-stream value, logit and class as the golden engine, and the
    cycle counts of the cycle model, on the NPZ's test sequences."""
    tmp, _, _ = env
    save_qmodel(random_qmodel(3, 2, 1, seed=21, **({"C": 2} if kind == "c2" else {"vocab": 6})),
                tmp / f"{kind}3.qmodel.json")
    assert main(["sim", "--model", f"{kind}3.qmodel.json", "--data", f"{kind}.npz", "--lanes", "2", "--digits", "4",
                 "--jobs", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["digits"] == 4 and out["mismatches"] == 0
    assert out["cycles_per_digit"] == out["model_cycles_per_digit"]
    assert out["cycles_per_step"] == out["model_cycles_per_step"]
