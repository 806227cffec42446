"""Strict schemas of the files hwssm reads (QModel, checkpoint, plan), the NPZ + JSON set commit,
and hypothesis fuzzing: any input either loads or raises HwssmError, never anything else."""

from __future__ import annotations

import copy
import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwssm.errors import HwssmError
from hwssm.model.checkpoint import CHECKPOINT_SCHEMA, init_params, load_checkpoint, save_checkpoint
from hwssm.model.config import S4DConfig
from hwssm.quant.plan import NAMED_PLANS, PLAN_SCHEMA, PrecisionPlan, parse_code, resolve_plan
from hwssm.quant.qmodel_io import QMODEL_SCHEMA, load_qmodel, qmodel_paths, save_qmodel
from hwssm.quant.random_qmodel import random_qmodel

_DIR = Path(tempfile.mkdtemp(prefix="hwssm-schemas-"))
_QM = random_qmodel(3, 2, 1, parse_code("A8x10-B4C6D5-W6-a6-h-asym"), seed=5)
_JPATH = save_qmodel(_QM, _DIR / "base")
_HEADER = json.loads(_JPATH.read_text())
_NPZ_NAME = _HEADER["arrays"]


def _load_header(header, name="fuzz") -> None:
    """Write ``header`` beside the base NPZ and load it."""
    (_DIR / f"{name}.qmodel.json").write_text(json.dumps(header))
    load_qmodel(_DIR / f"{name}.qmodel.json")


def test_published_schemas_name_every_field_written():
    assert set(_HEADER) == set(QMODEL_SCHEMA)
    cfg = S4DConfig(H=2, N=2, L=1)
    j = save_checkpoint(_DIR / "ck", cfg, init_params(cfg, 0))
    assert set(json.loads(j.read_text())) == set(CHECKPOINT_SCHEMA)
    assert set(NAMED_PLANS["hetero"].to_json()) <= set(PLAN_SCHEMA)


def test_round_trip_and_the_set_commit_leaves_no_temporary_file(tmp_path):
    path = save_qmodel(_QM, tmp_path / "m")
    assert load_qmodel(path).digest() == _QM.digest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.qmodel.json", "m.qmodel.npz"]


def test_a_torn_set_is_detected_not_mixed(tmp_path):
    """A crash between the two renames leaves the new NPZ beside the old JSON: refused on read."""
    path = save_qmodel(_QM, tmp_path / "m")
    other = random_qmodel(3, 2, 1, parse_code("A8x10-B4C6D5-W6-a6-h-asym"), seed=6)
    save_qmodel(other, tmp_path / "n")
    (tmp_path / "n.qmodel.npz").replace(tmp_path / "m.qmodel.npz")
    with pytest.raises(HwssmError, match="SHA-256 does not match"):
        load_qmodel(path)


@pytest.mark.parametrize("edit, words", [
    (lambda h: h.pop("digest"), "digest"),
    (lambda h: h.update(digest="0" * 64), "digest mismatch"),
    (lambda h: h.update(digest="xyz"), "hex"),
    (lambda h: h.update(extra=1), "unknown field 'extra'"),
    (lambda h: h["params"]["enc_W"].update(note=1), "unknown field 'note'"),
    (lambda h: h["layers"][0].update(note=1), "unknown field 'note'"),
    (lambda h: h["r0"].update(note=1), "unknown field 'note'"),
    (lambda h: h["params"].update(ghost=h["params"]["enc_W"]), "unknown parameter 'ghost'"),
    (lambda h: h.update(H=True), "'H' must be int"),
    (lambda h: h.update(version=True), "version"),
    (lambda h: h.update(footprint_bits=h["footprint_bits"] + 1), "footprint_bits"),
    (lambda h: h.update(arrays="sub/base.qmodel.npz"), "plain file name"),
    (lambda h: h.update(arrays=".."), "plain file name"),
    (lambda h: h.update(arrays=None), "arrays"),
])
def test_qmodel_header_rules(edit, words):
    h = copy.deepcopy(_HEADER)
    edit(h)
    with pytest.raises(HwssmError, match=words):
        _load_header(h, "rules")


