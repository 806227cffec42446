"""A real S5 model in Verilator: a tiny float S5 trained on sMNIST (``hwssm train float --family
s5 --H 8 --P 5 --L 2`` on CPU, its checkpoint in ``data/``), quantized by PTQ on real training
digits, simulated on real MNIST test digits of full length (784 steps): every block output of
every step, the logits and the classes equal the golden S5 engine, and the measured cycles the
S5 cycle model."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwssm.data import Split, load_mnist, sequences
from hwssm.hw.options import DesignPoint
from hwssm.model.checkpoint import load_checkpoint
from hwssm.quant.plan import resolve_plan
from hwssm.quant.s5_ptq import ptq_s5
from hwssm.verify.simulate import Digits, SimOptions, simulate

CHECKPOINT = Path(__file__).parent / "data" / "s5tiny.json"


@pytest.mark.verilator
@pytest.mark.slow
def test_a_trained_s5_model_is_bit_exact_on_real_digits():
    ck = load_checkpoint(CHECKPOINT)
    images, _ = load_mnist(Split.TRAIN)
    qm = ptq_s5(ck.config, ck.params, resolve_plan("A8x12-B8C8D8-W8-a8-h"), sequences(images[:32]))
    assert any(int(x) for ly in qm.layers for x in ly.delta.codes)   # the folded BatchNorm's y bias
    res = simulate(qm, DesignPoint(2), Digits.mnist_test([0, 1]), SimOptions(jobs=1))
    assert res.ok and res.digits == 2 and res.mismatches == 0 and res.errors == (), res.errors
    assert res.cycles_per_digit == res.model_cycles_per_digit
