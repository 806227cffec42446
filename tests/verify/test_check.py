"""The checker: exact comparison, the first mismatch located as (digit, step, layer, channel)."""

import numpy as np
import pytest

from hwssm.verify.check import Stream, check_batch
from hwssm.verify.outputs import SimOutputs
from hwssm.verify.stimulus import Expected

n, T, L, H, K = 3, 4, 2, 5, 3


def _expected():
    rng = np.random.default_rng(0)
    dbg = rng.integers(-50, 50, (n, T * L * H))
    logits = rng.integers(-1000, 1000, (n, K))
    return Expected(dbg, logits, np.argmax(logits, axis=1), T, L, H)


def _got(exp, dbg=None, logits=None, classes=None):
    e = np.zeros(0, np.int64)
    return SimOutputs(dbg=exp.dbg.ravel().copy() if dbg is None else dbg,
                      logits=exp.logits.ravel().copy() if logits is None else logits,
                      classes=exp.pred.copy() if classes is None else classes,
                      out_cycle=e, out_dbg=e, out_logits=e, in_first=e, in_last=e, gap_min=e, gap_max=e,
                      step_first=e, step_last=e, step_min=e, step_max=e)


IDX = np.array([10, 20, 30])


def test_equal_streams_pass():
    exp = _expected()
    chk = check_batch(exp, _got(exp), IDX)
    assert chk.first is None and chk.mismatches == 0


def test_first_dbg_mismatch_is_located():
    exp = _expected()
    dbg = exp.dbg.ravel().copy()
    pos = 1 * T * L * H + 2 * L * H + 1 * H + 3  # digit 1, step 2, layer 1, channel 3
    dbg[pos] += 1
    dbg[2 * T * L * H + 7] -= 1  # a later one in digit 2
    chk = check_batch(exp, _got(exp, dbg=dbg), IDX)
    f = chk.first
    assert (f.digit, f.stream, f.step, f.layer, f.channel) == (20, Stream.DBG, 2, 1, 3)
    assert (f.expected, f.got) == (int(exp.dbg.ravel()[pos]), int(exp.dbg.ravel()[pos]) + 1)
    assert chk.bad.tolist() == [False, True, True]
    assert "digit 20, step 2, layer 1, channel 3 (r_2)" in f.describe()


def test_dbg_comes_before_logits_and_class_of_the_same_digit():
    exp = _expected()
    logits = exp.logits.ravel().copy()
    logits[0] += 5
    dbg = exp.dbg.ravel().copy()
    dbg[T * L * H - 1] += 1  # the last dbg value of digit 0
    chk = check_batch(exp, _got(exp, dbg=dbg, logits=logits, classes=exp.pred + 1), IDX)
    assert chk.first.stream is Stream.DBG and chk.first.step == T - 1
    chk = check_batch(exp, _got(exp, logits=logits, classes=exp.pred[::-1].copy()), IDX)
    assert (chk.first.stream, chk.first.channel, chk.first.digit) == (Stream.LOGIT, 0, 10)


def test_missing_and_extra_outputs():
    exp = _expected()
    short = exp.dbg.ravel()[:-3]
    chk = check_batch(exp, _got(exp, dbg=short), IDX)
    assert chk.first.got is None and chk.first.digit == 30 and chk.first.step == T - 1
    assert chk.bad.tolist() == [False, False, True]
    extra = np.concatenate([exp.dbg.ravel(), [1]])
    chk = check_batch(exp, _got(exp, dbg=extra), IDX)
    assert chk.first.expected is None and chk.first.got == 1
    chk = check_batch(exp, _got(exp, classes=exp.pred[:1]), IDX)
    assert (chk.first.digit, chk.first.stream, chk.first.got) == (20, Stream.CLASS, None)
    assert chk.bad.tolist() == [False, True, True]


@pytest.mark.parametrize("where", [0, 17, T * L * H - 1])
def test_where_inverts_the_emission_order(where):
    exp = _expected()
    t, l, h = exp.where(where)
    assert (t * L + l) * H + h == where
