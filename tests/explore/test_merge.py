"""Merging sweep results: one model as is; PTQ and QAT models of one network with source tags."""

import pytest

from hwssm.errors import HwssmError
from hwssm.explore.sweep import merge_results


def _res(kind, path, digest, plans, shape=(4, 2, 1)):
    H, M, L = shape
    return {"spec": {"model": path}, "source": {"kind": kind, "path": path, "digest": digest},
            "points": [{"plan": p, "H": H, "M": M, "L": L} for p in plans]}


def test_one_model_merges_as_is():
    out = merge_results([_res("checkpoint", "m.json", "a", ["uniform8"]), _res("checkpoint", "m.json", "a", ["hetero"])])
    assert [p["plan"] for p in out["points"]] == ["uniform8", "hetero"] and "sources" not in out


def test_ptq_and_qat_models_are_tagged():
    out = merge_results([_res("checkpoint", "models/s4d_float.json", "a", ["uniform8"]),
                         _res("qmodel", "models/s4d_hetero.qmodel.json", "b", ["A8x5-B4C4D4-W3-a6-b8-h"])])
    assert [p["plan"] for p in out["points"]] == ["uniform8 [PTQ]", "A8x5-B4C4D4-W3-a6-b8-h [s4d_hetero]"]
    assert [s["digest"] for s in out["sources"]] == ["a", "b"]


def test_networks_of_different_shapes_do_not_merge():
    with pytest.raises(HwssmError, match="different shapes"):
        merge_results([_res("checkpoint", "a.json", "a", ["u"]), _res("checkpoint", "b.json", "b", ["u"], (8, 2, 1))])
