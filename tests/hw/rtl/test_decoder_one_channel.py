"""The decoder's argmax with ``encdec_stages = 1`` when the logits come one cycle apart (H = 1):
the registered comparison takes the logit being written as the best (the class was wrong before)."""

from __future__ import annotations

import numpy as np
import pytest

from hwssm.golden.engine import run
from hwssm.hw.options import DesignPoint, Pipeline
from hwssm.hw.rtl.core import HwssmCore
from hwssm.quant.random_qmodel import random_qmodel
from tests.hw.rtl.rtl_run import rtl_run


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_channel_classes_with_registered_argmax(seed):
    qm = random_qmodel(1, 2, 1, seed=seed)
    core = HwssmCore(qm, DesignPoint(1, 3, Pipeline(encdec_stages=1)))
    pix = np.random.default_rng(seed).integers(0, 256, (2, 3)).astype(np.uint8)
    gold = run(qm, pix)
    res = rtl_run(core, [list(p) for p in pix])
    assert [v for _, v in res.logits] == gold.logits.reshape(-1).tolist()
    assert [c for _, c in res.classes] == gold.pred.tolist()
