"""Run directories of the simulation cache: ``cache_dir()/sim/runs/run-<pid>-<random>``.

A run directory holds one subdirectory per batch (:mod:`hwssm.verify.runner`) and, while
its process runs, a :data:`RUNNING` marker. A run killed outright (SIGKILL) leaves both
behind; :func:`open_run_dir` first removes every directory whose marker names a process that
no longer runs (kept runs, whose marker was removed at their end, stay), and the temporary
files of dead writers in the simulation cache (:func:`hwssm.io.clean_stale_temps`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from .. import config, procs
from ..io import clean_stale_temps

__all__ = ["RUNNING", "open_run_dir", "clean_stale_runs"]

#: The marker file of a run directory whose process is running.
RUNNING = "RUNNING"
_RUN_DIR = re.compile(r"^run-(?P<pid>\d+)-")


def clean_stale_runs(base: Path) -> int:
    """Remove the run directories under ``base`` (``run-<pid>-*`` with a :data:`RUNNING`
    marker) whose process no longer runs; returns how many."""
    removed = 0
    for d in base.glob("run-*"):
        m = _RUN_DIR.match(d.name)
        if m and (d / RUNNING).is_file() and not procs.pid_alive(int(m["pid"])):
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
    return removed


def open_run_dir(pid: int) -> Path:
    """A new run directory of process ``pid`` under the cache, with its :data:`RUNNING`
    marker (remove it when the run ends), after cleaning stale ones."""
    base = config.cache_dir() / "sim" / "runs"
    base.mkdir(parents=True, exist_ok=True)
    clean_stale_runs(base)
    clean_stale_temps(base.parent)
    root = Path(tempfile.mkdtemp(prefix=f"run-{pid}-", dir=base))
    (root / RUNNING).touch()
    return root
