"""Child processes that never outlive hwssm.

Every external program hwssm waits for (Verilator builds and simulations, Yosys, nextpnr)
is started by :func:`run`, which

* asks the kernel to SIGKILL the child when the thread that started it dies
  (``prctl(PR_SET_PDEATHSIG)``, Linux), so a child dies with hwssm even when hwssm is killed
  outright (SIGKILL); the child's own children (a compiler under ``make``) finish their
  current job and exit;
* starts it in a process group of its own, so a terminal's Ctrl-C reaches hwssm alone and
  hwssm decides (the whole group is stopped together: ``make`` and its compilers);
* keeps it in a registry while it runs, so that an interruption (SIGINT, or SIGTERM through
  :mod:`hwssm.cli`) can stop every running child from the main thread with :func:`stopping`,
  while other threads are blocked waiting on them.

:func:`die_with_parent` is the same guarantee for a Python worker process (the sweep's pool
workers call it in their initializer); :class:`signals_held` keeps a second signal from
interrupting a teardown.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import threading
import time

__all__ = ["run", "stopping", "Stopped", "die_with_parent", "signals_held", "pid_alive", "live_children"]

#: Linux prctl option: the signal to receive when the parent thread dies.
_PR_SET_PDEATHSIG = 1
#: Seconds between parent checks of a worker that cannot use prctl.
_WATCH_S = 1.0
#: Seconds a stopped child's process group gets between SIGTERM and SIGKILL.
GRACE_S = 2.0


class Stopped(RuntimeError):
    """A program was not started (or was stopped) because hwssm is shutting down."""


@functools.lru_cache(maxsize=1)
def _prctl():
    """libc's ``prctl`` (resolved once, in the parent: the forked child only calls it), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _set_pdeathsig() -> bool:
    prctl = _prctl()
    return prctl is not None and prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0


def die_with_parent(parent: int) -> None:
    """Arrange that this process is killed when ``parent`` (its parent's pid) goes away:
    ``PR_SET_PDEATHSIG`` where available, else a daemon thread watching the parent's pid."""
    if _set_pdeathsig():
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
        return

    def watch():
        while os.getppid() == parent:
            time.sleep(_WATCH_S)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="hwssm-parent-watch", daemon=True).start()


def _child_setup(parent: int) -> None:  # runs in the forked child, before exec
    _set_pdeathsig()
    if os.getppid() != parent:
        os._exit(1)


class signals_held:
    """Ignore SIGINT and SIGTERM inside the block (main thread only; elsewhere a no-op), so
    that a second signal cannot interrupt a teardown and leave processes behind."""

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self):
        self._saved = None
        if threading.current_thread() is threading.main_thread():
            self._saved = [signal.signal(s, signal.SIG_IGN) for s in self._SIGNALS]

    def __exit__(self, *exc):
        if self._saved is not None:
            for s, h in zip(self._SIGNALS, self._saved):
                signal.signal(s, h)


_lock = threading.Lock()
_live: set[subprocess.Popen] = set()
_stopping = 0


def live_children() -> list[int]:
    """Pids of the programs :func:`run` is waiting for now."""
    with _lock:
        return sorted(p.pid for p in _live)


def run(argv: list[str], *, cwd=None, env=None, stdin=None, stdout=None, stderr=None) -> int:
    """Run ``argv`` (an argument list, no shell) to completion; returns its exit status
    (negative: killed by that signal). The arguments are those of :class:`subprocess.Popen`.

    The child dies with the calling thread (see the module docstring) and is stopped by
    :func:`stopping`; an exception in the waiting thread (KeyboardInterrupt) stops it too.

    Raises
    ------
    Stopped
        When called inside :func:`stopping` (hwssm is shutting down).
    OSError
        When the program cannot be started.
    """
    with _lock:
        if _stopping:
            raise Stopped(f"not starting {argv[0]}: interrupted")
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout, stderr=stderr, process_group=0,
                             preexec_fn=functools.partial(_child_setup, os.getpid()))
        _live.add(p)
    try:
        return p.wait()
    except BaseException:
        with signals_held():
            _stop([p])
        raise
    finally:
        with _lock:
            _live.discard(p)


def _stop(procs: list[subprocess.Popen], grace: float = GRACE_S) -> None:
    """SIGTERM the process group of each of ``procs``, then SIGKILL what is left after ``grace`` s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, sig)
        deadline = time.monotonic() + grace
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(max(0.0, deadline - time.monotonic()))


@contextlib.contextmanager
def stopping(grace: float = GRACE_S):
    """Stop every program :func:`run` is waiting for (its whole process group) and refuse to
    start new ones until the block ends; signals are held meanwhile. Join the threads that
    were waiting on them inside the block (``pool.shutdown(wait=True)``)."""
    global _stopping
    with signals_held():
        with _lock:
            _stopping += 1
            procs = list(_live)
        try:
            _stop(procs, grace)
            yield
        finally:
            with _lock:
                _stopping -= 1


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
