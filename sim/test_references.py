"""The reference-design list is data-driven: hwssm.hw.references (rtl/) and sim/references.json."""

import json

from references import TABLE, references

from hwssm.hw.options import DesignPoint, Pipeline
from hwssm.hw.references import Reference as HwReference


def _table(tmp_path, designs):
    t = tmp_path / "references.json"
    t.write_text(json.dumps({"designs": designs}))
    return t


FALLBACK = {"name": "rand", "lanes": 16, "random": {"H": 4, "M": 2, "L": 1, "seed": 0}, "fallback": True}


def test_the_shipped_tables_load():
    refs = references()
    assert refs and all(r.lanes >= 1 for r in refs)
    assert all(r.model is None or r.model.is_file() for r in refs)
    assert json.loads(TABLE.read_text())["designs"]


def test_fallback_is_dropped_once_a_real_model_is_listed(tmp_path):
    assert [r.name for r in references(tmp_path, _table(tmp_path, [FALLBACK]), hw=[])] == ["rand"]
    real = {"name": "real", "lanes": 8, "model": "models/m.qmodel.json"}
    refs = references(tmp_path, _table(tmp_path, [FALLBACK, real]), hw=[])
    assert [(r.name, r.lanes, r.model) for r in refs] == [("real", 8, tmp_path / "models/m.qmodel.json")]


def test_hw_reference_designs_with_shipped_models(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "q.qmodel.json").write_text("{}")
    d = tmp_path / "rtl" / "q_P8"
    d.mkdir(parents=True)
    (d / "manifest.json").write_text("{}")
    k8 = Pipeline(mix_cols=8)
    hw = [HwReference("q_P8", "q.qmodel.json", DesignPoint(8, pipeline=k8)),
          HwReference("q_P2", "q.qmodel.json", DesignPoint(2, pipeline=k8)),
          HwReference("missing_P4", "missing.qmodel.json", DesignPoint(4))]
    refs = references(tmp_path, _table(tmp_path, [FALLBACK]), hw=hw)
    # committed RTL is simulated as it is; without rtl/<name>/ it is generated; unshipped models are left out
    assert [(r.name, r.lanes, r.rtl) for r in refs] == [("q_P8", 8, d), ("q_P2", 2, None)]
    # a generated one is built as the reference's own design point, never another
    assert refs[1].design == DesignPoint(2, pipeline=k8)
    assert [r.name for r in references(tmp_path, _table(tmp_path, [FALLBACK]), hw=hw[2:])] == ["rand"]


def test_random_reference_builds_its_qmodel(tmp_path):
    r = references(tmp_path, _table(tmp_path, [{"name": "r", "lanes": 2, "random": {"H": 3, "M": 2, "L": 1, "seed": 4}}]),
                   hw=[])[0]
    qm = r.qmodel()
    assert (qm.H, qm.M, qm.L) == (3, 2, 1)
