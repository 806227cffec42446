"""Real signals: ``hwssm synth`` killed while Yosys runs (SIGTERM, SIGKILL) stops Yosys at once
(it runs in its own process group and dies with hwssm), leaves no process of its session, and
the next run (which removes the killed run's work directory) completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.explore.test_signals import _session_members

from .designs import Rings, write_rtl

pytestmark = [pytest.mark.synth, pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")]

ROOT = Path(__file__).resolve().parents[2]
#: Seconds after the signal within which every process of the session must be gone (Yosys
#: alone runs for more than 10 s on this design).
GONE_S = 6.0


def _synth(d: Path, cache: Path, *extra, **kw) -> subprocess.Popen:
    env = dict(os.environ, HWSSM_CACHE=str(cache), PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("HWSSM_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "hwssm.cli", "synth", "--rtl", "rtl", "--device", "up5k", *extra],
                            cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_killed_synth_leaves_no_process_and_reruns(tmp_path, sig):
    write_rtl(Rings(250), "rings", tmp_path / "rtl")
    cache = tmp_path / "cache"
    proc = _synth(tmp_path, cache, "--no-cache", start_new_session=True)
    sid = proc.pid
    try:
        deadline = time.monotonic() + 120
        while not [pid for pid, _ in _session_members(sid) if pid != sid]:  # Yosys started
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "Yosys did not start in 120 s"
            time.sleep(0.05)
        time.sleep(2.0)
        os.kill(proc.pid, sig)
        killed = time.monotonic()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(sid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == (143 if sig is signal.SIGTERM else -signal.SIGKILL), err.decode()[-2000:]
    if sig is signal.SIGTERM:
        assert time.monotonic() - killed < GONE_S, f"synth took {time.monotonic() - killed:.1f} s to stop"
        assert "Traceback" not in err.decode() and err.decode().strip().splitlines()[-1].startswith("hwssm: ")
    left = _session_members(sid)
    while left and time.monotonic() < killed + GONE_S:
        time.sleep(0.1)
        left = _session_members(sid)
    assert left == [], f"processes of the killed synth still alive {GONE_S} s after the signal: {left}"
    assert len(list((cache / "synth").glob("*.work-*"))) == 1  # the killed run's, left for the next start

    again = _synth(tmp_path, cache, "--json")
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err.decode()[-2000:]
    assert json.loads(out.decode())["fits"] is True
    assert list((cache / "synth").glob("*.work-*")) == []
