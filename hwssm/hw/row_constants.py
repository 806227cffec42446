"""The RTL's per-row constants, from the contract's lowering plus the RTL's documented rewrites.

Every term frac, accumulator frac ``F`` and requantization shift comes from
:mod:`hwssm.quant.lowering` (the contract lowered once); this module adds only the RTL's
exact rewrites (ARITHMETIC.md allows any rewrite that gives the same integers):

- **Accumulator frac.** Each row accumulates at ``F' = max(F, out.frac) = F + lsh``: every
  term is shifted further left by the requantization's pre-shift ``lsh``, which makes every
  rounding shift ``rsh = F' - out.frac >= 0``; ``rshift(acc·2^lsh, rsh) = rshift(acc, F - out.frac)``.
- **Readout.** A lane aligns its two readout products to ``Gc = max(fCr+fxr, fCi+fxi)``;
  the row finish multiplies the mode sum by ``2^(1 + G' - Gc)`` (the 2 of 2·Re(C̄x) and
  the remaining alignment) and adds ``D·u`` aligned to ``G'``.
- **Biases** are stored pre-aligned (``b · 2^(F' - fb)``) in the row ROMs.
- **Widths** are the lowering's accumulator width (:func:`hwssm.fixed.accumulator_format`)
  plus ``lsh`` plus one guard bit (a subtracted term's range is its mirror image, one LSB
  outside the function's range); the RTL's own partial sums (lane readout pair, mode sum,
  raw product sums) are sized by the same function. Every width is also checked against
  an exact bound at generation time.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..fixed import Rounding, Term, accumulator_format, signed_width
from ..quant.lowering import MixFormats, SsmFormats, SsmSums, SumRow

__all__ = ["GUARD", "SsmRow", "MixRow", "ssm_row_constants", "mix_row_constants", "sum_width", "rtl_width", "shifts"]

#: Extra accumulator bit on top of accumulator_format (see the module docstring).
GUARD = 1

#: Formats of one S4D row (the lowering's :class:`~hwssm.quant.lowering.SsmFormats`).
SsmRow = SsmFormats
#: Formats of one mixing output row (the lowering's :class:`~hwssm.quant.lowering.MixFormats`).
MixRow = MixFormats


def _check_exact(terms: list[tuple[int, Term, int]], rounding: Rounding, round_shift: int, width: int) -> None:
    """Assert that ``Σ sign·term·2^shift`` (+ the HALF_UP constant) fits ``width`` signed bits."""
    lo = hi = 0
    for sign, t, sh in terms:
        tlo, thi = t.code_range()
        if sign < 0:
            tlo, thi = -thi, -tlo
        lo += tlo << sh
        hi += thi << sh
    if rounding is Rounding.HALF_UP and round_shift > 0:
        hi += 1 << (round_shift - 1)
    if signed_width(lo, hi) > width:  # pragma: no cover - a bug in the sizing rule
        raise AssertionError(f"accumulator of width {width} cannot hold [{lo}, {hi}]")


def sum_width(terms: list[tuple[int, Term]], target_frac: int, round_shift: int, rounding: Rounding) -> int:
    """Width of an RTL partial sum ``Σ sign·term·2^(target_frac - term.frac)`` (+ the HALF_UP
    constant of a ``round_shift`` rshift): accumulator_format + alignment + GUARD, checked exactly."""
    F = max(t.frac for _, t in terms)
    e = target_frac - F
    if e < 0:
        raise AssertionError("target frac below the natural accumulator frac")
    width = accumulator_format([t for _, t in terms], max(0, round_shift - e)).width + e + GUARD
    _check_exact([(s, t, target_frac - t.frac) for s, t in terms], rounding, round_shift, width)
    return width


def rtl_width(s: SumRow) -> int:
    """Width of a contract sum accumulated at ``F' = F + lsh``: the lowering's width + lsh + GUARD."""
    width = s.width + s.rq.lsh + GUARD
    _check_exact([(t.sign, t.term, t.align + s.rq.lsh) for t in s.terms], s.rq.out.rounding, s.rq.rsh, width)
    return width


def shifts(s: SumRow) -> tuple[int, ...]:
    """The RTL's left shift of each term of ``s``: its alignment plus the pre-shift ``lsh``."""
    return tuple(a + s.rq.lsh for a in s.aligns)


def ssm_row_constants(rows: Sequence[SsmSums]) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Per-row shifts and worst-case widths of the state update, readout and row finish.

    ``rows`` are lowered S4D rows (:func:`hwssm.quant.lowering.ssm_row`). Returns
    ``(shifts, widths)``: shifts name -> per-row values (ar, ai, br: the three re terms; ax,
    ia, bi: the im terms; re, im: the requant shifts; cr, ci: readout alignment to Gc; es,
    ed, sy: row finish), widths name -> bits (acc_re, acc_im, part, rowsum, fin).
    """
    sh: dict[str, list[int]] = {k: [] for k in ("ar", "ai", "br", "ax", "ia", "bi", "re", "im", "cr", "ci", "es", "ed", "sy")}
    wd = {"acc_re": 0, "acc_im": 0, "part": 0, "rowsum": 0, "fin": 0}
    for r in rows:
        for names, s, key, acc in ((("ar", "ai", "br"), r.xr, "re", "acc_re"), (("ax", "ia", "bi"), r.xi, "im", "acc_im")):
            for name, v in zip(names, shifts(s)):
                sh[name].append(v)
            sh[key].append(s.rq.rsh)
            wd[acc] = max(wd[acc], rtl_width(s))
        # readout: lane partial at Gc, row sum over M modes, finish at G' = G + lsh
        y = r.y
        t_c, t_s, t_d = (t.term for t in y.terms)        # 2·M·Cr·xr, 2·M·Ci·xi, D·u
        t_cr, t_ci = Term(t_c.a, t_c.b), Term(t_s.a, t_s.b)
        Gc = max(t_cr.frac, t_ci.frac)
        sh["cr"].append(Gc - t_cr.frac)
        sh["ci"].append(Gc - t_ci.frac)
        rnd_y = y.rq.out.rounding
        wd["part"] = max(wd["part"], sum_width([(1, t_cr), (-1, t_ci)], Gc, 0, rnd_y))
        wd["rowsum"] = max(wd["rowsum"], sum_width([(1, Term(t_c.a, t_c.b, t_c.count)),
                                                    (-1, Term(t_s.a, t_s.b, t_s.count))], Gc, 0, rnd_y))
        G = y.F + y.rq.lsh
        sh["es"].append(1 + G - Gc)
        sh["ed"].append(shifts(y)[2])
        sh["sy"].append(y.rq.rsh)
        wd["fin"] = max(wd["fin"], rtl_width(y))
    return sh, wd


def mix_row_constants(rows: Sequence[SumRow]) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Per-row shifts of a linear layer output (w: product-sum alignment, bshift: bias
    alignment, v: requant shift) and widths (racc: raw Σ W·g, fin: aligned sum + bias).

    ``rows`` are lowered mixing rows (:func:`hwssm.quant.lowering.mix_row`)."""
    sh: dict[str, list[int]] = {"w": [], "bshift": [], "v": []}
    wd = {"racc": 0, "fin": 0}
    for r in rows:
        w, b = shifts(r)
        sh["w"].append(w)
        sh["bshift"].append(b)
        sh["v"].append(r.rq.rsh)
        t_w = r.terms[0].term
        wd["racc"] = max(wd["racc"], sum_width([(1, t_w)], t_w.frac, 0, r.rq.out.rounding))
        wd["fin"] = max(wd["fin"], rtl_width(r))
    return sh, wd
