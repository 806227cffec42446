"""Run an external EDA tool in a work directory, with its output kept in log files.

yowasp tools see ``/tmp`` as a private directory, so every path handed to a tool
is relative to the work directory, which is the tool's current directory.

Tools run through :func:`hwssm.procs.run`: they die with hwssm (even on SIGKILL) and an
interruption stops them (:func:`hwssm.procs.stopping`).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from .. import procs
from ..config import Tool
from ..errors import HwssmError

Progress = Callable[[str], None]

_ERROR = re.compile(r"ERROR:")


@dataclasses.dataclass(frozen=True)
class ToolRun:
    """One finished tool run: exit status, wall time in seconds, and where its logs are."""

    returncode: int
    seconds: float
    log: Path
    output: Path

    def log_text(self) -> str:
        """The tool's own log, or its captured stdout/stderr when it wrote none."""
        for p in (self.log, self.output):
            if p.is_file():
                text = p.read_text(errors="replace")
                if text.strip():
                    return text
        return ""


def run_tool(tool: Tool, args: list[str], *, cwd: Path, log_name: str, label: str, progress: Progress | None) -> ToolRun:
    """Run ``tool.argv + args`` in ``cwd``; stdout and stderr go to ``cwd/<log_name>.out``.

    ``args`` should make the tool write its own log to ``cwd/<log_name>.log``.
    ``label`` names the step in progress lines (``"yosys synth_ice40 -dsp"``).
    """
    out_path = cwd / f"{log_name}.out"
    if progress:
        progress(f"{label} ...")
    start = time.monotonic()
    try:
        with out_path.open("wb") as out:
            rc = procs.run([*tool.argv, *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    except procs.Stopped:
        raise HwssmError(f"{label}: not run (interrupted)") from None
    except OSError as exc:
        raise HwssmError(f"cannot run {tool.name} ({' '.join(tool.argv)}): {exc.strerror or exc}") from None
    seconds = time.monotonic() - start
    if progress:
        progress(f"{label} ... {seconds:.1f} s" + ("" if rc == 0 else f" (exit status {rc})"))
    return ToolRun(rc, seconds, cwd / f"{log_name}.log", out_path)


def first_error(text: str) -> str | None:
    """The first ``ERROR:`` line of a Yosys/nextpnr log, trimmed to one message."""
    for line in text.splitlines():
        m = _ERROR.search(line)
        if m:
            msg = line.strip()
            # Yosys repeats the message on the same line when it lacks a trailing newline.
            second = msg.find("ERROR:", msg.find("ERROR:") + 1)
            if second > 0:
                msg = msg[:second].strip()
            return msg
    return None


def fail(label: str, run: ToolRun) -> HwssmError:
    """The one-line error for a failed run: its first ERROR line and the log path."""
    msg = first_error(run.log_text())
    where = run.log if run.log.is_file() else run.output
    if msg is None:
        # No ERROR line: a crash (e.g. "wasm trap: call stack exhausted"); its output says why.
        msg = f"exit status {run.returncode}"
        tail = _last_line(run.output)
        if tail:
            msg += f": {tail}"
            where = run.output
    return HwssmError(f"{label} failed: {msg} (log: {where})")


def _last_line(path: Path) -> str | None:
    if not path.is_file():
        return None
    lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else None
