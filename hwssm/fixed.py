"""Fixed-point formats: the one vocabulary for every integer in hwssm.

A :class:`QFormat` names how an integer *code* ``q`` stands for the real value
``q * 2**-frac``. It also names how a wider intermediate is brought back into it:
the rounding of the right shift and the handling of overflow.

The integer helpers here (:func:`rshift`, :func:`fit`, :func:`requantize`) are the
reference semantics. The numba golden engine and the RTL implement them exactly,
as ``hwssm/quant/ARITHMETIC.md`` writes down.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import operator
from collections.abc import Sequence

import numpy as np

__all__ = [
    "Rounding",
    "Overflow",
    "QFormat",
    "Term",
    "accumulator_format",
    "rshift",
    "fit",
    "align",
    "requantize",
    "signed_width",
]

MAX_WIDTH = 64
MAX_ABS_FRAC = 128


class Rounding(enum.Enum):
    """How a right shift by ``s`` bits rounds.

    FLOOR
        ``v >> s`` (arithmetic shift: toward minus infinity).
    HALF_UP
        ``(v + 2**(s-1)) >> s``: ties go toward plus infinity, so -2.5 rounds to -2.
    """

    FLOOR = "floor"
    HALF_UP = "half_up"


class Overflow(enum.Enum):
    """What happens to a value outside a format's range.

    SATURATE
        Clip to the nearest end of the range.
    WRAP
        Keep the low ``width`` bits (two's complement for signed formats).
    """

    SATURATE = "saturate"
    WRAP = "wrap"


@dataclasses.dataclass(frozen=True)
class QFormat:
    """A fixed-point format: integer codes of ``width`` bits standing for ``code * 2**-frac``.

    Parameters
    ----------
    width : int
        Bits of the code, 1..64 (2..64 when signed).
    frac : int
        Fractional bits: the code's unit is ``2**-frac``. It may exceed ``width``
        (every value is then smaller than 1, as with ``ap_fixed<W, I>`` for I < 0,
        which B̄ of order 1e-2 needs) or be negative (a unit above 1). |frac| <= 128
        (accumulators of products add the fracs of their factors).
    signed : bool
        Two's complement codes when True, else unsigned.
    rounding : Rounding
        Rounding of the right shifts that produce values of this format.
    overflow : Overflow
        Handling of values outside the range, saturate or wrap.
    """

    width: int
    frac: int
    signed: bool = True
    rounding: Rounding = Rounding.HALF_UP
    overflow: Overflow = Overflow.SATURATE

    def __post_init__(self) -> None:
        for name in ("width", "frac"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"QFormat {name} must be an integer, not {type(value).__name__}")
            object.__setattr__(self, name, operator.index(value))
        if not isinstance(self.signed, (bool, np.bool_)):
            raise ValueError(f"QFormat signed must be a bool, not {type(self.signed).__name__}")
        object.__setattr__(self, "signed", bool(self.signed))
        if not isinstance(self.rounding, Rounding):
            raise ValueError(f"QFormat rounding must be a Rounding, not {self.rounding!r}")
        if not isinstance(self.overflow, Overflow):
            raise ValueError(f"QFormat overflow must be an Overflow, not {self.overflow!r}")
        low = 2 if self.signed else 1
        if not low <= self.width <= MAX_WIDTH:
            kind = "signed" if self.signed else "unsigned"
            raise ValueError(f"QFormat width must be in [{low}, {MAX_WIDTH}] for a {kind} format, not {self.width}")
        if not -MAX_ABS_FRAC <= self.frac <= MAX_ABS_FRAC:
            raise ValueError(f"QFormat frac must be in [{-MAX_ABS_FRAC}, {MAX_ABS_FRAC}], not {self.frac}")

    # -- range -----------------------------------------------------------------
    @property
    def min_code(self) -> int:
        """Smallest code: ``-2**(width-1)`` when signed, else 0."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_code(self) -> int:
        """Largest code: ``2**(width-1) - 1`` when signed, else ``2**width - 1``."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def resolution(self) -> float:
        """Real value of one code step, ``2**-frac``."""
        return math.ldexp(1.0, -self.frac)

    @property
    def min(self) -> float:
        """Smallest representable real value."""
        return self.min_code * self.resolution

    @property
    def max(self) -> float:
        """Largest representable real value."""
        return self.max_code * self.resolution

    @property
    def name(self) -> str:
        """Short text such as ``s8.7`` (signed, 8 bits, 7 fractional) for tables and logs."""
        return f"{'s' if self.signed else 'u'}{self.width}.{self.frac}"

    def replace(self, **changes) -> "QFormat":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # -- conversion ------------------------------------------------------------
    def quantize(self, values) -> np.ndarray:
        """Real values → int64 codes: scale by ``2**frac``, round, then saturate or wrap.

        Raises ValueError on NaN or infinite input.
        """
        v = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise ValueError("cannot quantize NaN or infinite values")
        scaled = np.ldexp(v, self.frac)
        if self.rounding is Rounding.FLOOR:
            codes = np.floor(scaled)
        else:
            codes = np.floor(scaled + 0.5)
        # Clip to int64-safe magnitude before the cast; fit() then applies the format.
        codes = np.clip(codes, -(2.0**62), 2.0**62).astype(np.int64)
        return fit(codes, self)

    def dequantize(self, codes) -> np.ndarray:
        """Integer codes → float64 real values ``code * 2**-frac``."""
        return np.ldexp(np.asarray(codes, dtype=np.float64), -self.frac)

    def contains(self, codes) -> bool:
        """Whether every code lies in [min_code, max_code]."""
        c = np.asarray(codes)
        return bool(c.size == 0 or (c.min() >= self.min_code and c.max() <= self.max_code))


def signed_width(lo: int, hi: int) -> int:
    """Fewest bits of a two's complement integer that holds every value in [lo, hi]."""
    lo, hi = operator.index(lo), operator.index(hi)
    if lo > hi:
        raise ValueError(f"empty range [{lo}, {hi}]")
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


@dataclasses.dataclass(frozen=True)
class Term:
    """One term of an accumulated sum: ``count`` products ``a * b`` (or ``count`` values of ``a``).

    ``scale_log2`` is an extra exact left shift of the term (the 2 in ``2·Re(C̄x)``).
    The term's own fractional bits are ``a.frac + b.frac`` (``a.frac`` without ``b``).
    """

    a: QFormat
    b: QFormat | None = None
    count: int = 1
    scale_log2: int = 0

    @property
    def frac(self) -> int:
        return self.a.frac + (self.b.frac if self.b is not None else 0)

    def code_range(self) -> tuple[int, int]:
        """Smallest and largest integer value of the term before alignment."""
        if self.b is None:
            lo, hi = self.a.min_code, self.a.max_code
        else:
            corners = [x * y for x in (self.a.min_code, self.a.max_code) for y in (self.b.min_code, self.b.max_code)]
            lo, hi = min(corners), max(corners)
        k = self.count << self.scale_log2
        return lo * k, hi * k


def accumulator_format(terms: Sequence[Term], round_shift: int = 0) -> QFormat:
    """The accumulator for a sum of terms: worst-case width, and frac = the largest term frac.

    Every term is aligned to the accumulator by an exact left shift (no bits lost).
    When the sum is afterwards shifted right by ``round_shift`` with HALF_UP rounding,
    the added ``2**(round_shift-1)`` is included in the bound.

    This is the one function that sizes accumulators; the golden engine picks int32
    or int64 from it, and the RTL sizes its adders with it.
    """
    if not terms:
        raise ValueError("accumulator_format needs at least one term")
    frac = max(t.frac for t in terms)
    lo = hi = 0
    for t in terms:
        tlo, thi = t.code_range()
        shift = frac - t.frac
        lo += tlo << shift
        hi += thi << shift
    if round_shift > 0:
        hi += 1 << (round_shift - 1)
    width = signed_width(lo, hi)
    if width > MAX_WIDTH:
        raise ValueError(f"accumulator needs {width} bits, more than {MAX_WIDTH}: narrow the formats")
    return QFormat(width, frac)


# -- integer semantics (vectorized numpy on int64; the reference for kernels and RTL) --

def rshift(values, s: int, rounding: Rounding) -> np.ndarray:
    """Arithmetic shift right by ``s`` bits with the named rounding; ``s <= 0`` shifts left exactly."""
    v = np.asarray(values, dtype=np.int64)
    if s <= 0:
        return v << np.int64(-s)
    if rounding is Rounding.HALF_UP:
        v = v + np.int64(1 << (s - 1))
    return v >> np.int64(s)


def fit(values, fmt: QFormat) -> np.ndarray:
    """Bring integers into ``fmt``'s range: saturate, or keep the low ``width`` bits (wrap)."""
    v = np.asarray(values, dtype=np.int64)
    if fmt.overflow is Overflow.SATURATE:
        return np.clip(v, fmt.min_code, fmt.max_code)
    if fmt.width >= 64:
        return v.copy()
    mask = np.int64((1 << fmt.width) - 1)
    low = v & mask
    if fmt.signed:
        half = np.int64(1 << (fmt.width - 1))
        low = np.where(low >= half, low - np.int64(1 << fmt.width), low)
    return low


def align(values, from_frac: int, to_frac: int) -> np.ndarray:
    """Exact left shift of codes from ``from_frac`` to ``to_frac >= from_frac`` fractional bits."""
    if to_frac < from_frac:
        raise ValueError(f"align only shifts left: {from_frac} -> {to_frac}")
    return np.asarray(values, dtype=np.int64) << np.int64(to_frac - from_frac)


def requantize(acc, acc_frac: int, out: QFormat) -> np.ndarray:
    """Accumulator codes at ``acc_frac`` → codes of ``out``: rounding shift, then saturate or wrap."""
    return fit(rshift(acc, acc_frac - out.frac, out.rounding), out)
