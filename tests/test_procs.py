"""hwssm.procs: programs started by run() are stopped by stopping() (their whole process group),
die with the thread that started them when hwssm is killed outright, and none starts while stopping."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hwssm import procs

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
ROOT = Path(__file__).resolve().parents[1]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _gone(pids, seconds=5.0) -> bool:
    deadline = time.monotonic() + seconds
    while any(_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_run_returns_the_exit_status():
    assert procs.run(["true"]) == 0
    assert procs.run(["sh", "-c", "exit 3"]) == 3
    assert procs.live_children() == []


def test_stopping_stops_the_whole_group_of_a_running_program_and_refuses_new_ones(tmp_path):
    pidfile = tmp_path / "grandchild"
    # a shell whose own child (a grandchild of this process) ignores SIGTERM: SIGKILL must follow
    script = f"trap '' TERM; sleep 60 & echo $! > {pidfile}; wait"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        fut = pool.submit(procs.run, ["sh", "-c", script])
        while not (pidfile.is_file() and pidfile.read_text().strip()):
            time.sleep(0.02)
        grandchild = int(pidfile.read_text())
        [child] = procs.live_children()
        t0 = time.monotonic()
        with procs.stopping(grace=0.5):
            assert fut.result(timeout=10) != 0
            with pytest.raises(procs.Stopped):
                procs.run(["true"])
        assert time.monotonic() - t0 < 5
    assert _gone([child, grandchild])
    assert procs.run(["true"]) == 0  # after the block, programs start again


def test_a_program_dies_with_hwssm_killed_outright(tmp_path):
    """SIGKILL the process that waits in run(): its child is killed by the kernel (PDEATHSIG)."""
    pidfile = tmp_path / "child"
    code = textwrap.dedent(f"""
        from hwssm import procs
        procs.run(["sh", "-c", "echo $$ > {pidfile}; exec sleep 60"])
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    parent = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 60
        while not (pidfile.is_file() and pidfile.read_text().strip()):
            assert parent.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        child = int(pidfile.read_text())
        assert _alive(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert _gone([child]), "the child survived its parent's SIGKILL"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_an_interrupted_wait_stops_the_program(tmp_path):
    """KeyboardInterrupt in the waiting thread (SIGINT) stops the program before it propagates."""
    pidfile = tmp_path / "child"
    code = textwrap.dedent(f"""
        import sys
        from hwssm import procs
        try:
            procs.run(["sh", "-c", "echo $$ > {pidfile}; exec sleep 60"])
        except KeyboardInterrupt:
            sys.exit(130)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    parent = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        while not (pidfile.is_file() and pidfile.read_text().strip()):
            assert parent.poll() is None
            time.sleep(0.02)
        child = int(pidfile.read_text())
        os.kill(parent.pid, signal.SIGINT)  # only the parent: the child is in its own process group
        assert parent.wait(timeout=10) == 130
        assert _gone([child])
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
