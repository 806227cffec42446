"""The input framer: checks an optional ``last`` marker against the pixel count and
resynchronises the pixel stream after a framing error.

With :attr:`~hwssm.hw.rtl.integration.CoreInterface.last` the core has an ``in_last`` input
(high on the T-th pixel of every sequence) and a ``frame_error`` output. The framer sits
between the input port and the sequencer and counts the pixels it has passed on (k = 0..T-1).
On a stream that is framed right it is a wire: ``valid``, ``ready`` and the pixel pass
through combinationally, so the cycle model holds unchanged. On a framing error it raises
``frame_error`` for one cycle (the cycle of the offending handshake) and resynchronises, so
that the *next* sequence is computed right:

- early ``in_last`` (on pixel k < T-1): the framer completes the sequence itself with
  T-1-k zero pixels (``in_ready`` low meanwhile); the class of that sequence is garbage;
- missing ``in_last`` (pixel T-1 without it): the sequence ends there (its class comes out as
  usual, garbage) and the framer drops every following pixel (``in_ready`` high) up to and
  including the next one with ``in_last``; the pixel after it starts a new sequence.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .interfaces import awidth

__all__ = ["InputFramer"]


class InputFramer(wiring.Component):
    """Pixel stream in (with ``last``), pixel stream out (T pixels per sequence, always).

    Parameters
    ----------
    T : int
        Pixels per sequence (>= 1).

    Members
    -------
    i : In(stream.Signature(8)), last : In(1)
        The input pixels; ``last`` qualifies the pixel of ``i`` (sampled with the handshake).
    o : Out(stream.Signature(8))
        The pixels the sequencer takes: T per sequence, whatever the input did.
    error : Out(1)
        One-cycle pulse on a framing error (see the module docstring).

    Latency: none (combinational) on a framed stream.
    """

    def __init__(self, T: int, width: int = 8):
        if T < 1:
            raise ValueError(f"T must be >= 1, not {T}")
        self._T = int(T)
        super().__init__({"i": In(stream.Signature(width)), "last": In(1), "o": Out(stream.Signature(width)),
                          "error": Out(1)})

    def elaborate(self, platform):
        m = Module()
        T = self._T
        k = Signal(awidth(T))          # pixels of the current sequence passed on
        pad = Signal()                 # completing a sequence with zero pixels
        drop = Signal()                # discarding pixels up to the next `last`
        k_last = k == T - 1
        m.d.comb += [
            self.o.valid.eq(pad | (self.i.valid & ~drop)),
            self.o.payload.eq(Mux(pad, 0, self.i.payload)),
            self.i.ready.eq(~pad & (drop | self.o.ready)),
        ]
        passed = self.o.valid & self.o.ready
        taken = self.i.valid & self.i.ready & ~drop & ~pad
        with m.If(passed):
            m.d.sync += k.eq(Mux(k_last, 0, k + 1))
            with m.If(pad & k_last):
                m.d.sync += pad.eq(0)
        m.d.comb += self.error.eq(taken & (self.last != k_last))
        with m.If(taken & self.last & ~k_last):
            m.d.sync += pad.eq(1)
        with m.If(taken & ~self.last & k_last):
            m.d.sync += drop.eq(1)
        with m.If(drop & self.i.valid & self.last):
            m.d.sync += drop.eq(0)
        return m
