"""Compare what the RTL emitted with the golden engine, exactly, and locate the first difference.

Rule: bit-exact. Every ``r_{l+1}[t][h]`` of every step, block and channel, every logit and
every class must equal the golden engine's (``assert_array_equal`` semantics); a missing or
extra output is a mismatch too. The *first* mismatch is the earliest digit with any
difference; within a digit the dbg stream (in emission order t, l, h) comes first, then the
logits, then the class.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np

from .outputs import SimOutputs
from .stimulus import Expected

__all__ = ["Stream", "Mismatch", "BatchCheck", "check_batch"]


class Stream(enum.Enum):
    """Which output a mismatch is in."""

    DBG = "dbg"
    LOGIT = "logit"
    CLASS = "class"


@dataclasses.dataclass(frozen=True)
class Mismatch:
    """One differing output.

    ``digit`` is the digit's index in the data set (MNIST test index for real digits).
    For ``Stream.DBG``: ``step``, ``layer``, ``channel`` locate ``r_{layer+1}[step][channel]``;
    for ``Stream.LOGIT``: ``channel`` is the class k. ``got`` is None when the RTL emitted
    nothing there (a missing output); ``expected`` is None for an extra output.
    """

    digit: int
    stream: Stream
    step: int | None
    layer: int | None
    channel: int | None
    expected: int | None
    got: int | None

    def describe(self) -> str:
        if self.stream is Stream.DBG:
            where = f"step {self.step}, layer {self.layer}, channel {self.channel} (r_{self.layer + 1})"
        elif self.stream is Stream.LOGIT:
            where = f"logit of class {self.channel}"
        else:
            where = "class"
        got = "nothing (missing output)" if self.got is None else str(self.got)
        exp = "nothing (extra output)" if self.expected is None else str(self.expected)
        return f"digit {self.digit}, {where}: expected {exp}, got {got}"

    def to_json(self) -> dict:
        return {"digit": self.digit, "stream": self.stream.value, "step": self.step, "layer": self.layer,
                "channel": self.channel, "expected": self.expected, "got": self.got}


@dataclasses.dataclass(frozen=True)
class BatchCheck:
    """Result of comparing one batch.

    Attributes
    ----------
    first : Mismatch or None
    bad : bool (n,)
        Digits with any difference (all digits from the first misaligned one on when an
        output count is wrong, since later outputs can no longer be attributed).
    """

    first: Mismatch | None
    bad: np.ndarray

    @property
    def mismatches(self) -> int:
        return int(self.bad.sum())


def _first_diff(exp: np.ndarray, got: np.ndarray) -> int | None:
    """Index of the first difference of two flat streams (a length difference counts)."""
    k = min(exp.size, got.size)
    d = np.flatnonzero(exp[:k] != got[:k])
    if d.size:
        return int(d[0])
    if exp.size != got.size:
        return k
    return None


def _bad_digits(exp: np.ndarray, got: np.ndarray, per: int, n: int) -> np.ndarray:
    """Per digit: any difference in a stream of ``per`` values per digit."""
    bad = np.zeros(n, dtype=bool)
    k = min(exp.size, got.size)
    full = k // per
    if full:
        bad[:full] = np.any(exp[: full * per].reshape(full, per) != got[: full * per].reshape(full, per), axis=1)
    if exp.size != got.size:
        bad[min(full, n - 1) if n else 0:] = True
    return bad


def check_batch(exp: Expected, got: SimOutputs, indices) -> BatchCheck:
    """Compare one run's outputs with ``exp``; ``indices`` (n,) name the digits in reports."""
    indices = np.asarray(indices, dtype=np.int64)
    n, S, K = exp.n, exp.dbg_per_digit, exp.n_classes
    streams = [
        (Stream.DBG, exp.dbg.ravel(), got.dbg, S),
        (Stream.LOGIT, exp.logits.ravel(), got.logits, K),
        (Stream.CLASS, exp.pred.ravel(), got.classes, 1),
    ]
    bad = np.zeros(n, dtype=bool)
    firsts = []
    for order, (stream, e, g, per) in enumerate(streams):
        bad |= _bad_digits(e, g, per, n)
        i = _first_diff(e, g)
        if i is None:
            continue
        digit, pos = divmod(i, per)
        ev = int(e[i]) if i < e.size else None
        gv = int(g[i]) if i < g.size else None
        label = int(indices[digit]) if digit < n else int(indices[-1]) + digit - n + 1
        if stream is Stream.DBG:
            t, l, h = exp.where(pos)
            m = Mismatch(label, stream, t, l, h, ev, gv)
        elif stream is Stream.LOGIT:
            m = Mismatch(label, stream, None, None, pos, ev, gv)
        else:
            m = Mismatch(label, stream, None, None, None, ev, gv)
        firsts.append((digit, order, m))
    first = min(firsts, key=lambda x: (x[0], x[1]))[2] if firsts else None
    return BatchCheck(first, bad)
