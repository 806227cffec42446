"""Where sweep tasks run: in this process, a local process pool, or a Dask cluster.

All three offer the same two calls, ``submit(fn, arg) -> token`` and
``next_done() -> (token, result, error)``, so the sweep can submit new work as results
arrive. Workers only compute; the caller stores results.

Shutting down: ``close(cancel=True)`` (an interruption: SIGINT, SIGTERM through
:mod:`hwssm.cli`, or an error) terminates the local workers at once instead of letting them
finish their current task. Local workers also die with their parent when it is killed
outright (SIGKILL): each asks the kernel for SIGKILL on its parent's death
(``prctl(PR_SET_PDEATHSIG)``) and, where that is unavailable, watches its parent's pid.
Workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process group; the parent
alone decides). With every worker gone, multiprocessing's resource tracker sees its pipe
close and exits too, so no process outlives the sweep.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import itertools
import multiprocessing
import os
import signal
from collections.abc import Callable
from typing import Any

from ..errors import HwssmError
from ..procs import die_with_parent, signals_held
from .tasks import init_worker

__all__ = ["Parallelism", "open_runner"]


@dataclasses.dataclass(frozen=True)
class Parallelism:
    """How to run a sweep's tasks.

    Attributes
    ----------
    jobs : int
        Local worker processes (1: run in this process, no pool).
    scheduler : str or None
        Address of a Dask distributed scheduler (``tcp://host:8786``); when given, tasks
        run on that cluster and ``jobs`` is ignored.
    threads : int or None
        numba threads per local worker for the golden engine; None for ``cores // jobs``.
    """

    jobs: int = 1
    scheduler: str | None = None
    threads: int | None = None

    def __post_init__(self):
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise HwssmError(f"--jobs must be a positive integer, not {self.jobs!r}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise HwssmError(f"threads per worker must be a positive integer, not {self.threads!r}")

    def worker_threads(self) -> int:
        return self.threads or max(1, (os.cpu_count() or 1) // self.jobs)


class _Inline:
    """Runs tasks one at a time in this process, each when its result is asked for."""

    def __init__(self):
        self._queue: list[tuple[int, Callable, Any]] = []
        self._ids = itertools.count()

    def submit(self, fn: Callable, arg) -> int:
        token = next(self._ids)
        self._queue.append((token, fn, arg))
        return token

    @property
    def pending(self) -> int:
        return len(self._queue)

    def next_done(self):
        token, fn, arg = self._queue.pop(0)
        try:
            return token, fn(arg), None
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - reported per task by the caller
            return token, None, exc

    def close(self, cancel: bool) -> None:
        self._queue.clear()


#: Seconds to wait for a terminated worker.
_JOIN_S = 5.0


def _init_local_worker(parent: int, threads: int | None) -> None:
    """Pool initializer: die with the parent, leave SIGINT to it, then :func:`tasks.init_worker`."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_worker(threads)


class _Local:
    """A ``ProcessPoolExecutor`` (spawned workers: numba's thread pool does not survive fork)."""

    def __init__(self, par: Parallelism):
        self._pool = cf.ProcessPoolExecutor(max_workers=par.jobs, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_init_local_worker, initargs=(os.getpid(), par.worker_threads()))
        self._futures: dict[cf.Future, int] = {}
        self._ids = itertools.count()

    def submit(self, fn, arg) -> int:
        token = next(self._ids)
        self._futures[self._pool.submit(fn, arg)] = token
        return token

    @property
    def pending(self) -> int:
        return len(self._futures)

    def next_done(self):
        done, _ = cf.wait(list(self._futures), return_when=cf.FIRST_COMPLETED)
        fut = next(iter(done))
        token = self._futures.pop(fut)
        exc = fut.exception()
        return token, None if exc else fut.result(), exc

    def close(self, cancel: bool) -> None:
        """Shut the pool down: wait for the workers (``cancel=False``), or cancel what is queued
        and terminate the workers now (``cancel=True``); either way no worker is left."""
        if not cancel:
            self._pool.shutdown(wait=True)
            return
        # the executor's worker processes (a private attribute: ProcessPoolExecutor offers no
        # public way to stop a running task)
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        with signals_held():
            self._pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(_JOIN_S)
                if p.is_alive():
                    p.kill()
                    p.join(_JOIN_S)
            self._pool.shutdown(wait=True)


class _Dask:
    """Tasks on a Dask distributed cluster (``distributed.Client(address)``)."""

    def __init__(self, address: str):
        try:
            import distributed
        except ImportError:
            raise HwssmError("--scheduler needs Dask's 'distributed' package: install hwssm's 'cluster' extra "
                             "(pip install 'hwssm[cluster]')") from None
        self._distributed = distributed
        try:
            self._client = distributed.Client(address, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise HwssmError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self._futures: dict[Any, int] = {}
        self._ids = itertools.count()

    def submit(self, fn, arg) -> int:
        token = next(self._ids)
        # pure=False: a task's result must not be shared with an equal-looking earlier one.
        self._futures[self._client.submit(fn, arg, pure=False)] = token
        return token

    @property
    def pending(self) -> int:
        return len(self._futures)

    def workers(self) -> int:
        """Workers connected to the scheduler now (at least 1)."""
        return max(1, len(self._client.scheduler_info().get("workers", {})))

    def next_done(self):
        done = self._distributed.wait(list(self._futures), return_when="FIRST_COMPLETED").done
        fut = next(iter(done))
        token = self._futures.pop(fut)
        if fut.status == "error":
            return token, None, fut.exception()
        return token, fut.result(), None

    def close(self, cancel: bool) -> None:
        if cancel and self._futures:
            self._client.cancel(list(self._futures))
        self._client.close()


def open_runner(par: Parallelism):
    """A runner for ``par``: Dask when a scheduler is given, else a process pool (jobs > 1) or inline."""
    if par.scheduler:
        return _Dask(par.scheduler)
    if par.jobs > 1:
        return _Local(par)
    return _Inline()
