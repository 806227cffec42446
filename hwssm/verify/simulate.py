"""Simulation as a library call: prove an RTL design bit-exact against the golden engine.

:func:`simulate` is what ``hwssm sim`` and ``hwssm flow`` run: it takes a QModel, a target
(a committed RTL directory, or a :class:`~hwssm.hw.options.DesignPoint` generated through
:func:`~hwssm.verify.rtlgen.rtl_dir`), the digits (:class:`Digits`) and :class:`SimOptions`;
it builds the Verilator simulation (cached), runs the digits across ``jobs`` processes,
compares every per-layer output of every step, every logit and every class with the golden
engine, and checks the measured cycles against the manifest's cycle model. A LOAD-storage
core gets its load image (``params.hex``) streamed through its load port after reset, before
the digits (:mod:`hwssm.verify.wrapper`); the load time is reported apart. It returns a
:class:`SimResult`; a mismatch is a result (``ok`` False), bad input raises HwssmError.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from ..hw.options import DesignPoint
from ..quant.qmodel import QModel
from .check import Mismatch
from .waves import WaveLimits
from .wrapper import Traffic

__all__ = ["Digits", "SimOptions", "SimResult", "simulate", "default_jobs"]


def default_jobs() -> int:
    """Simulation processes by default: the CPUs this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


