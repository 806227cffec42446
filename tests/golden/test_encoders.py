"""Golden engine == naive reference for the multi-channel (C > 1) and token (embedding) encoders."""

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.golden.engine import run
from hwssm.quant.qmodel import QModel
from hwssm.quant.random_qmodel import random_qmodel
from tests.naive import run_sequence


def _check(qm, x):
    res = run(qm, x, trace=True)
    for i in range(len(x)):
        ref = run_sequence(qm, x[i])
        assert res.logits[i].tolist() == ref["logits"], i
        assert res.r[i, 0].tolist() == ref["traces"]["r"][0]
        assert res.logit_frac == ref["logit_frac"]


@pytest.mark.parametrize("extreme", [False, True])
def test_three_channels_equal_naive(extreme):
    qm = random_qmodel(4, 2, 2, seed=3, C=3, extreme=extreme)
    x = np.random.default_rng(1).integers(0, 256, (3, 12, 3)).astype(np.uint8)
    _check(qm, x)


@pytest.mark.parametrize("extreme", [False, True])
def test_tokens_equal_naive(extreme):
    qm = random_qmodel(4, 2, 2, seed=5, vocab=16, extreme=extreme)
    x = np.random.default_rng(2).integers(0, 16, (3, 12))
    _check(qm, x)


def test_serialization_keeps_c_and_vocab():
    for qm in (random_qmodel(4, 2, 1, seed=1, C=2), random_qmodel(4, 2, 1, seed=1, vocab=7)):
        header, arrays = qm.to_parts()
        back = QModel.from_parts(header, arrays)
        assert (back.C, back.vocab) == (qm.C, qm.vocab) and back.digest() == qm.digest()
    header, _ = random_qmodel(4, 2, 1, seed=1).to_parts()
    assert "C" not in header and "vocab" not in header   # C = 1 models serialize as before


def test_bad_inputs_refused():
    qm = random_qmodel(4, 2, 1, seed=1, C=2)
    with pytest.raises(HwssmError, match=r"\(n, T, 2\)"):
        run(qm, np.zeros((1, 5, 3), np.uint8))
    tq = random_qmodel(4, 2, 1, seed=1, vocab=5)
    with pytest.raises(HwssmError, match="token ids"):
        run(tq, np.full((1, 5), 5))