def test_checkpoint_arrays_are_confined_and_set_committed(tmp_path):
    cfg = S4DConfig(H=2, N=2, L=1)
    (tmp_path / "sub").mkdir()
    j = save_checkpoint(tmp_path / "sub" / "m", cfg, init_params(cfg, 0))
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["m.json", "m.npz"]
    save_checkpoint(tmp_path / "outside", cfg, init_params(cfg, 0))
    for arrays in ("../outside.npz", str(tmp_path / "outside.npz"), "", "."):
        d = json.loads(j.read_text())
        d["arrays"] = arrays
        d["arrays_sha256"] = hashlib.sha256((tmp_path / "outside.npz").read_bytes()).hexdigest()
        j.write_text(json.dumps(d))
        with pytest.raises(HwssmError, match="arrays"):
            load_checkpoint(j)


# -- hypothesis ------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2 ** 80), max_value=2 ** 80) | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _paths(obj, prefix=()):
    """Every path (tuple of keys/indices) into a JSON value."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


_ALL_PATHS = [p for p in _paths(_HEADER) if p]


@st.composite
def _mutated_header(draw):
    h = copy.deepcopy(_HEADER)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_ALL_PATHS))
        parent = h
        try:
            for k in path[:-1]:
                parent = parent[k]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(_JSON)
            elif action == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(max_size=6))] = draw(_JSON)
            elif isinstance(parent, list):
                parent.append(draw(_JSON))
        except (KeyError, IndexError, TypeError):
            continue
    return h


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_header())
def test_fuzz_qmodel_loader_loads_or_raises_hwssm_error(header):
    try:
        _load_header(header)
    except HwssmError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=100, deadline=None)
@given(_JSON)
def test_fuzz_qmodel_loader_on_any_json(value):
    try:
        _load_header(value, "anyjson")
    except HwssmError:
        pass


_CODEISH = st.from_regex(r"\AA\d{1,3}(\.\d{1,3})?x\d{1,3}(\.\d{1,3})?(-B\d{1,3}C\d{1,3}D\d{1,3})?-W\d{1,3}-a\d{1,3}"
                         r"(-(b\d{1,3}|h|asym|floor|wrap)){0,4}\Z")


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=40), _CODEISH, st.sampled_from(list(NAMED_PLANS) + ["", " ", ".", "/", "x.json"])))
def test_fuzz_plan_codes_load_or_raise_hwssm_error(text):
    try:
        plan = resolve_plan(text)
    except HwssmError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(plan, PrecisionPlan)
    if text not in NAMED_PLANS and not Path(text).exists():
        assert resolve_plan(plan.code).code == plan.code  # a plan that loads round-trips through its code


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(PLAN_SCHEMA) + ["extra"]), _JSON, max_size=14))
def test_fuzz_plan_files_load_or_raise_hwssm_error(d):
    path = _DIR / "fuzzplan.json"
    path.write_text(json.dumps(d))
    try:
        resolve_plan(str(path))
    except HwssmError as exc:
        assert "\n" not in str(exc)


def test_npz_of_objects_is_refused(tmp_path):
    path = save_qmodel(_QM, tmp_path / "m")
    npz = tmp_path / "m.qmodel.npz"
    with np.load(npz) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["enc_W"] = np.array([object()] * 3, dtype=object)
    import io as _io
    buf = _io.BytesIO()
    np.savez(buf, **arrays)
    npz.write_bytes(buf.getvalue())
    d = json.loads(path.read_text())
    d["arrays_sha256"] = hashlib.sha256(buf.getvalue()).hexdigest()
    path.write_text(json.dumps(d))
    with pytest.raises(HwssmError, match="cannot read arrays"):
        load_qmodel(path)
    assert qmodel_paths(path)[1] == npz
