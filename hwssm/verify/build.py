"""Build the Verilator simulation of ``sim_top`` + core once per distinct design, through cocotb's runner.

A build directory is keyed by a hash of everything that changes the executable: the
core's Verilog, the wrapper text, the build options, and the Verilator and cocotb
versions. It lives under ``hwssm.config.cache_dir()/sim/<key>``; a second build of the
same design returns at once. Concurrent builders of one key wait on a file lock.

Recipes (:attr:`BuildOptions.recipe`):

``"fast"`` (default)
    The wrapper's one-time-slot-per-cycle clock (:data:`~hwssm.verify.wrapper.Clock.PULSE`;
    builds with waves keep the toggling clock) and, for large cores (:func:`uses_pgo`), GCC profile-guided optimization of the
    model's fast-path C++ and cocotb's main loop: build instrumented
    (``-fprofile-generate``), run :data:`PGO_TRAIN_CYCLES` cycles of a synthetic digit
    through cocotb, rebuild those objects with ``-fprofile-use``. The profile lives in
    the build directory while it is built.
``"baseline"``
    The recipe of build version 3: ``always #5 clk = ~clk`` (two time slots per cycle),
    ``-O2``, no profile. Kept so ``hwssm bench sim`` can measure the speed-up in one run.

The Verilated model evaluates every register of the core every cycle; that evaluation
(one straight-line function of ~70 KB of machine code for a 16-lane core) dominates the
run time, so C++ flags beyond ``-O2`` (``-O3``, ``-march=native``) measured within noise
and are not used (nor Verilator options: ``-fno-dfg`` doubles the time, the others left
the instruction count within 2%); PGO measured 1.1-1.25x on it. ``hwssm bench sim``
measures the whole recipe against the baseline.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from .. import config, procs
from ..errors import HwssmError
from ..io import write_json
from . import cxx
from .contract import CoreContract
from .waves import wave_format, windowed_main
from .wrapper import Clock, wrapper_text

__all__ = ["BUILD_VERSION", "RECIPES", "BuildOptions", "Build", "build", "cocotb_runner", "uses_pgo"]

#: Bumped whenever the build recipe changes (part of the key).
BUILD_VERSION = 4
#: Build recipes (see the module docstring).
RECIPES = ("fast", "baseline")
#: The directory of the cocotb testbench modules (inside the package, so that it ships in the wheel).
TB_DIR = Path(__file__).resolve().parent / "tb"
#: The cocotb test module (in :data:`TB_DIR`).
TB_MODULE = "tb_core"
#: Cycles of the PGO training run.
PGO_TRAIN_CYCLES = 300_000
#: With ``BuildOptions.pgo=None``, PGO is used for cores of at least this many cycles per
#: digit (the reference designs; small test cores build faster without it).
PGO_MIN_CYCLES = 50_000
#: Extra flags of the fast-path compiles in the two PGO stages.
PGO_GENERATE = "-fprofile-generate"
PGO_USE = "-fprofile-use -fprofile-partial-training -Wno-missing-profile"
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
        when Verilator's FST writer builds here (:func:`hwssm.verify.waves.fst_available`),
        else VCD. The executable's main dumps only the time slots of the window its
        plusargs name (:func:`hwssm.verify.waves.windowed_main`).
    max_pixels : int
        Depth of the wrapper's pixel memory: the most pixels one simulation run feeds.
    recipe : str
        ``"fast"`` or ``"baseline"`` (the previous recipe, for benchmarks); see the module docstring.
    pgo : bool or None
        Profile-guided optimization with the fast recipe; None: for large cores only
        (:func:`uses_pgo`). Never with waves or the baseline recipe.
    """

    waves: bool = False
    max_pixels: int = 1 << 20
    recipe: str = "fast"
    pgo: bool | None = None

    def __post_init__(self):
        if isinstance(self.max_pixels, bool) or not isinstance(self.max_pixels, int) or self.max_pixels < 1:
            raise ValueError(f"max_pixels must be a positive integer, not {self.max_pixels!r}")
        if self.recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {', '.join(RECIPES)}, not {self.recipe!r}")
        if self.pgo is not None and not isinstance(self.pgo, bool):
            raise ValueError(f"pgo must be True, False or None, not {self.pgo!r}")

    @property
    def clock(self) -> Clock:
        """The wrapper's clock: the two-slot toggle for the baseline and for waveforms (a
        trace is sampled once per time slot, so the one-slot pulse would never show high)."""
        return Clock.TOGGLE if self.recipe == "baseline" or self.waves else Clock.PULSE


