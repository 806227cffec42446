"""Run digits through the Verilator simulation and check them against the golden engine.

The digit list is cut into batches; each batch is one simulation process (cocotb +
Verilator on the shared build) writing into its own directory. ``jobs`` batches run at
once, one per core. When a batch's process ends, its outputs are parsed and compared
with golden-engine traces of the same digits (:mod:`hwssm.verify.check`); passing batch
directories are removed unless ``keep`` is set, failing ones are kept for inspection.
The golden traces of the first :data:`GOLDEN_AHEAD` batches in flight are computed in the
parent while their simulations run; the others' when their simulation ends.

Interruption (SIGINT, or SIGTERM through :mod:`hwssm.cli`): the simulation processes are
stopped (:func:`hwssm.procs.stopping`; they run through :func:`hwssm.procs.run` and also
die with hwssm when it is killed outright), no further batch starts, the threads are joined
and the run directory (under the cache, unless kept) is removed; one of a run killed outright
is removed by the next start (:mod:`hwssm.verify.rundirs`).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np

from .. import procs
from ..errors import HwssmError
from ..quant.qmodel import QModel
from .build import TB_MODULE, Build
from .check import BatchCheck, check_batch
from .outputs import RunFiles, SimOutputs, read_outputs
from .rundirs import RUNNING, open_run_dir
from .sim_report import DigitCycles, SimReport
from .stimulus import Expected, expected, save_expected, write_pixels
from .wrapper import Traffic, load_plusargs

__all__ = ["RunOptions", "DigitCycles", "SimReport", "golden_reference", "check_model", "run_digits", "simulate",
           "TB_MODULE"]

#: Digits per golden-engine call (bounds the memory of traces).
GOLDEN_CHUNK = 16
#: Default cap on digits per simulation process.
MAX_BATCH = 48
#: Batches whose golden traces may be computed ahead, while their simulation runs (each
#: holds about 8·n·T·L·H bytes of traces until its batch is checked).
GOLDEN_AHEAD = 4

# The golden engine's numba parallel kernels must not be entered from two threads at once.
_GOLDEN_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How to run.

    Parameters
    ----------
    jobs : int
        Simulation processes at once (one per core).
    traffic : Traffic
        Handshake stress; the default is the full-speed stream.
    batch : int or None
        Digits per simulation process; default: the fewest waves of ``jobs`` batches of at
        most :data:`MAX_BATCH` digits, balanced (``ceil(n / (jobs · waves))``).
    waves : bool
        Write ``waves.fst`` (or ``waves.vcd``, see :func:`~hwssm.verify.waves.wave_format`)
        in each run directory (needs a build with ``waves``).
    keep : bool
        Keep every run directory (else only failing ones).
    stop_on_mismatch : bool
        Start no further batch once one has failed.
    drain : int
        Cycles the wrapper waits after the last class for stray outputs.
    stall_limit : int or None
        Cycles without any handshake or output before the wrapper gives up; default
        ``2·cycles_per_digit + 10000`` from the manifest's cycle model (1e6 without one).
    workdir : Path or None
        Where run directories go (default: a new directory under the cache).
    plusargs : tuple[str, ...]
        Extra ``+name=value`` arguments for the simulation (read by the core or wrapper).
    """

    jobs: int = 1
    traffic: Traffic = Traffic()
    batch: int | None = None
    waves: bool = False
    keep: bool = False
    stop_on_mismatch: bool = True
    drain: int = 64
    stall_limit: int | None = None
    workdir: Path | None = None
    plusargs: tuple[str, ...] = ()

    def __post_init__(self):
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise HwssmError(f"jobs must be a positive integer, not {self.jobs!r}")
        if self.batch is not None and (isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1):
            raise HwssmError(f"batch must be a positive integer, not {self.batch!r}")


@dataclasses.dataclass
class _Batch:
    id: int
    lo: int
    hi: int
    files: RunFiles | None = None
    check: BatchCheck | None = None
    outputs: SimOutputs | None = None
    error: str | None = None
    seconds: float = 0.0
    tb_seconds: float | None = None
    load_cycles: int | None = None
    pred: np.ndarray | None = None


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except FileNotFoundError:
        return "(no log)"
    return " | ".join(ln.strip() for ln in text[-lines:])


