"""SPI-flash reader of the parameter image (LOAD storage): header check, words to the core's load port."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..protocol import FLASH_HEADER_BYTES, FLASH_MAGIC

__all__ = ["FlashLoader", "IMAGE_MAGIC", "HEADER_BYTES", "CMD_READ", "CMD_WAKE", "image_header"]

IMAGE_MAGIC = FLASH_MAGIC
HEADER_BYTES = FLASH_HEADER_BYTES
CMD_READ = 0x03   #: READ: address (3 bytes, MSB first), then data until CS rises
CMD_WAKE = 0xAB   #: release from deep power-down


def image_header(words: int, digest4: bytes) -> bytes:
    """The 16-byte header of a flash image (:func:`hwssm.board.protocol.flash_image`):
    magic, word count (u32 LE), digest4."""
    return IMAGE_MAGIC + int(words).to_bytes(4, "little") + bytes(digest4)


class FlashLoader(wiring.Component):
    """Reads the parameter image from SPI flash at power-up and streams it into the core.

    Sequence: CS high for ``sck_half`` cycles; release from deep power-down (0xAB, CS high
    again); wait ``wake_cycles``; READ 0x03 at ``offset``; 16 header bytes checked against
    :func:`image_header` ``(words, digest4)``; then ``2·words`` bytes, each pair a big-endian
    16-bit word offered on ``load`` (the SPI clock pauses while the core does not take it);
    CS high; ``ready``. A header that differs: CS high, ``error``, nothing is streamed.

    SPI mode 0: SCK idles low, MOSI changes while SCK is low, MISO is sampled at the end of
    SCK's high phase (the bit the flash put out at the previous falling edge).

    Parameters
    ----------
    offset : int
        Byte address of the header in the flash (24-bit).
    words : int
        Words of the load image (:attr:`~hwssm.hw.storage.LoadLayout.image_words`).
    digest4 : bytes
        The model's digest4, expected in the header.
    sck_half : int
        Clock cycles per SCK half period (SCK = clk / (2·sck_half)).
    wake_cycles : int
        Clock cycles from the end of 0xAB to the READ (the flash's tRES1).

    Members
    -------
    sck, cs_n, mosi : Out(1)
        To the flash (registered; ``cs_n`` idles high).
    miso : In(1)
        From the flash.
    load : Out(stream.Signature(16))
        The image words, to the core's ``load_*`` port.
    ready : Out(1)
        Every word has been taken (stays high).
    error : Out(1)
        The header was refused (stays high).

    Latency: about ``(8 + 32 + 8·(16 + 2·words))·2·sck_half + wake_cycles`` cycles from
    reset to ``ready`` when the core takes every word at once.
    """

    def __init__(self, offset: int, words: int, digest4: bytes, sck_half: int = 1, wake_cycles: int = 64):
        if not 0 <= offset < (1 << 24) or not 0 < words < (1 << 32) or len(digest4) != 4 or sck_half < 1:
            raise ValueError("bad flash loader parameters")
        self._offset, self._words, self._header = offset, words, image_header(words, digest4)
        self._half, self._wake = sck_half, max(1, wake_cycles)
        super().__init__({"sck": Out(1), "cs_n": Out(1, init=1), "mosi": Out(1), "miso": In(1),
                          "load": Out(stream.Signature(16)), "ready": Out(1), "error": Out(1)})

    def elaborate(self, platform):
        m = Module()
        half = Signal(range(self._half))
        tick = half == 0
        m.d.sync += half.eq(0 if self._half == 1 else (half + 1) % self._half)
        sr_out = Signal(32)
        sr_in = Signal(8)
        bits = Signal(range(33))   # bits still to shift in this transfer
        m.d.comb += self.mosi.eq(sr_out[31])
        shifting = Signal()
        m.d.comb += shifting.eq(bits != 0)
        with m.If(shifting & tick):
            with m.If(~self.sck):
                m.d.sync += self.sck.eq(1)
            with m.Else():
                m.d.sync += [self.sck.eq(0), sr_out.eq(sr_out << 1), sr_in.eq(Cat(self.miso, sr_in[:7])),
                             bits.eq(bits - 1)]
        done = ~shifting & tick & ~self.sck  # the transfer ended (checked when no bits are left)

        wait = Signal(range(self._wake + 2 * self._half + 2))
        hcnt = Signal(range(len(self._header) + 1))
        wcnt = Signal(range(self._words + 1))
        hi = Signal(8)
        byte_hi = Signal()   # the next byte is a word's high byte
        with m.FSM():
            with m.State("START"):
                m.d.sync += wait.eq(wait + 1)
                with m.If(wait == 2 * self._half + 1):
                    m.d.sync += [self.cs_n.eq(0), sr_out.eq(0xAB << 24), bits.eq(8), wait.eq(0)]
                    m.next = "WAKE"
            with m.State("WAKE"):
                with m.If(done & (bits == 0)):
                    m.d.sync += self.cs_n.eq(1)
                    m.next = "WAKE_WAIT"
            with m.State("WAKE_WAIT"):
                m.d.sync += wait.eq(wait + 1)
                with m.If(wait == self._wake):
                    m.d.sync += [self.cs_n.eq(0), sr_out.eq((0x03 << 24) | self._offset), bits.eq(32)]
                    m.next = "COMMAND"
            with m.State("COMMAND"):
                with m.If(done):
                    m.d.sync += [bits.eq(8), hcnt.eq(0)]
                    m.next = "HEADER"
            with m.State("HEADER"):
                with m.If(done):
                    expect = Signal(8)
                    with m.Switch(hcnt):
                        for i, b in enumerate(self._header):
                            with m.Case(i):
                                m.d.comb += expect.eq(b)
                    with m.If(sr_in != expect):
                        m.d.sync += [self.cs_n.eq(1), self.error.eq(1)]
                        m.next = "FAILED"
                    with m.Elif(hcnt == len(self._header) - 1):
                        m.d.sync += [bits.eq(8), byte_hi.eq(1), wcnt.eq(0)]
                        m.next = "DATA"
                    with m.Else():
                        m.d.sync += [bits.eq(8), hcnt.eq(hcnt + 1)]
            with m.State("DATA"):
                with m.If(done):
                    with m.If(byte_hi):
                        m.d.sync += [hi.eq(sr_in), byte_hi.eq(0), bits.eq(8)]
                    with m.Else():
                        m.next = "OFFER"
            with m.State("OFFER"):
                m.d.comb += [self.load.valid.eq(1), self.load.payload.eq(Cat(sr_in, hi))]
                with m.If(self.load.ready):
                    m.d.sync += wcnt.eq(wcnt + 1)
                    with m.If(wcnt == self._words - 1):
                        m.d.sync += [self.cs_n.eq(1), self.ready.eq(1)]
                        m.next = "LOADED"
                    with m.Else():
                        m.d.sync += [bits.eq(8), byte_hi.eq(1)]
                        m.next = "DATA"
            with m.State("LOADED"):
                pass
            with m.State("FAILED"):
                pass
        return m
