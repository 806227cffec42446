"""How a board top is built: clock, UART rate, timeout, simulation switches (one typed object)."""

from __future__ import annotations

import dataclasses

from ..errors import HwssmError

__all__ = ["BoardOptions", "DEFAULT_TIMEOUT_S", "POR_CYCLES"]

#: Inter-byte timeout of the protocol (``BOARD_PROTOCOL.md``), seconds.
DEFAULT_TIMEOUT_S = 0.05
#: Cycles the board top holds the core in reset after the PLL locks.
POR_CYCLES = 16


@dataclasses.dataclass(frozen=True)
class BoardOptions:
    """Options of a board top.

    Parameters
    ----------
    clk_hz : int or None
        Requested build clock, Hz (None: the board's ``clk_hz``); the PLL reaches the nearest
        setting (:mod:`hwssm.board.pll`).
    baud : int or None
        UART rate, bit/s (None: the board's ``baud``).
    timeout_s : float
        Inter-byte timeout, seconds.
    sim : bool
        Simulation top: no PLL, the core runs on the oscillator pin, and the two cycle
        counts below may be given directly.
    uart_divisor : int or None
        Cycles per UART bit; None: ``round(clock / baud)``.
    timeout_cycles : int or None
        Inter-byte timeout in cycles; None: ``round(timeout_s · clock)``.
    sck_half : int
        Clock cycles per SPI-clock half period (SCK = clock / (2·sck_half)); raised
        automatically so that SCK stays at or below the flash's limit.
    """

    clk_hz: int | None = None
    baud: int | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    sim: bool = False
    uart_divisor: int | None = None
    timeout_cycles: int | None = None
    sck_half: int = 1

    def __post_init__(self):
        for name in ("clk_hz", "baud", "uart_divisor", "timeout_cycles"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise HwssmError(f"BoardOptions.{name} must be a positive integer or None, not {v!r}")
        if not (isinstance(self.timeout_s, (int, float)) and self.timeout_s > 0):
            raise HwssmError(f"BoardOptions.timeout_s must be positive seconds, not {self.timeout_s!r}")
        if isinstance(self.sck_half, bool) or not isinstance(self.sck_half, int) or self.sck_half < 1:
            raise HwssmError(f"BoardOptions.sck_half must be a positive integer, not {self.sck_half!r}")
        if self.uart_divisor is not None and self.uart_divisor < 4:
            raise HwssmError(f"a UART divisor below 4 cycles per bit is not supported, not {self.uart_divisor}")
