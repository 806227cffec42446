"""The reference-design list is data-driven: rtl/*/manifest.json and sim/references.json."""

import json

from references import TABLE, references


def _table(tmp_path, designs):
    t = tmp_path / "references.json"
    t.write_text(json.dumps({"designs": designs}))
    return t


def test_the_shipped_table_loads():
    refs = references()
    assert refs and all(r.lanes >= 1 for r in refs)
    assert json.loads(TABLE.read_text())["designs"]


def test_fallback_is_dropped_once_a_real_model_is_listed(tmp_path):
    fallback = {"name": "rand", "lanes": 16, "random": {"H": 4, "M": 2, "L": 1, "seed": 0}, "fallback": True}
    assert [r.name for r in references(tmp_path, _table(tmp_path, [fallback]))] == ["rand"]
    real = {"name": "real", "lanes": 8, "model": "models/m.qmodel.json"}
    refs = references(tmp_path, _table(tmp_path, [fallback, real]))
    assert [(r.name, r.lanes, r.model) for r in refs] == [("real", 8, tmp_path / "models/m.qmodel.json")]


def test_rtl_directories_with_a_model_are_references(tmp_path):
    d = tmp_path / "rtl" / "ref8"
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps({"top": "hwssm_core", "lanes": 8, "model": "models/q.qmodel.json"}))
    (tmp_path / "rtl" / "nomodel").mkdir()
    (tmp_path / "rtl" / "nomodel" / "manifest.json").write_text(json.dumps({"top": "hwssm_core", "lanes": 2}))
    fallback = {"name": "rand", "lanes": 16, "random": {"H": 4, "M": 2, "L": 1}, "fallback": True}
    refs = references(tmp_path, _table(tmp_path, [fallback]))
    assert [(r.name, r.rtl) for r in refs] == [("ref8", d)]


def test_random_reference_builds_its_qmodel(tmp_path):
    r = references(tmp_path, _table(tmp_path, [{"name": "r", "lanes": 2, "random": {"H": 3, "M": 2, "L": 1, "seed": 4}}]))[0]
    qm = r.qmodel()
    assert (qm.H, qm.M, qm.L) == (3, 2, 1)
