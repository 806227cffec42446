"""UART transmitter, 8N1."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["UartTx"]


class UartTx(wiring.Component):
    """8N1 UART transmitter.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit (``clk_hz // baud``), at least 1.

    Members
    -------
    i : In(stream.Signature(8))
        Bytes to send; ``ready`` is high while the line is idle.
    tx : Out(1)
        The line (idle high, registered).

    Latency: the start bit begins on ``tx`` the cycle after the byte is taken; a byte occupies
    ``10 * divisor`` cycles (start, 8 data bits LSB first, stop); back-to-back bytes follow
    with no gap (the next is taken in the last cycle of the stop bit).
    """

    def __init__(self, divisor: int):
        if divisor < 1:
            raise ValueError(f"UART divisor must be at least 1, not {divisor}")
        self._divisor = divisor
        super().__init__({"i": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        div = self._divisor
        timer = Signal(range(div))
        left = Signal(range(11))     # bits still to put on the line after the current one
        shreg = Signal(9, init=0x1FF)  # the bits after the current one, LSB next
        last = (left == 0) & (timer == 0)
        busy = Signal()
        m.d.comb += self.i.ready.eq(~busy | last)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.tx.eq(0), shreg.eq(Cat(self.i.payload, Const(1, 1))), left.eq(9),
                         timer.eq(div - 1), busy.eq(1)]
        with m.Elif(busy):
            with m.If(timer == 0):
                with m.If(left == 0):
                    m.d.sync += busy.eq(0)
                with m.Else():
                    m.d.sync += [self.tx.eq(shreg[0]), shreg.eq(shreg >> 1), left.eq(left - 1),
                                 timer.eq(div - 1)]
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m
