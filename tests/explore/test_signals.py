"""Real signals: ``hwssm sweep --jobs 2`` killed mid-run (SIGTERM, SIGINT, SIGKILL) leaves no process
of its session behind (pool workers, resource tracker), keeps every finished record, and a
rerun completes with the points of a clean run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwssm.explore.cache import RecordCache, RecordKind
from hwssm.explore.spec import SweepSpec
from hwssm.explore.sweep import run_sweep
from hwssm.model.checkpoint import init_params, save_checkpoint
from hwssm.model.config import S4DConfig

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")

PLANS = ["uniform8", "uniform6", "uniform4", "hetero", "A6x10-W6-a6-h", "A8x12-W8-a8", "A7x9-W7-a7", "A5x8-W5-a5"]
#: Test digits per accuracy record: enough that the sweep runs for several seconds.
LIMIT = 4000
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny checkpoint, a spec of eight accuracy records, and the points of a clean run."""
    d = tmp_path_factory.mktemp("signals")
    cfg = S4DConfig(H=4, N=4, L=1)
    save_checkpoint(d / "tiny", cfg, init_params(cfg, 0))
    (d / "spec.json").write_text(json.dumps({"model": "tiny.json", "plans": PLANS, "limit": LIMIT, "calib_digits": 8}))
    clean = run_sweep(SweepSpec.load(d / "spec.json"), cache=RecordCache(d / "clean-cache" / "sweep"))
    assert clean.failed == 0
    return d, clean.points


def _session_members(sid: int) -> list[tuple[int, str]]:
    """(pid, command) of every live, non-zombie process whose session id is ``sid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        state, session = rest[0], int(rest[3])
        if session == sid and state not in ("Z", "X"):
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                cmd = "?"
            out.append((int(entry.name), cmd))
    return out


def _env(cache: Path) -> dict:
    env = dict(os.environ)
    env["HWSSM_CACHE"] = str(cache)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("HWSSM_DEBUG", None)
    return env


def _sweep(d: Path, cache: Path, out: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hwssm.cli", "sweep", "--spec", "spec.json", "--jobs", "2",
                             "--out", out], cwd=d, env=_env(cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["TERM", "INT", "KILL"])
def test_killed_sweep_leaves_no_process_and_resumes(setup, sig):
    d, clean_points = setup
    cache = d / f"cache-{sig.name}"
    records = RecordCache(cache / "sweep")
    proc = _sweep(d, cache, f"killed-{sig.name}.json")
    sid = proc.pid
    try:
        deadline = time.monotonic() + 240
        while records.count(RecordKind.ACCURACY) < 1:  # mid-run: a record finished, others pending
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "no record finished in 240 s"
            time.sleep(0.05)
        workers = [pid for pid, cmd in _session_members(sid) if pid != sid]
        assert len(workers) >= 2, f"expected pool workers and a resource tracker, found {workers}"
        os.kill(proc.pid, sig)
        # the pipes close only when no process holds them any more (an orphan would keep them open)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(sid, signal.SIGKILL)
            proc.wait()
    expected_rc = {signal.SIGTERM: 143, signal.SIGINT: 130, signal.SIGKILL: -signal.SIGKILL}[sig]
    assert proc.returncode == expected_rc, err.decode()[-2000:]
    if sig is not signal.SIGKILL:
        assert "Traceback" not in err.decode(), err.decode()[-2000:]
        assert err.decode().strip().splitlines()[-1].startswith("hwssm: ")
    left = []
    for _ in range(100):  # the resource tracker exits when its pipe closes; give it up to 10 s
        left = _session_members(sid)
        if not left:
            break
        time.sleep(0.1)
    assert left == [], f"processes of the killed sweep still alive: {left}"
    kept = records.count(RecordKind.ACCURACY)
    assert 1 <= kept < len(PLANS), f"kill was not mid-run: {kept} of {len(PLANS)} records"

    # a stale temporary file of the killed run (a dead pid) is removed by the next run
    stale = cache / "sweep" / "accuracy" / ".deadbeef.json~999999999~abcdefgh.tmp"
    stale.write_text("{")
    again = subprocess.run([sys.executable, "-m", "hwssm.cli", "sweep", "--spec", "spec.json", "--jobs", "2",
                            "--out", f"resumed-{sig.name}.json", "--json"], cwd=d, env=_env(cache),
                           capture_output=True, timeout=600)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    stats = json.loads(again.stdout.decode().strip().splitlines()[-1])
    assert stats["cached"] == kept and stats["computed"] == len(PLANS) - kept
    assert not stale.exists()
    points = json.loads((d / f"resumed-{sig.name}.json").read_text())["points"]
    assert points == json.loads(json.dumps(clean_points))
