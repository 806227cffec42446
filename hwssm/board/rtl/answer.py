"""Serializer of the board's answers (``BOARD_PROTOCOL.md``: 'R', status, kind, payload)."""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..protocol import ANSWER_MAGIC, LOGIT_BYTES, PROTO_VERSION, Kind, Status

__all__ = ["AnswerSerializer", "info_payload"]


def info_payload(digest4: bytes, T: int, C: int, K: int) -> bytes:
    """The INFO answer after 'R', 0x00, 'I': digest4, T (u32 LE), C, K, logit bytes, version."""
    return bytes(digest4) + int(T).to_bytes(4, "little") + bytes([C, K, LOGIT_BYTES, PROTO_VERSION])


class AnswerSerializer(wiring.Component):
    """Sends one answer as bytes.

    Parameters
    ----------
    digest4 : bytes
        The model's digest4 (INFO answer).
    T, C, K : int
        Steps per sequence, channels, classes (INFO answer; K logits in a CLASSIFY answer).
    logit_width : int
        Bits of the core's logit codes (sign-extended to 32 bits on the line).

    Members
    -------
    start : In(1)
        Pulse in a cycle with ``busy`` low: send the answer of ``status``, ``kind``, ``cls``,
        ``with_logits``, ``logits`` (sampled then, except ``logits``, read while sending).
    status, kind : In(8)
        Status byte and the request-kind byte to echo ('I', 'C' or '?').
    cls : In(4)
        Class of an OK CLASSIFY answer.
    with_logits : In(1)
        Append the K logits to an OK CLASSIFY answer.
    logit_addr : Out(range(K + 1))
        Index of the logit being sent, to a synchronous read port of the logit memory.
    logit : In(signed(logit_width))
        That port's data (the logit at ``logit_addr`` one cycle earlier); the memory is held
        stable while ``busy``.
    o : Out(stream.Signature(8))
        The bytes, to the UART transmitter.
    busy : Out(1)
        An answer is being sent (from the cycle after ``start`` to its last byte's handshake).

    Latency: the first byte is offered the cycle after ``start``; one byte per handshake, and
    no byte in the cycle after a logit's last byte (its successor is being read).
    Answers: error 3 bytes; INFO 15; CLASSIFY 4, or 4 + 4·K with logits.
    """

    def __init__(self, digest4: bytes, T: int, C: int, K: int, logit_width: int):
        self._info = info_payload(digest4, T, C, K)
        self._K = K
        self._lw = logit_width
        super().__init__({
            "start": In(1), "status": In(8), "kind": In(8), "cls": In(4), "with_logits": In(1),
            "logit_addr": Out(range(K + 1)), "logit": In(signed(logit_width)),
            "o": Out(stream.Signature(8)), "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        K = self._K
        n_info = 3 + len(self._info)
        n_cls = 4
        n_logits = 4 + LOGIT_BYTES * K
        status = Signal(8)
        kind = Signal(8)
        cls = Signal(4)
        idx = Signal(range(max(n_info, n_logits) + 1))
        length = Signal.like(idx)
        lk = Signal(range(K + 1))   # logit being sent
        lb = Signal(2)              # its byte
        with m.If(self.start & ~self.busy):
            ok = self.status == Status.OK
            n = Signal.like(idx)
            with m.If(~ok):
                m.d.comb += n.eq(3)
            with m.Elif(self.kind == Kind.INFO):
                m.d.comb += n.eq(n_info)
            with m.Elif(self.with_logits):
                m.d.comb += n.eq(n_logits)
            with m.Else():
                m.d.comb += n.eq(n_cls)
            m.d.sync += [status.eq(self.status), kind.eq(self.kind), cls.eq(self.cls), idx.eq(0), length.eq(n),
                         lk.eq(0), lb.eq(0), self.busy.eq(1)]
        byte = Signal(8)
        logit32 = Signal(signed(32))
        stale = Signal()   # the read port still shows the previous logit
        m.d.comb += [self.logit_addr.eq(lk), logit32.eq(self.logit)]
        with m.Switch(idx):
            with m.Case(0):
                m.d.comb += byte.eq(ANSWER_MAGIC)
            with m.Case(1):
                m.d.comb += byte.eq(status)
            with m.Case(2):
                m.d.comb += byte.eq(kind)
            with m.Default():
                with m.If(kind == Kind.CLASSIFY):
                    with m.If(idx == 3):
                        m.d.comb += byte.eq(cls)
                    with m.Else():
                        m.d.comb += byte.eq(logit32.as_unsigned().word_select(lb, 8))
                with m.Else():
                    with m.Switch(idx):
                        for i, b in enumerate(self._info):
                            with m.Case(3 + i):
                                m.d.comb += byte.eq(b)
        m.d.comb += [self.o.valid.eq(self.busy & ~stale), self.o.payload.eq(byte)]
        m.d.sync += stale.eq(0)
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += idx.eq(idx + 1)
            with m.If(idx >= 4):
                m.d.sync += lb.eq(lb + 1)
                with m.If(lb == LOGIT_BYTES - 1):
                    m.d.sync += [lk.eq(lk + 1), stale.eq(1)]
            with m.If(idx == length - 1):
                m.d.sync += self.busy.eq(0)
        return m
