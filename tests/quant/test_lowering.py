"""The lowering against an independent reading of ARITHMETIC.md; legality (§5); saturating tables."""

import dataclasses
import json

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.fixed import Overflow, QFormat, Rounding
from hwssm.golden.engine import run
from hwssm.quant.lowering import RQ_COLS, lower
from hwssm.quant.luts import gelu_table, sigmoid_format, sigmoid_table, table_format
from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm.quant.qmodel import QModel, QModelError
from hwssm.quant.qmodel_io import load_qmodel, save_qmodel
from hwssm.quant.random_qmodel import random_qmodel

PLANS = {
    "uniform8": NAMED_PLANS["uniform8"],
    "uniform16": NAMED_PLANS["uniform16"],
    "hetero": NAMED_PLANS["hetero"],
    "per_head_asym": parse_code("A8x10-B4C6D5-W6-a6-h-asym"),
    "floor_wrap": parse_code("A6.8x8.10-W5-a5-floor-wrap"),
    "wrap8": parse_code("A8x8-W8-a8-wrap"),
}


# -- an independent computation, written from the document ------------------------------------

def _eff(p, row):
    """(lo, hi, frac) of the effective values of a parameter row (codes - zero)."""
    if p.signed:
        return -(1 << (p.bits - 1)), (1 << (p.bits - 1)) - 1, int(p.frac[row])
    return -(1 << p.bits), (1 << p.bits) - 1, int(p.frac[row])  # w = q - z spans a (b+1)-bit signed range


def _fmt(f: QFormat):
    return f.min_code, f.max_code, f.frac


def _prod(a, b, count=1, scale=0):
    if b is None:
        lo, hi = a[0], a[1]
        frac = a[2]
    else:
        c = [x * y for x in a[:2] for y in b[:2]]
        lo, hi, frac = min(c), max(c), a[2] + b[2]
    k = count << scale
    return lo * k, hi * k, frac


def _width(lo, hi):
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi < (1 << (w - 1))):
        w += 1
    return w


def _sum(terms, out: QFormat | None):
    """(alignments, F, width, record) of a sum, by the document's rules."""
    F = max(t[2] for t in terms)
    aligns = tuple(F - t[2] for t in terms)
    lo = sum(t[0] << a for t, a in zip(terms, aligns))
    hi = sum(t[1] << a for t, a in zip(terms, aligns))
    if out is None:
        return aligns, F, _width(lo, hi), None
    s = F - out.frac
    if s > 0:
        hi += 1 << (s - 1)
    rnd = (1 << (s - 1)) if s > 0 and out.rounding is Rounding.HALF_UP else 0
    wrap = 64 - out.width if out.overflow is Overflow.WRAP else 0
    rec = (max(-s, 0), rnd, max(s, 0), out.min_code, out.max_code, wrap)
    return aligns, F, _width(lo, hi) + max(-s, 0), rec


def _check_sum(row, expect):
    aligns, F, pre_width, rec = expect
    assert row.aligns == aligns and row.F == F and row.pre_width == pre_width
    if rec is not None:
        assert tuple(int(x) for x in row.rq.record()) == rec