def uses_pgo(contract: CoreContract, options: "BuildOptions") -> bool:
    """Whether a build of ``contract`` under ``options`` is profile-guided."""
    if options.recipe == "baseline" or options.waves:
        return False
    if options.pgo is not None:
        return options.pgo
    return (contract.cycles_per_digit or 0) >= PGO_MIN_CYCLES


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
    if wave_format(options.waves) == "fst":
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
    pgo : bool
        Whether the executable is profile-guided.
    """

    dir: Path
    key: str
    contract: CoreContract
    options: BuildOptions
    seconds: float
    cached: bool
    pgo: bool = False

    @property
    def top(self) -> str:
        return SIM_TOP

    @property
    def wave_format(self) -> str | None:
        """``"fst"``, ``"vcd"`` (no ``lz4.h`` for FST here) or None (built without waves)."""
        return wave_format(self.options.waves)


def toolchain_versions() -> dict:
    """What a Verilator + cocotb executable depends on besides its sources: the cocotb version
    and the Verilator install (its ``verilated_config.h`` hash and its root, which also places
    the environment whose cocotb libraries the executable loads)."""
    import cocotb

    v = config.find_verilator()
    ver_file = v.root / "include" / "verilated_config.h"
    verilator = hashlib.sha256(ver_file.read_bytes()).hexdigest()[:16] if ver_file.exists() else str(v.root)
    return {"cocotb": cocotb.__version__, "verilator": verilator, "verilator_root": str(v.root)}


def build_key(contract: CoreContract, options: BuildOptions) -> tuple[str, str]:
    """(key, wrapper text) for ``contract`` under ``options``."""
    wrapper = wrapper_text(contract, options.max_pixels, options.clock)
    pgo = uses_pgo(contract, options)
    h = hashlib.sha256()
    h.update(json.dumps({"build_version": BUILD_VERSION, "args": _build_args(options), "make": _make_overrides(),
                         "pgo": [PGO_GENERATE, PGO_USE, PGO_TRAIN_CYCLES] if pgo else None,
                         "options": dataclasses.asdict(options), **toolchain_versions()}, sort_keys=True).encode())
    for src in contract.sources:
        h.update(src.name.encode() + b"\0")
        h.update(src.read_bytes())
        h.update(b"\0")
    h.update(wrapper.encode())
    if options.waves:  # waveform builds link the windowed main (hwssm.verify.waves)
        h.update(b"\0windowed-main-1")
    return h.hexdigest(), wrapper


def _launcher() -> str | None:
    """The OBJCACHE value that runs compiles through :mod:`hwssm.verify.cxx` (no cache path in
    it: the launcher finds the cache itself; None when even the interpreter's path cannot be
    spelled safely for make)."""
    return cxx.objcache_launcher()


def _make_overrides(fast_extra: str = "", ldflags: str = "") -> str:
    """Make variables for Verilator's makefile (passed through MAKEFLAGS, which make treats
    like command-line variables; cocotb's runner builds the make command itself). Spaces
    inside a value are escaped with a backslash, as make itself writes MAKEFLAGS.

    - ``OPT_FAST``/``OPT_GLOBAL``: :data:`OPT` instead of ``-Os``; ``fast_extra`` is added
      to ``OPT_FAST`` (the model's fast path and cocotb's main: the PGO flags).
    - ``USER_LDFLAGS``: ``ldflags`` (``-fprofile-generate`` links gcov in).
    - ``CFG_CXXFLAGS_PCH_I``: the pip wheel's ``verilated.mk`` leaves it empty, so the
      precompiled-header rules of designs big enough to be split into several C++ files
      pass ``Vtop__pch.h.fast`` as a bare file and g++ fails; GCC needs ``-include``.
    """
    esc = lambda v: v.replace(" ", "\\ ")  # noqa: E731
    words = [esc(f"OPT_FAST={' '.join(filter(None, [OPT, fast_extra]))}"), f"OPT_GLOBAL={OPT}"]
    if ldflags:
        words.append(esc(f"USER_LDFLAGS={ldflags}"))
    mk = config.find_verilator().root / "include" / "verilated.mk"
    try:
        text = mk.read_text()
    except OSError:
        text = ""
    if any(line.split("=", 1)[1].strip() == "" for line in text.splitlines()
           if line.startswith("CFG_CXXFLAGS_PCH_I") and "=" in line):
        words.append("CFG_CXXFLAGS_PCH_I=-include")
    return " ".join(words)


def cocotb_runner(overrides: str | None = None, main_cpp: Path | None = None):
    """A cocotb ``Verilator`` runner (``get_runner("verilator")``'s class) whose simulations
    can import the testbench modules of :data:`TB_DIR` and whose builds compile
    through the :mod:`hwssm.verify.cxx` launcher (object cache) with the make variables
    ``overrides`` (default :func:`_make_overrides`), linking ``main_cpp`` instead of cocotb's
    ``verilator.cpp`` when given (:func:`hwssm.verify.waves.windowed_main`).

    cocotb sets the simulator's PYTHONPATH to this process's ``sys.path``; the subclass
    appends the testbench directory there instead of editing ``sys.path``. Simulations
    run without pytest's assertion rewriting (``COCOTB_REWRITE_ASSERTION_FILES`` empty,
    unless set in the environment).
    """
    from cocotb_tools.runner import get_runner

    config.find_verilator().activate()
    base = type(get_runner("verilator"))
    if not (TB_DIR / f"{TB_MODULE}.py").is_file():
        raise HwssmError(f"the cocotb testbench {TB_DIR / TB_MODULE}.py is missing: reinstall hwssm")
    tb_dir = str(TB_DIR)
    launcher = _launcher()
    overrides = _make_overrides() if overrides is None else overrides

    class _Runner(base):
        def _build_command(self):
            cmds = super()._build_command()
            if main_cpp is not None:
                import cocotb_tools.config

                cocotb_main = str(cocotb_tools.config.share_dir / "lib" / "verilator" / "verilator.cpp")
                if cocotb_main not in cmds[0]:
                    raise HwssmError("cannot link the windowed waveform main: cocotb's runner no longer names "
                                     f"{cocotb_main}")
                cmds[0] = [str(main_cpp) if a == cocotb_main else a for a in cmds[0]]
            return cmds

        def _set_env_build(self) -> None:
            super()._set_env_build()
            if launcher:
                self.env["OBJCACHE"] = launcher
            self.env["MAKEFLAGS"] = " ".join(filter(None, [self.env.get("MAKEFLAGS", ""), overrides]))

        def _execute_cmds(self, cmds, cwd, stdout=None) -> None:
            # cocotb's loop, each command started through hwssm.procs: it dies with hwssm and
            # an interruption stops it (procs.Stopped is a RuntimeError, as a failed command)
            for cmd in cmds:
                rc = procs.run(list(cmd), cwd=cwd, env=self.env, stdout=stdout,
                               stderr=None if stdout is None else subprocess.STDOUT)
                if rc != 0:
                    raise RuntimeError(f"Command failed with return code: {rc}")

        def _set_env_test(self) -> None:
            super()._set_env_test()
            self.env["PYTHONPATH"] = os.pathsep.join([tb_dir, self.env.get("PYTHONPATH", "")])
            # no pytest assertion rewriting of the testbench (its messages are explicit):
            # cocotb then skips configuring pytest, a sizeable part of its start-up
            self.env.setdefault("COCOTB_REWRITE_ASSERTION_FILES", "")

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
    cxx.check_build_path(config.cache_dir())
    key, wrapper = build_key(contract, options)
    pgo = uses_pgo(contract, options)
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
            return Build(bdir, key, contract, options, seconds, True, pgo)
        if bdir.exists():
            shutil.rmtree(bdir)
        src = bdir / "src"
        src.mkdir(parents=True)
        for s in contract.sources:
            shutil.copyfile(s, src / s.name)
        (src / "sim_top.sv").write_text(wrapper)
        sources = [src / s.name for s in contract.sources] + [src / "sim_top.sv"]
        if log:
            log(f"building the Verilator simulation of {contract.top} in {bdir}" + (" (profile-guided)" if pgo else ""))
        t0 = time.monotonic()
        main_cpp = windowed_main(src / "verilator.cpp") if options.waves else None
        runner = cocotb_runner(_make_overrides(PGO_GENERATE, PGO_GENERATE) if pgo else None, main_cpp)
        log_file = bdir / "build.log"
        try:
            runner.build(sources=sources, hdl_toplevel=SIM_TOP, build_dir=bdir, build_args=_build_args(options),
                         waves=options.waves, log_file=log_file, timescale=("1ns", "1ps"))
        except (RuntimeError, SystemExit, OSError) as exc:
            raise HwssmError(f"Verilator build of {contract.top} failed ({exc}); log {log_file}: {_tail(log_file)}") from None
        train_error = None
        if pgo:
            from . import pgo as pgo_stage

            if log:
                log(f"training the profile ({PGO_TRAIN_CYCLES} cycles), then rebuilding")
            train_error = pgo_stage.train(bdir, contract, options)
            if train_error and log:
                log(f"{train_error}; rebuilding without a profile")
            pgo_stage.remake(bdir, _make_overrides(PGO_USE), log_file)
        seconds = time.monotonic() - t0
        _prune(bdir)
        write_json(stamp, {"key": key, "seconds": round(seconds, 3), "top": contract.top, "pgo": pgo,
                           "pgo_error": train_error, "rtl": str(contract.rtl.path),
                           "options": dataclasses.asdict(options)})
        if log:
            log(f"built in {seconds:.1f} s")
        return Build(bdir, key, contract, options, seconds, False, pgo)
