"""Run the core in Amaranth's Python simulator as a pure function: pixels in, streams out."""

from __future__ import annotations

import dataclasses

from amaranth.sim import Simulator

from hwssm.hw.rtl.core import HwssmCore


@dataclasses.dataclass
class RtlRun:
    """Everything the core emitted, with the cycle of each event (cycle 0 = first clock)."""

    dbg: list          # (cycle, r)
    logits: list       # (cycle, logit)
    classes: list      # (cycle, class)
    accepted: list     # cycle of each pixel transfer
    cycles: int


def rtl_run(core: HwssmCore, digits: list[list[int]], max_cycles: int = 200_000, load=None) -> RtlRun:
    """Feed ``digits`` (lists of T pixels) back to back with ``in_valid`` high while pixels
    remain and ``out_ready`` high; run until every class is out. ``load``: words streamed
    into the load port (LOAD storage) from cycle 0 on, with ``load_valid`` high while words
    remain (pixels are offered at the same time; the core takes them once loaded)."""
    pixels = [int(p) for d in digits for p in d]
    words = [] if load is None else [int(w) for w in load]
    res = RtlRun([], [], [], [], 0)

    async def tb(ctx):
        i = j = 0
        ctx.set(core.out_ready, 1)
        for cycle in range(max_cycles):
            if load is not None:
                ctx.set(core.load_valid, j < len(words))
                if j < len(words):
                    ctx.set(core.load_data, words[j])
                    if ctx.get(core.load_ready):
                        j += 1
            if i < len(pixels):
                ctx.set(core.in_valid, 1)
                ctx.set(core.in_data, pixels[i])
            else:
                ctx.set(core.in_valid, 0)
            if i < len(pixels) and ctx.get(core.in_ready):
                res.accepted.append(cycle)
                i += 1
            if ctx.get(core.dbg_valid):
                res.dbg.append((cycle, ctx.get(core.dbg_data)))
            if ctx.get(core.logit_valid):
                res.logits.append((cycle, ctx.get(core.logit_data)))
            if ctx.get(core.out_valid):
                res.classes.append((cycle, ctx.get(core.out_class)))
            await ctx.tick()
            if len(res.classes) == len(digits):
                res.cycles = cycle + 1
                return
        raise AssertionError(f"the core did not finish {len(digits)} digits in {max_cycles} cycles")

    sim = Simulator(core)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    return res
