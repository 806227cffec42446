"""QFormat and the integer helpers: exact messages, range properties, rounding, accumulators."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hwssm.fixed import (
    Overflow, QFormat, Rounding, Term, accumulator_format, fit, requantize, rshift, signed_width,
)

formats = st.builds(
    QFormat,
    width=st.integers(2, 32),
    frac=st.integers(-8, 40),
    signed=st.just(True),
    rounding=st.sampled_from(list(Rounding)),
    overflow=st.sampled_from(list(Overflow)),
)


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=0, frac=0), "QFormat width must be in [2, 64] for a signed format, not 0"),
    (dict(width=65, frac=0), "QFormat width must be in [2, 64] for a signed format, not 65"),
    (dict(width=0, frac=0, signed=False), "QFormat width must be in [1, 64] for a unsigned format, not 0"),
    (dict(width=8, frac=129), "QFormat frac must be in [-128, 128], not 129"),
    (dict(width=8.0, frac=0), "QFormat width must be an integer, not float"),
    (dict(width=True, frac=0), "QFormat width must be an integer, not bool"),
    (dict(width=8, frac="3"), "QFormat frac must be an integer, not str"),
    (dict(width=8, frac=0, rounding="floor"), "QFormat rounding must be a Rounding, not 'floor'"),
    (dict(width=8, frac=0, overflow=None), "QFormat overflow must be an Overflow, not None"),
    (dict(width=8, frac=0, signed=1), "QFormat signed must be a bool, not int"),
])
def test_invalid_formats_raise_exact_messages(kwargs, message):
    with pytest.raises(ValueError) as exc:
        QFormat(**kwargs)
    assert str(exc.value) == message


def test_properties():
    f = QFormat(8, 4)
    assert (f.min_code, f.max_code) == (-128, 127)
    assert f.resolution == 1 / 16 and f.min == -8.0 and f.max == 127 / 16
    u = QFormat(8, 8, signed=False)
    assert (u.min_code, u.max_code, u.max) == (0, 255, 255 / 256)
    assert f.name == "s8.4" and hash(f) == hash(QFormat(8, 4))
    with pytest.raises(Exception):
        f.width = 3  # frozen


@settings(max_examples=200, deadline=None)
@given(formats, st.lists(st.integers(-(2**20), 2**20), min_size=1, max_size=20))
def test_round_trip_of_codes(fmt, raw):
    codes = fit(np.array(raw), fmt.replace(overflow=Overflow.SATURATE))
    assert np.array_equal(fmt.quantize(fmt.dequantize(codes)), codes)


@settings(max_examples=200, deadline=None)
@given(formats, st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=20))
def test_quantize_error_and_saturation(fmt, values):
    v = np.array(values)
    q = fmt.quantize(v)
    assert fmt.contains(q) or fmt.overflow is Overflow.WRAP
    if fmt.overflow is Overflow.SATURATE:
        inside = (v >= fmt.min) & (v <= fmt.max)
        err = np.abs(fmt.dequantize(q[inside]) - v[inside])
        bound = fmt.resolution if fmt.rounding is Rounding.FLOOR else fmt.resolution / 2
        assert np.all(err <= bound + 1e-9 * np.abs(v[inside]))
        assert np.all(q[v > fmt.max] == fmt.max_code)
        assert np.all(q[v < fmt.min] == fmt.min_code)


def test_saturation_at_both_ends_and_wrap():
    f = QFormat(4, 0)
    assert f.quantize([100, -100, 7, -8]).tolist() == [7, -8, 7, -8]
    w = f.replace(overflow=Overflow.WRAP)
    assert w.quantize([8, -9, 16, 23]).tolist() == [-8, 7, 0, 7]


def test_half_up_rounds_negative_ties_up():
    f = QFormat(8, 0)
    assert f.quantize([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]).tolist() == [-2, -1, 0, 1, 2, 3]
    assert f.replace(rounding=Rounding.FLOOR).quantize([-2.5, -0.5, 2.5]).tolist() == [-3, -1, 2]
    assert rshift(np.array([-5, -3, -1, 1, 3, 5]), 1, Rounding.HALF_UP).tolist() == [-2, -1, 0, 1, 2, 3]
    assert rshift(np.array([-5, 5]), 1, Rounding.FLOOR).tolist() == [-3, 2]
    assert rshift(np.array([3]), -2, Rounding.FLOOR).tolist() == [12]


def test_quantize_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        QFormat(8, 0).quantize([np.nan])


@settings(max_examples=300, deadline=None)
@given(st.integers(-(2**40), 2**40), st.integers(-(2**40), 2**40))
def test_signed_width_is_minimal(a, b):
    lo, hi = min(a, b), max(a, b)
    w = signed_width(lo, hi)
    assert -(1 << (w - 1)) <= lo and hi < (1 << (w - 1))
    if w > 1:
        assert not (-(1 << (w - 2)) <= lo and hi < (1 << (w - 2)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(formats, formats, st.integers(1, 64)), min_size=1, max_size=4), st.integers(0, 8),
       st.randoms(use_true_random=False))
def test_accumulator_format_holds_worst_case(terms, rs, rnd):
    ts = [Term(a, b, n) for a, b, n in terms]
    try:
        acc = accumulator_format(ts, rs)
    except ValueError as exc:
        assert "more than 64" in str(exc)
        return
    F = max(t.frac for t in ts)
    assert acc.frac == F
    # the corners: every term at its extreme products, aligned
    for pick in (min, max):
        total = 0
        for t in ts:
            corners = [x * y for x in (t.a.min_code, t.a.max_code) for y in (t.b.min_code, t.b.max_code)]
            total += pick(corners) * t.count << (F - t.frac)
        total += (1 << (rs - 1)) if rs > 0 and pick is max else 0
        assert acc.min_code <= total <= acc.max_code


def test_requantize_composition():
    out = QFormat(4, 2)
    assert requantize(np.array([37]), 4, out).tolist() == [7]  # 37/16 = 2.31 -> 9 codes -> saturate 7
    assert requantize(np.array([-37]), 4, out).tolist() == [-8]
    assert requantize(np.array([5]), 4, out).tolist() == [1]  # 5/16 = .3125 -> 1.25 -> 1
