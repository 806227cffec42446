"""The sequence-data NPZ format (hwssm.data.npz_format): a valid file loads into a SequenceDataset;
each kind of bad file is refused with one HwssmError line naming the array and the problem."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwssm.data import DataSplit, Encoding, load_dataset
from hwssm.data.npz_format import load_npz
from hwssm.errors import HwssmError
from hwssm.fixed import QFormat


def _good(n=6, T=5, C=None, K=3, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, T) if C is None else (n, T, C)
    return {"train_x": rng.integers(0, 100, shape).astype(dtype), "train_y": rng.integers(0, K, n),
            "test_x": rng.integers(0, 100, shape).astype(dtype), "test_y": np.arange(n) % K}


def _write(tmp_path, arrays, sidecar=None, name="d.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    if sidecar is not None:
        path.with_suffix(".json").write_text(json.dumps(sidecar))
    return path


def test_a_valid_file_loads(tmp_path):
    a = _good()
    a["val_x"], a["val_y"] = a["test_x"][:2], a["test_y"][:2]
    ds = load_npz(_write(tmp_path, a))
    assert (ds.n_classes, ds.T, ds.C, ds.input_format, ds.encoding) == (3, 5, 1, QFormat(8, 8, False), Encoding.SAMPLES)
    tr = ds.split(DataSplit.TRAIN)
    assert tr.x.shape == (6, 5, 1) and tr.y.dtype == np.int64 and not tr.x.flags.writeable
    np.testing.assert_array_equal(tr.sequences(), a["train_x"])
    np.testing.assert_array_equal(ds.split("val").y, a["test_y"][:2])
    assert ds.identity.startswith("npz:sha256=") and len(ds.digest()) == 64


def test_without_val_the_last_tenth_of_train_is_val(tmp_path):
    a = _good(n=20)
    ds = load_npz(_write(tmp_path, a))
    np.testing.assert_array_equal(ds.split("train").sequences(), a["train_x"][:18])
    np.testing.assert_array_equal(ds.split("val").sequences(), a["train_x"][18:])


def test_multichannel_and_sidecar(tmp_path):
    a = _good(C=3, K=2)
    side = {"format": "hwssm-sequence-data", "version": 1, "name": "three", "classes": 7,
            "input": {"width": 8, "frac": 4, "signed": False}}
    ds = load_npz(_write(tmp_path, a, side))
    assert (ds.name, ds.C, ds.n_classes, ds.input_format) == ("three", 3, 7, QFormat(8, 4, False))
    assert "+json:" in ds.identity
    with pytest.raises(HwssmError, match="input format u8.4; the model takes u8.8"):
        ds.check_model(7, C=3)


def test_multichannel_models_match_the_data(tmp_path):
    ds = load_npz(_write(tmp_path, _good(C=3, K=2)))
    assert ds.split("train").sequences(2).shape[1:] == (ds.T, 3)
    ds.check_model(2, C=3)
    with pytest.raises(HwssmError, match="the model takes C=1 channels per step; dataset .* has C=3"):
        ds.check_model(2)
    with pytest.raises(HwssmError, match="token embedding .vocabulary 5.; dataset .* holds samples"):
        ds.check_model(2, vocab=5)


def test_float_samples_on_the_declared_grid(tmp_path):
    a = _good(dtype=np.float32)
    a["train_x"] = a["train_x"] / 16
    a["test_x"] = a["test_x"] / 16
    ds = load_npz(_write(tmp_path, a, {"input": {"width": 8, "frac": 4, "signed": False}}))
    np.testing.assert_array_equal(ds.split("test").sequences(), (a["test_x"] * 16).astype(np.int64))


def test_the_identity_follows_the_contents(tmp_path):
    a = _good()
    one = load_npz(_write(tmp_path, a, name="a.npz"))
    same = load_npz(_write(tmp_path, a, name="b.npz"))
    a["test_y"] = (a["test_y"] + 1) % 3
    other = load_npz(_write(tmp_path, a, name="c.npz"))
    assert one.identity == same.identity != other.identity


def _bad(arrays):
    def change(a):
        a = dict(a)
        for k, v in arrays.items():
            if v is None:
                a.pop(k)
            else:
                a[k] = v
        return a
    return change


G = _good()
BAD = [
    ("missing", _bad({"test_y": None}), None, "missing array test_y"),
    ("extra", _bad({"notes": np.zeros(3)}), None, "unknown array 'notes'"),
    ("val-alone", _bad({"val_x": G["test_x"]}), None, "val_x and val_y come together"),
    ("x-1d", _bad({"train_x": np.zeros(6, np.uint8)}), None, r"train_x has shape \(6,\)"),
    ("x-4d", _bad({"train_x": np.zeros((6, 5, 1, 1), np.uint8)}), None, "train_x has shape"),
    ("empty", _bad({"test_x": np.zeros((0, 5), np.uint8), "test_y": np.zeros(0, np.int64)}), None, "test_x has shape"),
    ("T-differs", _bad({"test_x": np.zeros((6, 4), np.uint8)}), None, "test_x has T, C"),
    ("C-differs", _bad({"test_x": np.zeros((6, 5, 2), np.uint8)}), None, "test_x has T, C"),
    ("y-count", _bad({"train_y": np.zeros(5, np.int64)}), None, r"train_y has shape \(5,\)"),
    ("y-2d", _bad({"train_y": np.zeros((6, 1), np.int64)}), None, "train_y has shape"),
    ("y-float", _bad({"train_y": np.zeros(6, np.float32)}), None, "train_y has dtype float32"),
    ("y-negative", _bad({"test_y": np.array([0, 1, -1, 0, 0, 0])}), None, "test_y holds a negative label"),
    ("y-over-K", _bad({"test_y": np.array([0, 1, 5, 0, 0, 0])}), {"classes": 3}, r"test_y holds label 5, outside \[0, 3\)"),
    ("nan", _bad({"train_x": np.full((6, 5), np.nan, np.float32)}), None, "train_x holds NaN or infinity"),
    ("float-no-format", _bad({"train_x": np.zeros((6, 5), np.float32)}), None, "float samples need a sidecar"),
    ("float-off-grid", _bad({"train_x": np.full((6, 5), 0.3), "test_x": np.zeros((6, 5))}),
     {"input": {"width": 8, "frac": 4, "signed": False}}, "train_x holds values that are not codes of u8.4"),
    ("dtype-no-format", _bad({"train_x": np.zeros((6, 5), np.int64), "test_x": np.zeros((6, 5), np.int64)}), None,
     "train_x is int64: this dtype declares no input format"),
    ("dtypes-differ", _bad({"test_x": np.zeros((6, 5), np.int8)}), None, "store every split in one dtype"),
    ("out-of-range", _bad({"train_x": np.full((6, 5), 300, np.int16), "test_x": np.zeros((6, 5), np.int16)}),
     {"input": {"width": 8, "frac": 8, "signed": False}}, "train_x holds codes 300..300, outside u8.8"),
    ("complex", _bad({"train_x": np.zeros((6, 5), np.complex64)}), None, "train_x has dtype complex64"),
    ("object", _bad({"train_x": np.array([[None] * 5] * 6, dtype=object)}), None, "cannot be read without pickles"),
    ("sidecar-field", lambda a: a, {"labels": 3}, "unknown field 'labels'"),
    ("sidecar-type", lambda a: a, {"classes": "3"}, "field 'classes' must be a JSON int"),
    ("sidecar-format", lambda a: a, {"format": "other"}, "format is 'other'"),
    ("sidecar-vocab", lambda a: a, {"vocab": 4}, "'vocab' goes with"),
    ("sidecar-input", lambda a: a, {"input": {"width": 8, "frac": 8}}, "input.signed must be a JSON boolean"),
    ("tokens-range", lambda a: a, {"encoding": "tokens", "vocab": 50}, r"train_x holds token ids outside \[0, 50\)"),
]


@pytest.mark.parametrize("name,change,sidecar,message", BAD, ids=[b[0] for b in BAD])
def test_each_violation_is_one_line(tmp_path, name, change, sidecar, message):
    path = _write(tmp_path, change(_good()), sidecar)
    with pytest.raises(HwssmError, match=message) as exc:
        load_npz(path)
    text = str(exc.value)
    assert "\n" not in text and (str(path) in text or str(path.with_suffix(".json")) in text)


def test_not_an_npz(tmp_path):
    p = tmp_path / "x.npz"
    p.write_bytes(b"not a zip")
    with pytest.raises(HwssmError, match="not a valid NPZ"):
        load_npz(p)
    with pytest.raises(HwssmError, match="no such data file"):
        load_dataset(str(tmp_path / "absent.npz"))
