"""The fast kernel paths of the golden engine, exactly against the naive reference and the numpy baseline.

tests/golden/test_engine.py covers the arithmetic on tiny shapes. Here the shapes are
large enough for the vectorized loops to run (modes and channels past the SIMD width,
several time chunks, several blocks), and QModels are rigged so that every
requantization shifts left (the pre-shift folded into the kernel constants) and so
that the kernel type is int64 although every accumulator fits in 31 bits.
"""

import dataclasses

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.fixed import QFormat
from hwssm.golden import _kernels
from hwssm.golden.baseline import run_numpy
from hwssm.golden.engine import run
from hwssm.golden.tables import _ring, _ring_int, build_tables
from hwssm.quant.lowering import RQ_LSH
from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm.quant.qmodel import QModel
from hwssm.quant.random_qmodel import random_qmodel
from tests.naive import run_sequence

PLANS = {
    "uniform8": NAMED_PLANS["uniform8"],
    "uniform16": NAMED_PLANS["uniform16"],
    "hetero": NAMED_PLANS["hetero"],
    "per_head_asym": parse_code("A8x10-B4C6D5-W6-a6-h-asym"),
    "floor_wrap": parse_code("A6.8x8.10-W5-a5-floor-wrap"),
    "wrap16": parse_code("A16x16-W16-a16-wrap"),
}


def _check_traces(qm, pix, res, rows):
    for i in rows:
        ref = run_sequence(qm, pix[i])
        np.testing.assert_array_equal(res.r[i], np.array(ref["traces"]["r"]))
        np.testing.assert_array_equal(res.y[i], np.array(ref["traces"]["y"]))
        np.testing.assert_array_equal(res.v[i], np.array(ref["traces"]["v"]))
        np.testing.assert_array_equal(res.logits[i], np.array(ref["logits"]))


def _pixels(n, T, seed):
    pix = np.random.default_rng(seed).integers(0, 256, (n, T)).astype(np.uint8)
    pix[0] = 255
    pix[1, ::3] = 0
    return pix


@pytest.mark.parametrize("name", sorted(PLANS))
@pytest.mark.parametrize("extreme", [False, True])
def test_vector_loops_equal_baseline_and_naive(name, extreme):
    # M = 20 and H = 12: vector body plus remainder in the mode loop and the mixing
    # reduction; T spans two time chunks (the last partial); n spans two blocks.
    T = _kernels.TCHUNK + 7
    n = _kernels.BLOCK + 2
    qm = random_qmodel(12, 20, 2, PLANS[name], seed=5, extreme=extreme)
    pix = _pixels(n, T, 3)
    res = run(qm, pix, trace=True)
    np.testing.assert_array_equal(res.logits, run_numpy(qm, pix))
    np.testing.assert_array_equal(res.logits, run(qm, pix).logits)
    _check_traces(qm, pix, res, [n - 1])


def test_full_width_modes_and_channels():
    # M = 32, H = 16: the mode loop is whole vectors only.
    qm = random_qmodel(16, 32, 2, PLANS["uniform8"], seed=2)
    pix = _pixels(5, _kernels.TCHUNK + 1, 4)
    res = run(qm, pix, trace=True)
    np.testing.assert_array_equal(res.logits, run_numpy(qm, pix))
    _check_traces(qm, pix, res, [4])


