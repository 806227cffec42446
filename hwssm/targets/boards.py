"""FPGA boards as data: oscillator, pins, LEDs, SPI flash, the device they carry.

One :class:`Board` record per board; :mod:`hwssm.board` builds the board tops (UART
protocol engine, SPI-flash parameter loader, PLL) from them and writes the pin constraints.
Pure Python: no tools, no Amaranth.

Sources of the pin facts
------------------------
iCEBreaker v1.0: 1BitSquared's schematic and the pin constraints of the icebreaker-fpga
examples (``icebreaker.pcf``; also in amaranth-boards ``icebreaker.py`` and litex-boards):
12 MHz oscillator on pin 35 (IOT_46b_G0, the PLL pad), FTDI FT2232H channel B UART RX
(host -> FPGA) pin 6, TX pin 9, red LED ``LEDR_N`` pin 11 and green LED ``LEDG_N`` pin 37
(both active low), SPI flash (Winbond W25Q128JV, 16 MiB) SS pin 16, SCK pin 15, IO0 (FPGA
out, flash in) pin 14, IO1 (flash out, FPGA in) pin 17.

ULX3S v3.0.x: emard/ulx3s ``doc/constraints/ulx3s_v20.lpf``: 25 MHz oscillator ``clk_25mhz``
G2, FTDI FT231X UART ``ftdi_txd`` M1 (FTDI -> FPGA) and ``ftdi_rxd`` L4 (FPGA -> FTDI), LEDs
``led[0..7]`` B2 C2 C1 D2 D1 E2 E1 H3 (active high), ``wifi_gpio0`` L2 (held high, or the
ESP32 may reset the FPGA), all LVCMOS33, package CABGA381. The ULX3S ships with a 12F, 25F,
45F or 85F die; the record names the 85F (:attr:`Board.nextpnr_args` selects the die).

Tang Nano 9K (Sipeed): amaranth-boards ``tang_nano_9k.py`` and Sipeed's example constraints
(``tangnano9k.cst``): 27 MHz oscillator ``clk27`` pin 52, the on-board BL702 USB bridge's UART1
(the USB serial port the BL702 presents to the host) RX (host -> FPGA) pin 18 and TX pin 17 (pull-up on RX), six LEDs on
pins 10 11 13 14 15 16 (active low), all LVCMOS33; the FPGA GW1NR-LV9QN88PC6/I5 (nextpnr
``--device GW1NR-LV9QN88PC6/I5 --vopt family=GW1N-9C``). The board build runs the core on the
oscillator itself (no ``rPLL``: :attr:`PllKind.NONE`) with the parameters in block-RAM ROMs
initialised in the bitstream, so neither a PLL nor the flash loader is needed.

Tang Nano 20K (Sipeed): amaranth-boards ``tang_nano_20k.py`` (``TangNano20kPlatform``) and
Sipeed's example constraints: 27 MHz oscillator ``clk27`` pin 4, the on-board BL616 USB bridge's
UART RX (host -> FPGA) pin 70 and TX pin 69 (pull-up), six LEDs on pins 15 16 17 18 19 20 (active
low), all LVCMOS33; the FPGA GW2AR-LV18QN88C8/I7 (nextpnr ``--device GW2AR-LV18QN88C8/I7 --vopt
family=GW2A-18C``, ``gowin_pack -d GW2A-18C``). Built as the Tang Nano 9K: the core on the
oscillator, ROMs in block RAM, no PLL and no flash loader.

iCE40 flash power-down: after configuration the iCE40 may leave the configuration flash in
deep power-down (the configuration logic itself starts with a release-from-power-down 0xAB),
and a flash in power-down ignores READ; the loader therefore sends 0xAB first and waits
``tRES1`` (W25Q128JV data sheet: 3 µs) before the READ 0x03 (see :mod:`hwssm.board.rtl.flash`).
"""

from __future__ import annotations

import dataclasses
import enum

from ..errors import HwssmError
from ..hw.options import Pipeline
from .device import Device
from .ecp5 import ECP5_85K
from .gowin import GW1NR_9, GW2AR_18, PACK_FAMILY
from .ice40 import UP5K

__all__ = ["PllKind", "Pins", "Flash", "Board", "ICEBREAKER", "ULX3S", "TANGNANO9K", "TANGNANO20K", "BOARDS", "board", "board_names"]


class PllKind(enum.Enum):
    """The PLL primitive a board top instantiates."""

    ICE40_PAD = "SB_PLL40_PAD"   #: iCE40, oscillator on the PLL's package pin
    ECP5 = "EHXPLLL"             #: ECP5
    GOWIN = "rPLL"               #: Gowin GW1N(R)-9
    NONE = "none"                #: no PLL: the core runs on the oscillator (build clock = ``osc_hz``)


@dataclasses.dataclass(frozen=True)
class Pins:
    """Package sites of the board top's ports (iCE40: pin numbers; ECP5: ball names).

    Attributes
    ----------
    clk : str
        Oscillator input.
    uart_rx, uart_tx : str
        UART seen from the FPGA: ``uart_rx`` is driven by the host's USB-UART, ``uart_tx``
        drives it.
    led_ready, led_error : str
        Parameters loaded and requests served / parameter image refused.
    spi_cs_n, spi_sck, spi_mosi, spi_miso : str
        The SPI flash ("" on a board without flash loading).
    tie_high : tuple[str, ...]
        Outputs held high (ULX3S ``wifi_gpio0``), each ``"name=site"``.
    """

    clk: str
    uart_rx: str
    uart_tx: str
    led_ready: str
    led_error: str
    spi_cs_n: str = ""
    spi_sck: str = ""
    spi_mosi: str = ""
    spi_miso: str = ""
    tie_high: tuple = ()


