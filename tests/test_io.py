"""hwssm.io: atomic single files, sets committed index-last, staged directories, strict JSON reading,
confined file names, and the cleanup of temporary files left by killed writers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hwssm.errors import HwssmError
from hwssm.io import clean_stale_temps, confined, read_json, staged_dir, write_json, write_set


def test_write_set_commits_every_file_index_last(tmp_path):
    write_set([(tmp_path / "a.npz", b"data"), (tmp_path / "a.json", b"{}")])
    assert (tmp_path / "a.npz").read_bytes() == b"data" and (tmp_path / "a.json").read_bytes() == b"{}"
    assert (tmp_path / "a.npz").stat().st_mtime_ns <= (tmp_path / "a.json").stat().st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.npz"]


def test_write_set_failing_before_the_renames_changes_nothing(tmp_path):
    (tmp_path / "a.npz").write_bytes(b"old")
    (tmp_path / "afile").write_text("")  # the index's directory cannot be created
    with pytest.raises(OSError):
        write_set([(tmp_path / "a.npz", b"new"), (tmp_path / "afile" / "a.json", b"{}")])
    assert (tmp_path / "a.npz").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "afile"]


def test_staged_dir_moves_in_only_on_success_and_keeps_other_files(tmp_path):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "input.json").write_text("keep")
    with pytest.raises(RuntimeError):
        with staged_dir(out) as (staging, commit):
            (staging / "report.md").write_text("half")
            raise RuntimeError("plot failed")
    assert sorted(p.name for p in out.iterdir()) == ["input.json"]
    with staged_dir(out) as (staging, commit):
        (staging / "a.png").write_bytes(b"png")
        (staging / "report.md").write_text("whole")
        paths = commit(["a.png", "report.md"])
    assert [p.name for p in paths] == ["a.png", "report.md"]
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "input.json", "report.md"]
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


@pytest.mark.parametrize("text, words", [
    (None, "does not exist"), (b"{", "not valid JSON"), (b"\xff\xfe", "UTF-8"), (b'{"a": NaN}', "NaN"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
])
def test_read_json_failures_are_one_line(tmp_path, text, words):
    p = tmp_path / "f.json"
    if text is not None:
        p.write_bytes(text)
    with pytest.raises(HwssmError, match=words) as info:
        read_json(p, "test file")
    assert "\n" not in str(info.value)


def test_read_json_of_a_directory(tmp_path):
    with pytest.raises(HwssmError, match="is a directory"):
        read_json(tmp_path, "test file")


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "", ".", "..", "a/b", "a\\b", 5, None, True, ["x"], "a\0b"])
def test_confined_refuses_anything_but_a_sibling_name(tmp_path, name):
    with pytest.raises(HwssmError):
        confined(tmp_path, name, "arrays")


def test_confined_accepts_a_sibling(tmp_path):
    assert confined(tmp_path, "m.npz", "arrays") == tmp_path / "m.npz"


def test_clean_stale_temps_removes_only_dead_writers_files(tmp_path):
    write_json(tmp_path / "sub" / "r.json", {"a": 1})
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / "sub" / f".r.json~{dead_pid}~abcd1234.tmp"
    stale_dir = tmp_path / f".rep~{dead_pid}~abcd1234.tmp"
    live = tmp_path / "sub" / f".r.json~{os.getpid()}~abcd1234.tmp"
    for p in (stale, live):
        p.write_text("{")
    stale_dir.mkdir()
    (stale_dir / "report.md").write_text("x")
    assert clean_stale_temps(tmp_path) == 2
    assert not stale.exists() and not stale_dir.exists() and live.exists()
    assert (tmp_path / "sub" / "r.json").exists()
