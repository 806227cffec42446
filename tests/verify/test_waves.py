"""Waveform windows, size estimate and limit (hwssm/verify/waves.py) on the toy core."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.verify.build import BuildOptions, build
from hwssm.verify.contract import load_contract
from hwssm.verify.runner import RunOptions, run_digits
from hwssm.verify.waves import (FIRST_PIXEL_CYCLE, StepWindow, WaveLimits, check_limits, count_signals, edge_ps,
                                design_texts, estimate, wave_format, window_plusargs)
from tests.verify.toy_core import cycles_per_digit, toy_reference, write_toy

L, H, T, K = 2, 3, 5, 4


@pytest.mark.parametrize("text", ["3", "4:2", "2:2", "a:b", "-1:3", "1:2:3", ""])
def test_bad_window_is_one_line(text):
    with pytest.raises(HwssmError, match="--waves-steps must be A:B") as e:
        StepWindow.parse(text)
    assert "\n" not in str(e.value)


def test_window_parse_and_times(tmp_path):
    assert StepWindow.parse(" 2 : 4 ") == StepWindow(2, 4)
    c = load_contract(write_toy(tmp_path, L=L, H=H, T=T, K=K))
    cps = L * H + 1
    frm, to = window_plusargs(c, StepWindow(2, 4))
    # step 2 begins with its pixel's handshake at cycle 1 + 2·cps; the window opens half a period before its edge
    assert frm == f"+hwssm_trace_from={edge_ps(FIRST_PIXEL_CYCLE + 2 * cps) - 5000}"
    assert to == f"+hwssm_trace_to={edge_ps(FIRST_PIXEL_CYCLE + 4 * cps) - 5000}"
    # step T is digit 1's step 0: one digit period later
    frm1, _ = window_plusargs(c, StepWindow(T, T + 1))
    assert frm1 == f"+hwssm_trace_from={edge_ps(FIRST_PIXEL_CYCLE + cycles_per_digit(L, H, T, K)) - 5000}"


def test_estimate_and_limit(tmp_path):
    c = load_contract(write_toy(tmp_path, L=L, H=H, T=T, K=K))
    signals, bits = count_signals(design_texts(c))
    assert 70 <= signals <= 98 and bits > signals  # the VCD of the toy declares 98 (wrapper + core)
    small = estimate(c, StepWindow(0, 1), [1])
    whole = estimate(c, None, [1, 1])
    assert small.cycles == L * H + 1 and whole.cycles == cycles_per_digit(L, H, T, K) and whole.runs == 2
    assert 0 < small.bytes < whole.bytes
    check_limits(whole, WaveLimits(limit_bytes=whole.bytes))
    with pytest.raises(HwssmError, match="over the limit.*--waves-force") as e:
        check_limits(whole, WaveLimits(limit_bytes=whole.bytes - 1))
    assert "\n" not in str(e.value)
    check_limits(whole, WaveLimits(limit_bytes=1, force=True))


@pytest.mark.verilator
def test_window_dumps_only_its_steps(tmp_path):
    c = load_contract(write_toy(tmp_path / "toy", L=L, H=H, T=T, K=K))
    b = build(c, BuildOptions(max_pixels=4096, waves=True))
    fmt = wave_format(True)
    if fmt != "vcd":  # the time stamps are read from the text of a VCD
        pytest.skip(f"this machine writes {fmt}")
    pix = np.random.default_rng(0).integers(0, 256, (2, T)).astype(np.uint8)
    w = StepWindow(2, T + 1)  # digit 0's steps 2..T-1 and digit 1's step 0
    rep = run_digits(b, pix, toy_reference(L, H, K), None,
                     RunOptions(jobs=1, waves=True, keep=True, workdir=tmp_path / "runs",
                                plusargs=window_plusargs(c, w)))
    assert rep.ok, rep.errors
    vcd = tmp_path / "runs" / "batch00000" / "waves.vcd"
    text = vcd.read_text()
    times = [int(t) for t in re.findall(r"^#(\d+)$", text, re.M)]
    cps = L * H + 1
    lo, hi = edge_ps(1 + 2 * cps) - 5000, edge_ps(1 + cycles_per_digit(L, H, T, K) + cps) - 5000
    assert times and min(times) == lo and max(times) < hi
    # the wrapper's cycle counter (cyc) inside the file covers exactly the window's cycles
    code = re.search(r"\$var wire 64 (\S+) cyc ", text)[1]
    cyc = [int(v, 2) for v in re.findall(rf"^b([01]+) {re.escape(code)}$", text, re.M)]
    assert min(cyc) == 1 + 2 * cps and max(cyc) == 1 + cycles_per_digit(L, H, T, K) + cps


@pytest.mark.verilator
def test_fst_probe_is_built_once_and_cached(tmp_path, monkeypatch):
    import json
    import subprocess
    import time

    from hwssm.verify import waves

    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path))
    monkeypatch.setattr(waves, "_fst_cache", {})
    ok = waves.fst_available()
    (stamp,) = (tmp_path / "sim").glob("fst-probe-*.json")
    assert json.loads(stamp.read_text())["fst"] is ok
    if not ok:  # Verilator's FST writer includes lz4.h: without it the probe cannot build
        res = subprocess.run(["c++", "-E", "-x", "c++", "-"], input=b"#include <lz4.h>\n", capture_output=True)
        assert res.returncode != 0
    monkeypatch.setattr(waves, "_fst_cache", {})
    t0 = time.monotonic()
    assert waves.fst_available() is ok and time.monotonic() - t0 < 1.0  # read from the stamp, not rebuilt
    assert waves.wave_format(True) == ("fst" if ok else "vcd") and waves.wave_format(False) is None
