"""Real signals: ``hwssm golden eval`` on the 10k test digits, terminated while the golden engine
runs (SIGTERM, SIGINT), stops within seconds (the engine runs in chunks), exits 143/130 with
one line and no traceback, leaves no process of its session, and a rerun succeeds."""

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

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "s4d_hetero.qmodel.json"
#: Seconds after the signal within which the command must have exited.
GONE_S = 10.0

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)"),
              pytest.mark.skipif(not MODEL.is_file(), reason="needs models/")]


def _eval(tmp_path, *extra, **kw) -> subprocess.Popen:
    env = dict(os.environ, HWSSM_CACHE=str(tmp_path / "cache"),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("HWSSM_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "hwssm.cli", "golden", "eval", "--model", str(MODEL), "--json",
                             *extra], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_terminated_golden_eval_stops_and_reruns(tmp_path, sig):
    proc = _eval(tmp_path, start_new_session=True)
    sid = proc.pid
    try:
        deadline = time.monotonic() + 240
        while _threads(proc.pid) < 3:  # numba's worker threads start with the engine's first chunk
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the golden engine did not start in 240 s"
            time.sleep(0.05)
        time.sleep(1.0)
        assert proc.poll() is None, "the evaluation ended before the signal: not mid-run"
        os.kill(proc.pid, sig)
        killed = time.monotonic()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(sid, signal.SIGKILL)
            proc.wait()
    assert time.monotonic() - killed < GONE_S
    assert proc.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130}[sig], err.decode()[-2000:]
    assert out == b"" and "Traceback" not in err.decode()
    assert err.decode().strip().splitlines()[-1].startswith("hwssm: ")
    assert _session_members(sid) == []

    again = _eval(tmp_path, "--limit", "20")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()[-2000:]
    assert json.loads(out.decode())["digits"] == 20
