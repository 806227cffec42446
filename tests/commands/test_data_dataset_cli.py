"""``hwssm data check --data`` and ``hwssm data show --data`` on NPZ files written here (samples
of C = 2 channels, tokens, a format the models cannot read, a broken file), and
:func:`hwssm.load_dataset` of the API."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwssm.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T = 16


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(1)
    c2 = {}
    for s, n in (("train", 24), ("val", 8), ("test", 8)):
        c2[f"{s}_x"] = rng.integers(0, 256, (n, T, 2), dtype=np.uint8)
        c2[f"{s}_y"] = rng.integers(0, 3, n)
    np.savez(tmp_path / "c2.npz", **c2)
    tok = {f"{s}_{k}": (rng.integers(0, 7, (n, T)).astype(np.uint8) if k == "x" else rng.integers(0, 3, n))
           for s, n in (("train", 20), ("test", 6)) for k in ("x", "y")}
    np.savez(tmp_path / "tok.npz", **tok)
    (tmp_path / "tok.json").write_text(json.dumps({"encoding": "tokens", "vocab": 7}))
    s8 = {f"{s}_{k}": (rng.integers(-100, 100, (5, 10), dtype=np.int8) if k == "x" else np.zeros(5, np.int64))
          for s in ("train", "test") for k in ("x", "y")}
    np.savez(tmp_path / "s8.npz", **s8)
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    return tmp_path


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hwssm: error: ")
    return err[0]


def test_check_prints_shapes_classes_splits_and_format(files, capsys):
    assert main(["data", "check", "--data", str(files / "c2.npz"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["classes"], doc["T"], doc["C"], doc["input_format"], doc["encoding"]) == (3, T, 2, "u8.8", "samples")
    assert {k: v["x"] for k, v in doc["splits"].items()} == {"train": [24, T, 2], "val": [8, T, 2], "test": [8, T, 2]}
    assert doc["models_read_it"] and doc["identity"].startswith("npz:sha256=")
    assert main(["data", "check", "--data", str(files / "tok.npz"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["encoding"], doc["vocab"], doc["input_format"]) == ("tokens", 7, None)
    assert doc["splits"]["train"]["n"] + doc["splits"]["val"]["n"] == 20      # val carved from train
    assert main(["data", "check", "--data", str(files / "s8.npz")]) == 0
    out = capsys.readouterr().out
    assert "T=10, C=1, s8.7 samples" in out and "the models cannot read it" in out and "u8.8" in out


@pytest.mark.parametrize("name, fragment", [("broken.npz", "broken.npz"), ("missing.npz", "no such data file")])
def test_check_refuses_bad_files_in_one_line(files, capsys, name, fragment):
    assert main(["data", "check", "--data", str(files / name)]) == 2
    assert fragment in _error(capsys)


def test_show_plots_any_dataset(files, capsys):
    for data, extra in (("c2.npz", []), ("tok.npz", ["--split", "val"])):
        out = files / (data + ".png")
        assert main(["data", "show", "--data", str(files / data), "--index", "1", *extra, "--out", str(out)]) == 0
        assert out.read_bytes().startswith(PNG_SIGNATURE)
    capsys.readouterr()
    for argv, fragment in ((["--index", "8"], "out of range for the test split"),
                           (["--index", "0", "--split", "train-full"], "train-full is MNIST's"),
                           (["--index", "0", "--permuted-seed", "2"], "MNIST data only")):
        assert main(["data", "show", "--data", str(files / "c2.npz"), *argv, "--out", str(files / "x.png")]) == 2
        assert fragment in _error(capsys)
    assert not (files / "x.png").exists()


def test_show_psmnist_by_data_and_conflicting_seeds(tmp_path, capsys):
    out = tmp_path / "p.png"
    assert main(["data", "show", "--data", "psmnist:1", "--index", "3", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    capsys.readouterr()
    assert main(["data", "show", "--data", "psmnist:1", "--permuted-seed", "2", "--index", "3", "--out", str(out)]) == 2
    assert "different permutations" in _error(capsys)


def test_api_load_dataset(files):
    import hwssm
    from hwssm.data import load_dataset

    ds = hwssm.load_dataset(str(files / "c2.npz"))
    assert isinstance(ds, hwssm.SequenceDataset) and ds is load_dataset(files / "c2.npz")
    assert ds.split("test").sequences(3).shape == (3, T, 2) and ds.n_classes == 3
    with pytest.raises(hwssm.HwssmError, match="unknown dataset"):
        hwssm.load_dataset("nonsense")
