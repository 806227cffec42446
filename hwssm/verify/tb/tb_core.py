"""cocotb testbench of the generated core inside ``sim_top`` (hwssm/verify/wrapper.py).

The wrapper does all per-cycle work in HDL: it makes the clock and reset, feeds the
pixels from a memory file, and writes every output to text files. This test only waits
for ``done`` (one callback for the whole run, so Python stays out of the cycle loop) and
checks that the run ended by itself rather than by the wrapper's stall watchdog. The
outputs are compared with the golden engine afterwards, by hwssm.verify.check.

With the plusarg ``+hwssm_tb_timing=PATH`` it writes ``{"seconds", "cycles", "classes"}``
to PATH: the wall seconds from the start of the test to ``done`` (the simulation itself,
without the process's start-up), read by ``hwssm sim`` and ``hwssm bench sim``; with a
LOAD-storage core also ``"load_cycles"``, the cycles the wrapper took to stream the load
image in after reset (the test fails when the image never went in).
"""

import json
import os
import time

import cocotb
from cocotb.triggers import RisingEdge


def _write_timing(path: str, record: dict) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.replace(tmp, path)


@cocotb.test()
async def run_digits(dut):
    """Let the wrapper run all digits; fail if its watchdog fired."""
    t0 = time.perf_counter()
    await RisingEdge(dut.done)
    seconds = time.perf_counter() - t0
    n_out = int(dut.n_out.value)
    cycles = int(dut.cyc.value)
    dut._log.info("done after %d cycles, %d classes out, %.3f s", cycles, n_out, seconds)
    record = {"seconds": seconds, "cycles": cycles, "classes": n_out}
    try:
        loaded, load_cycles = int(dut.loaded.value), int(dut.load_cycles.value)
    except AttributeError:  # a ROM core: no load port in the wrapper
        loaded = None
    if loaded is not None:
        record["load_cycles"] = load_cycles if loaded else None
    path = cocotb.plusargs.get("hwssm_tb_timing")
    if isinstance(path, str) and path:
        _write_timing(path, record)
    assert loaded is None or loaded or int(dut.truncated.value), f"the load image did not go in (load_ready never took every word; {cycles} cycles)"
    assert not int(dut.timed_out.value), f"the core stalled: no progress (timeout) after {n_out} classes, cycle {cycles}"
