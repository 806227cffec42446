"""One accumulated sum of ARITHMETIC.md, lowered: term alignments, accumulator, requantization.

Every operation of the contract (encoder, state update, readout, mixing, GLU, residual,
decoder) is a sum of terms aligned to the largest term frac ``F``, summed exactly, then
requantized once (ARITHMETIC.md §1). :func:`lower_sum` is the one place that turns the
formats of such a sum into integers: each term's alignment ``F - f_i``, the accumulator
width (:func:`hwssm.fixed.accumulator_format`) and the requantization shift
``s = F - out.frac`` with its constants. The row builders (:func:`encoder_row`,
:func:`ssm_row`, :func:`mix_row`, :func:`glu_row`, :func:`residual_row`,
:func:`decoder_row`) name the terms of each operation, in the document's order and signs.

A sum the contract does not allow (see ARITHMETIC.md §5) raises
:class:`~hwssm.quant.qmodel.QModelError` (one line naming the sum).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..fixed import MAX_WIDTH, Overflow, QFormat, Rounding, Term, accumulator_format
from .qmodel import QModelError

__all__ = [
    "RQ_LSH", "RQ_RND", "RQ_RSH", "RQ_LO", "RQ_HI", "RQ_WRAP", "RQ_COLS", "requant_record",
    "TermRow", "Requant", "SumRow", "lower_sum", "SsmFormats", "SsmSums", "MixFormats",
    "encoder_row", "ssm_row", "mix_row", "glu_row", "residual_row", "decoder_row",
]

#: Column order of a requantization record (int64 rows): pre-shift, rounding addend,
#: right shift, saturation bounds, wrap (64 - width, 0 when the format saturates).
RQ_LSH, RQ_RND, RQ_RSH, RQ_LO, RQ_HI, RQ_WRAP = range(6)
RQ_COLS = 6


def requant_record(acc_frac: int, out: QFormat) -> np.ndarray:
    """The 6 constants (RQ_* columns) that turn an accumulator at ``acc_frac`` into a code of ``out``.

    Applying them (int64): ``v = ((acc << lsh) + rnd) >> rsh``, then ``clip(v, lo, hi)``, or,
    when ``wrap != 0``, ``(v << wrap) >> wrap`` (the low ``64 - wrap`` bits, signed). One of
    lsh, rsh is 0; ``rnd = 2**(rsh-1)`` under HALF_UP (0 under FLOOR or when rsh = 0).
    """
    s = acc_frac - out.frac
    lsh, rsh = max(-s, 0), max(s, 0)
    rnd = (1 << (rsh - 1)) if (rsh > 0 and out.rounding is Rounding.HALF_UP) else 0
    wrap = 64 - out.width if out.overflow is Overflow.WRAP else 0
    # A legal QModel has lsh, rsh <= 63 (ARITHMETIC.md §5); the clamps keep int64 arithmetic defined.
    return np.array([min(lsh, 63), rnd, min(rsh, 63), out.min_code, out.max_code, wrap], dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class TermRow:
    """One term of a sum: ``sign · Σ_count (a·b) · 2^scale_log2``, aligned by ``align`` bits.

    ``term`` holds the factors' effective formats (:class:`hwssm.fixed.Term`); its frac is
    ``f_i = a.frac + b.frac``; ``align = F - f_i >= 0`` is the exact left shift to the
    accumulator frac ``F``.
    """

    term: Term
    sign: int
    align: int

    @property
    def frac(self) -> int:
        return self.term.frac


@dataclasses.dataclass(frozen=True)
class Requant:
    """``requant(acc, F, out)`` of ARITHMETIC.md: shift ``s = F - out.frac``, then fit to ``out``.

    ``out``'s own rounding and overflow fields rule the shift and the fit.
    """

    acc_frac: int
    out: QFormat

    @property
    def shift(self) -> int:
        """``s = F - out.frac``: a right shift when positive, an exact left shift when negative."""
        return self.acc_frac - self.out.frac

    @property
    def lsh(self) -> int:
        """Left pre-shift ``max(-s, 0)``."""
        return max(-self.shift, 0)

    @property
    def rsh(self) -> int:
        """Rounding right shift ``max(s, 0)``."""
        return max(self.shift, 0)

    @property
    def rnd(self) -> int:
        """Rounding addend: ``2**(rsh-1)`` under HALF_UP with rsh > 0, else 0."""
        return (1 << (self.rsh - 1)) if (self.rsh > 0 and self.out.rounding is Rounding.HALF_UP) else 0

    def record(self) -> np.ndarray:
        """int64 (6,): the RQ_* columns (:func:`requant_record`)."""
        return requant_record(self.acc_frac, self.out)


@dataclasses.dataclass(frozen=True)
class SumRow:
    """One accumulated sum of one row.

    Attributes
    ----------
    terms : tuple of TermRow
        In ARITHMETIC.md's order.
    F : int
        Accumulator frac, the largest term frac.
    width : int
        Accumulator width in bits (sign included) from :func:`hwssm.fixed.accumulator_format`,
        the HALF_UP addend of a right shift included.
    rq : Requant or None
        The requantization (None for the decoder, whose sums are not requantized).
    """

    terms: tuple[TermRow, ...]
    F: int
    width: int
    rq: Requant | None

    @property
    def aligns(self) -> tuple[int, ...]:
        return tuple(t.align for t in self.terms)

    @property
    def pre_width(self) -> int:
        """Width of ``(acc << lsh) + rnd``: the sum after the requantization's left pre-shift."""
        return self.width + (self.rq.lsh if self.rq is not None else 0)


