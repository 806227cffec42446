"""The board's PLL: oscillator in, build clock out (an ``Instance`` of the vendor primitive)."""

from __future__ import annotations

from amaranth.hdl import C, Instance, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ...targets.boards import PllKind
from ..pll import ecp5_pll, gowin_pll, ice40_pll

__all__ = ["BoardPll"]


class BoardPll(wiring.Component):
    """``SB_PLL40_PAD`` (iCE40, ``SIMPLE`` feedback), ``EHXPLLL`` (ECP5, CLKOP feedback) or
    ``rPLL`` (Gowin GW1N(R)-9, internal feedback).

    Parameters
    ----------
    kind : PllKind
    f_in_hz, f_out_hz : float
        Oscillator and requested output frequency; the achieved one is :attr:`f_out_hz`
        (:mod:`hwssm.board.pll`).

    Members
    -------
    clk_in : In(1)
        The oscillator pin (iCE40: the PLL's package pin itself, no IO buffer).
    clk_out : Out(1)
        The build clock (iCE40: on a global network).
    locked : Out(1)
        The PLL is locked (asynchronous).

    Latency: lock within the vendor's lock time (iCE40 ≤ 50 µs, ECP5 ≤ 15 ms, Gowin rPLL ≤ 200 µs).
    """

    def __init__(self, kind: PllKind, f_in_hz: float, f_out_hz: float):
        self._kind = kind
        search = {PllKind.ICE40_PAD: ice40_pll, PllKind.ECP5: ecp5_pll, PllKind.GOWIN: gowin_pll}[kind]
        self._setting = search(f_in_hz, f_out_hz)
        super().__init__({"clk_in": In(1), "clk_out": Out(1), "locked": Out(1)})

    @property
    def setting(self):
        return self._setting

    @property
    def f_out_hz(self) -> float:
        return self._setting.f_out

    def elaborate(self, platform):
        m = Module()
        s = self._setting
        if self._kind is PllKind.ICE40_PAD:
            m.submodules.pll = Instance(
                "SB_PLL40_PAD",
                p_FEEDBACK_PATH="SIMPLE", p_DIVR=s.divr, p_DIVF=s.divf, p_DIVQ=s.divq, p_FILTER_RANGE=s.filter_range,
                i_PACKAGEPIN=self.clk_in, o_PLLOUTGLOBAL=self.clk_out, o_LOCK=self.locked,
                i_RESETB=1, i_BYPASS=0,
            )
        elif self._kind is PllKind.GOWIN:
            # the instance of Apycula's gowin_pll (the dynamic divider inputs unused, tied low)
            m.submodules.pll = Instance(
                "rPLL",
                p_FCLKIN=f"{s.f_in / 1e6:g}", p_IDIV_SEL=s.idiv_sel, p_FBDIV_SEL=s.fbdiv_sel, p_ODIV_SEL=s.odiv_sel,
                i_CLKIN=self.clk_in, o_CLKOUT=self.clk_out, o_LOCK=self.locked,
                i_RESET=0, i_RESET_P=0, i_CLKFB=0, i_FBDSEL=C(0, 6), i_IDSEL=C(0, 6), i_ODSEL=C(0, 6),
                i_PSDA=C(0, 4), i_DUTYDA=C(0, 4), i_FDLY=C(0, 4),
            )
        else:
            m.submodules.pll = Instance(
                "EHXPLLL",
                a_FREQUENCY_PIN_CLKI=f"{s.f_in / 1e6:g}", a_FREQUENCY_PIN_CLKOP=f"{s.f_out / 1e6:g}",
                a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1", a_MFG_GMCREF_SEL="2",
                p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
                p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA", p_OUTDIVIDER_MUXB="DIVB",
                p_OUTDIVIDER_MUXC="DIVC", p_OUTDIVIDER_MUXD="DIVD",
                p_CLKI_DIV=s.clki_div, p_CLKOP_ENABLE="ENABLED", p_CLKOP_DIV=s.clkop_div,
                p_CLKOP_CPHASE=s.clkop_cphase, p_CLKOP_FPHASE=0, p_FEEDBK_PATH="CLKOP", p_CLKFB_DIV=s.clkfb_div,
                i_RST=0, i_STDBY=0, i_CLKI=self.clk_in, o_CLKOP=self.clk_out, i_CLKFB=self.clk_out,
                i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1, i_PHASELOADREG=1,
                i_PLLWAKESYNC=0, i_ENCLKOP=0, o_LOCK=self.locked,
            )
        return m