@pytest.mark.parametrize("name", sorted(PLANS))
@pytest.mark.parametrize("extreme", [False, True])
def test_records_equal_an_independent_reading(name, extreme):
    qm = random_qmodel(3, 4, 2, PLANS[name], seed=11, extreme=extreme)
    T = 50
    lw = lower(qm, T)
    u8 = _fmt(qm.u0)
    for h in range(qm.H):
        e = _sum([_prod(_eff(qm.enc_W, h), u8), _prod(_eff(qm.enc_b, h), None)], qm.r0)
        _check_sum(lw.encoder.rows[h], e)
        assert tuple(lw.encoder.sh[h]) == e[0] and tuple(lw.encoder.rq[h]) == e[3]
    for l, ly in enumerate(qm.layers):
        low, U = lw.layers[l], qm.r_in(l)
        u = _fmt(U)
        for h in range(qm.H):
            ar, ai, br, bi, cr, ci, d = (_eff(getattr(ly, n), h) for n in ("A_re", "A_im", "B_re", "B_im",
                                                                               "C_re", "C_im", "D"))
            xr, xi = _fmt(ly.x_re[h]), _fmt(ly.x_im[h])
            re = _sum([_prod(ar, xr), _prod(ai, xi), _prod(br, u)], ly.x_re[h])
            im = _sum([_prod(ar, xi), _prod(ai, xr), _prod(bi, u)], ly.x_im[h])
            y = _sum([_prod(cr, xr, qm.M, 1), _prod(ci, xi, qm.M, 1), _prod(d, u)], ly.y)
            s = low.ssm[h]
            _check_sum(s.xr, re), _check_sum(s.xi, im), _check_sum(s.y, y)
            assert tuple(low.x_sh[h]) == re[0] + im[0] and tuple(low.y_sh[h]) == y[0]
            assert tuple(low.x_rq[h, 0]) == re[3] and tuple(low.x_rq[h, 1]) == im[3]
            assert tuple(low.y_rq[h]) == y[3]
            assert [t.sign for t in s.xr.terms] == [1, -1, 1] and [t.sign for t in s.y.terms] == [1, -1, 1]
        g = _fmt(ly.g)
        for j in range(2 * qm.H):
            v = _sum([_prod(_eff(ly.W, j), g, qm.H), _prod(_eff(ly.b, j), None)], ly.v)
            _check_sum(low.mix[j], v)
            assert tuple(low.v_sh[j]) == v[0] and tuple(low.v_rq[j]) == v[3]
        z = _sum([_prod(_fmt(ly.v), _fmt(ly.sig))], ly.z)
        r = _sum([_prod(_fmt(ly.z), None), _prod(u, None)], ly.r_out)
        _check_sum(low.glu, z), _check_sum(low.residual, r)
        assert tuple(low.z_rq) == z[3] and tuple(low.res_sh) == r[0] and tuple(low.res_rq) == r[3]
        assert low.gelu.codes is ly.gelu_lut and low.sigmoid.codes is ly.sigmoid_lut
        assert low.gelu.min_code == ly.y.min_code and low.sigmoid.min_code == ly.v.min_code
    rL = qm.r_final
    S = (T * rL.min_code, T * rL.max_code, rL.frac)
    dec = [_sum([_prod(_eff(qm.dec_W, k), S, qm.H), _prod(_eff(qm.dec_b, k), None)], None)
           for k in range(qm.n_classes)]
    Fmax = max(x[1] for x in dec)
    assert lw.decoder.logit_frac == Fmax
    assert lw.decoder.width == max(x[2] + Fmax - x[1] for x in dec)
    for k, x in enumerate(dec):
        _check_sum(lw.decoder.rows[k], x)
        assert tuple(lw.decoder.sh[k]) == x[0] + (Fmax - x[1],)
    assert lw.pre_width == max(s.pre_width for s in lw.sums())
    assert lw.encoder.rq.shape == (qm.H, RQ_COLS) and lw.layers[0].x_rq.shape == (qm.H, 2, RQ_COLS)


def test_shipped_models_are_legal_and_never_shift_left():
    for name in ("s4d_hetero", "s4d_qat8"):
        lw = lower(load_qmodel(f"models/{name}.qmodel.json"))
        assert all(s.rq.shift >= 0 for s in lw.sums())
        assert lw.pre_width <= 64 and lw.decoder.width <= 64


# -- legality (ARITHMETIC.md §5) ----------------------------------------------------------------

def _with_layer(qm: QModel, **changes) -> QModel:
    ly = dataclasses.replace(qm.layers[0], **changes)
    return dataclasses.replace(qm, layers=(ly, *qm.layers[1:]))


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg
    return msg


def test_y_frac_minus_60_is_refused_with_one_line():
    qm = random_qmodel(3, 2, 1, PLANS["uniform8"], seed=0)
    bad = _with_layer(qm, y=qm.layers[0].y.replace(frac=-60))
    for call in (bad.validate, lambda: lower(bad), lambda: run(bad, np.zeros((1, 4), np.uint8))):
        with pytest.raises(HwssmError) as exc:
            call()
        msg = _one_line(exc)
        assert "layers.0 channel 0 y" in msg and "shifts right" in msg and "64" in msg


def test_left_shift_of_64_bits_is_refused():
    qm = random_qmodel(3, 2, 1, PLANS["uniform8"], seed=0)
    bad = _with_layer(qm, y=qm.layers[0].y.replace(frac=qm.layers[0].y.frac + 100))
    with pytest.raises(QModelError) as exc:
        bad.validate()
    assert "shifts left" in _one_line(exc)


