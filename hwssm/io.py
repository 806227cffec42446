"""File input/output with the guarantees hwssm promises.

Writing
    :func:`atomic_path` / :func:`write_text` / :func:`write_json` / :func:`write_bytes`: one file,
    written to a temporary sibling, fsynced, renamed over the target. :func:`write_set`: several
    files that belong together (a QModel's NPZ + JSON, a checkpoint's NPZ + JSON), every one
    written and fsynced before any is renamed, the index file (the JSON naming the others and
    their SHA-256) renamed last, then the directory fsynced. A reader that checks those sums sees
    the old set, the new set, or (after a crash between renames) a mismatch it reports; never
    a silent mixture.

Temporary files are named ``.<name>~<pid>~<random>[.ext].tmp`` (staging directories of :func:`staged_dir` too); :func:`clean_stale_temps` removes
those of processes that no longer run (a killed writer leaves one behind).

Reading
    :func:`read_json`: any failure (missing, a directory, unreadable, not UTF-8, not JSON,
    NaN/Infinity, nesting too deep) is one :class:`HwssmError` line naming the file.
    :func:`confined`: a file name taken from a file, checked to stay in that file's directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from .errors import HwssmError
from .procs import pid_alive

__all__ = ["atomic_path", "write_text", "write_json", "write_bytes", "write_set", "staged_dir", "read_json",
           "confined", "clean_stale_temps", "json_text"]

#: A temporary file of :func:`atomic_path`: ``.<name>~<pid>~<8 random>[suffix].tmp``.
_TEMP = re.compile(r"^\..*~(?P<pid>\d+)~[a-z0-9_]{8}(?:\.[^.~]+)?\.tmp$")
#: Temporary files in the old format (no pid) are stale after this many seconds.
STALE_SECONDS = 3600.0


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _fsync_file(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename itself is still atomic
    finally:
        os.close(fd)


def _mkstemp(path: Path, suffix: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}~{os.getpid()}~", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched.
    ``suffix`` keeps an extension for writers that insist on one (``np.savez``, ``savefig``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _mkstemp(path, suffix)
    try:
        yield tmp
        # mkstemp creates 0600; give the result the usual permissions (0666 less the umask).
        os.chmod(tmp, 0o666 & ~_umask())
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def json_text(obj) -> str:
    """``obj`` as indented JSON text with a final newline (the form every hwssm JSON file has)."""
    return json.dumps(obj, indent=2, sort_keys=False) + "\n"


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, json_text(obj))


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_set(files: list[tuple[str | os.PathLike, bytes]]) -> None:
    """Commit several files as a set; the last one is the index that names and hashes the others.

    Every file is written to a temporary sibling and fsynced before the first rename; the
    renames follow in order (the index last) and each directory is fsynced at the end. On an
    exception before the renames nothing is changed and every temporary file is removed.

    Parameters
    ----------
    files : list of (path, bytes)
        Targets and their contents, the index file (JSON holding the others' SHA-256) last.
    """
    temps: list[tuple[Path, Path]] = []
    try:
        for path, data in files:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = _mkstemp(path, "")
            temps.append((tmp, path))
            tmp.write_bytes(data)
            os.chmod(tmp, 0o666 & ~_umask())
            _fsync_file(tmp)
    except BaseException:
        for tmp, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    done = 0
    try:
        for tmp, path in temps:
            os.replace(tmp, path)
            done += 1
    finally:
        for tmp, _ in temps[done:]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    for d in dict.fromkeys(path.parent for _, path in temps):
        _fsync_dir(d)


@contextlib.contextmanager
def staged_dir(out: str | os.PathLike):
    """Build the files of directory ``out`` in a temporary sibling; yields ``(staging, commit)``.

    ``commit(names)`` moves the named files from the staging directory into ``out`` in that
    order (name the index, e.g. ``report.md``, last); files of ``out`` not named are kept. An
    exception before ``commit`` leaves ``out`` untouched. The staging directory is removed.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}~{os.getpid()}~", suffix=".tmp", dir=out.parent))

    def commit(names: list[str]) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.replace(staging / name, out / name)
        _fsync_dir(out)
        return [out / name for name in names]

    try:
        yield staging, commit
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_json(path: str | os.PathLike, what: str = "JSON file"):
    """Parse the JSON file at ``path``; HwssmError (one line, naming ``what`` and the path) on any failure.

    NaN and Infinity (which Python's json accepts) are refused.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise HwssmError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise HwssmError(f"{what} {path} is a directory: give the file") from None
    except UnicodeDecodeError:
        raise HwssmError(f"{what} {path} is not UTF-8 text (not a JSON file?)") from None
    except OSError as exc:
        raise HwssmError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise HwssmError(f"{what} {path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except ValueError as exc:
        raise HwssmError(f"{what} {path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise HwssmError(f"{what} {path} is nested too deeply") from None


def confined(base: Path, name, what: str) -> Path:
    """``base / name`` for a plain file name ``name`` read from a file in directory ``base``.

    HwssmError unless ``name`` is a non-empty string naming a file directly in ``base``
    (no directory part, no ``..``, not absolute): a file may only refer to its siblings.
    """
    if not isinstance(name, str) or isinstance(name, bool):
        raise HwssmError(f"{what} must be a file name (a string), not {name!r}")
    if (not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name
            or Path(name).name != name or Path(name).is_absolute()):
        raise HwssmError(f"{what} {name!r} must be a plain file name in the same directory (no path)")
    return Path(base) / name


def clean_stale_temps(root: str | os.PathLike) -> int:
    """Remove temporary files left under ``root`` by writers that died; returns how many.

    A temporary file whose pid no longer runs is stale; one in the old format (without a pid)
    is stale after :data:`STALE_SECONDS`. Files of running processes are left alone.
    """
    root = Path(root)
    if not root.is_dir():
        return 0
    removed = 0
    now = time.time()
    for p in root.rglob(".*.tmp"):
        m = _TEMP.match(p.name)
        try:
            if m:
                stale = not pid_alive(int(m["pid"]))
            else:
                stale = now - p.stat().st_mtime > STALE_SECONDS
            if stale and p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
                removed += 1
            elif stale and p.is_file():
                p.unlink()
                removed += 1
        except OSError:
            continue
    return removed
