"""Board records: lookup by name, the sites of every top port, LED polarity, flash facts."""

from __future__ import annotations

import pytest

from hwssm.hw.options import Pipeline
from hwssm.errors import HwssmError
from hwssm.targets.boards import BOARDS, ICEBREAKER, TANGNANO9K, TANGNANO20K, ULX3S, PllKind, board, board_names


def test_lookup():
    assert board_names() == ["icebreaker", "ulx3s", "tangnano9k", "tangnano20k"]
    assert board("ulx3s") is ULX3S and board("tangnano9k") is TANGNANO9K
    assert board("tangnano20k") is TANGNANO20K
    with pytest.raises(HwssmError, match=r"^unknown board 'de10' \(known: icebreaker, ulx3s, tangnano9k, tangnano20k\)$"):
        board("de10")


def test_icebreaker_facts():
    s = ICEBREAKER.sites()
    assert s == {"clk": "35", "uart_rx": "6", "uart_tx": "9", "led_ready": "37", "led_error": "11",
                 "spi_cs_n": "16", "spi_sck": "15", "spi_mosi": "14", "spi_miso": "17"}
    assert ICEBREAKER.pll is PllKind.ICE40_PAD and ICEBREAKER.led_active_low and ICEBREAKER.osc_hz == 12_000_000
    assert ICEBREAKER.flash.offset == 0x100000 and ICEBREAKER.device.name == "up5k"
    # the board build's default pipeline: fast() at 24 MHz (the UP5K profile's closure() does not fit with the UART top)
    assert ICEBREAKER.pipeline == Pipeline.fast() and ULX3S.pipeline is None


def test_ulx3s_facts():
    s = ULX3S.sites()
    assert s == {"clk": "G2", "uart_rx": "M1", "uart_tx": "L4", "led_ready": "B2", "led_error": "C2", "wifi_gpio0": "L2"}
    assert ULX3S.tie_high_names() == ("wifi_gpio0",) and ULX3S.flash is None and not ULX3S.led_active_low


def test_tangnano9k_facts():
    """amaranth-boards tang_nano_9k: clk27 on 52, the BL702 UART rx 18 / tx 17, LEDs 10 and 11 (active low)."""
    s = TANGNANO9K.sites()
    assert s == {"clk": "52", "uart_rx": "18", "uart_tx": "17", "led_ready": "10", "led_error": "11"}
    assert TANGNANO9K.pll is PllKind.NONE and TANGNANO9K.clk_hz == TANGNANO9K.osc_hz == 27_000_000
    assert TANGNANO9K.led_active_low and TANGNANO9K.flash is None and TANGNANO9K.io_standard == "LVCMOS33"
    assert TANGNANO9K.device.name == "gw1nr-9" and TANGNANO9K.nextpnr_args == TANGNANO9K.device.nextpnr_args


def test_tangnano20k_facts():
    """amaranth-boards tang_nano_20k: clk27 on 4, the BL616 UART rx 70 / tx 69, LEDs 15 and 16 (active low)."""
    s = TANGNANO20K.sites()
    assert s == {"clk": "4", "uart_rx": "70", "uart_tx": "69", "led_ready": "15", "led_error": "16"}
    assert TANGNANO20K.pll is PllKind.NONE and TANGNANO20K.clk_hz == TANGNANO20K.osc_hz == 27_000_000
    assert TANGNANO20K.led_active_low and TANGNANO20K.flash is None and TANGNANO20K.io_standard == "LVCMOS33"
    assert TANGNANO20K.device.name == "gw2ar-18" and TANGNANO20K.part == TANGNANO20K.device.part == "GW2AR-LV18QN88C8/I7"
    assert TANGNANO20K.nextpnr_args == ("--device", "GW2AR-LV18QN88C8/I7", "--vopt", "family=GW2A-18C")
    assert set(s.values()) <= set(TANGNANO20K.device.pin_sites)  # the board's pins are user pins of the package


def test_sites_are_distinct():
    for b in BOARDS:
        sites = list(b.sites().values())
        assert len(set(sites)) == len(sites), b.name