def _left_shifted(qm: QModel, k: int) -> QModel:
    """``qm`` with formats moved so that every requantization shifts left (lsh >= 1).

    The output fracs are raised above their accumulator fracs; for the state, Ā gets
    frac -1 and B̄ a frac below the state's, so that the accumulator frac is below it.
    Widths and lookup tables are kept (their contents stay valid codes).
    """
    H = qm.H

    def fmax(p):
        return int(np.max(p.frac))

    def with_frac(p, f):
        return dataclasses.replace(p, frac=np.full(p.rows, f, dtype=np.int64))

    r0 = qm.r0.replace(frac=max(fmax(qm.enc_W) + 8, fmax(qm.enc_b)) + k)
    u = r0
    layers = []
    for ly in qm.layers:
        xf = ly.x_re[0].frac
        x_re = tuple(f.replace(frac=xf) for f in ly.x_re)
        x_im = tuple(f.replace(frac=xf) for f in ly.x_im)
        A_re, A_im = with_frac(ly.A_re, -1), with_frac(ly.A_im, -1)
        B_re, B_im = with_frac(ly.B_re, xf - u.frac - k), with_frac(ly.B_im, xf - u.frac - k)
        G = max(fmax(ly.C_re) + xf, fmax(ly.C_im) + xf, fmax(ly.D) + u.frac)
        y = ly.y.replace(frac=G + k)
        v = ly.v.replace(frac=max(fmax(ly.W) + ly.g.frac, fmax(ly.b)) + k)
        z = ly.z.replace(frac=v.frac + ly.sig.frac + k)
        r_out = ly.r_out.replace(frac=max(z.frac, u.frac) + k)
        layers.append(dataclasses.replace(ly, A_re=A_re, A_im=A_im, B_re=B_re, B_im=B_im, x_re=x_re, x_im=x_im,
                                          y=y, v=v, z=z, r_out=r_out))
        u = r_out
    out = dataclasses.replace(qm, r0=r0, layers=tuple(layers))
    out.validate()
    assert H == out.H
    return out


@pytest.mark.parametrize("name", ["uniform8", "floor_wrap", "hetero", "per_head_asym"])
def test_left_shifting_requantizations(name):
    qm = _left_shifted(random_qmodel(4, 3, 2, PLANS[name], seed=1), 1)
    tb = build_tables(qm, T=12)
    for rq in (tb.enc_rq, tb.x_rq, tb.y_rq, tb.v_rq, tb.z_rq, tb.res_rq):
        assert rq[..., RQ_LSH].min() >= 1
    assert tb.kernel_width > tb.acc_width
    pix = _pixels(3, 12, 6)
    res = run(qm, pix, trace=True, tables=tb)
    _check_traces(qm, pix, res, range(3))


def _y_frac_raised(qm: QModel, k: int) -> QModel:
    ly = qm.layers[0]
    return dataclasses.replace(qm, layers=(dataclasses.replace(ly, y=ly.y.replace(frac=ly.y.frac + k)),
                                           *qm.layers[1:]))


def test_pre_shift_past_31_bits_takes_int64():
    qm = _y_frac_raised(random_qmodel(3, 2, 2, PLANS["uniform8"], seed=0), 24)
    tb = build_tables(qm, T=8)
    assert tb.acc_width <= 31 < tb.kernel_width
    assert tb.dtype is np.int64
    pix = _pixels(3, 8, 7)
    _check_traces(qm, pix, run(qm, pix, trace=True, tables=tb), range(3))


def test_wide_constants_store_int64():
    # A pre-shifted readout coefficient past 2**31: int64 sums with int64 storage.
    qm = _y_frac_raised(random_qmodel(3, 2, 2, PLANS["uniform16"], seed=0), 36)
    tb = build_tables(qm, T=8)
    assert tb.dtype is np.int64 and tb.store_dtype is np.int64
    assert np.abs(tb.ssm_cf).max() >= 1 << 31
    pix = _pixels(3, 8, 10)
    _check_traces(qm, pix, run(qm, pix, trace=True, tables=tb), range(3))


def test_pre_shift_past_64_bits_is_an_error():
    bad = _y_frac_raised(random_qmodel(3, 2, 1, PLANS["uniform16"], seed=0), 60)
    with pytest.raises(HwssmError, match="64"):
        build_tables(bad)


def _unsigned(qm: QModel) -> QModel:
    """``qm`` with unsigned formats for every requantized value (r0, x, y, v, z, r_out)."""
    def us(f):
        return f.replace(signed=False)

    layers = tuple(dataclasses.replace(ly, x_re=tuple(map(us, ly.x_re)), x_im=tuple(map(us, ly.x_im)),
                                       y=us(ly.y), v=us(ly.v), z=us(ly.z), r_out=us(ly.r_out))
                   for ly in qm.layers)
    out = dataclasses.replace(qm, r0=us(qm.r0), layers=layers)
    out.validate()
    return out


