"""Real signals: ``hwssm sim --jobs 2`` on a small random design, killed mid-run (SIGTERM, SIGINT,
SIGKILL), leaves no process of its session behind: the Verilator simulation processes are
stopped at once (not awaited: each batch would run for more than 10 s more) or die with it;
its run directory is removed on the way out or by the next start, and a rerun succeeds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.verify.rundirs import RUNNING
from tests.explore.test_signals import _session_members

pytestmark = [pytest.mark.verilator, pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")]

ROOT = Path(__file__).resolve().parents[2]
#: Digits of the killed run: two batches of 48 on 2 processes, each well over 10 s (P = 1 lane,
#: about 0.4 M cycles per digit, plus 255 idle cycles before every pixel).
DIGITS = 96
#: Seconds after the signal within which every process of the session must be gone.
GONE_S = 6.0


def _env(cache: Path) -> dict:
    env = dict(os.environ)
    env["HWSSM_CACHE"] = str(cache)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("HWSSM_DEBUG", None)
    return env


def _sim(d: Path, cache: Path, digits: int, **kw):
    argv = [sys.executable, "-m", "hwssm.cli", "sim", "--model", "m.qmodel.json", "--lanes", "1",
            "--digits", str(digits), "--jobs", "2", "--in-gap", "255", "--json"]
    return subprocess.Popen(argv, cwd=d, env=_env(cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A small random QModel (H = 16, M = 8, L = 2), with its RTL and Verilator build in the cache."""
    d = tmp_path_factory.mktemp("simsig")
    save_qmodel(random_qmodel(16, 8, 2, seed=21), d / "m")
    cache = d / "cache"
    warm = _sim(d, cache, 1)
    out, err = warm.communicate(timeout=900)
    assert warm.returncode == 0, err.decode()[-2000:]
    return d, cache


def _runs(cache: Path) -> list[Path]:
    return sorted((cache / "sim" / "runs").glob("run-*"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["TERM", "INT", "KILL"])
def test_killed_sim_leaves_no_process_and_reruns(setup, sig):
    d, cache = setup
    proc = _sim(d, cache, DIGITS, start_new_session=True)
    sid = proc.pid
    try:
        deadline = time.monotonic() + 240
        while True:  # mid-run: simulation processes running in the session, a run directory in place
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "no simulation process started in 240 s"
            sims = [pid for pid, _ in _session_members(sid) if pid != sid]
            if sims and _runs(cache) and list(_runs(cache)[-1].glob("batch*")):
                break
            time.sleep(0.05)
        time.sleep(1.0)
        os.kill(proc.pid, sig)
        killed = time.monotonic()
        # the pipes close only when no process holds them any more (an orphan would keep them open)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(sid, signal.SIGKILL)
            proc.wait()
    expected_rc = {signal.SIGTERM: 143, signal.SIGINT: 130, signal.SIGKILL: -signal.SIGKILL}[sig]
    assert proc.returncode == expected_rc, err.decode()[-2000:]
    if sig is not signal.SIGKILL:
        # stopped, not awaited: the batches had more than 10 s to go
        assert time.monotonic() - killed < GONE_S, f"the sim took {time.monotonic() - killed:.1f} s to stop"
        assert "Traceback" not in err.decode(), err.decode()[-2000:]
        assert err.decode().strip().splitlines()[-1].startswith("hwssm: ")
    left = _session_members(sid)
    while left and time.monotonic() < killed + GONE_S:
        time.sleep(0.1)
        left = _session_members(sid)
    assert left == [], f"processes of the killed sim still alive {GONE_S} s after the signal: {left}"
    stale = [r for r in _runs(cache) if (r / RUNNING).is_file()]
    if sig is signal.SIGKILL:
        assert len(stale) == 1 and stale[0].name.startswith(f"run-{proc.pid}-")  # nobody could clean up
    else:
        assert stale == []  # removed on the way out

    # a stale temporary file of a dead writer in the simulation cache, and the killed run's
    # directory, are removed by the next run, which completes
    tmp = cache / "sim" / ".stamp.json~999999999~abcdefgh.tmp"
    tmp.write_text("{")
    again = _sim(d, cache, 3)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err.decode()[-2000:]
    rec = json.loads(out.decode().strip().splitlines()[-1])
    assert rec["ok"] and rec["digits"] == 3
    assert not tmp.exists()
    assert _runs(cache) == []
