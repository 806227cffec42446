"""cocotb testbench of the generated core inside ``sim_top`` (hwssm/verify/wrapper.py).

The wrapper does all per-cycle work in HDL: it makes the clock and reset, feeds the
pixels from a memory file, and writes every output to text files. This test only waits
for ``done`` (one callback for the whole run, so Python stays out of the cycle loop) and
checks that the run ended by itself rather than by the wrapper's stall watchdog. The
outputs are compared with the golden engine afterwards, by hwssm.verify.check.
"""

import cocotb
from cocotb.triggers import RisingEdge


@cocotb.test()
async def run_digits(dut):
    """Let the wrapper run all digits; fail if its watchdog fired."""
    await RisingEdge(dut.done)
    n_out = int(dut.n_out.value)
    cycles = int(dut.cyc.value)
    dut._log.info("done after %d cycles, %d classes out", cycles, n_out)
    assert not int(dut.timed_out.value), f"the core stalled: no progress (timeout) after {n_out} classes, cycle {cycles}"
