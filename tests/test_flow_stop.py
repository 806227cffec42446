"""The flow on an error or interruption stops its background syntheses' tools instead of
waiting for them (hwssm.flow._stop_synth through hwssm.procs.stopping)."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path

from hwssm import procs
from hwssm.flow import _stop_synth


def test_stop_synth_stops_the_running_tools_and_joins_the_pool():
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    jobs = [pool.submit(procs.run, ["sleep", "60"]) for _ in range(3)]  # two run, one waits in the queue
    deadline = time.monotonic() + 10
    while len(procs.live_children()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    children = procs.live_children()
    ctx = {"synth_pool": pool, "synth_jobs": {}}
    t0 = time.monotonic()
    _stop_synth(ctx)
    assert time.monotonic() - t0 < 5 and "synth_pool" not in ctx
    assert all(j.done() for j in jobs)
    # the queued job is cancelled, or refused when a freed thread picked it up meanwhile
    assert jobs[2].cancelled() or isinstance(jobs[2].exception(), procs.Stopped)
    assert [j.result() for j in jobs[:2]] == [-15, -15]
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    _stop_synth(ctx)  # nothing left to stop
