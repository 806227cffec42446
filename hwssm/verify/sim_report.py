"""Outcome of a checked simulation run (:func:`hwssm.verify.runner.run_digits`): per-digit
agreement with the golden engine (:class:`SimReport`) and the cycle counts measured in RTL
(:class:`DigitCycles`).

Split out of :mod:`hwssm.verify.runner` (which re-exports both).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .check import Mismatch

__all__ = ["DigitCycles", "SimReport"]


@dataclasses.dataclass(frozen=True)
class DigitCycles:
    """Cycle counts measured in RTL, per simulated digit (-1 where not measured).

    Attributes
    ----------
    first_in_run : bool (n,)
        The digit was the first of its simulation run (the core was idle before it).
    latency : int64 (n,)
        Cycles from the digit's first pixel handshake to its class handshake. For the first
        digit of a run at full speed this is the cycle model's ``cycles_per_digit``; later
        digits may have had their first pixel taken early (input buffering).
    period : int64 (n,)
        Cycles from this digit's class handshake to the next one's in the same run (the
        digit period; -1 for the last digit of a run).
    step_min, step_max : int64 (n,)
        Smallest and largest interval between the first dbg values of consecutive steps of
        the digit (the step period; needs L·H in the manifest).
    """

    first_in_run: np.ndarray
    latency: np.ndarray
    period: np.ndarray
    step_min: np.ndarray
    step_max: np.ndarray

    @staticmethod
    def empty(n: int) -> "DigitCycles":
        f = lambda: np.full(n, -1, dtype=np.int64)  # noqa: E731
        return DigitCycles(np.zeros(n, dtype=bool), f(), f(), f(), f())

    def digit_values(self) -> list[int]:
        """Distinct measured digit periods: first-of-run latencies and class-to-class periods."""
        v = np.concatenate([self.latency[self.first_in_run & (self.latency >= 0)], self.period[self.period >= 0]])
        return sorted({int(x) for x in v})

    def step_values(self) -> list[int]:
        """Distinct measured step periods."""
        v = np.concatenate([self.step_min[self.step_min > 0], self.step_max[self.step_max > 0]])
        return sorted({int(x) for x in v})


@dataclasses.dataclass(frozen=True)
class SimReport:
    """Outcome of :func:`run_digits`.

    Attributes
    ----------
    indices : int64 (n,)
        The digits asked for (data-set indices).
    checked : bool (n,)
        Digits whose batch ran and was compared.
    bad : bool (n,)
        Digits with any mismatch.
    first : Mismatch or None
        The first mismatch (earliest digit in the list).
    classes, golden_pred : int64 (n,)
        The RTL's class (-1 where none came out) and the golden prediction.
    cycles : DigitCycles
    errors : list[str]
        Simulation processes that failed (crash, watchdog), one line each.
    wall_seconds, sim_seconds : float
        Elapsed time of the whole run; summed duration of the simulation processes.
    tb_seconds : float or None
        Summed seconds the testbenches measured from their start to ``done`` (the
        simulations without process start-up; None when a process did not report it).
    failed_dirs : list[Path]
        Run directories kept because their batch failed.
    workdir : Path or None
        The directory holding the run directories, while it still exists (kept runs).
    load_cycles : list[int]
        Distinct cycles a simulation process took to stream the load image in after reset
        (LOAD storage; empty for a ROM core).
    """

    indices: np.ndarray
    checked: np.ndarray
    bad: np.ndarray
    first: Mismatch | None
    classes: np.ndarray
    golden_pred: np.ndarray
    cycles: DigitCycles
    errors: list[str]
    wall_seconds: float
    sim_seconds: float
    failed_dirs: list[Path]
    workdir: Path | None = None
    tb_seconds: float | None = None
    load_cycles: list[int] = dataclasses.field(default_factory=list)

    @property
    def digits(self) -> int:
        return int(self.checked.sum())

    @property
    def mismatches(self) -> int:
        return int(self.bad.sum())

    @property
    def ok(self) -> bool:
        return not self.errors and self.mismatches == 0 and bool(self.checked.all())
