"""Golden engine == the naive reference (tests/naive.py), exactly, on random QModels."""

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.golden.engine import run
from hwssm.golden.tables import build_tables
from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm.quant.random_qmodel import random_qmodel
from tests.naive import run_sequence

PLANS = {
    "uniform8": NAMED_PLANS["uniform8"],
    "uniform4": NAMED_PLANS["uniform4"],
    "uniform16": NAMED_PLANS["uniform16"],
    "hetero": NAMED_PLANS["hetero"],
    "per_head_asym": parse_code("A8x10-B4C6D5-W6-a6-h-asym"),
    "floor_wrap": parse_code("A6.8x8.10-W5-a5-floor-wrap"),
    "split_re_im": parse_code("A8.5x12.9-B6C4D8-W8-a7"),
}


def _check(qm, pix):
    res = run(qm, pix, trace=True)
    for i in range(pix.shape[0]):
        ref = run_sequence(qm, pix[i])
        np.testing.assert_array_equal(res.r[i], np.array(ref["traces"]["r"]))
        np.testing.assert_array_equal(res.y[i], np.array(ref["traces"]["y"]))
        np.testing.assert_array_equal(res.v[i], np.array(ref["traces"]["v"]))
        np.testing.assert_array_equal(res.logits[i], np.array(ref["logits"]))
        assert res.pred[i] == ref["pred"]
        assert res.logit_frac == ref["logit_frac"]


@pytest.mark.parametrize("name", sorted(PLANS))
@pytest.mark.parametrize("extreme", [False, True])
def test_engine_equals_naive(name, extreme):
    for seed in range(2):
        qm = random_qmodel(3, 2, 2, PLANS[name], seed=seed, extreme=extreme)
        pix = np.random.default_rng(seed).integers(0, 256, (3, 10)).astype(np.uint8)
        pix[0] = 255  # saturating input
        _check(qm, pix)


def test_engine_equals_naive_odd_shapes_and_blocks():
    # 17 sequences: two kernel blocks, the second partial; H*M odd.
    qm = random_qmodel(5, 3, 1, PLANS["uniform8"], seed=7, n_classes=4)
    pix = np.random.default_rng(1).integers(0, 256, (17, 6)).astype(np.uint8)
    _check(qm, pix)


def test_saturation_really_happens_in_extreme_models():
    qm = random_qmodel(3, 2, 2, PLANS["uniform8"], seed=0, extreme=True)
    pix = np.full((1, 10), 255, np.uint8)
    res = run(qm, pix, trace=True)
    r0, y = qm.r0, qm.layers[0].y
    assert np.any(np.isin(res.r[0, 0], [r0.min_code, r0.max_code]))
    assert np.any(np.isin(res.y[0, 0], [y.min_code, y.max_code]))


def test_int_type_follows_accumulator_width():
    assert build_tables(random_qmodel(3, 2, 1, PLANS["uniform8"])).dtype is np.int32
    assert build_tables(random_qmodel(3, 2, 1, PLANS["uniform16"])).dtype is np.int64


def test_batch_results_do_not_depend_on_batching():
    qm = random_qmodel(4, 2, 2, PLANS["hetero"], seed=3)
    pix = np.random.default_rng(2).integers(0, 256, (20, 8)).astype(np.uint8)
    whole = run(qm, pix).logits
    parts = np.concatenate([run(qm, pix[i:i + 3]).logits for i in range(0, 20, 3)])
    np.testing.assert_array_equal(whole, parts)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 3, 4), np.uint8), "2-D array"),
    (np.full((1, 4), 300), "[0, 255]"),
    (np.zeros((1, 0), np.uint8), "at least one step"),
    (np.array([[0.5, 1.0]]), "[0, 255]"),
])
def test_bad_inputs_raise_one_line(bad, message):
    qm = random_qmodel(2, 1, 1)
    with pytest.raises(HwssmError, match=message.replace("[", r"\[").replace("]", r"\]")):
        run(qm, bad)
