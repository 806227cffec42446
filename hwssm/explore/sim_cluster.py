"""``hwssm sim --scheduler ADDRESS``: the digits of one simulation spread over a Dask cluster.

The parent resolves the RTL (generating a design point once, :func:`hwssm.verify.rtlgen.rtl_dir`)
and cuts the digits into chunks (:func:`chunks`). Each chunk is one Dask task
(:func:`sim_chunk_task`) carrying the RTL directory's files, the QModel and the chunk's pixels:
the worker writes the files into its own cache under their content hash
(``cache_dir()/sim/rtl/<sha256>``, so a worker needs no shared disk), then runs
:func:`hwssm.verify.simulate.simulate` on them. The Verilator build is found or made in the
worker's cache by its content key (:func:`hwssm.verify.build.build_key`): the first chunk on a
worker builds it, later chunks (and later runs) fetch it. The worker compares its digits with
the golden engine itself; the parent merges the chunk results (:func:`merge_results`) in
digit order. A chunk that fails (an exception on the worker) is reported as an error line of
its digits, not raised.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from ..hw.options import DesignPoint
from ..quant.qmodel import QModel
from ..verify.simulate import Digits, SimOptions, SimResult

__all__ = ["SimChunk", "chunks", "sim_chunk_task", "merge_results", "simulate_on_cluster", "MAX_CHUNK"]

#: Most digits per task (one simulation process on the worker).
MAX_CHUNK = 48


@dataclasses.dataclass(frozen=True)
class SimChunk:
    """One task: simulate ``pixels`` (n, T) uint8 named ``indices`` on the RTL of ``files``.

    ``files`` are (name, content) pairs of the RTL directory (its Verilog and ``manifest.json``).
    """

    files: tuple[tuple[str, bytes], ...]
    qmodel: QModel
    pixels: np.ndarray
    indices: np.ndarray
    labels: np.ndarray | None
    options: SimOptions


def chunks(n: int, workers: int, max_chunk: int = MAX_CHUNK) -> list[tuple[int, int]]:
    """(lo, hi) ranges cutting ``n`` digits into balanced chunks: at least one per worker (when
    there are enough digits), at most ``max_chunk`` digits each."""
    count = max(min(n, max(1, workers)), math.ceil(n / max_chunk))
    size = math.ceil(n / count)
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def _rtl_files(path: Path) -> tuple[tuple[str, bytes], ...]:
    from ..verify.contract import load_contract

    contract = load_contract(path)
    names = sorted({s.name for s in contract.sources} | {"manifest.json"})
    return tuple((n, (Path(path) / n).read_bytes()) for n in names)


def _materialize(files: tuple[tuple[str, bytes], ...]) -> Path:
    """The worker's copy of an RTL directory, under its content hash (written once, atomically)."""
    from .. import config

    h = hashlib.sha256()
    for name, data in files:
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    root = config.cache_dir() / "sim" / "rtl"
    root.mkdir(parents=True, exist_ok=True)
    dest = root / h.hexdigest()[:24]
    if (dest / "manifest.json").is_file():
        return dest
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=root))
    try:
        for name, data in files:
            if Path(name).name != name:
                raise HwssmError(f"an RTL file name must be a plain name, not {name!r}")
            (tmp / name).write_bytes(data)
        try:
            os.rename(tmp, dest)
        except OSError:  # another task of this worker wrote it first
            if not (dest / "manifest.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def sim_chunk_task(chunk: SimChunk) -> SimResult:
    """Run on a worker: simulate one chunk (see the module docstring)."""
    rtl = _materialize(chunk.files)
    return _simulate_chunk(chunk, rtl)


def _simulate_chunk(chunk: SimChunk, rtl: Path) -> SimResult:
    from ..verify.simulate import simulate

    return simulate(chunk.qmodel, rtl, Digits(chunk.pixels, chunk.indices, chunk.labels), chunk.options)


def _values(v) -> set[int]:
    if v is None:
        return set()
    return {int(x) for x in (v if isinstance(v, list) else [v])}


def _one(vals: set[int]):
    s = sorted(vals)
    return (s[0] if len(s) == 1 else s) if s else None


def merge_results(parts: list[tuple[int, int, SimResult | None, str | None]], digits: Digits, rtl: Path,
                  seconds: float, jobs: int, full_speed: bool) -> SimResult:
    """One :class:`SimResult` of the chunk results ``(lo, hi, result, error)`` (in any order)."""
    parts = sorted(parts, key=lambda p: p[0])
    done = [(lo, hi, r) for lo, hi, r, _ in parts if r is not None]
    errors = [f"digits {int(digits.indices[lo])}..{int(digits.indices[hi - 1])}: {e}" for lo, hi, r, e in parts
              if r is None]
    for _, _, r in done:
        errors += list(r.errors)
    first = next((r.first_mismatch for _, _, r in done if r.first_mismatch is not None), None)
    first_bad = None
    for lo, hi, r, e in parts:  # the earliest chunk that failed names its first bad digit
        if r is None:
            first_bad = int(digits.indices[lo])
            break
        if r.first_bad_digit is not None:
            first_bad = r.first_bad_digit
            break
    n = sum(r.digits for _, _, r in done)
    sim_s = sum(r.digits / r.digits_per_s_per_process for _, _, r in done if r.digits_per_s_per_process)
    tb_s = sum(r.digits / r.simulator_digits_per_s for _, _, r in done if r.simulator_digits_per_s)
    cpd = set().union(*(_values(r.cycles_per_digit) for _, _, r in done)) if done else set()
    cps = set().union(*(_values(r.cycles_per_step) for _, _, r in done)) if done else set()
    r0 = done[0][2] if done else None
    return SimResult(
        ok=not errors and bool(done) and all(r.ok for _, _, r in done) and n == digits.n,
        digits=n,
        mismatches=sum(r.mismatches for _, _, r in done),
        correct=sum(r.correct for _, _, r in done),
        first_mismatch=first,
        first_bad_digit=first_bad,
        errors=tuple(errors),
        cycles_per_digit=_one(cpd) if full_speed else None,
        model_cycles_per_digit=r0.model_cycles_per_digit if r0 else None,
        cycles_per_step=_one(cps) if full_speed else None,
        model_cycles_per_step=r0.model_cycles_per_step if r0 else None,
        lanes=r0.lanes if r0 else None,
        jobs=jobs,
        seconds=round(seconds, 2),
        simulation_seconds=round(sum(r.simulation_seconds for _, _, r in done), 2),
        build_seconds=round(max((r.build_seconds for _, _, r in done), default=0.0), 2),
        build_cached=all(r.build_cached for _, _, r in done),
        digits_per_s=round(n / seconds, 4) if seconds else None,
        digits_per_s_per_process=round(n / sim_s, 4) if sim_s else None,
        simulator_digits_per_s=round(n / tb_s, 4) if tb_s else None,
        rtl=Path(rtl),
        run_dir=None,
        failed_runs=tuple(p for _, _, r in done for p in r.failed_runs),
    )


def simulate_on_cluster(qm: QModel, target: Path | str | DesignPoint, digits: Digits, options: SimOptions,
                        scheduler: str, *, log=None, progress=None) -> SimResult:
    """:func:`hwssm.verify.simulate.simulate` with the digits spread over the Dask cluster at
    ``scheduler`` (one chunk per task, see :func:`chunks`; each worker runs one simulation
    process per task). Waveforms are refused: they would stay on the workers."""
    from ..verify.simulate import _contract
    from .pool import Parallelism, open_runner

    if options.waves:
        raise HwssmError("--waves with --scheduler: the waveforms would stay on the workers; simulate the digits "
                         "of interest locally")
    t0 = time.monotonic()
    contract = _contract(qm, target, digits.seq_len, log)  # checks the model and the design here, once
    rtl = Path(contract.rtl.path)
    files = _rtl_files(rtl)
    runner = open_runner(Parallelism(scheduler=scheduler))
    try:
        workers = runner.workers()
        ranges = chunks(digits.n, workers)
        if log:
            log(f"simulating {digits.n} digits in {len(ranges)} task(s) on {workers} Dask worker(s) at {scheduler}")
        worker_options = dataclasses.replace(options, jobs=1, keep=False, workdir=None)
        tokens = {}
        for lo, hi in ranges:
            labels = None if digits.labels is None else digits.labels[lo:hi]
            task = SimChunk(files, qm, digits.pixels[lo:hi], digits.indices[lo:hi], labels, worker_options)
            tokens[runner.submit(sim_chunk_task, task)] = (lo, hi)
        parts, finished = [], 0
        while runner.pending:
            token, result, exc = runner.next_done()
            lo, hi = tokens[token]
            parts.append((lo, hi, result, None if exc is None else f"{type(exc).__name__}: {exc}"))
            finished += hi - lo
            if progress:
                progress(finished, digits.n)
        runner.close(cancel=False)
    except BaseException:
        runner.close(cancel=True)
        raise
    return merge_results(parts, digits, rtl, time.monotonic() - t0, len(ranges), options.traffic.full_speed)
