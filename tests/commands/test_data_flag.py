"""``--data NAME|PATH`` on the commands that read data: golden eval on a small NPZ written here
(every split), and the one-line refusals (exit 2) of a model that cannot read the data: another
number of classes K, token inputs (ListOps) to a linear encoder, another channel count C."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwssm.cli import main
from hwssm.golden.engine import run
from hwssm.model.checkpoint import init_params, save_checkpoint
from hwssm.model.config import S4DConfig
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel

T = 24


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    qm = random_qmodel(4, 2, 1, seed=3)
    save_qmodel(qm, tmp_path / "q.qmodel.json")
    rng = np.random.default_rng(0)
    arrays = {}
    for s, n in (("train", 12), ("val", 5), ("test", 9)):
        arrays[f"{s}_x"] = rng.integers(0, 256, (n, T), dtype=np.uint8)
        arrays[f"{s}_y"] = rng.integers(0, 10, n)
    np.savez(tmp_path / "seq.npz", **arrays)
    return tmp_path, qm, arrays


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hwssm: error: "), err
    return err[0]


@pytest.mark.parametrize("split", ["test", "val", "train"])
def test_golden_eval_reads_an_npz(env, capsys, split):
    tmp, qm, arrays = env
    assert main(["golden", "eval", "--model", "q.qmodel.json", "--data", "seq.npz", "--split", split, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    pred = run(qm, arrays[f"{split}_x"]).pred
    assert out["data"] == "seq.npz" and out["split"] == split and out["digits"] == len(pred)
    assert out["accuracy"] == pytest.approx(float(np.mean(pred == arrays[f"{split}_y"])))
    assert main(["golden", "eval", "--model", "q.qmodel.json", "--data", "seq.npz", "--split", split,
                 "--limit", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["digits"] == 3


def test_a_class_count_mismatch_is_refused(env, capsys):
    tmp, _, arrays = env
    np.savez(tmp / "k3.npz", **{k: (v % 3 if k.endswith("_y") else v) for k, v in arrays.items()})
    assert main(["golden", "eval", "--model", "q.qmodel.json", "--data", "k3.npz"]) == 2
    assert "the model has 10 classes, dataset k3.npz has 3" in _error(capsys)
    ckpt = save_checkpoint(tmp / "tiny", S4DConfig(H=4, N=4, L=1), init_params(S4DConfig(H=4, N=4, L=1), 0))
    assert main(["ptq", "--model", str(ckpt), "--plan", "uniform8", "--out", "m", "--data", "k3.npz"]) == 2
    assert "the checkpoint has 10 classes, dataset k3.npz has 3" in _error(capsys)
    assert not (tmp / "m.qmodel.json").exists()
    assert main(["sweep", "--model", "q.qmodel.json", "--data", "k3.npz", "--out", "s.json", "--jobs", "1"]) == 2
    assert "has 10 classes" in _error(capsys)


def test_ptq_calibrates_on_the_data(env, capsys):
    tmp, _, _ = env
    cfg = S4DConfig(H=4, N=4, L=1)
    ckpt = save_checkpoint(tmp / "tiny", cfg, init_params(cfg, 0))
    assert main(["ptq", "--model", str(ckpt), "--plan", "uniform8", "--out", "m", "--data", "seq.npz",
                 "--calib-digits", "4", "--json"]) == 0
    assert main(["ptq", "--model", str(ckpt), "--plan", "uniform8", "--out", "m2", "--data", "psmnist:1",
                 "--calib-digits", "4", "--json"]) == 0
    a, b = (json.loads(line)["digest"] for line in capsys.readouterr().out.strip().splitlines())
    assert a != b  # another calibration set, another model


def test_multichannel_data_needs_a_model_of_its_channel_count(env, capsys):
    tmp, _, arrays = env
    np.savez(tmp / "c2.npz", **{k: (np.stack([v, v], -1) if k.endswith("_x") else v) for k, v in arrays.items()})
    assert main(["golden", "eval", "--model", "q.qmodel.json", "--data", "c2.npz"]) == 2
    assert "C=2 channels per step" in _error(capsys)


@pytest.mark.parametrize("argv", [
    ["golden", "eval", "--model", "q.qmodel.json"],
    ["sim", "--model", "q.qmodel.json", "--lanes", "1", "--digits", "1"],
    ["sweep", "--model", "q.qmodel.json", "--out", "s.json"],
    ["flow", "--model", "q.qmodel.json", "--out", "f", "--no-synth"],
], ids=["golden", "sim", "sweep", "flow"])
def test_listops_needs_the_token_encoder(env, capsys, argv):
    tmp, _, _ = env
    assert main(argv + ["--data", "listops"]) == 2
    err = [e for e in capsys.readouterr().err.strip().splitlines() if e.startswith("hwssm: error: ")]
    assert len(err) == 1 and "holds token sequences (vocabulary 16); the model has a linear encoder" in err[0]
    assert not (tmp / "cache" / "datasets").exists()  # refused before any generation


def test_an_unknown_name_is_a_usage_error(env, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["golden", "eval", "--model", "q.qmodel.json", "--data", "cifar"])
    assert exc.value.code == 2 and "unknown dataset 'cifar'" in capsys.readouterr().err


@pytest.mark.train
def test_training_refuses_data_it_cannot_read(env, capsys):
    tmp, _, arrays = env
    np.savez(tmp / "c2.npz", **{k: (np.stack([v, v], -1) if k.endswith("_x") else v) for k, v in arrays.items()})
    assert main(["train", "float", "--family", "s5", "--out", "f", "--work", "w", "--data", "c2.npz"]) == 2
    assert "S5 models read one sample per step" in _error(capsys)
    np.savez(tmp / "k3.npz", **{k: (v % 3 if k.endswith("_y") else v) for k, v in arrays.items()})
    cfg = S4DConfig(H=4, N=4, L=1)
    ckpt = save_checkpoint(tmp / "tiny", cfg, init_params(cfg, 0))
    assert main(["qat", "--model", str(ckpt), "--plan", "uniform8", "--out", "q", "--work", "w", "--data", "k3.npz"]) == 2
    assert "the checkpoint has 10 classes, dataset k3.npz has 3" in _error(capsys)
    assert not (tmp / "w").exists()


@pytest.mark.train
def test_train_ptq_and_eval_on_an_npz_of_three_classes(env, capsys):
    tmp, _, arrays = env
    np.savez(tmp / "k3.npz", **{k: (v % 3 if k.endswith("_y") else v) for k, v in arrays.items()})
    assert main(["train", "float", "--out", "f", "--work", "w", "--data", "k3.npz", "--epochs", "1", "--H", "4",
                 "--N", "4", "--L", "1", "--device", "cpu", "--no-amp"]) == 0
    ck = json.loads((tmp / "f.json").read_text())
    assert ck["config"]["n_classes"] == 3 and ck["meta"]["recipe"]["data"].startswith("npz:sha256=")
    assert main(["ptq", "--model", "f.json", "--plan", "uniform8", "--out", "f8", "--data", "k3.npz",
                 "--calib-digits", "4"]) == 0
    capsys.readouterr()
    assert main(["golden", "eval", "--model", "f8.qmodel.json", "--data", "k3.npz", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["digits"] == 9 and out["float_reference"] == "computed"
    assert main(["golden", "eval", "--model", "f8.qmodel.json", "--limit", "2"]) == 2  # smnist has 10 classes
    assert "has 3 classes, dataset smnist has 10" in _error(capsys)


@pytest.mark.verilator
@pytest.mark.parametrize("data,argv", [("psmnist:1", ["--indices", "0,7"]), ("seq.npz", ["--digits", "2"])])
def test_sim_is_bit_exact_on_other_data(env, capsys, data, argv):
    tmp, qm, arrays = env
    assert main(["sim", "--model", "q.qmodel.json", "--lanes", "3", "--data", data, "--jobs", "1", "--json",
                 *argv]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["digits"] == 2 and out["mismatches"] == 0 and out["errors"] == []
    assert out["cycles_per_digit"] == out["model_cycles_per_digit"]
    if data == "seq.npz":  # a T = 24 core; the RTL's classes are the golden engine's
        assert out["correct"] == int(np.sum(run(qm, arrays["test_x"][:2]).pred == arrays["test_y"][:2]))
