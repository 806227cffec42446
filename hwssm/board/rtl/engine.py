"""The request side of the board UART protocol v1 (``BOARD_PROTOCOL.md``): parser, checks,
sample stream into the core, class and logit collection, answers, timeout and resync."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from .answer import AnswerSerializer
from ..protocol import FLAG_LOGITS, REQUEST_MAGIC, Kind, Status

__all__ = ["ProtocolEngine"]


class ProtocolEngine(wiring.Component):
    """Parses INFO / CLASSIFY requests and answers them.

    Parameters
    ----------
    digest4 : bytes
        The first 4 bytes of the model's digest; a CLASSIFY request must carry them.
    T, C : int
        Steps per sequence and channels: a CLASSIFY request carries T (u32 LE, must equal
        this T) and then T·C sample bytes.
    K : int
        Classes (logits per answer).
    logit_width : int
        Bits of the core's logit codes.
    timeout_cycles : int
        Inter-byte timeout, clock cycles (``BOARD_PROTOCOL.md``: default 50 ms).

    Members
    -------
    rx_data : In(8), rx_valid : In(1)
        Received bytes (:class:`~hwssm.board.rtl.uart_rx.UartRx`).
    tx : Out(stream.Signature(8))
        Answer bytes (:class:`~hwssm.board.rtl.uart_tx.UartTx`).
    samples : Out(stream.Signature(8))
        The T·C samples of each accepted CLASSIFY request, in order, to the core's pixel
        input through a FIFO that never fills (a sample offered when ``ready`` is low is lost
        but counted, so the framing holds). A request cut short in its samples is completed
        with zero samples and its class discarded.
    cls : In(stream.Signature(4))
        The core's class output (``ready`` driven here).
    logit_valid : In(1), logit_data : In(signed(logit_width))
        The core's logit stream (K pulses before each class).
    loaded : In(1)
        The core's parameters are in place: answers wait for it.
    load_error : In(1)
        The parameter image was refused: every request is answered NOT_LOADED (also one
        parsed before the refusal, and one waiting for its class).
    busy : Out(1)
        A request is being received or answered (not idle, not draining).

    Behaviour: a frame stops on its first bad byte (BAD_MAGIC after a first byte that is
    not 'S' or an unknown kind; BAD_DIGEST / BAD_LENGTH after the 8 header bytes, digest
    first), is answered, and then every byte is discarded until the line has been idle for
    ``timeout_cycles``. A frame with no byte for ``timeout_cycles`` in its middle is answered
    TIMEOUT at once. Answers of CLASSIFY requests come after the core's class.

    Latency: an answer's first byte is offered one cycle after the byte that completes the
    request (error, INFO), after the class handshake + 1 (CLASSIFY), after the timeout
    (TIMEOUT; after the zero samples are queued when the frame was cut in its samples).
    """

    def __init__(self, digest4: bytes, T: int, C: int, K: int, logit_width: int, timeout_cycles: int):
        if len(digest4) != 4:
            raise ValueError("digest4 must be 4 bytes")
        if timeout_cycles < 2:
            raise ValueError("timeout_cycles must be at least 2")
        self._digest4 = bytes(digest4)
        self._T, self._C, self._K, self._lw = T, C, K, logit_width
        self._timeout = timeout_cycles
        super().__init__({
            "rx_data": In(8), "rx_valid": In(1),
            "tx": Out(stream.Signature(8)),
            "samples": Out(stream.Signature(8)),
            "cls": In(stream.Signature(4)),
            "logit_valid": In(1), "logit_data": In(signed(logit_width)),
            "loaded": In(1), "load_error": In(1),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        TC = self._T * self._C
        header = self._digest4 + int(self._T).to_bytes(4, "little")
        m.submodules.answer = ans = AnswerSerializer(self._digest4, self._T, self._C, self._K, self._lw)
        wiring.connect(m, ans.o, wiring.flipped(self.tx))

        # inter-byte timer
        idle = Signal(range(self._timeout + 1))
        timed_out = Signal()
        m.d.comb += timed_out.eq(idle == self._timeout)
        with m.If(self.rx_valid):
            m.d.sync += idle.eq(0)
        with m.Elif(~timed_out):
            m.d.sync += idle.eq(idle + 1)

        # logits of the latest sequence (a small RAM: block RAM, not K·logit_width flip-flops)
        m.submodules.logits = logits = memory.Memory(shape=signed(self._lw), depth=self._K, init=[])
        lw_port, lr_port = logits.write_port(), logits.read_port(transparent_for=())
        lidx = Signal(range(self._K + 1))
        m.d.comb += [lw_port.en.eq(self.logit_valid & (lidx < self._K)), lw_port.addr.eq(lidx),
                     lw_port.data.eq(self.logit_data), lr_port.addr.eq(ans.logit_addr), ans.logit.eq(lr_port.data)]
        with m.If(self.logit_valid & (lidx < self._K)):
            m.d.sync += lidx.eq(lidx + 1)

        # sequences whose class is to be discarded (cut short, completed with zeros)
        discard = Signal(range(16))
        dec = Signal()
        inc = Signal()
        m.d.sync += discard.eq(discard + inc - dec)

        status = Signal(8)
        kind = Signal(8)
        flags = Signal(8)
        cls = Signal(4)
        drain = Signal()      # after the answer: discard bytes until the line is idle
        hcnt = Signal(range(len(header)))
        bad_digest = Signal()
        bad_length = Signal()
        scnt = Signal(range(TC + 1))
        # an image refused after the request was parsed: its answer is NOT_LOADED all the same
        m.d.comb += [ans.status.eq(Mux(self.load_error, Status.NOT_LOADED, status)), ans.kind.eq(kind), ans.cls.eq(cls),
                     ans.with_logits.eq((flags & FLAG_LOGITS) != 0)]

        def answer(st, kd, then_drain):
            m.d.sync += [status.eq(st), kind.eq(kd), drain.eq(then_drain)]
            m.next = "ANSWER"

        with m.FSM() as fsm:
            with m.State("IDLE"):
                with m.If(self.rx_valid):
                    with m.If(self.rx_data == REQUEST_MAGIC):
                        m.next = "KIND"
                    with m.Else():
                        answer(Mux(self.load_error, Status.NOT_LOADED, Status.BAD_MAGIC), Kind.UNKNOWN, 1)
            with m.State("KIND"):
                known = (self.rx_data == Kind.INFO) | (self.rx_data == Kind.CLASSIFY)
                with m.If(self.rx_valid):
                    with m.If(self.load_error):
                        answer(Status.NOT_LOADED, Mux(known, self.rx_data, Kind.UNKNOWN), 1)
                    with m.Elif(self.rx_data == Kind.INFO):
                        answer(Status.OK, Kind.INFO, 0)
                    with m.Elif(self.rx_data == Kind.CLASSIFY):
                        m.next = "FLAGS"
                    with m.Else():
                        answer(Status.BAD_MAGIC, Kind.UNKNOWN, 1)
                with m.Elif(timed_out):
                    answer(Status.TIMEOUT, Kind.UNKNOWN, 0)
            with m.State("FLAGS"):
                with m.If(self.rx_valid):
                    m.d.sync += [flags.eq(self.rx_data), hcnt.eq(0), bad_digest.eq(0), bad_length.eq(0)]
                    m.next = "HEADER"
                with m.Elif(timed_out):
                    answer(Status.TIMEOUT, Kind.CLASSIFY, 0)
            with m.State("HEADER"):
                with m.If(self.rx_valid):
                    expect = Signal(8)
                    with m.Switch(hcnt):
                        for i, b in enumerate(header):
                            with m.Case(i):
                                m.d.comb += expect.eq(b)
                    wrong = self.rx_data != expect
                    bd = bad_digest | (wrong & (hcnt < 4))
                    bl = bad_length | (wrong & (hcnt >= 4))
                    m.d.sync += [bad_digest.eq(bd), bad_length.eq(bl), hcnt.eq(hcnt + 1), scnt.eq(0)]
                    with m.If(hcnt == len(header) - 1):
                        with m.If(bd):
                            answer(Status.BAD_DIGEST, Kind.CLASSIFY, 1)
                        with m.Elif(bl):
                            answer(Status.BAD_LENGTH, Kind.CLASSIFY, 1)
                        with m.Else():
                            m.next = "SAMPLES"
                with m.Elif(timed_out):
                    answer(Status.TIMEOUT, Kind.CLASSIFY, 0)
            with m.State("SAMPLES"):
                m.d.comb += [self.samples.valid.eq(self.rx_valid), self.samples.payload.eq(self.rx_data)]
                with m.If(self.rx_valid):
                    m.d.sync += scnt.eq(scnt + 1)
                    with m.If(scnt == TC - 1):
                        m.next = "CLASS"
                with m.Elif(timed_out):
                    m.next = "PAD"
            with m.State("PAD"):
                m.d.comb += [self.samples.valid.eq(1), self.samples.payload.eq(0)]
                with m.If(self.samples.ready):
                    m.d.sync += scnt.eq(scnt + 1)
                    with m.If(scnt == TC - 1):
                        m.d.comb += inc.eq(1)
                        answer(Status.TIMEOUT, Kind.CLASSIFY, 0)
            with m.State("CLASS"):
                with m.If(self.load_error):
                    answer(Status.NOT_LOADED, Kind.CLASSIFY, 0)  # the core will never answer
                with m.Elif(self.cls.valid & self.cls.ready & (discard == 0)):
                    m.d.sync += cls.eq(self.cls.payload)
                    answer(Status.OK, Kind.CLASSIFY, 0)
            with m.State("ANSWER"):
                with m.If((self.loaded | self.load_error) & ~ans.busy):
                    m.d.comb += ans.start.eq(1)
                    m.next = "SENDING"
            with m.State("SENDING"):
                with m.If(~ans.busy):
                    with m.If(drain):
                        m.next = "DRAIN"
                    with m.Else():
                        m.next = "IDLE"
            with m.State("DRAIN"):
                with m.If(timed_out):
                    m.next = "IDLE"

        # the core's classes: discarded ones at once, the awaited one in CLASS
        m.d.comb += self.cls.ready.eq((discard != 0) | fsm.ongoing("CLASS"))
        with m.If(self.cls.valid & self.cls.ready):
            m.d.sync += lidx.eq(0)
            m.d.comb += dec.eq(discard != 0)
        m.d.comb += self.busy.eq(~fsm.ongoing("IDLE") & ~fsm.ongoing("DRAIN"))
        return m
