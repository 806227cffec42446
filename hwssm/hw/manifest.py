"""Provenance of an RTL directory: the manifest's ``files`` object and its check.

An RTL directory is ``DIR/manifest.json`` plus the files the manifest names in its ``files``
object, ``{"<file name>": "<SHA-256 of its bytes, 64 lower-case hex digits>", ...}``
(the generator names ``hwssm_core.v`` and, with LOAD storage, ``params.hex``). The
generator writes every file first and the manifest last (:func:`hwssm.hw.emit.generate`).

Every reader of an RTL directory (simulation, synthesis, the flow: all through
:func:`hwssm.synth.rtl.load_rtl`) calls :func:`check_files` before it uses a file, which
refuses, with one line naming the file:

* a manifest without ``files`` (written before provenance was recorded: regenerate);
* a named file that is missing or whose bytes differ from the recorded SHA-256 (edited
  after generation, or a write torn between the Verilog and the manifest);
* any other file in the directory (an extra ``.v`` would be synthesized with the core), except
  the temporary files of :mod:`hwssm.io` (``.<name>~<pid>~<random>.tmp``) and sub-directories.

Pure functions over files; no tool is run. A hand-written RTL directory gets its ``files``
object from :func:`file_digests`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..errors import HwssmError
from ..io import confined

__all__ = ["FILES_KEY", "MANIFEST_NAME", "sha256_bytes", "file_digests", "check_files"]

#: The manifest key holding ``{file name: SHA-256 hex}``.
FILES_KEY = "files"
#: The manifest's own file name (not listed in ``files``).
MANIFEST_NAME = "manifest.json"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
#: A temporary file of :mod:`hwssm.io` (a writer's, removed when it finishes or by clean_stale_temps).
_IO_TEMP = re.compile(r"^\..*\.tmp$")


def sha256_bytes(data: bytes) -> str:
    """SHA-256 of ``data``, 64 lower-case hex digits."""
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digests(directory: str | Path, names) -> dict[str, str]:
    """``{name: SHA-256}`` of the files ``names`` in ``directory`` (the manifest's ``files``)."""
    return {name: _sha256_file(Path(directory) / name) for name in names}


def check_files(directory: str | Path, manifest: dict) -> tuple[Path, ...]:
    """The files the manifest of ``directory`` names, in its order, after checking each one's
    SHA-256 and that the directory holds no other file (see the module docstring).

    Raises
    ------
    HwssmError
        One line naming the manifest or the offending file.
    """
    directory = Path(directory)
    mpath = directory / MANIFEST_NAME
    files = manifest.get(FILES_KEY)
    if files is None:
        raise HwssmError(f"{mpath} records no SHA-256 of its files (no '{FILES_KEY}': written by an older "
                         "hwssm): regenerate the directory (hwssm rtl, or python -m hwssm.hw.references)")
    if not isinstance(files, dict) or not files:
        raise HwssmError(f"{mpath}: '{FILES_KEY}' must be a non-empty object {{file name: SHA-256}}, not {files!r}")
    named = []
    for name, digest in files.items():
        path = confined(directory, name, f"{mpath}: file")
        if name == MANIFEST_NAME:
            raise HwssmError(f"{mpath}: '{FILES_KEY}' must not name the manifest itself")
        if not isinstance(digest, str) or not _HEX64.match(digest):
            raise HwssmError(f"{mpath}: the SHA-256 of {name} must be 64 lower-case hex digits, not {digest!r}")
        if not path.is_file():
            raise HwssmError(f"{path} is missing (named in {mpath}): regenerate the directory")
        if _sha256_file(path) != digest:
            raise HwssmError(f"{path} differs from the SHA-256 in {mpath} (edited after generation, or a torn "
                             "write): regenerate the directory")
        named.append(path)
    for p in sorted(directory.iterdir()):
        if p.name == MANIFEST_NAME or p.name in files or p.is_dir() or _IO_TEMP.match(p.name):
            continue
        raise HwssmError(f"{p} is not named in {mpath}: remove it (it would be simulated or synthesized "
                         "with the design) or regenerate the directory")
    return tuple(named)
