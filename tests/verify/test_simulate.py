"""``hwssm.verify.simulate.simulate``: the library call behind ``hwssm sim`` and the flow, on
a tiny random model in Verilator: bit-exact, and a wrong golden reference is caught."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.hw.options import DesignPoint
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.verify.check import Stream
from hwssm.verify.simulate import Digits, SimOptions, simulate


@pytest.fixture(scope="module")
def qm():
    return random_qmodel(3, 2, 1, seed=21)


def _off_by_one_bias(qm):
    """``qm`` with the decoder bias of class 0 one code higher (or lower at the top code):
    only the logits of class 0 differ."""
    codes = qm.dec_b.codes.copy()
    top = (1 << (qm.dec_b.bits - 1)) - 1 if qm.dec_b.signed else (1 << qm.dec_b.bits) - 1
    codes[0] += 1 if codes[0] < top else -1
    return dataclasses.replace(qm, dec_b=dataclasses.replace(qm.dec_b, codes=codes))


@pytest.mark.verilator
def test_a_design_point_is_bit_exact(qm):
    digits = Digits.mnist_test([0, 5])
    res = simulate(qm, DesignPoint(2), digits, SimOptions(jobs=1))
    assert res.ok and res.digits == 2 and res.mismatches == 0 and res.errors == ()
    assert res.first_mismatch is None and res.first_bad_digit is None
    assert res.cycles_per_digit == res.model_cycles_per_digit and res.lanes == 2
    assert res.cycles_per_step == res.model_cycles_per_step
    assert 0 <= res.correct <= 2 and res.digits_per_s > 0 and (res.rtl / "manifest.json").is_file()
    out = json.loads(json.dumps(res.to_json()))
    assert out["ok"] and out["rtl"] == str(res.rtl) and out["failed_runs"] == []


@pytest.mark.verilator
def test_a_wrong_golden_reference_is_caught(qm, tmp_path):
    from hwssm.verify.rtlgen import rtl_dir

    wrong = _off_by_one_bias(qm)
    assert wrong.digest() != qm.digest()
    # the RTL of qm under a manifest that claims the wrong model: the comparison must find it
    rtl = shutil.copytree(rtl_dir(qm, DesignPoint(2)), tmp_path / "rtl")
    man = json.loads((rtl / "manifest.json").read_text())
    man["model_digest"] = wrong.digest()
    (rtl / "manifest.json").write_text(json.dumps(man))
    res = simulate(wrong, rtl, Digits.mnist_test([3, 4]), SimOptions(jobs=1, workdir=tmp_path / "runs"))
    assert not res.ok and res.mismatches == 2 and res.first_bad_digit == 3
    m = res.first_mismatch
    assert m is not None and m.digit == 3 and m.stream is Stream.LOGIT and m.channel == 0
    assert res.failed_runs and all(p.is_dir() for p in res.failed_runs)


def test_bad_targets_are_one_line_errors(qm, tmp_path):
    digits = Digits(np.zeros((1, 784), dtype=np.uint8), [0])
    with pytest.raises(HwssmError, match="sequences of 100 steps"):
        simulate(qm, DesignPoint(2, seq_len=100), digits)
    with pytest.raises(HwssmError, match="RTL directory or a DesignPoint"):
        simulate(qm, 2, digits)
    with pytest.raises(HwssmError):
        simulate(qm, tmp_path / "missing", digits)


def test_digits_and_options_are_checked():
    with pytest.raises(HwssmError, match="2 indices for 1 digits"):
        Digits(np.zeros((1, 5), dtype=np.uint8), [0, 1])
    with pytest.raises(HwssmError, match="non-empty"):
        Digits(np.zeros((0, 5), dtype=np.uint8), [])
    with pytest.raises(HwssmError, match="out of range"):
        Digits.mnist_test([10_000])
    with pytest.raises(HwssmError, match="jobs"):
        SimOptions(jobs=0)


@pytest.mark.parametrize("bad", [[[0, 300]], [[-1, 2]], [[0.5, 1.0]]])
def test_digits_refuse_pixels_outside_uint8(bad):
    from hwssm.errors import HwssmError
    from hwssm.verify.simulate import Digits

    with pytest.raises(HwssmError, match=r"\[0, 255\]"):
        Digits(np.asarray(bad), np.arange(1))
