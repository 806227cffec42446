"""The shipped float model under 16-bit PTQ: golden predictions match the float model's.

The issue's bar is ≥ 99.5 % agreement on the test set; the full 10k run is in the
notes (``hwssm golden eval --model models/s4d_float.json --plan uniform16``); CI checks
the first 500 test digits.
"""

from pathlib import Path

import numpy as np
import pytest

from hwssm.golden.evaluate import evaluate
from hwssm.golden.evaluate import test_pixels as load_test_pixels
from hwssm.quant.resolve import resolve_model

MODEL = Path(__file__).resolve().parents[2] / "models" / "s4d_float.json"


@pytest.mark.slow
def test_ptq16_agrees_with_the_float_model():
    res = resolve_model(MODEL, "uniform16", calib_digits=64)
    pixels, labels = load_test_pixels(limit=500)
    ev = evaluate(res.qmodel, pixels, labels, res.checkpoint)
    assert ev.float_agreement >= 0.995, ev
    assert ev.accuracy >= 0.98, ev
