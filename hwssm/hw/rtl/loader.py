"""The parameter loader of :attr:`~hwssm.hw.storage.ParamStorage.LOAD`: a 16-bit word stream
written, in order, into the lanes' coefficient memories.

After reset it accepts exactly ``P · S · depth`` words (the load image of
:class:`~hwssm.hw.storage.LoadLayout`: segment by segment, address 0 first), then raises
``done`` and stops accepting. Reset restarts it: the image must be streamed again after
every reset before the core takes pixels (the memories keep their contents, but the core
cannot know whether a load was cut short).
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..storage import LOAD_WORD_BITS, LoadLayout
from .interfaces import awidth

__all__ = ["ParamLoader"]


class ParamLoader(wiring.Component):
    """Sequential writer of the load image.

    Parameters
    ----------
    layout : LoadLayout

    Members
    -------
    i : In(stream.Signature(16))
        Load words; ``ready`` is high until the last word is taken.
    wen, seg, addr, data : Out
        Memory write: word ``data`` to address ``addr`` of segment ``seg`` (registered:
        one cycle after the word is taken).
    done : Out(1)
        Every word has been written (high from the cycle after the last write until reset).

    Latency: the word taken in cycle c is written in cycle c + 1.
    Throughput: one word per cycle.
    """

    def __init__(self, layout: LoadLayout):
        self._layout = layout
        super().__init__({
            "i": In(stream.Signature(LOAD_WORD_BITS)),
            "wen": Out(1),
            "seg": Out(awidth(len(layout.segments))),
            "addr": Out(awidth(layout.depth)),
            "data": Out(LOAD_WORD_BITS),
            "done": Out(1),
        })

    @property
    def layout(self) -> LoadLayout:
        return self._layout

    def elaborate(self, platform):
        m = Module()
        ly = self._layout
        nseg, depth = len(ly.segments), ly.depth
        seg = Signal.like(self.seg)
        addr = Signal.like(self.addr)
        full = Signal()           # every word taken
        open_ = Signal(init=1)    # ~full, a flip-flop of its own for the take decision (logic
        take = Signal()           # shared with the ready output would be placed at its pin)
        # addr == depth - 1 and seg == nseg - 1, kept as registers (updated with addr and seg),
        # so that the take → full decision waits on no comparator
        addr_last = Signal(init=int(depth == 1))
        seg_last = Signal(init=int(nseg == 1))
        m.d.comb += [self.i.ready.eq(~full), take.eq(self.i.valid & open_)]
        m.d.sync += self.wen.eq(take)
        with m.If(take):
            m.d.sync += [self.seg.eq(seg), self.addr.eq(addr), self.data.eq(self.i.payload)]
            with m.If(addr_last):
                m.d.sync += [addr.eq(0), seg.eq(seg + 1), addr_last.eq(int(depth == 1)),
                             seg_last.eq(seg == nseg - 2)]
                with m.If(seg_last):
                    m.d.sync += [full.eq(1), open_.eq(0)]
            with m.Else():
                m.d.sync += [addr.eq(addr + 1), addr_last.eq(addr == depth - 2)]
        m.d.comb += self.done.eq(full & ~self.wen)
        return m
