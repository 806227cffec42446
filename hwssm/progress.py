"""A small progress bar on stderr for long CLI work (quiet when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress("label") as bar: bar.update(done, total)``; prints to stderr.

    On a terminal it redraws one line; otherwise it prints at most one line per 10 %.
    """

    def __init__(self, label: str, unit: str = "", stream=None):
        self.label, self.unit = label, unit
        self.stream = stream or sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.t0 = time.monotonic()
        self._last_decile = -1

    def __enter__(self):
        return self

    def update(self, done: int, total: int) -> None:
        frac = done / total if total else 1.0
        elapsed = time.monotonic() - self.t0
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        text = f"{self.label}: {done}/{total} {self.unit} [{elapsed:5.1f}s, eta {eta:5.1f}s]"
        if self.tty:
            width = 24
            fill = int(width * frac)
            self.stream.write("\r" + text + " |" + "#" * fill + "." * (width - fill) + "|")
            self.stream.flush()
        else:
            decile = int(frac * 10)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(text + "\n")
                self.stream.flush()

    def __exit__(self, *exc):
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
        return False
