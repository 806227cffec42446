"""The golden S5 engine equals tests/naive.py's S5 path (ARITHMETIC.md §6) on random small models:
odd P, H not dividing P, both GLUs, folded-BatchNorm biases, per-tensor/per-mode, symmetric/
asymmetric, half-up/floor, saturate/wrap, every traced value of every step."""

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.golden.s5_engine import _fit_records, _operand_type, _shifted_C, _storage, pack_s5, run_s5
from hwssm.model.s5_config import Glu, Norm, S5Config
from hwssm.model.s5_network import forward, init_params
from hwssm.quant.plan import resolve_plan
from hwssm.quant.qmodel import QModelError
from hwssm.quant.s5_lowering import lower_s5
from hwssm.quant.s5_ptq import ptq_s5
from hwssm.quant.s5_qmodel import S5QModel
from tests.naive import run_sequence_s5

CASES = [  # (config, plan code)
    (S5Config(H=5, P=7, L=2, n_classes=4), "uniform8"),
    (S5Config(H=6, P=3, L=1, n_classes=3, glu=Glu.FULL), "A8x12-B4C4D4-W8-a6-h-asym"),
    (S5Config(H=4, P=5, L=2, n_classes=5, norm=Norm.NONE), "A6x8-B6C6D6-W6-a6-floor"),
    (S5Config(H=7, P=3, L=1, n_classes=3, glu=Glu.FULL), "A8x6-B4C4D4-W4-a4-h-wrap"),
    (S5Config(H=3, P=5, L=1, n_classes=2), "A12x36-B12C12D12-W12-a12"),   # 36-bit state: the int64 storage path
]


def _model(cfg, code, seed=0):
    params = init_params(cfg, seed)
    rng = np.random.default_rng(seed + 10)
    for l in range(cfg.L):
        if cfg.norm is Norm.BATCH:   # non-trivial statistics: the fold gives non-zero β and δ
            params[f"layers.{l}.norm_mean"] = rng.normal(0, 0.5, cfg.H).astype(np.float32)
            params[f"layers.{l}.norm_var"] = rng.uniform(0.2, 2.0, cfg.H).astype(np.float32)
            params[f"layers.{l}.norm_bias"] = rng.normal(0, 0.5, cfg.H).astype(np.float32)
    params["decoder.W"] = (params["decoder.W"] / 20).astype(np.float32)
    calib = rng.integers(0, 64, (3, 40)).astype(np.uint8)   # darker than the test inputs
    return params, ptq_s5(cfg, params, resolve_plan(code), calib)


@pytest.mark.parametrize("cfg,code", CASES, ids=[c for _, c in CASES])
def test_golden_equals_naive_on_every_value(cfg, code):
    _, qm = _model(cfg, code)
    low = lower_s5(qm, 60)
    assert _storage(qm, low) is (np.int64 if "x36" in code else np.int32)
    # the GEMV dot products run in int32 only when every sum fits in 31 bits (uniform8: int32; x36: int64)
    op = _operand_type(qm, low, _shifted_C(low.layers))
    assert op is np.int64 if "x36" in code else (op is np.int32) == all(r.width <= 31 for ly in low.layers
                                                                        for r in ly.rows)
    if code == "uniform8":
        assert op is np.int32
    if cfg.norm is Norm.BATCH:
        assert any(np.any(ly.beta_re.codes) and np.any(ly.delta.codes) for ly in qm.layers)
    # brighter inputs than the calibration digits: formats saturate or wrap
    pix = np.random.default_rng(1).integers(0, 256, (3, 60)).astype(np.uint8)
    pix[0, 20:] = 255
    res = run_s5(qm, pix, trace=True)
    clipped = 0
    for i in range(len(pix)):
        ref = run_sequence_s5(qm, pix[i])
        assert res.logits[i].tolist() == ref["logits"] and res.pred[i] == ref["pred"]
        tr = ref["traces"]
        np.testing.assert_array_equal(res.r[i], np.array(tr["r"]))
        np.testing.assert_array_equal(res.bu[i], np.stack([tr["bu_re"], tr["bu_im"]], axis=2))
        np.testing.assert_array_equal(res.x[i], np.stack([tr["xr"], tr["xi"]], axis=2))
        np.testing.assert_array_equal(res.y[i], np.array(tr["y"]))
        np.testing.assert_array_equal(res.v[i], np.array(tr["v"]))
        for l, ly in enumerate(qm.layers):
            for got, fmt in ((res.y[i, l], ly.y), (res.r[i, l + 1], ly.r_out), (res.bu[i, l, :, 0], ly.bu_re)):
                clipped += int(np.sum(np.isin(got, (fmt.min_code, fmt.max_code))))
    assert res.logit_frac == ref["logit_frac"]
    assert clipped > 0 or "x36" in code      # the test reaches the formats' edges (wide case: the int64 path)


