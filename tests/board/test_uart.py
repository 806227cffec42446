"""UART receiver and transmitter in Amaranth's simulator: loopback of every byte value at
an odd divisor, the receiver's stated latency, a glitch shorter than half a bit ignored, a
low stop bit reported as a frame error and the byte dropped."""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.sim import Simulator

from hwssm.board.rtl.uart_rx import UartRx
from hwssm.board.rtl.uart_tx import UartTx


def _run(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_loopback_every_byte():
    div = 5
    m = Module()
    m.submodules.tx = tx = UartTx(div)
    m.submodules.rx = rx = UartRx(div)
    m.d.comb += rx.rx.eq(tx.tx)
    got = []

    async def bench(ctx):
        sent = 0
        while len(got) < 256:
            if sent < 256:
                ctx.set(tx.i.valid, 1)
                ctx.set(tx.i.payload, sent)
            else:
                ctx.set(tx.i.valid, 0)
            res = await ctx.tick().sample(tx.i.ready & tx.i.valid, rx.valid, rx.data)
            took, valid, data = res[-3:]
            if sent < 256 and took:
                sent += 1
            if valid:
                got.append(data)

    _run(m, bench)
    assert got == list(range(256))


def _drive(bits, div):
    """Line levels per cycle for a list of (level, cycles)."""
    out = []
    for level, n in bits:
        out += [level] * n
    return out


def _frame(byte, div, stop=1):
    return [(0, div)] + [((byte >> i) & 1, div) for i in range(8)] + [(stop, div)]


def _receive(levels, div):
    rx = UartRx(div)
    seen = []

    async def bench(ctx):
        for cyc, level in enumerate(levels):
            ctx.set(rx.rx, level)
            await ctx.tick()
            if ctx.get(rx.valid):
                seen.append(("byte", ctx.get(rx.data), cyc))
            if ctx.get(rx.frame_error):
                seen.append(("frame_error", None, cyc))

    _run(rx, bench)
    return seen


def test_latency_glitch_and_frame_error():
    div = 8
    idle = [(1, 3 * div)]
    levels = _drive(idle + _frame(0xA5, div) + idle, div)
    (kind, data, cyc), = _receive(levels, div)
    # the start bit is set before edge 3·div; valid is visible after edge 3·div + latency - 1
    assert (kind, data) == ("byte", 0xA5) and cyc == 3 * div + 3 + div // 2 + 9 * div - 1
    assert _receive(_drive(idle + [(0, div // 2 - 1)] + idle + idle, div), div) == []
    bad = _receive(_drive(idle + _frame(0x3C, div, stop=0) + [(1, 4 * div)] + _frame(0x11, div) + idle, div), div)
    assert [k for k, _, _ in bad] == ["frame_error", "byte"] and bad[1][1] == 0x11
