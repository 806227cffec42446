"""S5 cores in Verilator (``hwssm.verify.simulate``) against the golden S5 engine: random small
S5 models (odd mode counts, H not dividing the lanes, half and full GLU, folded-BatchNorm
biases, per-mode asymmetric formats, floor rounding, wrapping formats, 6 real-mode columns) on
short sequences,
every block output of every step, the logits and the classes, and the measured cycles against
the S5 cycle model; a wrong golden reference is caught."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from hwssm.hw.options import DesignPoint, Pipeline
from hwssm.model.s5_config import Glu, Norm, S5Config
from hwssm.verify.check import Stream
from hwssm.verify.simulate import Digits, SimOptions, simulate
from tests.hw.s5_models import s5_model, s5_pixels

T = 16
CASES = {  # (config, plan, lanes)
    "half-bn-P7-lanes3": (S5Config(H=5, P=7, L=2, n_classes=4), "uniform8", 3),
    "full-permode-asym-wrap-lanes4": (S5Config(H=6, P=3, L=1, n_classes=3, glu=Glu.FULL),
                                      "A8x6-B4C4D4-W4-a4-h-asym-wrap", 4),
    "floor-nonorm-lanes2": (S5Config(H=4, P=5, L=2, n_classes=5, norm=Norm.NONE), "A6x8-B6C6D6-W6-a6-floor", 2),
    "k6-H7-lanes2": (S5Config(H=7, P=4, L=1, n_classes=3), "A8x10-B6C6D6-W6-a6-h", 2, Pipeline(mix_cols=6)),
}


@pytest.mark.verilator
@pytest.mark.parametrize("case", list(CASES))
def test_s5_designs_are_bit_exact_in_verilator(case):
    cfg, code, lanes, *pipe = CASES[case]
    qm = s5_model(cfg, code, seed=3)
    digits = Digits(s5_pixels(3, T, seed=5), np.arange(3))
    res = simulate(qm, DesignPoint(lanes, T, *pipe), digits, SimOptions(jobs=1))
    assert res.ok and res.digits == 3 and res.mismatches == 0 and res.errors == (), res.errors
    assert res.cycles_per_digit == res.model_cycles_per_digit and res.cycles_per_step == res.model_cycles_per_step
    assert json.loads((res.rtl / "manifest.json").read_text())["family"] == "s5"


@pytest.mark.verilator
def test_a_wrong_s5_golden_reference_is_caught(tmp_path):
    from hwssm.verify.rtlgen import rtl_dir

    cfg, code, lanes = CASES["floor-nonorm-lanes2"]
    qm = s5_model(cfg, code, seed=3)
    codes = qm.dec_b.codes.copy()
    codes[1] += 1 if codes[1] < (1 << (qm.dec_b.bits - 1)) - 1 else -1
    wrong = dataclasses.replace(qm, dec_b=dataclasses.replace(qm.dec_b, codes=codes))
    rtl = shutil.copytree(rtl_dir(qm, DesignPoint(lanes, T)), tmp_path / "rtl")
    man = json.loads((rtl / "manifest.json").read_text())
    man["model_digest"] = wrong.digest()
    (rtl / "manifest.json").write_text(json.dumps(man))
    res = simulate(wrong, rtl, Digits(s5_pixels(2, T, seed=5), np.array([7, 8])),
                   SimOptions(jobs=1, workdir=tmp_path / "runs"))
    assert not res.ok and res.mismatches == 2 and res.first_bad_digit == 7
    assert res.first_mismatch.stream is Stream.LOGIT and res.first_mismatch.channel == 1
