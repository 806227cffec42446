"""Build the Verilator simulation of ``sim_top`` + core once per distinct design, through cocotb's runner.

A build directory is keyed by a hash of everything that changes the executable: the
core's Verilog, the wrapper text, the build options, and the Verilator and cocotb
versions. It lives under ``hwssm.config.cache_dir()/sim/<key>``; a second build of the
same design returns at once. Concurrent builders of one key wait on a file lock.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .. import config
from ..errors import HwssmError
from ..io import write_json
from .contract import CoreContract
from .wrapper import wrapper_text

__all__ = ["BUILD_VERSION", "BuildOptions", "Build", "build", "cocotb_runner"]

#: Bumped whenever the build recipe changes (part of the key).
BUILD_VERSION = 3
#: Name of the wrapper top module.
SIM_TOP = "sim_top"
#: Written last into a finished build directory.
STAMP = "hwssm-build.json"
#: C++ optimization of the hot code (the model's fast path, the run-time library and
#: cocotb's main loop); Verilator's makefile defaults to -Os. Cold code stays at -O0.
OPT = "-O2"


@dataclasses.dataclass(frozen=True)
class BuildOptions:
    """How to build.

    Parameters
    ----------
    waves : bool
        Compile tracing in (slower build and run); runs may then write waveforms: FST
        when the system has ``lz4.h`` (Verilator's FST writer needs it), else VCD.
    max_pixels : int
        Depth of the wrapper's pixel memory: the most pixels one simulation run feeds.
    """

    waves: bool = False
    max_pixels: int = 1 << 20

    def __post_init__(self):
        if isinstance(self.max_pixels, bool) or not isinstance(self.max_pixels, int) or self.max_pixels < 1:
            raise ValueError(f"max_pixels must be a positive integer, not {self.max_pixels!r}")


@functools.lru_cache(maxsize=1)
def fst_available() -> bool:
    """Whether Verilator's FST writer compiles here (it needs the system's ``lz4.h``)."""
    try:
        res = subprocess.run(["c++", "-E", "-x", "c++", "-"], input=b"#include <lz4.h>\n", capture_output=True,
                             timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return res.returncode == 0


def wave_format(options: BuildOptions) -> str | None:
    """``"fst"`` (when :func:`fst_available`), ``"vcd"``, or None without waves."""
    if not options.waves:
        return None
    return "fst" if fst_available() else "vcd"


def _build_args(options: BuildOptions) -> list[str]:
    args = [
        "--timing",
        # g++ 12 needs C++20 with coroutines enabled explicitly for --timing.
        "-CFLAGS", "-std=c++20 -fcoroutines",
        # cocotb's runner passes --public-flat-rw, which blocks most of Verilator's
        # optimizations; the wrapper marks the few signals cocotb reads instead.
        "--no-public-flat-rw",
        "-O3", "--x-assign", "fast",
        "-Wno-fatal", "-Wno-lint", "-Wno-style",
    ]
    if wave_format(options) == "fst":
        args += ["--trace-fst", "--trace-structs"]
    elif options.waves:
        args += ["--trace-structs"]  # cocotb's runner adds --trace (VCD)
    return args


@dataclasses.dataclass(frozen=True)
class Build:
    """A finished build directory.

    Attributes
    ----------
    dir : Path
        The Verilator build directory (the executable is ``dir/sim_top``).
    key : str
        Its hash.
    contract : CoreContract
        The core it simulates.
    options : BuildOptions
    seconds : float
        Time the build took (read from the stamp when cached).
    cached : bool
        True when this call found the build ready.
    """

    dir: Path
    key: str
    contract: CoreContract
    options: BuildOptions
    seconds: float
    cached: bool

    @property
    def top(self) -> str:
        return SIM_TOP

    @property
    def wave_format(self) -> str | None:
        """``"fst"``, ``"vcd"`` (no ``lz4.h`` for FST here) or None (built without waves)."""
        return wave_format(self.options)


def _versions() -> dict:
    import cocotb

    v = config.find_verilator()
    ver_file = v.root / "include" / "verilated_config.h"
    verilator = hashlib.sha256(ver_file.read_bytes()).hexdigest()[:16] if ver_file.exists() else str(v.root)
    return {"cocotb": cocotb.__version__, "verilator": verilator, "verilator_root": str(v.root)}


def build_key(contract: CoreContract, options: BuildOptions) -> tuple[str, str]:
    """(key, wrapper text) for ``contract`` under ``options``."""
    wrapper = wrapper_text(contract, options.max_pixels)
    h = hashlib.sha256()
    h.update(json.dumps({"build_version": BUILD_VERSION, "args": _build_args(options), "make": _make_overrides(), "options":
                         dataclasses.asdict(options), **_versions()}, sort_keys=True).encode())
    for src in contract.sources:
        h.update(src.name.encode() + b"\0")
        h.update(src.read_bytes())
        h.update(b"\0")
    h.update(wrapper.encode())
    return h.hexdigest(), wrapper


def _launcher() -> str | None:
    """The OBJCACHE value that runs compiles through :mod:`hwssm.verify.cxx` (None when a
    path has a space, which make's word splitting would break)."""
    cache = config.cache_dir() / "sim" / "objcache"
    words = [sys.executable, "-m", "hwssm.verify.cxx", "--cache", str(cache)]
    if any(" " in w for w in words):
        return None
    return " ".join(words)


def _make_overrides() -> str:
    """Make variables for Verilator's makefile (passed through MAKEFLAGS, which make treats
    like command-line variables; cocotb's runner builds the make command itself).

    - ``OPT_FAST``/``OPT_GLOBAL``: :data:`OPT` instead of ``-Os``.
    - ``CFG_CXXFLAGS_PCH_I``: the pip wheel's ``verilated.mk`` leaves it empty, so the
      precompiled-header rules of designs big enough to be split into several C++ files
      pass ``Vtop__pch.h.fast`` as a bare file and g++ fails; GCC needs ``-include``.
    """
    words = [f"OPT_FAST={OPT}", f"OPT_GLOBAL={OPT}"]
    mk = config.find_verilator().root / "include" / "verilated.mk"
    try:
        text = mk.read_text()
    except OSError:
        text = ""
    if any(line.split("=", 1)[1].strip() == "" for line in text.splitlines()
           if line.startswith("CFG_CXXFLAGS_PCH_I") and "=" in line):
        words.append("CFG_CXXFLAGS_PCH_I=-include")
    return " ".join(words)


def cocotb_runner():
    """A cocotb ``Verilator`` runner (``get_runner("verilator")``'s class) whose simulations
    can import the testbench modules of ``hwssm.config.sim_dir()`` and whose builds compile
    through the :mod:`hwssm.verify.cxx` launcher (object cache, ``-O2`` last).

    cocotb sets the simulator's PYTHONPATH to this process's ``sys.path``; the subclass
    appends the testbench directory there instead of editing ``sys.path``.
    """
    from cocotb_tools.runner import get_runner

    config.find_verilator().activate()
    base = type(get_runner("verilator"))
    tb_dir = str(config.sim_dir())
    launcher = _launcher()
    overrides = _make_overrides()

    class _Runner(base):
        def _set_env_build(self) -> None:
            super()._set_env_build()
            if launcher:
                self.env["OBJCACHE"] = launcher
            self.env["MAKEFLAGS"] = " ".join(filter(None, [self.env.get("MAKEFLAGS", ""), overrides]))

        def _set_env_test(self) -> None:
            super()._set_env_test()
            self.env["PYTHONPATH"] = os.pathsep.join([tb_dir, self.env.get("PYTHONPATH", "")])

    return _Runner()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "(no log)"
    return " | ".join(text[-lines:])


def _prune(bdir: Path) -> None:
    """Delete the intermediate files (C++, objects, archives, precompiled headers: about
    200 MB for a reference design); the simulation needs only the executable."""
    keep = {SIM_TOP, STAMP, "build.log", "src"}
    for p in bdir.iterdir():
        if p.name in keep:
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def build(contract: CoreContract, options: BuildOptions = BuildOptions(), *, log=None) -> Build:
    """Build (or find cached) the simulation of ``contract``'s core; HwssmError when Verilator fails.

    ``log(msg)`` receives one-line progress messages.
    """
    key, wrapper = build_key(contract, options)
    root = config.cache_dir() / "sim"
    root.mkdir(parents=True, exist_ok=True)
    bdir = root / key[:20]
    with open(root / f"{key[:20]}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = bdir / STAMP
        if stamp.is_file() and (bdir / SIM_TOP).is_file():
            try:
                seconds = float(json.loads(stamp.read_text()).get("seconds", 0.0))
            except (ValueError, json.JSONDecodeError):
                seconds = 0.0
            return Build(bdir, key, contract, options, seconds, True)
        if bdir.exists():
            shutil.rmtree(bdir)
        src = bdir / "src"
        src.mkdir(parents=True)
        for s in contract.sources:
            shutil.copyfile(s, src / s.name)
        (src / "sim_top.sv").write_text(wrapper)
        sources = [src / s.name for s in contract.sources] + [src / "sim_top.sv"]
        if log:
            log(f"building the Verilator simulation of {contract.top} in {bdir}")
        t0 = time.monotonic()
        runner = cocotb_runner()
        log_file = bdir / "build.log"
        try:
            runner.build(sources=sources, hdl_toplevel=SIM_TOP, build_dir=bdir, build_args=_build_args(options),
                         waves=options.waves, log_file=log_file, timescale=("1ns", "1ps"))
        except (RuntimeError, SystemExit, OSError) as exc:
            raise HwssmError(f"Verilator build of {contract.top} failed ({exc}); log {log_file}: {_tail(log_file)}") from None
        seconds = time.monotonic() - t0
        _prune(bdir)
        write_json(stamp, {"key": key, "seconds": round(seconds, 3), "top": contract.top,
                           "rtl": str(contract.rtl.path), "options": dataclasses.asdict(options)})
        if log:
            log(f"built in {seconds:.1f} s")
        return Build(bdir, key, contract, options, seconds, False)