def lower_sum(terms: Sequence[tuple[int, Term]], out: QFormat | None, where: str) -> SumRow:
    """Lower ``Σ sign·term`` requantized to ``out`` (None: not requantized).

    Raises QModelError naming ``where`` when the sum is not legal (ARITHMETIC.md §5): an
    accumulator (requantization pre-shift and rounding addend included) wider than 64 bits,
    which also rules out shifts of 64 bits or more.
    """
    F = max(t.frac for _, t in terms)
    rq = Requant(F, out) if out is not None else None
    round_shift = rq.shift if rq is not None else 0
    if abs(round_shift) >= MAX_WIDTH:
        kind = "right" if round_shift > 0 else "left"
        raise QModelError(f"{where}: requantizing from frac {F} to {out.name} shifts {kind} by {abs(round_shift)} "
                          f"bits; shifts of {MAX_WIDTH} bits or more are not legal (ARITHMETIC.md §5)")
    try:
        width = accumulator_format([t for _, t in terms], round_shift).width
    except ValueError as exc:
        raise QModelError(f"{where}: {exc} (ARITHMETIC.md §5)") from None
    row = SumRow(tuple(TermRow(t, sign, F - t.frac) for sign, t in terms), F, width, rq)
    if row.pre_width > MAX_WIDTH:
        raise QModelError(f"{where}: requantizing to {out.name} shifts left by {rq.lsh} bits, so the sum "
                          f"needs {row.pre_width} bits, more than {MAX_WIDTH} (ARITHMETIC.md §5)")
    if out is not None and out.overflow is Overflow.WRAP and not out.signed and out.width >= MAX_WIDTH:
        raise QModelError(f"{where}: an unsigned wrapping format of {out.width} bits is not supported "
                          f"(at most {MAX_WIDTH - 1}, ARITHMETIC.md §5)")
    return row


# -- the rows of each operation -------------------------------------------------------------

def encoder_row(We: QFormat, be: QFormat, p: QFormat, R0: QFormat, where: str, C: int = 1) -> SumRow:
    """Encoder channel h (§2.1): ``Σ_c We[c]·p[c] + be`` (C products) requantized to R_0.

    A token model's row is ``We[token]·1 + be`` (``p`` the one-hot indicator, C = 1)."""
    return lower_sum([(1, Term(We, p, C)), (1, Term(be))], R0, where)


@dataclasses.dataclass(frozen=True)
class SsmFormats:
    """Formats of one S4D row (layer l, channel h): effective Ā, B̄, C̄, D, the state formats
    Xre[h], Xim[h], the input u and the readout output Y_l; M modes per channel."""

    Ar: QFormat
    Ai: QFormat
    Br: QFormat
    Bi: QFormat
    Cr: QFormat
    Ci: QFormat
    D: QFormat
    Xr: QFormat
    Xi: QFormat
    U: QFormat
    Y: QFormat
    M: int


@dataclasses.dataclass(frozen=True)
class SsmSums:
    """The three sums of one S4D row: state update (real at Fre, imaginary at Fim) and readout (at G)."""

    xr: SumRow
    xi: SumRow
    y: SumRow


def ssm_row(f: SsmFormats, where: str = "S4D row") -> SsmSums:
    """State update and readout of one channel (§2.2).

    Terms: xr' = Ar·xr - Ai·xi + Br·u; xi' = Ar·xi + Ai·xr + Bi·u;
    y = 2·Σ_m Cr·xr' - 2·Σ_m Ci·xi' + D·u (the first two terms: M products, scale 2^1).
    """
    xr = lower_sum([(1, Term(f.Ar, f.Xr)), (-1, Term(f.Ai, f.Xi)), (1, Term(f.Br, f.U))], f.Xr, f"{where} xr")
    xi = lower_sum([(1, Term(f.Ar, f.Xi)), (1, Term(f.Ai, f.Xr)), (1, Term(f.Bi, f.U))], f.Xi, f"{where} xi")
    y = lower_sum([(1, Term(f.Cr, f.Xr, f.M, 1)), (-1, Term(f.Ci, f.Xi, f.M, 1)), (1, Term(f.D, f.U))],
                  f.Y, f"{where} y")
    return SsmSums(xr, xi, y)


@dataclasses.dataclass(frozen=True)
class MixFormats:
    """Formats of one linear output row j: effective weight W[j] and bias b[j], input g,
    output v; K inputs (H for the mixing)."""

    W: QFormat
    b: QFormat
    G: QFormat
    V: QFormat
    K: int


def mix_row(f: MixFormats, where: str = "mixing row") -> SumRow:
    """Mixing output j (§2.2): ``Σ_h W[j,h]·g[h] + b[j]`` requantized to V_l."""
    return lower_sum([(1, Term(f.W, f.G, f.K)), (1, Term(f.b))], f.V, where)


def glu_row(V: QFormat, S: QFormat, Z: QFormat, where: str) -> SumRow:
    """GLU (§2.2): ``v[h]·σ`` requantized to Z_l."""
    return lower_sum([(1, Term(V, S))], Z, where)


def residual_row(Z: QFormat, U: QFormat, R: QFormat, where: str) -> SumRow:
    """Residual (§2.2): ``z + u`` requantized to R_{l+1}."""
    return lower_sum([(1, Term(Z)), (1, Term(U))], R, where)


def decoder_row(Wd: QFormat, S: QFormat, H: int, bd: QFormat, where: str) -> SumRow:
    """Decoder class k (§2.3): ``Σ_h Wd[k,h]·S[h] + bd[k]`` (not requantized)."""
    return lower_sum([(1, Term(Wd, S, H)), (1, Term(bd))], None, where)
