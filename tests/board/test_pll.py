"""PLL settings: the formula search of hwssm.board.pll gives the dividers IceStorm's icepll
and prjtrellis' ecppll print (yowasp builds of both) and Apycula's gowin_pll, and the board tops
instantiate them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hwssm.board.options import BoardOptions
from hwssm.board.pll import ecp5_pll, gowin_pll, ice40_pll
from hwssm.board.top import board_verilog, build_board_top
from hwssm.errors import HwssmError
from hwssm.hw.options import DesignPoint, ParamStorage
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.targets.boards import ICEBREAKER, ULX3S


def _tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(path).exists():
        pytest.skip(f"{name} is not installed")
    return path


@pytest.mark.parametrize("mhz", [24, 30, 32, 48])
def test_ice40_matches_icepll(mhz):
    out = subprocess.run([_tool("yowasp-icepll"), "-i", "12", "-o", str(mhz)], capture_output=True, text=True,
                         timeout=300).stdout
    field = {k: int(v) for k, v in re.findall(r"^(DIVR|DIVF|DIVQ|FILTER_RANGE):\s+(\d+)", out, re.M)}
    s = ice40_pll(12e6, mhz * 1e6)
    assert (s.divr, s.divf, s.divq, s.filter_range) == (field["DIVR"], field["DIVF"], field["DIVQ"], field["FILTER_RANGE"])
    achieved = float(re.search(r"F_PLLOUT:\s+([\d.]+) MHz \(achieved\)", out).group(1))
    assert abs(s.f_out / 1e6 - achieved) < 1e-3


@pytest.mark.parametrize("mhz", [50, 40, 33, 65])
def test_ecp5_matches_ecppll(mhz, tmp_path):
    subprocess.run([_tool("yowasp-ecppll"), "-i", "25", "-o", str(mhz), "-f", "pll.v"], cwd=tmp_path,
                   capture_output=True, timeout=300, check=True)
    text = (tmp_path / "pll.v").read_text()
    field = {k: int(v) for k, v in re.findall(r"\.(CLKI_DIV|CLKOP_DIV|CLKFB_DIV)\((\d+)\)", text)}
    s = ecp5_pll(25e6, mhz * 1e6)
    assert (s.clki_div, s.clkop_div, s.clkfb_div) == (field["CLKI_DIV"], field["CLKOP_DIV"], field["CLKFB_DIV"])
    assert 400e6 <= s.f_vco <= 800e6


def test_unreachable_clock_is_one_line():
    with pytest.raises(HwssmError, match="no iCE40 PLL setting"):
        ice40_pll(1e6, 48e6)


def test_board_tops_instantiate_their_pll():
    qm = random_qmodel(2, 2, 1, seed=0)
    ice = build_board_top(qm, DesignPoint(1, 16, storage=ParamStorage.LOAD), ICEBREAKER, BoardOptions(clk_hz=30_000_000))
    assert ice.clk_hz == 30e6 and ice.divisor == round(30e6 / 115200)
    text = board_verilog(ice)
    assert "SB_PLL40_PAD" in text and "79" in text  # DIVF of 12 -> 30 MHz
    ulx = build_board_top(qm, DesignPoint(1, 16), ULX3S, BoardOptions())
    assert "EHXPLLL" in board_verilog(ulx) and ulx.clk_hz == 50e6
    sim = build_board_top(qm, DesignPoint(1, 16), ULX3S, BoardOptions(sim=True))
    assert "EHXPLLL" not in board_verilog(sim) and sim.clk_hz == 25e6
    with pytest.raises(HwssmError, match="3000000 baud from a 25 MHz clock"):
        build_board_top(qm, DesignPoint(1, 16), ULX3S, BoardOptions(sim=True, baud=3_000_000))
    with pytest.raises(HwssmError, match="no parameter flash"):
        build_board_top(qm, DesignPoint(1, 16, storage=ParamStorage.LOAD), ULX3S, BoardOptions())



@pytest.mark.parametrize("mhz", [32.4, 33.75, 40.5, 48, 54])
def test_gowin_rpll_matches_gowin_pll(mhz):
    """The dividers Apycula's ``gowin_pll -i 27 -o MHZ`` (device GW1NR-9 C6/I5, the default) prints."""
    out = subprocess.run([_tool("gowin_pll"), "-i", "27", "-o", str(mhz)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    want = tuple(int(re.search(rf"\.{n}\((\d+)\)", out).group(1)) for n in ("IDIV_SEL", "FBDIV_SEL", "ODIV_SEL"))
    s = gowin_pll(27e6, mhz * 1e6)
    assert (s.idiv_sel, s.fbdiv_sel, s.odiv_sel) == want and s.f_out == pytest.approx(mhz * 1e6)
    assert 400e6 < s.f_vco < 1200e6 and s.f_in / (s.idiv_sel + 1) >= 3e6


def test_gowin_rpll_refuses_what_it_cannot_reach():
    with pytest.raises(HwssmError, match="no Gowin rPLL setting reaches 2 MHz from 1 MHz"):
        gowin_pll(1e6, 2e6)  # the phase detector would run below 3 MHz


def test_a_gowin_board_top_instantiates_the_rpll():
    """A Tang Nano 9K record with the rPLL (the shipped one runs on its oscillator: PllKind.NONE)."""
    import dataclasses

    from hwssm.targets.boards import TANGNANO9K, PllKind

    board = dataclasses.replace(TANGNANO9K, pll=PllKind.GOWIN, clk_hz=54_000_000)
    top = build_board_top(random_qmodel(2, 2, 1, seed=0), DesignPoint(1, 16), board, BoardOptions())
    assert top.clk_hz == 54e6 and top.divisor == round(54e6 / 115200)
    text = board_verilog(top)
    assert re.search(r"rPLL #\(", text) and re.search(r"\.FBDIV_SEL\(32'd1\)", text) and re.search(r"\.ODIV_SEL\(32'd8\)", text)
