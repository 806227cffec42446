"""The board top: oscillator and PLL, power-on reset, UART, protocol engine, sample FIFO,
the generated core, and (LOAD storage) the SPI-flash parameter loader."""

from __future__ import annotations

import math

from amaranth.hdl import ClockDomain, ClockSignal, Module, Signal
from amaranth.lib import fifo, wiring
from amaranth.lib.wiring import In, Out

from ...errors import HwssmError
from ...hw.core_config import CoreConfig
from ...hw.rtl.core import HwssmCore
from ...hw.storage import ParamStorage
from ...targets.boards import Board, PllKind
from ..options import POR_CYCLES, BoardOptions
from .engine import ProtocolEngine
from .flash import FlashLoader
from .pll import BoardPll
from .uart_rx import UartRx
from .uart_tx import UartTx

__all__ = ["BoardTop", "CHANNELS"]

#: Channels per step of the sMNIST core, S4D or S5 (one pixel per step).
CHANNELS = 1


class BoardTop(wiring.Component):
    """A generated core that classifies sequences sent over UART (``BOARD_PROTOCOL.md``).

    Parameters
    ----------
    cfg : CoreConfig
        The core (:func:`hwssm.hw.derive.derive` of a QModel and a DesignPoint).
    digest4 : bytes
        The model's digest4.
    board : Board
    options : BoardOptions

    Members (the top-level ports; names as in :meth:`Board.sites`)
    -------
    clk : In(1)
        The oscillator.
    uart_rx : In(1), uart_tx : Out(1)
        The UART, 8N1 at :attr:`divisor` cycles per bit.
    led_ready, led_error : Out(1)
        Parameters in place / image refused (board polarity).
    spi_cs_n, spi_sck, spi_mosi : Out(1), spi_miso : In(1)
        LOAD storage only: the flash.
    <tie-high names> : Out(1)
        Held high (:attr:`Pins.tie_high`).

    Clocking: the core clock is the PLL output (``options.sim``, or a board without a PLL,
    :attr:`PllKind.NONE`: the oscillator itself); the design is held in reset until the PLL
    locks and then :data:`POR_CYCLES` more cycles.
    Latency of a CLASSIFY request: see :func:`hwssm.board.sim.timing.classify_cycles`.
    """

    def __init__(self, cfg: CoreConfig, digest4: bytes, board: Board, options: BoardOptions):
        self._cfg, self._digest4, self._board, self._opt = cfg, bytes(digest4), board, options
        self._load = cfg.storage is ParamStorage.LOAD
        if self._load and board.flash is None:
            self._refuse(f"board {board.name} has no parameter flash: build the core with ROM storage")
        if board.pll is PllKind.NONE and not options.sim and options.clk_hz not in (None, board.osc_hz):
            self._refuse(f"board {board.name} has no PLL in its top: the build clock is its {board.osc_hz / 1e6:g} MHz "
                         f"oscillator, not {options.clk_hz / 1e6:g} MHz")
        no_pll = options.sim or board.pll is PllKind.NONE
        self._pll = None if no_pll else BoardPll(board.pll, board.osc_hz, options.clk_hz or board.clk_hz)
        self.clk_hz = board.osc_hz if self._pll is None else self._pll.f_out_hz
        baud = options.baud or board.baud
        if options.uart_divisor is None:
            div = round(self.clk_hz / baud)
            if div < 4 or abs(self.clk_hz / div - baud) > 0.02 * baud:
                self._refuse(f"{baud} baud from a {self.clk_hz / 1e6:g} MHz clock: no divisor of at least 4 "
                                 "cycles per bit within 2 % (choose another rate or clock)")
            self.divisor = div
        else:
            self.divisor = options.uart_divisor
        self.timeout_cycles = options.timeout_cycles or max(2, round(options.timeout_s * self.clk_hz))
        if self.timeout_cycles <= 10 * self.divisor:
            self._refuse(f"the inter-byte timeout ({self.timeout_cycles} cycles) must exceed a byte "
                             f"({10 * self.divisor} cycles)")
        half = options.sck_half
        if self._load:
            half = max(half, math.ceil(self.clk_hz / (2 * board.flash.max_sck_hz)))
            self.wake_cycles = math.ceil(board.flash.wake_ns * 1e-9 * self.clk_hz) + 1
        else:
            self.wake_cycles = 0
        self.sck_half = half
        members = {"clk": In(1), "uart_rx": In(1, init=1), "uart_tx": Out(1, init=1),
                   "led_ready": Out(1), "led_error": Out(1)}
        if self._load:
            members.update({"spi_cs_n": Out(1, init=1), "spi_sck": Out(1), "spi_mosi": Out(1), "spi_miso": In(1)})
        for name in board.tie_high_names():
            members[name] = Out(1)
        super().__init__(members)

    def _refuse(self, message: str):
        self._MustUse__silence = True  # never elaborated: no UnusedElaboratable warning
        raise HwssmError(message)

    @property
    def config(self) -> CoreConfig:
        return self._cfg

    @property
    def board(self) -> Board:
        return self._board

    @property
    def options(self) -> BoardOptions:
        return self._opt

    @property
    def digest4(self) -> bytes:
        return self._digest4

    @property
    def fifo_depth(self) -> int:
        """Samples the FIFO between engine and core holds: two sequences (one completed with
        zeros after a timeout, one new), so that it never overflows."""
        return 2 * self._cfg.T * CHANNELS

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        m.domains.sync = sync = ClockDomain("sync")
        m.domains.por = ClockDomain("por", reset_less=True)
        locked = Signal()
        if self._pll is None:
            m.d.comb += [sync.clk.eq(self.clk), locked.eq(1)]
        else:
            m.submodules.pll = pll = self._pll
            m.d.comb += [pll.clk_in.eq(self.clk), sync.clk.eq(pll.clk_out), locked.eq(pll.locked)]
        m.d.comb += ClockSignal("por").eq(sync.clk)
        por = Signal(range(POR_CYCLES + 1))
        with m.If(~locked):
            m.d.por += por.eq(0)
        with m.Elif(por != POR_CYCLES):
            m.d.por += por.eq(por + 1)
        m.d.comb += sync.rst.eq(por != POR_CYCLES)

        m.submodules.rx = rx = UartRx(self.divisor)
        m.submodules.tx = tx = UartTx(self.divisor)
        m.submodules.core = core = HwssmCore(cfg)
        m.submodules.engine = eng = ProtocolEngine(self._digest4, cfg.T, CHANNELS, cfg.n_classes, cfg.logit_width,
                                                   self.timeout_cycles)
        m.submodules.fifo = buf = fifo.SyncFIFOBuffered(width=8, depth=self.fifo_depth)
        m.d.comb += [
            rx.rx.eq(self.uart_rx), self.uart_tx.eq(tx.tx),
            eng.rx_data.eq(rx.data), eng.rx_valid.eq(rx.valid),
            tx.i.valid.eq(eng.tx.valid), tx.i.payload.eq(eng.tx.payload), eng.tx.ready.eq(tx.i.ready),
            buf.w_en.eq(eng.samples.valid), buf.w_data.eq(eng.samples.payload), eng.samples.ready.eq(buf.w_rdy),
            core.in_valid.eq(buf.r_rdy), core.in_data.eq(buf.r_data), buf.r_en.eq(core.in_ready),
            eng.cls.valid.eq(core.out_valid), eng.cls.payload.eq(core.out_class), core.out_ready.eq(eng.cls.ready),
            eng.logit_valid.eq(core.logit_valid), eng.logit_data.eq(core.logit_data),
        ]
        if self._load:
            m.submodules.flash = fl = FlashLoader(self._board.flash.offset, cfg.load.image_words, self._digest4,
                                                  self.sck_half, self.wake_cycles)
            m.d.comb += [
                self.spi_cs_n.eq(fl.cs_n), self.spi_sck.eq(fl.sck), self.spi_mosi.eq(fl.mosi), fl.miso.eq(self.spi_miso),
                core.load_valid.eq(fl.load.valid), core.load_data.eq(fl.load.payload), fl.load.ready.eq(core.load_ready),
                eng.loaded.eq(fl.ready), eng.load_error.eq(fl.error),
            ]
            ready, error = fl.ready, fl.error
        else:
            m.d.comb += eng.loaded.eq(1)
            ready, error = Signal(init=1), Signal()
            m.d.comb += ready.eq(~sync.rst)
        inv = 1 if self._board.led_active_low else 0
        m.d.comb += [self.led_ready.eq(ready ^ inv), self.led_error.eq(error ^ inv)]
        for name in self._board.tie_high_names():
            m.d.comb += getattr(self, name).eq(1)
        return m
