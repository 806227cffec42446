"""PTQ with per-layer precision: each block gets the formats its overrides ask for, and the
golden engine equals tests/naive.py exactly on the result (and on random per-layer models)."""

import numpy as np
import pytest

from hwssm.data import Split, load_mnist, sequences
from hwssm.errors import HwssmError
from hwssm.golden.engine import run
from hwssm.model.checkpoint import init_params
from hwssm.model.config import S4DConfig
from hwssm.quant.plan import parse_code
from hwssm.quant.ptq import ptq
from hwssm.quant.qmodel_io import load_qmodel, save_qmodel
from hwssm.quant.random_qmodel import random_qmodel
from tests.naive import run_sequence

CFG = S4DConfig(H=6, N=8, L=3)
#: block 0 default; block 1: Ā 6 bits, state 12.10, B̄ 3, activations 8; block 2: C̄, D 6, mixing W 5, b 12
CODE = "A8x8-B4C4D4-W8-a6-L1:A6x12.10B3a8-L2:C6D6W5b12"


@pytest.fixture(scope="module")
def digits():
    return sequences(load_mnist(Split.TRAIN)[0][:16]), sequences(load_mnist(Split.TEST)[0][:3])


def _golden_equals_naive(qm, pix):
    res = run(qm, pix, trace=True)
    for i in range(pix.shape[0]):
        ref = run_sequence(qm, pix[i])
        np.testing.assert_array_equal(res.r[i], np.array(ref["traces"]["r"]))
        np.testing.assert_array_equal(res.logits[i], np.array(ref["logits"]))
        assert res.pred[i] == ref["pred"] and res.logit_frac == ref["logit_frac"]


def test_ptq_gives_each_block_its_formats_and_golden_equals_naive(digits, tmp_path):
    calib, test = digits
    plan = parse_code(CODE)
    qm = ptq(CFG, init_params(CFG, 3), plan, calib)
    base = ptq(CFG, init_params(CFG, 3), parse_code("A8x8-B4C4D4-W8-a6"), calib)
    l0, l1, l2 = qm.layers
    assert (l0.A_re.bits, l0.B_re.bits, l0.x_re[0].width, l0.y.width, l0.W.bits) == (8, 4, 8, 6, 8)
    assert (l1.A_re.bits, l1.A_im.bits, l1.B_re.bits, l1.B_im.bits, l1.C_re.bits) == (6, 6, 3, 3, 4)
    assert {f.width for f in l1.x_re} == {12} and {f.width for f in l1.x_im} == {10}
    assert {f.width for f in (l1.y, l1.v, l1.z, l1.r_out)} == {8} and l1.gelu_lut.size == 256
    assert (l2.C_re.bits, l2.D.bits, l2.W.bits, l2.b.bits, l2.y.width) == (6, 6, 5, 12, 6)
    assert (qm.enc_W.bits, qm.dec_W.bits, qm.dec_b.bits, qm.r0.width) == (8, 8, 16, 6)  # defaults
    # block 0 is untouched: the same codes and formats as under the plan without overrides
    assert np.array_equal(l0.A_re.codes, base.layers[0].A_re.codes) and l0.x_re == base.layers[0].x_re
    assert qm.footprint_bits != base.footprint_bits
    _golden_equals_naive(qm, test[:, :40])
    path = save_qmodel(qm, tmp_path / "m")
    again = load_qmodel(path)
    assert again.plan == plan and again.plan.code == CODE and again.digest() == qm.digest()


def test_overrides_beyond_the_network_are_refused(digits):
    calib, _ = digits
    with pytest.raises(HwssmError, match="overrides layer 3, but the network has 3 layers"):
        ptq(CFG, init_params(CFG, 3), parse_code("A8x8-W8-a8-L3:A6"), calib)


@pytest.mark.parametrize("code", ["A8x8-B4C4D4-W8-a6-L0:a8x12-L1:A6B3", "A8x10-B4C6D5-W6-a6-h-asym-L1:x6.9a5C8",
                                  "A6.8x8.10-W5-a5-floor-wrap-L0:a7W4-L1:x12"])
@pytest.mark.parametrize("extreme", [False, True])
def test_golden_equals_naive_on_random_per_layer_models(code, extreme):
    qm = random_qmodel(3, 2, 2, parse_code(code), seed=5, extreme=extreme)
    assert qm.layers[0].y.width != qm.layers[1].y.width or qm.layers[0].x_re != qm.layers[1].x_re \
        or qm.layers[0].A_re.bits != qm.layers[1].A_re.bits
    pix = np.random.default_rng(2).integers(0, 256, (3, 10)).astype(np.uint8)
    pix[0] = 255
    _golden_equals_naive(qm, pix)
