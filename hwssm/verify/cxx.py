"""Compiler launcher for Verilator builds: an object cache (like ccache in preprocessor mode).

Verilator's makefiles run every compile as ``$(OBJCACHE) $(CXX) ...``; the build sets
``OBJCACHE`` to ``python -m hwssm.verify.cxx --cache DIR``. A ``-c`` compile of one source
file that lies outside the build directory (the Verilator run-time library, cocotb's
main) is keyed by the compiler binary, the argument list (output paths removed) and the
preprocessed source; a hit copies the cached object and dependency file instead of
compiling. Those files are the same for every design, and compiling them is most of a
small design's build time. Sources inside the build directory (the design's own C++)
and every other command are run unchanged, as are compiles with ``-fprofile-*`` options
(their output depends on profile files outside the key).

Usage: ``python -m hwssm.verify.cxx [--cache DIR | --config-cache] COMPILER ARGS...``.

Paths and make
--------------
``OBJCACHE`` is a string that make hands to the shell, so no path should be spelled inside it.
:func:`objcache_launcher` gives ``<python> -m hwssm.verify.cxx --config-cache``: the launcher
finds the cache itself (``hwssm.config.cache_dir()/sim/objcache``, from the HWSSM_CACHE that
make's environment passes on), whatever characters that path holds; an unusable cache
(unwritable, a file) makes it compile without caching. :func:`check_build_path` refuses, with
one line, a directory that make itself cannot build in: a space, ``;`` or ``#`` in the cache path
breaks the Verilator build even with no path in ``OBJCACHE`` (measured on the toy core); the other
refused characters are special to make or the shell. ``$`` builds (measured) once ``OBJCACHE``
holds no path.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_SOURCE_EXT = (".c", ".cc", ".cpp", ".cxx", ".C")
# options whose value is the next argument and that name output files (dropped from the key)
_OUT_OPTS = ("-o", "-MF", "-MT", "-MQ")
_DEP_FLAGS = ("-MMD", "-MD", "-MP")


#: Characters that make or the shell running its recipes cannot take in a path.
_MAKE_UNSAFE = re.compile(r"""[\s;#%:\\"'`*?\[\](){}<>|&!=]|[\x00-\x1f\x7f]""")


def check_build_path(path: Path, what: str = "HWSSM_CACHE") -> None:
    """HwssmError (one line) when ``path`` holds a character make cannot handle in a build path.

    Call it on the cache directory before a Verilator build (``hwssm.verify.build``)."""
    from ..errors import HwssmError

    m = _MAKE_UNSAFE.search(str(path))
    if m:
        raise HwssmError(f"{what} path {str(path)!r} contains {m.group()!r}, which make cannot handle in a build "
                         "directory: set HWSSM_CACHE to a path without whitespace or any of ;#%:\\\"'`*?[](){}<>|&!=")


def objcache_launcher() -> str | None:
    """The ``OBJCACHE`` value for Verilator's make: this launcher, with no path but the Python
    interpreter's in it (None when even that cannot be spelled safely for the shell)."""
    words = [sys.executable, "-m", "hwssm.verify.cxx", "--config-cache"]
    if any(_MAKE_UNSAFE.search(w) for w in words):
        return None
    return " ".join(shlex.quote(w) for w in words)


def _config_cache() -> Path | None:
    """``cache_dir()/sim/objcache``, or None when it cannot be created (compile without cache)."""
    from .. import config
    from ..errors import HwssmError

    try:
        path = config.cache_dir() / "sim" / "objcache"
        path.mkdir(parents=True, exist_ok=True)
    except (OSError, HwssmError):
        return None
    return path if os.access(path, os.W_OK) else None


def _split(argv: list[str]) -> tuple[dict, list[str]]:
    opts = {"cache": None, "config-cache": None}
    i = 0
    while i < len(argv) and argv[i].startswith("--") and argv[i][2:].split("=")[0] in opts:
        if argv[i] == "--config-cache":
            opts["config-cache"] = True
            i += 1
            continue
        name, _, val = argv[i][2:].partition("=")
        if not val:
            i += 1
            val = argv[i]
        opts[name] = val
        i += 1
    return opts, argv[i:]


def _store(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_cached(cmd: list[str], cache: Path | None) -> int:
    """Run compile command ``cmd`` through the cache; returns its exit status."""
    if cache is None or "-c" not in cmd or any(a.startswith("-fprofile") for a in cmd):
        # profile-guided compiles depend on .gcda files the key does not cover
        return subprocess.call(cmd)
    sources = [a for k, a in enumerate(cmd[1:], 1) if a.endswith(_SOURCE_EXT) and cmd[k - 1] not in _OUT_OPTS]
    if len(sources) != 1:
        return subprocess.call(cmd)
    src = Path(sources[0])
    cwd = Path.cwd().resolve()
    if cwd in src.resolve().parents:
        return subprocess.call(cmd)
    obj = Path(cmd[cmd.index("-o") + 1]) if "-o" in cmd else Path(src.stem + ".o")
    deps = None
    if any(f in cmd for f in ("-MMD", "-MD")):
        deps = Path(cmd[cmd.index("-MF") + 1]) if "-MF" in cmd else obj.with_suffix(".d")
    pre, key_args, skip = [], [], False
    for k, a in enumerate(cmd):
        if skip:
            skip = False
            continue
        if a in _OUT_OPTS:
            skip = True
            key_args += [a, "<out>"]
            continue
        key_args.append(a)
        if a in _DEP_FLAGS or a == "-c":
            continue
        pre.append(a)
    res = subprocess.run(pre + ["-E"], capture_output=True)
    if res.returncode != 0:
        return subprocess.call(cmd)
    h = hashlib.sha256()
    exe = shutil.which(cmd[0]) or cmd[0]
    try:
        st = os.stat(exe)
        h.update(f"{os.path.realpath(exe)}:{st.st_size}:{st.st_mtime_ns}".encode())
    except OSError:
        h.update(exe.encode())
    h.update("\0".join(key_args).encode())
    h.update(res.stdout)
    key = h.hexdigest()
    entry = cache / key[:2] / key
    if (entry / "obj").is_file() and (deps is None or (entry / "deps").is_file()):
        _store(entry / "obj", obj)
        if deps is not None:
            _store(entry / "deps", deps)
        return 0
    rc = subprocess.call(cmd)
    if rc == 0 and obj.is_file():
        _store(obj, entry / "obj")
        if deps is not None and deps.is_file():
            _store(deps, entry / "deps")
    return rc


def main(argv: list[str] | None = None) -> int:
    opts, cmd = _split(list(sys.argv[1:] if argv is None else argv))
    if not cmd:
        print("usage: python -m hwssm.verify.cxx [--cache DIR | --config-cache] COMPILER ARGS...", file=sys.stderr)
        return 2
    cache = Path(opts["cache"]) if opts["cache"] else (_config_cache() if opts["config-cache"] else None)
    return compile_cached(cmd, cache)


if __name__ == "__main__":
    sys.exit(main())
