"""PLL divider settings for a requested output clock (pure Python).

iCE40 ``SB_PLL40_*`` with ``FEEDBACK_PATH="SIMPLE"`` (iCE40 sysCLOCK PLL design guide,
TN1251; the search of IceStorm's ``icepll``)::

    F_PFD  = F_in / (DIVR + 1)                 10 .. 133 MHz
    F_VCO  = F_PFD * (DIVF + 1)                533 .. 1066 MHz
    F_out  = F_VCO / 2**DIVQ                   DIVQ 1 .. 6

FILTER_RANGE from F_PFD as icepll chooses it. ECP5 ``EHXPLLL`` with CLKOP feedback (the
search of prjtrellis' ``ecppll``)::

    F_PFD = F_in / CLKI_DIV                    >= 3.125 MHz
    F_out = F_PFD * CLKFB_DIV                  CLKFB_DIV 1 .. 80
    F_VCO = F_out * CLKOP_DIV                  400 .. 800 MHz

Gowin ``rPLL`` (GW1NR-9 C6/I5; the search and the limits of Apycula's ``gowin_pll``, from
Gowin's DS117)::

    F_PFD = F_in / (IDIV_SEL + 1)              3 .. 400 MHz
    F_out = F_PFD * (FBDIV_SEL + 1)            3.125 .. 600 MHz (exclusive)
    F_VCO = F_out * ODIV_SEL                   400 .. 1200 MHz (exclusive), ODIV_SEL 2, 4, 8, 16, 32, 48 .. 128

The searches return the first setting with the smallest error (ECP5 ties: VCO nearest
600 MHz), the settings the tools print (``tests/board/test_pll.py`` compares).
"""

from __future__ import annotations

import dataclasses

from ..errors import HwssmError

__all__ = ["Ice40Pll", "Ecp5Pll", "GowinPll", "ice40_pll", "ecp5_pll", "gowin_pll"]


@dataclasses.dataclass(frozen=True)
class Ice40Pll:
    """``SB_PLL40`` parameters (SIMPLE feedback) and the frequencies they give, Hz."""

    divr: int
    divf: int
    divq: int
    filter_range: int
    f_in: float
    f_out: float
    f_vco: float


@dataclasses.dataclass(frozen=True)
class Ecp5Pll:
    """``EHXPLLL`` parameters (CLKOP feedback) and the frequencies they give, Hz."""

    clki_div: int
    clkfb_div: int
    clkop_div: int
    clkop_cphase: int
    f_in: float
    f_out: float
    f_vco: float


@dataclasses.dataclass(frozen=True)
class GowinPll:
    """``rPLL`` parameters (internal feedback, CLKOUT) and the frequencies they give, Hz."""

    idiv_sel: int
    fbdiv_sel: int
    odiv_sel: int
    f_in: float
    f_out: float
    f_vco: float


def ice40_pll(f_in_hz: float, f_out_hz: float) -> Ice40Pll:
    """The ``SB_PLL40`` setting nearest ``f_out_hz`` from ``f_in_hz``; HwssmError when none exists."""
    fin, want = f_in_hz / 1e6, f_out_hz / 1e6
    best = None
    for divr in range(16):
        pfd = fin / (divr + 1)
        if not 10.0 <= pfd <= 133.0:
            continue
        for divf in range(128):
            vco = pfd * (divf + 1)
            if not 533.0 <= vco <= 1066.0:
                continue
            for divq in range(1, 7):
                out = vco / (1 << divq)
                err = abs(out - want)
                if best is None or err < best[0]:
                    best = (err, divr, divf, divq, out, vco, pfd)
    if best is None:
        raise HwssmError(f"no iCE40 PLL setting reaches {want:g} MHz from {fin:g} MHz")
    _, divr, divf, divq, out, vco, pfd = best
    rng = next((i + 1 for i, lim in enumerate((17, 26, 44, 66, 101)) if pfd < lim), 6)
    return Ice40Pll(divr, divf, divq, rng, f_in_hz, out * 1e6, vco * 1e6)


def ecp5_pll(f_in_hz: float, f_out_hz: float) -> Ecp5Pll:
    """The ``EHXPLLL`` setting nearest ``f_out_hz`` from ``f_in_hz``; HwssmError when none exists."""
    fin, want = f_in_hz / 1e6, f_out_hz / 1e6
    best = None
    for clki in range(1, 129):
        pfd = fin / clki
        if not 3.125 <= pfd <= 400.0:
            continue
        for fb in range(1, 81):
            out = pfd * fb
            for op in range(1, 129):
                vco = out * op
                if not 400.0 <= vco <= 800.0:
                    continue
                err = abs(out - want)
                if best is None or err < best[0] or (err == best[0] and abs(vco - 600) < abs(best[5] - 600)):
                    best = (err, clki, fb, op, out, vco)
    if best is None:
        raise HwssmError(f"no ECP5 PLL setting reaches {want:g} MHz from {fin:g} MHz")
    _, clki, fb, op, out, vco = best
    return Ecp5Pll(clki, fb, op, (op - 1) // 2, f_in_hz, out * 1e6, vco * 1e6)


#: rPLL output dividers (ODIV_SEL values the primitive accepts).
_ODIV = (2, 4, 8, 16, 32, 48, 64, 80, 96, 112, 128)


def gowin_pll(f_in_hz: float, f_out_hz: float) -> GowinPll:
    """The GW1NR-9 ``rPLL`` setting nearest ``f_out_hz`` from ``f_in_hz``; HwssmError when none exists."""
    fin, want = f_in_hz / 1e6, f_out_hz / 1e6
    best = None
    for idiv in range(64):
        pfd = fin / (idiv + 1)
        if not 3.0 <= pfd <= 400.0:
            continue
        for fb in range(64):
            out = pfd * (fb + 1)
            if not 3.125 < out < 600.0:
                continue
            for od in _ODIV:
                vco = out * od
                if not 400.0 < vco < 1200.0:
                    continue
                err = abs(out - want)
                if best is None or err < best[0]:
                    best = (err, idiv, fb, od, out, vco)
    if best is None:
        raise HwssmError(f"no Gowin rPLL setting reaches {want:g} MHz from {fin:g} MHz")
    _, idiv, fb, od, out, vco = best
    return GowinPll(idiv, fb, od, f_in_hz, out * 1e6, vco * 1e6)