def golden_reference(qm: QModel):
    """``pixels -> Expected`` from the golden engine on ``qm`` (thread-safe, in chunks of
    :data:`GOLDEN_CHUNK` digits)."""

    def reference(pixels: np.ndarray) -> Expected:
        parts = []
        with _GOLDEN_LOCK:
            for lo in range(0, pixels.shape[0], GOLDEN_CHUNK):
                parts.append(expected(qm, pixels[lo:lo + GOLDEN_CHUNK]))
        e0 = parts[0]
        return Expected(np.concatenate([p.dbg for p in parts]), np.concatenate([p.logits for p in parts]),
                        np.concatenate([p.pred for p in parts]), e0.T, e0.L, e0.H)

    return reference


def check_model(contract, qm: QModel) -> None:
    """HwssmError when the RTL's manifest names another model than ``qm``."""
    if contract.model_digest and contract.model_digest != qm.digest():
        raise HwssmError(f"the RTL in {contract.rtl.path} was generated from another model "
                         f"(digest {contract.model_digest[:12]}, not {qm.digest()[:12]})")


def simulate(build: Build, files: RunFiles, n: int, options: RunOptions, stall_limit: int) -> str | None:
    """Run one simulation process over the ``n`` digits of ``files.pixels``; returns an error
    line or None. The outputs stay in ``files`` (read them with :func:`read_outputs`)."""
    from cocotb_tools.check_results import get_results

    from .build import cocotb_runner

    tr = options.traffic
    plusargs = files.plusargs(n, in_gap=tr.in_gap, out_stall=tr.out_stall, seed=tr.seed, stall_limit=stall_limit,
                              drain=options.drain) + list(options.plusargs)
    plusargs += load_plusargs(build.contract)  # LOAD storage: the image the wrapper streams in after reset
    test_args = ["--trace-file", str(files.waves(build.wave_format))] if options.waves else []
    runner = cocotb_runner()
    try:
        runner.test(test_module=TB_MODULE, hdl_toplevel=build.top, hdl_toplevel_lang="verilog", build_dir=build.dir,
                    test_dir=files.dir, plusargs=plusargs, test_args=test_args, results_xml=str(files.results),
                    log_file=files.log, waves=options.waves)
    except (SystemExit, RuntimeError, OSError) as exc:
        if not files.results.exists():
            return f"simulation process failed ({exc}): {_tail(files.log)}"
    try:
        tests, failed = get_results(files.results)
    except RuntimeError:
        return f"simulation ended abnormally (no results): {_tail(files.log)}"
    if tests < 1 or failed:
        return f"cocotb test failed: {_tail(files.log)}"
    return None