def test_left_shift_past_64_bit_sums_is_refused():
    # legal shift (< 64) but the pre-shifted sum needs more than 64 bits
    qm = random_qmodel(3, 2, 1, PLANS["uniform16"], seed=0)
    bad = _with_layer(qm, y=qm.layers[0].y.replace(frac=qm.layers[0].y.frac + 60))
    with pytest.raises(QModelError) as exc:
        bad.validate()
    msg = _one_line(exc)
    assert "more than 64" in msg and "layers.0 channel 0 y" in msg


def test_moderate_left_shifts_stay_legal():
    qm = random_qmodel(3, 2, 1, PLANS["uniform8"], seed=0)
    ok = _with_layer(qm, y=qm.layers[0].y.replace(frac=qm.layers[0].y.frac + 24))
    ok.validate()
    assert min(s.y.rq.shift for s in lower(ok).layers[0].ssm) < 0


def test_wrapping_table_formats_are_refused():
    qm = random_qmodel(3, 2, 1, PLANS["wrap8"], seed=0)
    ly = qm.layers[0]
    for field in ("g", "sig"):
        bad = _with_layer(qm, **{field: getattr(ly, field).replace(overflow=Overflow.WRAP)})
        with pytest.raises(QModelError) as exc:
            bad.validate()
        assert "always saturate" in _one_line(exc)


def test_wide_unsigned_wrap_is_refused():
    qm = random_qmodel(3, 2, 1, PLANS["wrap8"], seed=0)
    ly = qm.layers[0]
    bad = _with_layer(qm, r_out=QFormat(64, ly.r_out.frac, False, ly.r_out.rounding, Overflow.WRAP))
    with pytest.raises(QModelError) as exc:
        bad.validate()
    assert "unsigned wrapping" in _one_line(exc)


def test_decoder_width_depends_on_T():
    qm = random_qmodel(3, 2, 1, PLANS["uniform16"], seed=0)
    qm.validate()
    lower(qm, 784)
    with pytest.raises(QModelError) as exc:
        lower(qm, 1 << 40)
    assert "decoder" in _one_line(exc)


def test_loader_refuses_an_illegal_file_with_its_name(tmp_path):
    qm = random_qmodel(3, 2, 1, PLANS["uniform8"], seed=0)
    path = save_qmodel(qm, tmp_path / "m")
    jpath = tmp_path / "m.qmodel.json"
    header = json.loads(jpath.read_text())
    header["layers"][0]["y"]["frac"] = -60
    jpath.write_text(json.dumps(header))
    with pytest.raises(HwssmError) as exc:
        load_qmodel(path)
    msg = _one_line(exc)
    assert "m.qmodel.json" in msg and "shifts right" in msg


# -- tables always saturate ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["wrap8", "floor_wrap"])
def test_wrap_plans_tables_saturate(name):
    qm = random_qmodel(4, 3, 2, PLANS[name], seed=2)
    for ly in qm.layers:
        assert ly.v.overflow is Overflow.WRAP  # the plan wraps ...
        assert ly.sig.overflow is Overflow.SATURATE and ly.g.overflow is Overflow.SATURATE  # ... the tables do not
        assert np.all(np.diff(ly.sigmoid_lut) >= 0)              # monotone: no wrapped gate
        pos = ly.gelu_lut[-(1 << (ly.y.width - 1)):]             # inputs >= 0
        assert np.all(pos >= 0) and np.all(np.diff(pos) >= 0)   # no wrapped GELU of a large input
        assert np.array_equal(ly.gelu_lut, gelu_table(ly.y, ly.g))
        assert np.array_equal(ly.sigmoid_lut, sigmoid_table(ly.v, ly.sig))


def test_a_gate_near_one_is_the_top_code_under_half_up_wrap():
    # v = s8.4 (inputs up to 7.94): sigmoid rounds to 2^8 at the top, which used to wrap to 0.
    v = QFormat(8, 4, True, Rounding.HALF_UP, Overflow.WRAP)
    sig = sigmoid_format(8, v)
    assert sig.overflow is Overflow.SATURATE
    table = sigmoid_table(v, sig)
    np.testing.assert_array_equal(table[-2:], [255, 255])
    g = gelu_table(QFormat(8, 2, True, Rounding.HALF_UP, Overflow.WRAP), table_format(QFormat(8, 3, overflow=Overflow.WRAP)))
    assert g[-1] == 127 and g.min() >= -128  # GELU(31.75) saturates at the top code of s8.3 (15.875)


def test_table_builders_refuse_a_wrapping_format():
    fin = QFormat(6, 2)
    with pytest.raises(ValueError, match="saturate"):
        gelu_table(fin, QFormat(6, 2, overflow=Overflow.WRAP))
