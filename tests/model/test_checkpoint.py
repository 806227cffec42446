"""Checkpoint JSON + NPZ: exact round trip, and every corruption is a one-line HwssmError."""

import hashlib
import json

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.model.checkpoint import init_params, load_checkpoint, save_checkpoint
from hwssm.model.config import Discretization, Init, S4DConfig

CFG = S4DConfig(H=4, N=6, L=2, n_classes=3, init=Init.INV, discretization=Discretization.BILINEAR)


def _save(tmp_path, **extra):
    params = init_params(CFG, seed=0)
    params.update(extra)
    return save_checkpoint(tmp_path / "m", CFG, params, {"note": "t", "acc": 0.5}), params


def _rewrite_npz(json_path, arrays, fix_sha=True, **savez_kw):
    """Replace the NPZ with ``arrays`` (and fix the JSON's sha256 so the array check is reached)."""
    npz = json_path.with_suffix(".npz")
    with open(npz, "wb") as f:
        np.savez(f, **arrays, **savez_kw)
    if fix_sha:
        doc = json.loads(json_path.read_text())
        doc["arrays_sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
        json_path.write_text(json.dumps(doc))


def _edit_json(json_path, **fields):
    doc = json.loads(json_path.read_text())
    doc.update(fields)
    json_path.write_text(json.dumps(doc))


def _expect(match, path):
    with pytest.raises(HwssmError, match=match) as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_round_trip_exact(tmp_path):
    path, params = _save(tmp_path)
    assert path == tmp_path / "m.json" and (tmp_path / "m.npz").is_file()
    doc = json.loads(path.read_text())
    assert doc["format"] == "hwssm-s4d-checkpoint" and doc["version"] == 1 and doc["arrays"] == "m.npz"
    assert doc["n_params"] == CFG.n_params()
    for ck in (load_checkpoint(path), load_checkpoint(tmp_path / "m")):
        assert ck.config == CFG and ck.meta == {"note": "t", "acc": 0.5}
        assert list(ck.params) == list(CFG.param_shapes())
        for k, v in params.items():
            assert ck.params[k].dtype == np.float32
            np.testing.assert_array_equal(ck.params[k], v)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temp files left


def test_round_trip_with_overrides(tmp_path):
    shape = (CFG.H, CFG.M)
    extra = {f"layers.1.{n}": np.full(shape, 0.25, np.float32) for n in ("Abar_re", "Abar_im", "Bbar_re", "Bbar_im")}
    path, params = _save(tmp_path, **extra)
    ck = load_checkpoint(path)
    assert set(ck.params) == set(params)
    np.testing.assert_array_equal(ck.params["layers.1.Abar_im"], 0.25)


def test_save_refuses_bad_params(tmp_path):
    params = init_params(CFG, 0)
    params["decoder.b"] = params["decoder.b"].copy()
    params["decoder.b"][0] = np.inf
    with pytest.raises(HwssmError, match="decoder.b"):
        save_checkpoint(tmp_path / "m", CFG, params, {})
    with pytest.raises(HwssmError, match="Abar_im"):
        save_checkpoint(tmp_path / "m", CFG, dict(init_params(CFG, 0), **{"layers.0.Abar_re": np.zeros((4, 3))}), {})
    with pytest.raises(HwssmError, match="meta is not JSON-serializable"):
        save_checkpoint(tmp_path / "m", CFG, init_params(CFG, 0), {"a": np.float32(1)})
    assert not list(tmp_path.iterdir())


def _npz_arrays(path):
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("corrupt, match", [
    ("nan", r"array 'layers.0.C_re' holds NaN"),
    ("missing", r"missing array 'layers.1.D'"),
    ("extra", r"unknown array 'layers.0.E'"),
    ("shape", r"'layers.0.W' has shape \(8, 3\), expected \(8, 4\)"),
    ("dtype", r"'encoder.b' has dtype int64"),
    ("partial_override", r"needs all of"),
    ("pickle", r"'layers.0.D' holds Python objects"),
    ("sha", r"sha256 does not match"),
])
def test_corrupt_arrays(tmp_path, corrupt, match):
    path, _ = _save(tmp_path)
    a = _npz_arrays(path)
    if corrupt == "nan":
        a["layers.0.C_re"][1, 2] = np.nan
    elif corrupt == "missing":
        del a["layers.1.D"]
    elif corrupt == "extra":
        a["layers.0.E"] = np.zeros(3, np.float32)
    elif corrupt == "shape":
        a["layers.0.W"] = a["layers.0.W"][:, :3]
    elif corrupt == "dtype":
        a["encoder.b"] = np.arange(4)
    elif corrupt == "partial_override":
        a["layers.0.Abar_re"] = np.zeros((4, 3), np.float32)
    elif corrupt == "pickle":
        a["layers.0.D"] = np.array([{"x": 1}, 2, 3, 4], dtype=object)
    _rewrite_npz(path, a, fix_sha=corrupt != "sha", **({"allow_pickle": True} if corrupt == "pickle" else {}))
    if corrupt == "sha":
        a["layers.0.D"] = a["layers.0.D"] + 1
        _rewrite_npz(path, a, fix_sha=False)
    _expect(match, path)


@pytest.mark.parametrize("edit, match", [
    ({"version": 2}, r"checkpoint version 2 is not supported \(this hwssm reads version 1\)"),
    ({"format": "other"}, r"format is 'other'"),
    ({"config": {"H": 4}}, r"config lacks field"),
    ({"config": dict(CFG.to_json(), N=5)}, r"bad config: S4DConfig N must be even"),
    ({"config": dict(CFG.to_json(), init="cube")}, r"bad config: 'cube' is not a valid Init"),
    ({"config": dict(CFG.to_json(), dt_min="x")}, r"bad config: dt_min must be a number"),
    ({"config": dict(CFG.to_json(), H=5)}, r"has shape"),
    ({"config": dict(CFG.to_json(), foo=1)}, r"unknown fields"),
    ({"arrays": "gone.npz"}, r"'.*gone.npz' not found"),
    ({"meta": 3}, r"field 'meta' missing or not a dict"),
    ({"n_params": 1}, r"n_params is 1"),
])
def test_corrupt_json(tmp_path, edit, match):
    path, _ = _save(tmp_path)
    _edit_json(path, **edit)
    _expect(match, path)


def test_bad_json_and_missing_files(tmp_path):
    path, _ = _save(tmp_path)
    path.write_text('{"format": "hwssm-s4d-checkpoint", ')
    msg = _expect(r"m.json: not valid JSON", path)
    assert str(path) in msg
    _expect(r"cannot read checkpoint", tmp_path / "nothing")
    path2, _ = _save(tmp_path / "b")
    path2.with_suffix(".npz").write_bytes(b"not a zip")
    _edit_json(path2, arrays_sha256=hashlib.sha256(b"not a zip").hexdigest())
    _expect(r"not a readable NPZ", path2)