@pytest.mark.parametrize("name", ["uniform8", "floor_wrap", "wrap16"])
def test_unsigned_formats(name):
    # Unsigned wrapping keeps the low bits as an unsigned code (a mask after the sign-extending wrap).
    qm = _unsigned(random_qmodel(4, 17, 2, PLANS[name], seed=3))
    pix = _pixels(3, 12, 8)
    _check_traces(qm, pix, run(qm, pix, trace=True), range(3))


def test_wide_unsigned_wrap_takes_int64():
    # A 32-bit unsigned wrapping residual output: codes up to 2**32 - 1 need int64 storage,
    # although every sum fits in 31 bits.
    qm = random_qmodel(3, 2, 1, parse_code("A8x8-W8-a8-wrap"), seed=1)
    ly = qm.layers[0]
    wide = QFormat(32, ly.r_out.frac, False, ly.r_out.rounding, ly.r_out.overflow)
    qm = dataclasses.replace(qm, layers=(dataclasses.replace(ly, r_out=wide),))
    tb = build_tables(qm, T=8)
    assert tb.kernel_width <= 31 and tb.dtype is np.int64
    pix = _pixels(3, 8, 9)
    res = run(qm, pix, trace=True, tables=tb)
    assert res.r[:, 1].max() >= 1 << 31
    _check_traces(qm, pix, res, range(3))


def test_ring_reduction():
    v = np.array([1, -1, 3, -(1 << 20), 5], np.int64)
    s = np.array([31, 31, 30, 12, 64], np.int64)
    expect = [((int(a) << int(b)) + (1 << 31)) % (1 << 32) - (1 << 31) for a, b in zip(v, s)]
    np.testing.assert_array_equal(_ring(v, s, 32), expect)
    np.testing.assert_array_equal(_ring(v, s, 64)[:4], [int(a) << int(b) for a, b in zip(v[:4], s[:4])])
    assert _ring(v, s, 64)[4] == 0
    assert _ring_int(1 << 31, 32) == -(1 << 31)
    assert _ring_int(-(1 << 63) - 1, 64) == (1 << 63) - 1


def test_kernel_types_follow_the_widths():
    # uniform8: int32 sums and storage (the fast path); uniform16: int64 sums of int32-stored operands.
    for name, dt, st in (("uniform8", np.int32, np.int32), ("uniform16", np.int64, np.int32)):
        tb = build_tables(random_qmodel(3, 2, 1, PLANS[name]))
        assert tb.dtype is dt and tb.store_dtype is st
        for a in (tb.ssm_cf, tb.ssm_d, tb.mix_w, tb.enc_k, tb.gelu, tb.sig):
            assert np.all(a == a.astype(st))
        for a in (tb.ssm_q, tb.mix_q, tb.enc_q, tb.glu_q):
            assert np.all(a == a.astype(dt))


def _vector_ops(fn, *args) -> set[tuple[str, str]]:
    """(instruction, element type) of the vector instructions in ``fn``'s optimized LLVM IR.

    ``fn`` is compiled afresh (numba does not keep the IR of cached code).
    """
    import re

    from numba import njit

    fresh = njit(nogil=True, fastmath=False)(fn.py_func)
    fresh(*args)
    ir = "".join(fresh.inspect_llvm().values())
    return set(re.findall(r"= (\w+) (?:nsw |nuw |exact )*<\d+ x (i\d+)>", ir))


