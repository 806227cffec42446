"""Run directories of the simulation cache: a killed run's is removed by the next start, a
running or kept one is left alone."""

from __future__ import annotations

import os

from hwssm.verify.rundirs import RUNNING, clean_stale_runs, open_run_dir


def test_stale_run_directories_are_removed_and_live_or_kept_ones_stay(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    base = tmp_path / "cache" / "sim" / "runs"
    killed, live, kept = base / "run-999999999-aaaa", base / f"run-{os.getpid()}-bbbb", base / "run-999999999-cccc"
    for d in (killed, live, kept):
        (d / "batch00000").mkdir(parents=True)
    (killed / RUNNING).touch()
    (live / RUNNING).touch()
    tmp = base.parent / ".stamp.json~999999999~abcdefgh.tmp"
    tmp.write_text("{")
    root = open_run_dir(os.getpid())
    assert root.parent == base and root.name.startswith(f"run-{os.getpid()}-") and (root / RUNNING).is_file()
    assert not killed.exists() and live.exists() and kept.exists() and not tmp.exists()
    assert clean_stale_runs(base) == 0
