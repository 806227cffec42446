"""ROM packing of per-row constants: shift ranges, row tables and their words.

:class:`Table` packs the per-row constants of one ROM (shift amounts, signed values) into
words, turning every field that never varies into a constant (no ROM bits, no hardware);
:class:`Shift` is the range of one shift field. :func:`pack_fields` packs a coefficient word.
Pure Python: :meth:`Table.unpack` imports Amaranth only when the hardware side calls it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..fixed import signed_width

__all__ = ["Shift", "Table", "pack_fields"]


@dataclasses.dataclass(frozen=True)
class Shift:
    """A shift amount that varies over rows in ``[lo, hi]``; ROMs store ``value - lo``."""

    lo: int
    hi: int

    @property
    def width(self) -> int:
        """Bits of the variable part (0: constant shift)."""
        return (self.hi - self.lo).bit_length()

    @property
    def const(self) -> bool:
        return self.lo == self.hi

    @classmethod
    def of(cls, values) -> "Shift":
        v = np.asarray(values, dtype=np.int64).ravel()
        return cls(int(v.min()), int(v.max()))


class Table:
    """Per-row constants packed into ROM words (fields that never vary become constants).

    ``shift(name, values)`` adds a shift amount, ``value(name, values)`` a signed integer.
    ``words()`` gives the ROM contents; :meth:`unpack` (hardware side) turns a ROM data
    word into :class:`~hwssm.hw.ops.ShiftAmt` / signed values.
    """

    def __init__(self, rows: int):
        self.rows = int(rows)
        self._fields: list[tuple[str, str, int, int, np.ndarray | None]] = []
        self.shifts: dict[str, Shift] = {}
        self.value_widths: dict[str, int] = {}
        self.consts: dict[str, int] = {}

    def _check(self, name, values):
        v = np.asarray(values, dtype=object).ravel()
        if v.shape != (self.rows,):
            raise ValueError(f"table field {name}: {v.shape} values for {self.rows} rows")
        return [int(x) for x in v]

    def shift(self, name: str, values, rng: Shift | None = None) -> Shift:
        """Add a shift field; ``rng`` forces a common range (identical layouts across lanes)."""
        vals = self._check(name, values)
        sh = rng if rng is not None else Shift(min(vals), max(vals))
        if min(vals) < sh.lo or max(vals) > sh.hi:
            raise ValueError(f"table field {name}: values outside {sh}")
        self.shifts[name] = sh
        if sh.width:
            self._fields.append((name, "shift", sh.width, sh.lo, np.array([x - sh.lo for x in vals], dtype=object)))
        return sh

    def value(self, name: str, values, width: int | None = None, stored: bool = False) -> int:
        """Add a signed value field; ``stored`` keeps it in the ROM even when constant."""
        vals = self._check(name, values)
        w = width if width is not None else max(2, signed_width(min(vals), max(vals)))
        self.value_widths[name] = w
        if len(set(vals)) == 1 and not stored:
            self.consts[name] = vals[0]
        else:
            self._fields.append((name, "value", w, 0, np.array(vals, dtype=object)))
        return w

    @property
    def width(self) -> int:
        return sum(f[2] for f in self._fields)

    def words(self) -> list[int]:
        out = [0] * self.rows
        pos = 0
        for _, _, w, _, vals in self._fields:
            mask = (1 << w) - 1
            for i, x in enumerate(vals):
                out[i] |= (int(x) & mask) << pos
            pos += w
        return out

    def unpack(self, data) -> dict:
        """Hardware: ``{name: ShiftAmt | signed Value}`` from a ROM data word (or None if width 0)."""
        from amaranth.hdl import Const, signed

        from .rtl.ops import ShiftAmt

        out = {}
        pos = 0
        stored = {}
        for name, kind, w, lo, _ in self._fields:
            stored[name] = (kind, data[pos:pos + w], lo)
            pos += w
        for name, sh in self.shifts.items():
            if name in stored:
                out[name] = ShiftAmt(sh.lo, stored[name][1])
            else:
                out[name] = ShiftAmt(sh.lo, None)
        for name, w in self.value_widths.items():
            if name in stored:
                out[name] = stored[name][1].as_signed()
            else:
                out[name] = Const(self.consts[name], signed(w))
        return out


def pack_fields(values, widths) -> int:
    """One ROM word: ``values`` packed low field first, each in its ``width`` bits (two's complement)."""
    word, pos = 0, 0
    for v, w in zip(values, widths):
        word |= (int(v) & ((1 << w) - 1)) << pos
        pos += w
    return word
