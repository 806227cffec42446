"""QModel files in the quantization report: accuracy from their golden meta, or evaluated."""

from __future__ import annotations

import dataclasses

from hwssm.explore.quantization import float_accuracy, qmodel_results
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel


def test_qmodel_results_use_golden_meta_on_the_full_test_set(tmp_path, cache):
    qm = random_qmodel(4, 2, 1, seed=4)
    qm = dataclasses.replace(qm, meta={"quantization": "qat", "parameterization": "continuous",
                                       "golden_test_accuracy": 0.875, "golden_digits": 10_000})
    path = save_qmodel(qm, tmp_path / "q.qmodel.json")
    rows, errors = qmodel_results([path], cache=cache)
    assert errors == [] and len(rows) == 1
    r = rows[0]
    assert (r["accuracy"], r["digits"], r["method"], r["label"]) == (0.875, 10_000, "qat (continuous)", "q")
    assert r["memory_bits"] == qm.footprint_bits
    # on a subset the meta does not apply: the golden engine runs
    rows, _ = qmodel_results([path], limit=3, cache=cache)
    assert rows[0]["digits"] == 3 and rows[0]["source"] == "golden engine (this run)"


def test_unreadable_qmodel_is_an_error_row(tmp_path, cache):
    (tmp_path / "bad.qmodel.json").write_text("{}")
    rows, errors = qmodel_results([tmp_path / "bad.qmodel.json"], cache=cache)
    assert rows == [] and len(errors) == 1


def test_float_accuracy_on_a_subset(tiny_checkpoint, cache):
    acc, source = float_accuracy(tiny_checkpoint, limit=5)
    assert 0.0 <= acc <= 1.0 and "5 test digits" in source
