"""Small real designs for the synthesis tests, written as an RTL directory (Verilog + manifest)."""

from __future__ import annotations

import json
from pathlib import Path

from amaranth import Cat, Module, Shape, Signal, signed
from amaranth.back import verilog
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from hwssm.hw.manifest import file_digests


class Mac(wiring.Component):
    """Pipelined 16x16 multiply-accumulate of ``x`` with coefficients from a 256x16 RAM.

    Latency: RAM read (1) + product register (1) + accumulator (1) cycles. ``dbg`` (the
    product register) is a debug output: simulation only.
    """

    def __init__(self, depth: int = 256):
        self.depth = depth
        super().__init__(
            {
                "x": In(signed(16)),
                "valid": In(1),
                "we": In(1),
                "wdata": In(signed(16)),
                "acc": Out(signed(40)),
                "dbg": Out(signed(32)),
            }
        )

    def elaborate(self, platform):
        m = Module()
        init = [(i * 37) % 65536 - 32768 for i in range(self.depth)]
        m.submodules.mem = mem = memory.Memory(shape=signed(16), depth=self.depth, init=init)
        rd = mem.read_port()
        wr = mem.write_port()
        addr = Signal(range(self.depth))
        x1 = Signal(signed(16))
        v1 = Signal()
        v2 = Signal()
        prod = Signal(signed(32))
        acc = Signal(signed(40))
        m.d.comb += [rd.addr.eq(addr), wr.addr.eq(addr), wr.data.eq(self.wdata), wr.en.eq(self.we)]
        with m.If(self.valid):
            m.d.sync += addr.eq(addr + 1)
        m.d.sync += [x1.eq(self.x), v1.eq(self.valid), v2.eq(v1), prod.eq(x1 * rd.data)]
        with m.If(v2):
            m.d.sync += acc.eq(acc + prod)
        m.d.comb += [self.acc.eq(acc), self.dbg.eq(prod)]
        return m


class Rings(wiring.Component):
    """``blocks`` independent 16-bit rings of a rule-30-like update: one LUT4 and one FF per bit.

    Each ring's bit 0 is an output; every other bit reaches it through the ring, so nothing
    can be removed. Rings are short so that no long dependency chain forms (a 6000-FF shift
    register overflows the WebAssembly Yosys's stack).
    """

    def __init__(self, blocks: int):
        self.blocks = blocks
        super().__init__({"din": In(16), "dout": Out(blocks)})

    def elaborate(self, platform):
        m = Module()
        outs = []
        for b in range(self.blocks):
            r = Signal(16, name=f"ring{b}")
            nxt = [r[i] ^ (r[(i + 1) % 16] & r[(i + 2) % 16]) ^ self.din[(i + b) % 16] for i in range(16)]
            m.d.sync += r.eq(Cat(*nxt))
            outs.append(r[0])
        m.d.comb += self.dout.eq(Cat(*outs))
        return m


def _port(name, dir, width, role):
    return {"name": name, "dir": dir, "width": width, "role": role}


def write_rtl(component: wiring.Component, name: str, directory: Path) -> Path:
    """Write ``directory/<name>.v`` and ``manifest.json`` (ports from the component's signature)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.v").write_text(verilog.convert(component, name=name, emit_src=False))
    ports = [_port("clk", "in", 1, "clk"), _port("rst", "in", 1, "rst")]
    for pname, member in component.signature.members.items():
        width = Shape.cast(member.shape).width
        role = "debug" if pname.startswith("dbg") else "data"
        ports.append(_port(pname, "in" if member.flow == In else "out", width, role))
    manifest = {"top": name, "clock": "clk", "ports": ports, "files": file_digests(directory, [f"{name}.v"])}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return directory


class ShiftLanes(wiring.Component):
    """``lanes`` independent shift registers of ``depth`` flip-flops: ``lanes * depth`` FFs, no logic."""

    def __init__(self, lanes: int, depth: int):
        self.lanes, self.depth = lanes, depth
        super().__init__({"din": In(lanes), "dout": Out(lanes)})

    def elaborate(self, platform):
        m = Module()
        for k in range(self.lanes):
            r = Signal(self.depth, name=f"lane{k}")
            m.d.sync += r.eq(Cat(self.din[k], r[:-1]))
            m.d.comb += self.dout[k].eq(r[-1])
        return m


class RomRead(wiring.Component):
    """A 1024 x 9 ROM read at address ``addr`` (synchronous: one block RAM), the read data
    registered once more (``q`` two cycles after ``addr``), as the datapath's memory-read
    register (``Pipeline.mem_stages``) does."""

    def __init__(self):
        super().__init__({"addr": In(10), "q": Out(9)})

    def elaborate(self, platform):
        m = Module()
        init = [(i * 97 + 13) % 512 for i in range(1024)]
        m.submodules.rom = rom = memory.Memory(shape=9, depth=1024, init=init)
        rd = rom.read_port()
        q = Signal(9, reset_less=True)  # as the datapath's read registers (a reset would stay in the fabric)
        m.d.comb += [rd.addr.eq(self.addr), self.q.eq(q)]
        m.d.sync += q.eq(rd.data)
        return m
