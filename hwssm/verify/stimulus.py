"""Stimulus and expected values: pixel memory files for ``$readmemh`` and golden-engine traces.

The expected verification stream of one digit is ``r_{l+1}[t][h]`` for every step t,
block l and channel h, flattened in the order (t, l, h) (ARITHMETIC.md §3): ``T·L·H``
integers. Then come the ``n_classes`` logits and the predicted class.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from ..io import atomic_path
from ..quant.qmodel import QModel

__all__ = ["Expected", "write_pixels", "expected", "save_expected", "load_expected"]

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def write_pixels(path: str | Path, pixels) -> int:
    """Write (n, T) uint8 pixels as a ``$readmemh`` file, two hex digits per line, digits
    back to back (row-major). (n, T, C) samples: one line of 2·C hex digits per step, sample
    c in bits [8c, 8c+8) (sample C-1 first on the line). Returns the number of steps written."""
    a = np.ascontiguousarray(pixels, dtype=np.uint8)
    C = a.shape[2] if a.ndim == 3 else 1
    p = a.reshape(-1, C)[:, ::-1]                      # (steps, C), most significant sample first
    out = np.empty((p.shape[0], 2 * C + 1), dtype=np.uint8)
    out[:, 0:2 * C:2] = _HEX[p >> 4]
    out[:, 1:2 * C:2] = _HEX[p & 15]
    out[:, 2 * C] = ord("\n")
    with atomic_path(path) as tmp:
        tmp.write_bytes(out.tobytes())
    return int(p.shape[0])


@dataclasses.dataclass(frozen=True)
class Expected:
    """What the RTL must produce for n digits.

    Attributes
    ----------
    dbg : int64 (n, T·L·H)
        ``r_{l+1}[t][h]`` in the order (t, l, h).
    logits : int64 (n, n_classes)
    pred : int64 (n,)
    T, L, H : int
    """

    dbg: np.ndarray
    logits: np.ndarray
    pred: np.ndarray
    T: int
    L: int
    H: int

    @property
    def n(self) -> int:
        return int(self.pred.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.logits.shape[1])

    @property
    def dbg_per_digit(self) -> int:
        return self.T * self.L * self.H

    def where(self, i: int) -> tuple[int, int, int]:
        """(step, layer, channel) of position ``i`` in one digit's dbg stream."""
        t, rest = divmod(int(i), self.L * self.H)
        l, h = divmod(rest, self.H)
        return t, l, h


def expected(qm: QModel, pixels) -> Expected:
    """Expected outputs of ``qm`` for (n, T) pixels ((n, T, C) samples of a C-channel model),
    from the golden engine with traces.

    Memory is about 8·n·T·(4L+1)·H bytes during the call: pass a few dozen digits at a time.
    """
    from ..golden.engine import run
    from ..model.config import Family

    pix = np.asarray(pixels)
    if pix.ndim not in (2, 3):
        raise HwssmError(f"pixels must be (n, T) or (n, T, C), not shape {pix.shape}")
    if getattr(qm, "family", None) is Family.S5:   # the S5 golden engine: the same r trace (n, L+1, T, H)
        from ..golden.s5_engine import run_s5

        res = run_s5(qm, pix, trace=True)
    else:
        res = run(qm, pix, trace=True)
    n, T = pix.shape[:2]
    r = res.r[:, 1:]  # (n, L, T, H): block outputs
    dbg = np.ascontiguousarray(r.transpose(0, 2, 1, 3)).reshape(n, -1)
    return Expected(dbg, res.logits.astype(np.int64), res.pred.astype(np.int64), T, qm.L, qm.H)


def save_expected(path: str | Path, exp: Expected) -> None:
    """Write ``exp`` as an ``.npz`` (for inspecting a failing run)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, dbg=exp.dbg, logits=exp.logits, pred=exp.pred, shape=np.array([exp.T, exp.L, exp.H]))
    with atomic_path(path, suffix=".npz") as tmp:
        tmp.write_bytes(buf.getvalue())


def load_expected(path: str | Path) -> Expected:
    with np.load(path, allow_pickle=False) as z:
        T, L, H = (int(x) for x in z["shape"])
        return Expected(z["dbg"], z["logits"], z["pred"], T, L, H)