@dataclasses.dataclass(frozen=True)
class Digits:
    """The sequences to simulate.

    Attributes
    ----------
    pixels : uint8 (n, T) or (n, T, C)
        One sequence per row (sMNIST: T = 784 pixels in raster order); C samples per step of a
        multi-channel model, or a token model's ids (a vocabulary of at most 256).
    indices : int64 (n,)
        Their data-set indices, naming them in mismatches and reports.
    labels : int64 (n,) or None
        True classes, for the ``correct`` count (None: not counted).
    """

    pixels: np.ndarray
    indices: np.ndarray
    labels: np.ndarray | None = None

    def __post_init__(self):
        raw = np.asarray(self.pixels)
        if raw.dtype != np.uint8:
            if raw.dtype.kind not in "iu" or (raw.size and (raw.min() < 0 or raw.max() > 255)):
                raise HwssmError("digits must be integer pixels in [0, 255]")
        pix = np.ascontiguousarray(raw, dtype=np.uint8)
        if pix.ndim not in (2, 3) or pix.shape[0] < 1 or pix.shape[1] < 1 or (pix.ndim == 3 and pix.shape[2] < 1):
            raise HwssmError(f"digits must be a non-empty (n, T) or (n, T, C) array, not shape {np.shape(self.pixels)}")
        idx = np.asarray(self.indices, dtype=np.int64)
        if idx.shape != (pix.shape[0],):
            raise HwssmError(f"{idx.size} indices for {pix.shape[0]} digits")
        object.__setattr__(self, "pixels", pix)
        object.__setattr__(self, "indices", idx)
        if self.labels is not None:
            lab = np.asarray(self.labels, dtype=np.int64)
            if lab.shape != idx.shape:
                raise HwssmError(f"{lab.size} labels for {pix.shape[0]} digits")
            object.__setattr__(self, "labels", lab)

    @classmethod
    def mnist_test(cls, indices) -> "Digits":
        """The sMNIST test digits at ``indices`` (HwssmError for an index out of range)."""
        from ..data import Split, load_mnist, sequences

        images, labels = load_mnist(Split.TEST)
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        bad = idx[(idx < 0) | (idx >= images.shape[0])]
        if bad.size:
            raise HwssmError(f"test index {int(bad[0])} is out of range [0, {images.shape[0]})")
        return cls(sequences(images[idx]), idx, labels[idx])

    @property
    def n(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def seq_len(self) -> int:
        return int(self.pixels.shape[1])


@dataclasses.dataclass(frozen=True)
class SimOptions:
    """How to simulate.

    Parameters
    ----------
    jobs : int or None
        Simulation processes at once (default: :func:`default_jobs`).
    traffic : Traffic
        Handshake stress (withheld pixels, held ``out_ready``); the default streams at full
        speed, and only then are the cycles compared with the cycle model.
    waves : bool
        Build with tracing and write a waveform per run (implies ``keep``).
    keep : bool
        Keep every run directory (default: failing ones only).
    workdir : Path or None
        Where run directories go (default: a new directory under the cache).
    wave_limits : WaveLimits
        With ``waves``: the step window dumped, and the size above which :func:`simulate`
        refuses (see :mod:`hwssm.verify.waves`).
    """

    jobs: int | None = None
    traffic: Traffic = Traffic()
    waves: bool = False
    keep: bool = False
    workdir: Path | None = None
    wave_limits: WaveLimits = WaveLimits()

    def __post_init__(self):
        if self.jobs is not None and (isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1):
            raise HwssmError(f"jobs must be >= 1, not {self.jobs!r}")
        if not isinstance(self.traffic, Traffic):
            raise HwssmError(f"traffic must be a Traffic, not {type(self.traffic).__name__}")
        if not isinstance(self.wave_limits, WaveLimits):
            raise HwssmError(f"wave_limits must be a WaveLimits, not {type(self.wave_limits).__name__}")


def _one(values: list[int]):
    """One measured value as an int, several as a list, none as None."""
    return (values[0] if len(values) == 1 else values) if values else None


def _rate(n: int, seconds: float | None) -> float | None:
    return round(n / seconds, 4) if seconds else None


@dataclasses.dataclass(frozen=True)
class SimResult:
    """Outcome of :func:`simulate`.

    Attributes
    ----------
    ok : bool
        Every digit ran, every output equals the golden engine's and, at full speed, the
        measured cycles equal the cycle model's.
    digits, mismatches, correct : int
        Digits simulated and compared; digits with any mismatching output; digits the RTL
        classified as their label (0 without labels).
    first_mismatch : Mismatch or None
        The first differing output (digit, step, layer, channel), if any.
    first_bad_digit : int or None
        Data-set index of the first failing digit (a mismatch or a failed process).
    errors : tuple[str, ...]
        Failed simulation processes and cycle-model disagreements, one line each.
    cycles_per_digit, cycles_per_step : int, list[int] or None
        Measured in RTL (distinct values; None under handshake stress).
    model_cycles_per_digit, model_cycles_per_step : int or None
        The manifest's cycle model.
    lanes : int or None
        P of the simulated core.
    jobs : int
        Simulation processes used.
    seconds, simulation_seconds, build_seconds : float
        Whole call; the digit runs; the Verilator build (as recorded when cached).
    build_cached : bool
        The build was found in the cache.
    digits_per_s, digits_per_s_per_process, simulator_digits_per_s : float or None
        Digits per wall second; per second of one process; per second of the simulation
        itself as the testbench measured it (no process start-up).
    rtl : Path
        The simulated RTL directory.
    run_dir : Path or None
        Directory of the kept run directories.
    failed_runs : tuple[Path, ...]
        Run directories kept because they failed.
    load_cycles : int, list[int] or None
        LOAD storage: cycles from the end of reset until the last word of the load image went
        in (per simulation process; distinct values), not part of ``cycles_per_digit``; None
        for a ROM core.
    load_words : int or None
        LOAD storage: words of the load image (None for a ROM core).
    """

    ok: bool
    digits: int
    mismatches: int
    correct: int
    first_mismatch: Mismatch | None
    first_bad_digit: int | None
    errors: tuple[str, ...]
    cycles_per_digit: int | list[int] | None
    model_cycles_per_digit: int | None
    cycles_per_step: int | list[int] | None
    model_cycles_per_step: int | None
    lanes: int | None
    jobs: int
    seconds: float
    simulation_seconds: float
    build_seconds: float
    build_cached: bool
    digits_per_s: float | None
    digits_per_s_per_process: float | None
    simulator_digits_per_s: float | None
    rtl: Path
    run_dir: Path | None = None
    failed_runs: tuple[Path, ...] = ()
    load_cycles: int | list[int] | None = None
    load_words: int | None = None

    def to_json(self) -> dict:
        """JSON form: the attributes, the mismatch as its JSON, paths as strings."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["first_mismatch"] = self.first_mismatch.to_json() if self.first_mismatch is not None else None
        out["errors"] = list(self.errors)
        out["rtl"] = str(self.rtl)
        out["run_dir"] = str(self.run_dir) if self.run_dir is not None else None
        out["failed_runs"] = [str(p) for p in self.failed_runs]
        return out


def _contract(qm: QModel, target: Path | str | DesignPoint, seq_len: int, log):
    """The checked :class:`~hwssm.verify.contract.CoreContract` of ``target``."""
    from .contract import load_contract
    from .runner import check_model

    if isinstance(target, DesignPoint):
        if target.seq_len != seq_len:
            raise HwssmError(f"the design is for sequences of {target.seq_len} steps, the digits have {seq_len}")
        from .rtlgen import rtl_dir

        contract = load_contract(rtl_dir(qm, target, log=log))
    elif isinstance(target, (str, Path)):
        contract = load_contract(target)
    else:
        raise HwssmError(f"the target must be an RTL directory or a DesignPoint, not {type(target).__name__}")
    check_model(contract, qm)
    return contract


def _wave_plusargs(contract, n: int, jobs: int, options: SimOptions, log) -> tuple[str, ...]:
    """The window's plusargs, after checking the estimated waveform size against the limit."""
    from .build import BuildOptions
    from .waves import FST_PACKAGE, check_limits, estimate, run_sizes, wave_format, window_plusargs

    lim = options.wave_limits
    est = estimate(contract, lim.window, run_sizes(n, jobs, BuildOptions().max_pixels // contract.seq_len))
    check_limits(est, lim)
    if log:
        log(f"waveforms: {est.describe()}")
        if wave_format(True) == "vcd":
            log(f"waveforms in VCD: Verilator's FST writer does not build here (install the system package "
                f"{FST_PACKAGE} for FST)")
    return window_plusargs(contract, lim.window)


def simulate(qm: QModel, target: Path | str | DesignPoint, digits: Digits, options: SimOptions = SimOptions(), *,
             log=None, progress=None) -> SimResult:
    """Simulate ``digits`` on ``target`` and compare them with the golden engine on ``qm``.

    Parameters
    ----------
    qm : QModel
        The model the RTL runs; an RTL directory's manifest must name its digest.
    target : Path, str or DesignPoint
        An RTL directory (``hwssm_core.v`` + ``manifest.json``), or a design point generated
        (once, cached) by :func:`~hwssm.verify.rtlgen.rtl_dir` (needs Amaranth).
    digits : Digits
        The sequences; their length must be the core's T.
    options : SimOptions
    log : callable or None
        ``log(msg)`` receives one-line progress messages (generation, build).
    progress : callable or None
        ``progress(done, total)`` as digit batches finish.

    Returns
    -------
    SimResult
        Raises HwssmError for bad input (wrong model, unsupported design, failed build).
    """
    from .build import BuildOptions, build
    from .runner import RunOptions, golden_reference, run_digits

    t0 = time.monotonic()
    jobs = options.jobs if options.jobs is not None else default_jobs()
    contract = _contract(qm, target, digits.seq_len, log)
    plusargs = _wave_plusargs(contract, digits.n, jobs, options, log) if options.waves else ()
    b = build(contract, BuildOptions(waves=options.waves), log=log)
    if log:
        log(f"simulating {digits.n} digits on {jobs} process(es)")
    rep = run_digits(b, digits.pixels, golden_reference(qm), digits.indices,
                     RunOptions(jobs=jobs, traffic=options.traffic, waves=options.waves,
                                keep=options.keep or options.waves, workdir=options.workdir, plusargs=plusargs),
                     progress=progress)
    full = options.traffic.full_speed
    digit_vals, step_vals = rep.cycles.digit_values(), rep.cycles.step_values()
    cycle_errors = []
    if full:
        for name, vals, model in (("cycles_per_digit", digit_vals, contract.cycles_per_digit),
                                  ("cycles_per_step", step_vals, contract.cycles_per_step)):
            if model is not None and vals and vals != [model]:
                cycle_errors.append(f"{name} measured in RTL {vals} differs from the cycle model {model}")
    first_bad = None
    if rep.first is not None:
        first_bad = int(rep.first.digit)
    elif rep.bad.any():
        first_bad = int(rep.indices[rep.bad][0])
    checked = rep.checked
    correct = 0 if digits.labels is None else int(np.sum(rep.classes[checked] == digits.labels[checked]))
    return SimResult(
        ok=rep.ok and not cycle_errors,
        digits=rep.digits,
        mismatches=rep.mismatches,
        correct=correct,
        first_mismatch=rep.first,
        first_bad_digit=first_bad,
        errors=tuple(rep.errors + cycle_errors),
        cycles_per_digit=_one(digit_vals) if full else None,
        model_cycles_per_digit=contract.cycles_per_digit,
        cycles_per_step=_one(step_vals) if full else None,
        model_cycles_per_step=contract.cycles_per_step,
        lanes=contract.lanes,
        jobs=jobs,
        seconds=round(time.monotonic() - t0, 2),
        simulation_seconds=round(rep.wall_seconds, 2),
        build_seconds=round(b.seconds, 2),
        build_cached=b.cached,
        digits_per_s=_rate(rep.digits, rep.wall_seconds),
        digits_per_s_per_process=_rate(rep.digits, rep.sim_seconds),
        simulator_digits_per_s=_rate(rep.digits, rep.tb_seconds),
        rtl=Path(contract.rtl.path),
        run_dir=rep.workdir,
        failed_runs=tuple(rep.failed_dirs),
        load_cycles=_one(rep.load_cycles),
        load_words=contract.load.words if contract.load is not None else None,
    )
