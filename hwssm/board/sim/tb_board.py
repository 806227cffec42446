"""cocotb UART host of the board simulation: sends a script of request frames bit by bit
and records every answer byte with its start time (one await per UART bit; Python never
runs per clock cycle).

Plusargs: ``+board_script=PATH`` (JSON, written by :mod:`hwssm.board.sim.runner`) and
``+board_out=PATH`` (JSON written at the end). Script::

    {"clk_ns": int, "divisor": int, "steps": [{"send": hex, "answer_bytes": n,
     "max_wait_ns": int, "idle_ns_after": int}, ...]}

Output: ``{"steps": [{"t_start_ns", "bytes": hex, "t_bytes_ns": [...], "complete"}],
"bad_stop_bits", "seconds", "led_ready", "led_error"}``; ``t_start_ns`` is the start-bit edge of the step's first
byte, ``t_bytes_ns`` the start-bit edges of the answer bytes (all on the falling clock edge,
half a cycle before a rising edge).
"""

import json
import os
import time

import cocotb
from cocotb.triggers import FallingEdge, Timer
from cocotb.utils import get_sim_time


class _Monitor:
    """Collects the bytes on ``uart_tx``."""

    def __init__(self, dut, bit_ns: int):
        self.dut, self.bit_ns = dut, bit_ns
        self.bytes: list[tuple[int, int]] = []
        self.bad_stop = 0

    async def run(self):
        line = self.dut.uart_tx
        while True:
            await FallingEdge(line)
            t = int(get_sim_time("ns"))
            await Timer(self.bit_ns // 2, "ns")
            if int(line.value):
                continue  # glitch
            value = 0
            for i in range(8):
                await Timer(self.bit_ns, "ns")
                value |= int(line.value) << i
            await Timer(self.bit_ns, "ns")
            if not int(line.value):
                self.bad_stop += 1
            self.bytes.append((value, t))


async def _send(dut, data: bytes, bit_ns: int):
    for b in data:
        dut.uart_rx.value = 0
        await Timer(bit_ns, "ns")
        for i in range(8):
            dut.uart_rx.value = (b >> i) & 1
            await Timer(bit_ns, "ns")
        dut.uart_rx.value = 1
        await Timer(bit_ns, "ns")


@cocotb.test()
async def run_script(dut):
    """Send every step's frame, wait for its answer bytes, record them."""
    t_wall = time.perf_counter()
    with open(cocotb.plusargs["board_script"]) as f:
        script = json.load(f)
    clk_ns, bit_ns = int(script["clk_ns"]), int(script["clk_ns"]) * int(script["divisor"])
    dut.uart_rx.value = 1
    mon = _Monitor(dut, bit_ns)
    cocotb.start_soon(mon.run())
    await Timer(clk_ns * int(script.get("start_cycles", 64)), "ns")
    out = []
    for step in script["steps"]:
        now = int(get_sim_time("ns"))
        if now % clk_ns:
            await Timer(clk_ns - now % clk_ns, "ns")  # start on a falling clock edge
        t0 = int(get_sim_time("ns"))
        first = len(mon.bytes)
        data = bytes.fromhex(step["send"])
        await _send(dut, data, bit_ns)
        deadline = t0 + int(step["max_wait_ns"])
        want = int(step["answer_bytes"])
        while len(mon.bytes) - first < want and int(get_sim_time("ns")) < deadline:
            await Timer(max(bit_ns, 10 * bit_ns), "ns")
        # let a byte in flight finish
        got = mon.bytes[first:]
        if len(got) >= want:
            end = got[want - 1][1] + 10 * bit_ns
            if int(get_sim_time("ns")) < end:
                await Timer(end - int(get_sim_time("ns")), "ns")
            got = mon.bytes[first:]
        out.append({"t_start_ns": t0, "bytes": bytes(b for b, _ in got).hex(), "t_bytes_ns": [t for _, t in got],
                    "complete": len(got) >= want})
        if step.get("idle_ns_after"):
            await Timer(int(step["idle_ns_after"]), "ns")
    record = {"steps": out, "bad_stop_bits": mon.bad_stop, "seconds": time.perf_counter() - t_wall,
              "led_ready": int(dut.led_ready.value), "led_error": int(dut.led_error.value)}
    path = cocotb.plusargs["board_out"]
    with open(f"{path}.tmp", "w") as f:
        json.dump(record, f)
    os.replace(f"{path}.tmp", path)