@dataclasses.dataclass(frozen=True)
class Flash:
    """The SPI flash the parameter image is read from.

    Attributes
    ----------
    part : str
    offset : int
        Byte address of the image header (above the bitstream).
    wake_ns : int
        ``tRES1``: time from the end of release-from-power-down (0xAB) to the first READ, ns.
    max_sck_hz : int
        Highest SCK frequency of the READ 0x03 command, Hz.
    size_bytes : int
        Capacity of the part, bytes (the image must end below it).
    """

    part: str
    offset: int
    wake_ns: int
    max_sck_hz: int
    size_bytes: int


@dataclasses.dataclass(frozen=True)
class Board:
    """One FPGA board.

    Attributes
    ----------
    name : str
        ``hwssm board build --board NAME``.
    device : Device
        The FPGA family and build profile (:mod:`hwssm.targets`).
    part : str
        The FPGA and package on the board.
    nextpnr_args : tuple[str, ...]
        Device and package arguments of nextpnr for the whole board (not out of context).
    osc_hz : int
        Oscillator frequency, Hz.
    pll : PllKind
    pins : Pins
    led_active_low : bool
    flash : Flash or None
        Where the parameter image of LOAD storage is read from (None: ROM storage only).
    clk_hz : int
        Default build clock (PLL output), Hz: below the fmax hwssm measured on the board's
        device for small designs (UP5K P=1: 32 MHz; ECP5 P=2: 99 MHz); with
        :attr:`PllKind.NONE` the oscillator's ``osc_hz``.
    io_standard : str
        ECP5 / Gowin ``IO_TYPE`` of every pin ("" on iCE40).
    baud : int
        Default UART rate, bit/s.
    pipeline : Pipeline or None
        The board build's default pipeline when not its device profile's (``hwssm board build``
        without ``--profile``; stage options still override it). The iCEBreaker keeps
        ``Pipeline.fast()``: its build clock (24 MHz) does not need the UP5K profile's
        ``Pipeline.closure()``, whose extra registers do not fit beside the UART top.
    """

    name: str
    device: Device
    part: str
    nextpnr_args: tuple
    osc_hz: int
    pll: PllKind
    pins: Pins
    led_active_low: bool
    flash: Flash | None
    clk_hz: int
    io_standard: str = ""
    baud: int = 115_200
    pipeline: Pipeline | None = None

    def sites(self) -> dict[str, str]:
        """Top port name -> package site, for every pin the top uses."""
        p = self.pins
        out = {"clk": p.clk, "uart_rx": p.uart_rx, "uart_tx": p.uart_tx,
               "led_ready": p.led_ready, "led_error": p.led_error}
        if self.flash is not None:
            out.update(spi_cs_n=p.spi_cs_n, spi_sck=p.spi_sck, spi_mosi=p.spi_mosi, spi_miso=p.spi_miso)
        for item in p.tie_high:
            name, site = item.split("=")
            out[name] = site
        return out

    def tie_high_names(self) -> tuple[str, ...]:
        return tuple(item.split("=")[0] for item in self.pins.tie_high)


ICEBREAKER = Board(
    name="icebreaker", device=UP5K, part="iCE40UP5K-SG48",
    nextpnr_args=("--up5k", "--package", "sg48"),
    osc_hz=12_000_000, pll=PllKind.ICE40_PAD,
    pins=Pins(clk="35", uart_rx="6", uart_tx="9", led_ready="37", led_error="11",
              spi_cs_n="16", spi_sck="15", spi_mosi="14", spi_miso="17"),
    led_active_low=True,
    flash=Flash(part="W25Q128JV", offset=0x100000, wake_ns=3_000, max_sck_hz=50_000_000, size_bytes=16 * 2**20),
    clk_hz=24_000_000,
    pipeline=Pipeline.fast(),
)

ULX3S = Board(
    name="ulx3s", device=ECP5_85K, part="LFE5U-85F-6BG381C",
    nextpnr_args=("--85k", "--package", "CABGA381", "--speed", "6"),
    osc_hz=25_000_000, pll=PllKind.ECP5,
    pins=Pins(clk="G2", uart_rx="M1", uart_tx="L4", led_ready="B2", led_error="C2", tie_high=("wifi_gpio0=L2",)),
    led_active_low=False, flash=None, clk_hz=50_000_000, io_standard="LVCMOS33",
)

TANGNANO9K = Board(
    name="tangnano9k", device=GW1NR_9, part="GW1NR-LV9QN88PC6/I5",
    nextpnr_args=("--device", "GW1NR-LV9QN88PC6/I5", "--vopt", f"family={PACK_FAMILY}"),
    osc_hz=27_000_000, pll=PllKind.NONE,
    pins=Pins(clk="52", uart_rx="18", uart_tx="17", led_ready="10", led_error="11"),
    led_active_low=True, flash=None, clk_hz=27_000_000, io_standard="LVCMOS33",
)

TANGNANO20K = Board(
    name="tangnano20k", device=GW2AR_18, part="GW2AR-LV18QN88C8/I7",
    nextpnr_args=GW2AR_18.nextpnr_args,
    osc_hz=27_000_000, pll=PllKind.NONE,
    pins=Pins(clk="4", uart_rx="70", uart_tx="69", led_ready="15", led_error="16"),
    led_active_low=True, flash=None, clk_hz=27_000_000, io_standard="LVCMOS33",
)

BOARDS = (ICEBREAKER, ULX3S, TANGNANO9K, TANGNANO20K)


def board_names() -> list[str]:
    return [b.name for b in BOARDS]


def board(name: str) -> Board:
    """The board called ``name``; HwssmError naming the known ones otherwise."""
    for b in BOARDS:
        if b.name == name:
            return b
    raise HwssmError(f"unknown board {name!r} (known: {', '.join(board_names())})")