def test_ptq16_follows_the_float_model():
    cfg = S5Config(H=6, P=5, L=2, n_classes=4)
    params, _ = _model(cfg, "uniform16")
    pix = np.random.default_rng(3).integers(0, 256, (2, 40)).astype(np.uint8)
    qm = ptq_s5(cfg, params, resolve_plan("uniform16"), pix)     # calibrated on the same digits
    want = forward(params, cfg, pix)
    res = run_s5(qm, pix)
    got = res.logits * 2.0 ** -res.logit_frac
    np.testing.assert_allclose(got, want, rtol=0, atol=0.02 * np.abs(want).max())


def test_contract_refusals_are_one_line():
    cfg = S5Config(H=3, P=3, L=1, n_classes=2)
    _, qm = _model(cfg, "uniform8")
    import dataclasses

    bad = dataclasses.replace(qm.layers[0], x_re=qm.layers[0].x_re[:2])
    with pytest.raises(QModelError, match="one entry per mode"):
        dataclasses.replace(qm, layers=(bad,)).validate()
    far = dataclasses.replace(qm.layers[0], y=qm.layers[0].y.replace(frac=-90))
    with pytest.raises(QModelError, match="readout channel 0") as info:
        S5QModel(**{**qm.__dict__, "layers": (far,)}).validate()
    assert "\n" not in str(info.value)
    with pytest.raises(HwssmError, match="expected an S5QModel"):
        run_s5(object(), np.zeros((1, 3), np.uint8))


def test_layernorm_models_are_refused_by_ptq():
    cfg = S5Config(H=3, P=3, L=1, n_classes=2, norm=Norm.LAYER)
    with pytest.raises(HwssmError, match="LayerNorm needs a per-step"):
        ptq_s5(cfg, init_params(cfg, 0), resolve_plan("uniform8"), np.zeros((1, 5), np.uint8))


def test_packed_tables_are_reused_and_checked():
    """pack_s5 once, run_s5(tables=...) on several batches: the same integers as packing per call
    (any batch size: the kernel pads the last block of 16); tables of another T are refused."""
    cfg, code = CASES[1]
    _, qm = _model(cfg, code)
    pix = np.random.default_rng(4).integers(0, 256, (19, 30)).astype(np.uint8)
    tb = pack_s5(qm, 30)
    whole = run_s5(qm, pix).logits
    parts = np.concatenate([run_s5(qm, pix[i:i + 5], tables=tb).logits for i in range(0, 19, 5)])
    np.testing.assert_array_equal(parts, whole)
    with pytest.raises(HwssmError, match="packed for T=30"):
        run_s5(qm, pix[:, :20], tables=tb)


def test_fit_records_follow_the_requant_records():
    """The kernel's branch-free fit (shift, wrap by sign extension or mask, clip) equals the
    requantization of ARITHMETIC.md for saturating, signed-wrapping and unsigned-wrapping records."""
    rq = np.array([[1, 2, 3, -128, 127, 0],          # saturate to int8
                   [0, 0, 2, -128, 127, 56],         # wrap to a signed 8-bit code
                   [2, 0, 1, 0, 255, 56]], np.int64)  # wrap to an unsigned 8-bit code
    fit = _fit_records(rq)
    acc = np.arange(-5000, 5000, 7, dtype=np.int64)
    for q, f in zip(rq, fit):
        v = ((acc << q[0]) + q[1]) >> q[2]
        want = (np.clip(v, q[3], q[4]) if q[5] == 0 else
                ((v << q[5]) >> q[5]) if q[3] < 0 else v & ((1 << (64 - int(q[5]))) - 1))
        got = np.clip((((v << f[5]) >> f[5]) & f[6]), f[3], f[4])
        np.testing.assert_array_equal(got, want)
