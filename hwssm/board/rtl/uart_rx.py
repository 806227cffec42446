"""UART receiver, 8N1."""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["UartRx"]


class UartRx(wiring.Component):
    """8N1 UART receiver: two-flop synchronizer, start-bit check and mid-bit sampling.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit (``clk_hz // baud``), at least 4.

    Members
    -------
    rx : In(1)
        The line (idle high), asynchronous to the clock.
    data : Out(8)
        The last byte received (LSB first on the line), valid with ``valid``.
    valid : Out(1)
        One-cycle pulse: a byte with a good stop bit was received. No backpressure.
    frame_error : Out(1)
        One-cycle pulse: the stop bit was low (the byte is dropped).

    Latency: ``valid`` rises ``2 + divisor // 2 + 9 * divisor + 1`` cycles after the first
    cycle the start bit is low at ``rx`` (2 synchronizer flops, half a bit to the start bit's
    middle, 8 data bits and the stop bit, 1 register). A start bit shorter than half a bit is
    ignored. The receiver looks for the next start bit from the middle of the stop bit on;
    after reset and after a frame error it first waits for the line to be high (idle), so a
    byte already under way when reset ends is dropped, not misread.
    """

    def __init__(self, divisor: int):
        if divisor < 4:
            raise ValueError(f"UART divisor must be at least 4 cycles per bit, not {divisor}")
        self._divisor = divisor
        super().__init__({"rx": In(1, init=1), "data": Out(8), "valid": Out(1), "frame_error": Out(1)})

    @property
    def divisor(self) -> int:
        return self._divisor

    def elaborate(self, platform):
        m = Module()
        div = self._divisor
        s1 = Signal(init=1)
        line = Signal(init=1)
        m.d.sync += [s1.eq(self.rx), line.eq(s1)]
        timer = Signal(range(div))
        bits = Signal(range(10))
        shreg = Signal(8)
        m.d.sync += [self.valid.eq(0), self.frame_error.eq(0)]
        with m.FSM():
            with m.State("SYNC"):
                with m.If(line):
                    m.next = "IDLE"
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(div // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer == 0):
                    with m.If(line):
                        m.next = "IDLE"  # glitch
                    with m.Else():
                        m.d.sync += [timer.eq(div - 1), bits.eq(0)]
                        m.next = "BITS"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("BITS"):
                with m.If(timer == 0):
                    m.d.sync += timer.eq(div - 1)
                    with m.If(bits == 8):
                        m.d.sync += [self.valid.eq(line), self.frame_error.eq(~line), self.data.eq(shreg)]
                        m.next = "SYNC"
                    with m.Else():
                        m.d.sync += [shreg.eq((shreg >> 1) | (line << 7)), bits.eq(bits + 1)]
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
        return m
