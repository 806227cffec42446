"""``hwssm golden eval`` warns (one stderr line) when the MNIST files it evaluates on are unverified:
raw files without known sums, e.g. with shuffled labels; none with the original .gz files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from hwssm.cli import main
from hwssm.data import Split, mnist
from hwssm.quant.plan import parse_code
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel

STEMS = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture
def qmodel(tmp_path):
    return save_qmodel(random_qmodel(4, 2, 1, parse_code("A8x8-W8-a6"), seed=3), tmp_path / "q")


def _raw_dir(tmp_path, shuffle: bool):
    real = mnist.check().path
    d = tmp_path / "mnist"
    d.mkdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (d / f"{stem}.gz").symlink_to(real / f"{stem}.gz")
    for stem in STEMS:
        data = bytearray(gzip.decompress((real / f"{stem}.gz").read_bytes()))
        if shuffle and "labels" in stem:
            body = np.frombuffer(bytes(data[8:]), np.uint8).copy()
            np.random.default_rng(0).shuffle(body)
            data[8:] = body.tobytes()
        (d / stem).write_bytes(bytes(data))
    return d


def test_raw_shuffled_labels_give_a_warning(tmp_path, monkeypatch, capsys, qmodel):
    monkeypatch.setenv("HWSSM_DATA", str(_raw_dir(tmp_path, shuffle=True)))
    assert mnist.is_verified(Split.TEST) is False and mnist.is_verified(Split.TRAIN) is True
    assert main(["golden", "eval", "--model", str(qmodel), "--limit", "2"]) == 0
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("hwssm: warning:")]
    assert len(warnings) == 1 and "unverified" in warnings[0] and str(tmp_path / "mnist") in warnings[0]


def test_original_files_give_no_warning(capsys, qmodel):
    assert mnist.is_verified(Split.TEST) is True
    assert main(["golden", "eval", "--model", str(qmodel), "--limit", "2"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_dataset_follows_the_files_found(tmp_path, monkeypatch):
    """The smnist dataset is built again when the MNIST files found change (a shuffled-label
    directory here, the original files after it): no labels leak from one to the other."""
    from hwssm.data import load_dataset

    real = load_dataset("smnist").split("test").y.copy()
    monkeypatch.setenv("HWSSM_DATA", str(_raw_dir(tmp_path, shuffle=True)))
    shuffled = load_dataset("smnist").split("test").y
    assert not np.array_equal(shuffled, real)
    monkeypatch.undo()
    np.testing.assert_array_equal(load_dataset("smnist").split("test").y, real)