def run_digits(build: Build, pixels, reference, indices=None, options: RunOptions = RunOptions(), *,
               progress=None) -> SimReport:
    """Simulate ``pixels`` (n, T) uint8 on ``build`` and compare every output with
    ``reference(pixels) -> Expected`` (normally :func:`golden_reference`).

    ``indices`` (n,) name the digits in reports (default 0..n-1). ``progress(done, total)``
    is called as batches finish.
    """
    pix = np.ascontiguousarray(pixels, dtype=np.uint8)
    if pix.ndim not in (2, 3) or pix.shape[0] < 1:
        raise HwssmError(f"pixels must be a non-empty (n, T) or (n, T, C) array, not shape {pix.shape}")
    n, T = pix.shape[:2]
    contract = build.contract
    C = pix.shape[2] if pix.ndim == 3 else 1
    if C != contract.C:
        raise HwssmError(f"the core takes {contract.C} samples per step, not {C}")
    if T != contract.seq_len:
        raise HwssmError(f"the core was generated for sequences of {contract.seq_len} steps, not {T}")
    if options.waves and not build.options.waves:
        raise HwssmError("waveforms need a build with waves (BuildOptions(waves=True))")
    idx = np.arange(n, dtype=np.int64) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.shape != (n,):
        raise HwssmError(f"{idx.shape[0]} indices for {n} digits")
    per_run = build.options.max_pixels // T
    waves = math.ceil(n / (options.jobs * MAX_BATCH))
    size = options.batch or math.ceil(n / (options.jobs * waves))
    size = max(1, min(size, per_run))
    batches = [_Batch(i, lo, min(lo + size, n)) for i, lo in enumerate(range(0, n, size))]
    stall = options.stall_limit or (2 * contract.cycles_per_digit + 10_000 if contract.cycles_per_digit else 1_000_000)
    if options.workdir is not None:
        root = Path(options.workdir)
        root.mkdir(parents=True, exist_ok=True)
    else:
        root = open_run_dir(os.getpid())
    stop = threading.Event()
    done_digits = [0]
    lock = threading.Lock()
    # one thread for the golden engine (it is not re-entrant); up to GOLDEN_AHEAD batches
    # get their traces while their simulation process runs
    golden = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    ahead = threading.BoundedSemaphore(GOLDEN_AHEAD)

    def work(b: _Batch) -> _Batch:
        if stop.is_set():
            return b
        b.files = RunFiles(root / f"batch{b.id:05d}")
        b.files.dir.mkdir(parents=True, exist_ok=True)
        write_pixels(b.files.pixels, pix[b.lo:b.hi])
        early = ahead.acquire(blocking=False)
        ref = golden.submit(reference, pix[b.lo:b.hi]) if early else None
        t0 = time.monotonic()
        b.error = simulate(build, b.files, b.hi - b.lo, options, stall)
        b.seconds = time.monotonic() - t0
        b.tb_seconds = b.files.tb_seconds()
        b.load_cycles = b.files.tb_load_cycles()
        try:
            b.outputs = read_outputs(b.files, contract.act_width, contract.logit_width)
        except HwssmError as exc:
            b.error = (b.error + "; " if b.error else "") + str(exc)
        try:
            exp = (ref or golden.submit(reference, pix[b.lo:b.hi])).result()
        finally:
            if early:
                ahead.release()
        b.pred = exp.pred
        if b.outputs is not None:
            b.check = check_batch(exp, b.outputs, idx[b.lo:b.hi])
        failed = b.error is not None or b.check is None or b.check.first is not None
        if failed:
            save_expected(b.files.dir / "expected.npz", exp)
            if options.stop_on_mismatch:
                stop.set()
        elif not options.keep:
            shutil.rmtree(b.files.dir, ignore_errors=True)
        with lock:
            done_digits[0] += b.hi - b.lo
            if progress:
                progress(done_digits[0], n)
        return b

    t0 = time.monotonic()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs)
    try:
        results = list(pool.map(work, batches))
        pool.shutdown(wait=True)
    except BaseException:  # interrupted: stop the simulations, start no batch, join the threads
        stop.set()
        with procs.stopping():
            pool.shutdown(wait=True, cancel_futures=True)
            golden.shutdown(wait=True, cancel_futures=True)
        if options.workdir is None and not options.keep:
            shutil.rmtree(root, ignore_errors=True)
        raise
    finally:
        golden.shutdown(cancel_futures=True)
    (root / RUNNING).unlink(missing_ok=True)
    wall = time.monotonic() - t0

    checked = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    classes = np.full(n, -1, dtype=np.int64)
    gpred = np.full(n, -1, dtype=np.int64)
    cyc = DigitCycles.empty(n)
    errors, failed_dirs, first = [], [], None
    for b in results:
        if b.files is None:
            continue
        m = b.hi - b.lo
        checked[b.lo:b.hi] = True
        if b.pred is not None:
            gpred[b.lo:b.hi] = b.pred
        if b.check is not None:
            bad[b.lo:b.hi] = b.check.bad
            if first is None and b.check.first is not None:
                first = b.check.first
        else:
            bad[b.lo:b.hi] = True
        if b.error:
            errors.append(f"digits {idx[b.lo]}..{idx[b.hi - 1]}: {b.error}")
            bad[b.lo:b.hi] |= b.check is None
        if b.error or (b.check is not None and b.check.first is not None):
            failed_dirs.append(b.files.dir)
        o = b.outputs
        if o is not None:
            k = min(m, o.classes.size)
            classes[b.lo:b.lo + k] = o.classes[:k]
            cyc.first_in_run[b.lo] = True
            j = min(k, o.in_first.size)
            cyc.latency[b.lo:b.lo + j] = o.out_cycle[:j] - o.in_first[:j]
            if k > 1:
                cyc.period[b.lo:b.lo + k - 1] = np.diff(o.out_cycle[:k])
            s_ = min(m, o.step_min.size)
            cyc.step_min[b.lo:b.lo + s_] = o.step_min[:s_]
            cyc.step_max[b.lo:b.lo + s_] = o.step_max[:s_]
    if not options.keep and not failed_dirs and options.workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    ran = [b for b in results if b.files is not None]
    tb = None if any(b.tb_seconds is None for b in ran) else float(sum(b.tb_seconds for b in ran))
    loads = sorted({b.load_cycles for b in ran if b.load_cycles is not None})
    return SimReport(idx, checked, bad, first, classes, gpred, cyc, errors, wall,
                     float(sum(b.seconds for b in results)), failed_dirs, root if root.exists() else None, tb, loads)
