"""PTQ: float model vs golden engine (tolerance from the formats), and quantizer properties."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hwssm.data import Split, load_mnist, sequences
from hwssm.golden.engine import run
from hwssm.model.checkpoint import init_params
from hwssm.model.config import S4DConfig
from hwssm.model.network import S4DClassifier
from hwssm.quant.calibrate import Calibration
from hwssm.quant.plan import NAMED_PLANS, Spec, Granularity, Scheme, parse_code
from hwssm.quant.ptq import ptq
from hwssm.quant.quantizers import frac_for_maxabs, quantize_param

CFG = S4DConfig(H=8, N=8, L=2)


@pytest.fixture(scope="module")
def digits():
    calib = sequences(load_mnist(Split.TRAIN)[0][:32])
    test = sequences(load_mnist(Split.TEST)[0][:12])
    return calib, test


def test_ptq16_tracks_the_float_model_within_format_tolerance(digits):
    calib, test = digits
    params = init_params(CFG, 0)
    qm = ptq(CFG, params, NAMED_PLANS["uniform16"], calib)
    res = run(qm, test, trace=True)
    logits, tr = S4DClassifier(CFG, params).forward(test, trace=True)
    for l in range(CFG.L + 1):
        fmt = qm.r_in(l)
        err = np.abs(fmt.dequantize(res.r[:, l]) - tr.r[l]).max()
        # 16-bit formats: the residual stream may lose at most 8 of its 16 bits over the network.
        assert err <= 256 * fmt.resolution, (l, err, fmt)
    gl = res.logits * 2.0 ** -res.logit_frac
    assert np.abs(gl - logits).max() <= 0.01 * np.abs(logits).max()


def test_ptq4_is_much_worse_than_ptq16(digits):
    calib, test = digits
    params = init_params(CFG, 0)
    _, tr = S4DClassifier(CFG, params).forward(test, trace=True)
    errs = []
    for plan in ("uniform16", "uniform4"):
        qm = ptq(CFG, params, NAMED_PLANS[plan], calib)
        res = run(qm, test, trace=True)
        fmt = qm.r_final
        errs.append(np.abs(fmt.dequantize(res.r[:, -1]) - tr.r[-1]).max())
    assert errs[1] > 10 * errs[0]


@pytest.mark.parametrize("code", ["A8x10-B4C6D5-W6-a6-h-asym", "A8x8-B4C4D4-W8-a6", "A6x6-W6-a6-floor-wrap"])
def test_ptq_builds_valid_models_for_every_kind_of_plan(digits, code):
    calib, test = digits
    qm = ptq(CFG, init_params(CFG, 1), parse_code(code), calib, Calibration.PERCENTILE, 99.9)
    qm.validate()
    assert qm.plan == parse_code(code)
    assert run(qm, test).logits.shape == (len(test), 10)


@settings(max_examples=100, deadline=None)
@given(st.floats(1e-6, 1e6), st.integers(2, 24))
def test_frac_for_maxabs_is_the_largest_that_fits(maxabs, bits):
    f = frac_for_maxabs(maxabs, bits)
    top = (1 << (bits - 1)) - 1
    assert np.floor(maxabs * 2.0**f + 0.5) <= top
    assert np.floor(maxabs * 2.0 ** (f + 1) + 0.5) > top


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=2, max_size=30), st.integers(3, 12),
       st.sampled_from(list(Scheme)), st.sampled_from(list(Granularity)))
def test_quantize_param_error_is_half_a_step(values, bits, scheme, gran):
    v = np.array(values).reshape(2, -1) if len(values) % 2 == 0 else np.array(values)[None, :]
    p = quantize_param(v, Spec(bits, gran, scheme))
    back = p.dequantize()
    step = np.exp2(-p.frac.astype(float)).reshape((-1,) + (1,) * (v.ndim - 1))
    assert np.all(np.abs(back - v) <= step / 2 + 1e-12)