def test_hot_loops_vectorize_in_32_bit_lanes():
    # The point of the int32 path: the mode loop (multiplies and the requantizing shift)
    # and the mixing reduction run in i32 vector lanes; numba's promotion to int64 would
    # leave i64 lanes (emulated on AVX2) or none.
    dt = np.int32
    B, M, H, TC = _kernels.BLOCK, 20, 3, _kernels.TCHUNK
    q = np.zeros((3, 6), dt)
    q[:, 5] = -1
    g = np.zeros((H, TC * B), dt)
    ssm = _vector_ops(_kernels._ssm_channel, np.ones((8, M), dt), q, dt(1), np.zeros((B, M), dt),
                      np.zeros((B, M), dt), np.zeros((TC, H, B), dt), np.zeros((TC, B), dt), g, 0, TC,
                      np.zeros(256, dt), np.int64(-128), False, np.zeros((1, 1, 1, 1), dt), 0, B, 0, 0)
    assert {("mul", "i32"), ("add", "i32"), ("ashr", "i32")} <= ssm
    assert {ty for _, ty in ssm} == {"i32"}
    mix = _vector_ops(_kernels._mix, np.ones((2 * H, H), dt), np.zeros(2 * H, dt), np.zeros((2 * H, 6), dt), g,
                      TC * B, np.zeros((2 * H, TC * B), dt), np.zeros(_kernels.MIX_TILE, dt))
    assert {("mul", "i32"), ("add", "i32")} <= mix
    assert {ty for _, ty in mix} == {"i32"}


def test_int64_sums_of_int32_operands_vectorize():
    # int64 path with int32 storage: the products are sign-extended i32 (vpmuldq on AVX2),
    # and the mode loop still vectorizes.
    dt, st = np.int64, np.int32
    B, M, H, TC = _kernels.BLOCK, 20, 3, _kernels.TCHUNK
    q = np.zeros((3, 6), dt)
    q[:, 5] = -1
    ssm = _vector_ops(_kernels._ssm_channel, np.ones((8, M), st), q, st(1), np.zeros((B, M), st),
                      np.zeros((B, M), st), np.zeros((TC, H, B), st), np.zeros((TC, B), dt),
                      np.zeros((H, TC * B), st), 0, TC, np.zeros(256, st), np.int64(-128), False,
                      np.zeros((1, 1, 1, 1), dt), 0, B, 0, 0)
    assert {("mul", "i64"), ("sext", "i32"), ("ashr", "i64")} <= ssm


def test_narrow_hot_loops_of_a_wide_model():
    # The shipped hetero QModel: one mixing row needs 32 bits (int64 sums), but every S4D sum
    # fits in 31 bits (int32 S4D loop), and every raw mixing sum Σ W·g is an integer below 2**24
    # (float32 products, exact; shifted and fitted in int64): same integers as numpy and the naive reference.
    from pathlib import Path

    from hwssm.quant.qmodel_io import load_qmodel

    qm = load_qmodel(Path(__file__).resolve().parents[2] / "models" / "s4d_hetero.qmodel.json")
    tb = build_tables(qm, T=_kernels.TCHUNK + 5)
    assert tb.dtype is np.int64 and tb.ssm_dtype is np.int32 and tb.mix_dtype is np.float32
    assert np.any(tb.mix_sh > 0)
    pix = _pixels(_kernels.BLOCK + 3, _kernels.TCHUNK + 5, 11)
    res = run(qm, pix, trace=True, tables=tb)
    np.testing.assert_array_equal(res.logits, run_numpy(qm, pix, tb))
    _check_traces(qm, pix, res, [0, _kernels.BLOCK + 2])


@pytest.mark.parametrize("name", ["uniform8", "uniform16"])
def test_mixing_sum_types(name):
    # uniform8 (8-bit W and g, H = 12): every raw sum is below 2**24, float32; uniform16's are
    # not (int64): both equal the naive reference (H = 13: the four-row passes end on a partial one).
    qm = random_qmodel(13, 5, 2, PLANS[name], seed=4, extreme=True)
    tb = build_tables(qm, T=_kernels.TCHUNK + 3)
    assert tb.mix_dtype is (np.float32 if name == "uniform8" else np.int64)
    pix = _pixels(6, _kernels.TCHUNK + 3, 12)
    res = run(qm, pix, trace=True, tables=tb)
    np.testing.assert_array_equal(res.logits, run_numpy(qm, pix, tb))
    _check_traces(qm, pix, res, [5])
