"""The simulation infrastructure (wrapper, build cache, runner, checker) on a hand-written toy core.

The toy (tests/verify/toy_core.py) follows the port contract and has an exact Python model,
so these tests can inject bugs at run time and check that they are caught and located.
They verify the infrastructure only; sim/test_core_verilator.py verifies the real core.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwssm.verify.build import BuildOptions, build
from hwssm.verify.check import Stream
from hwssm.verify.contract import load_contract
from hwssm.verify.runner import RunOptions, run_digits
from hwssm.verify.wrapper import Traffic
from tests.verify.toy_core import cycles_per_digit, toy_reference, write_toy

pytestmark = pytest.mark.verilator

L, H, T, K = 2, 3, 5, 4


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    d = write_toy(tmp_path_factory.mktemp("toy"), L=L, H=H, T=T, K=K)
    return build(load_contract(d), BuildOptions(max_pixels=4096))


@pytest.fixture(scope="module")
def pixels():
    pix = np.random.default_rng(0).integers(0, 256, (7, T)).astype(np.uint8)
    pix[0] = 255
    return pix


@pytest.fixture
def run(toy, pixels, tmp_path):
    """Run the 7 digits (indices 100..106); failing run directories go under tmp_path."""

    def _run(**kw):
        return run_digits(toy, pixels, toy_reference(L, H, K), np.arange(100, 100 + pixels.shape[0]),
                          RunOptions(**{"jobs": 2, "batch": 7, "workdir": tmp_path / "runs", **kw}))

    return _run


def test_bit_exact_and_cycles(run):
    rep = run(batch=3)  # three simulation runs on two processes
    assert rep.ok, (rep.first, rep.errors)
    assert rep.digits == 7 and rep.mismatches == 0
    np.testing.assert_array_equal(rep.classes, rep.golden_pred)
    assert rep.cycles.digit_values() == [cycles_per_digit(L, H, T, K)]
    assert rep.cycles.step_values() == [L * H + 1]
    assert rep.cycles.first_in_run.tolist() == [True, False, False, True, False, False, True]
    # every process's testbench reported its start-to-done time, a part of the process's time
    assert rep.tb_seconds is not None and 0 < rep.tb_seconds < rep.sim_seconds


def test_build_is_cached(toy):
    again = build(toy.contract, toy.options)
    assert again.cached and again.dir == toy.dir


def test_handshake_stress_still_bit_exact(run):
    rep = run(traffic=Traffic(in_gap=128, out_stall=200, seed=5))
    assert rep.ok, (rep.first, rep.errors)
    assert max(rep.cycles.latency) > cycles_per_digit(L, H, T, K)  # the stalls really happened


def test_wrong_value_is_located(run):
    # digit 4, dbg value 17 = step 2, j = 5 -> layer 1, channel 2
    rep = run(plusargs=("+toy_flip_digit=4", "+toy_flip_index=17"), keep=False)
    assert not rep.ok
    f = rep.first
    assert (f.digit, f.stream, f.step, f.layer, f.channel) == (104, Stream.DBG, 2, 1, 2)
    assert f.got == f.expected + 1 or (f.expected == 63 and f.got == -64)  # 7-bit wrap
    assert rep.bad.tolist() == [False] * 4 + [True] + [False] * 2
    assert rep.failed_dirs and (rep.failed_dirs[0] / "expected.npz").is_file()


def test_missing_value_is_reported(run):
    rep = run(plusargs=("+toy_drop_digit=2", "+toy_drop_index=5"))
    f = rep.first
    assert (f.digit, f.stream, f.step, f.layer, f.channel) == (102, Stream.DBG, 0, 1, 2)
    # every later value is shifted by one: digits 2.. are all bad, a missing value at the end
    assert rep.bad.tolist() == [False, False] + [True] * 5


def test_hang_is_caught_by_the_watchdog(run):
    rep = run(plusargs=("+toy_hang=3",), stall_limit=500)
    assert not rep.ok
    assert rep.errors and "cocotb test failed" in rep.errors[0]
    # digit 3's dbg values and logits all came out; its class never did
    f = rep.first
    assert (f.digit, f.stream, f.got) == (103, Stream.CLASS, None)
    assert rep.bad[:3].tolist() == [False] * 3 and rep.bad[3:].all()


def test_stop_on_mismatch_skips_later_batches(toy, pixels, tmp_path):
    rep = run_digits(toy, pixels, toy_reference(L, H, K), options=RunOptions(
        jobs=1, batch=2, workdir=tmp_path, plusargs=("+toy_flip_digit=0", "+toy_flip_index=0")))
    assert rep.first.digit == 0
    assert rep.checked.tolist() == [True, True] + [False] * 5  # stopped after the first batch
    assert not rep.ok
