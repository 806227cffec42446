"""Cost section of the GLU unit (:mod:`hwssm.hw.glu`): GLU, residual, sum-pool, and the core's
r / r0 / pool memories.
"""

from __future__ import annotations

from ..core_config import ceil_log2
from .blocks import Block, Kind, addr_width, merge_blocks, pipe_block, rom_block, rq_bits

__all__ = ["glu_blocks"]


def glu_blocks(c) -> list[Block]:
    """GLU, residual, sum-pool (:class:`hwssm.hw.glu.GluUnit`) and the core's r / r0 / pool memories."""
    P, L, H, a = c.P, c.L, c.H, c.a
    s, q = c.pipe.mem_stages, c.pipe.requant_stages
    g = c.glu
    hb, lb, pb = addr_width(H), ceil_log2(L), addr_width(P)
    B: list[Block] = []
    add = B.append
    add(Block("GLU counters", "control", Kind.ADD, addr_width(H + P + 1) + 1 + hb + addr_width(L) + addr_width(c.T) + pb + addr_width(c.KP), 2))
    add(Block("GLU context chain", "control", Kind.REG, 5 * (5 + hb + lb + pb)))
    if P > 1:
        add(Block("value / gate word select", "act", Kind.MUX, a, P, count=2))
    add(Block("u select (r0 | r)", "act", Kind.MUX, a, 2))
    add(rom_block("sigmoid ROM", "act", c.sig_words, c.sig_width))
    add(Block("GLU multiplier v·σ", "act", Kind.MUL, a, c.sig_width + 1))
    add(Block("z requant", "act", Kind.REQUANT, g["prod_width"], a))
    add(Block("residual add", "act", Kind.ADD, g["res_width"], 2))
    add(Block("residual requant", "act", Kind.REQUANT, g["res_width"], a))
    for name, w in (("z", g["prod_width"]), ("dz", a), ("du", a), ("r", g["res_width"])):
        vals = g[name]
        width = (max(vals) - min(vals)).bit_length()
        if width:
            add(Block(f"per-layer shift {name}", "act", Kind.SHIFT, w, width))
    for name in ("z", "r"):   # (the z and residual requantizations' shifts: "per-layer shift z", "... r")
        B.extend(merge_blocks(f"{name} requant", "act", (max(g[name]) - min(g[name])).bit_length(), a, q))
    for name in ("zd", "rd"):   # per-layer activation widths: z, r fitted to the block's width
        if name in g:
            width = (max(g[name]) - min(g[name])).bit_length()
            add(Block(f"{name[0]} narrowing (per-layer activation widths)", "act", Kind.REQUANT, a, a))
            add(Block(f"{name[0]} narrowing bounds", "act", Kind.SHIFT, a, max(1, width), count=2))
    add(Block("GLU registers", "act", Kind.REG, 6 * a + g["prod_width"]))
    extra = (s + 2 * q) * (5 + hb + lb + pb) + (c.sig_width + 2 * a + c.pool_width) * s + a * q
    if extra:
        add(pipe_block("GLU pipeline registers", "act", extra))
    if q:
        add(pipe_block("z / residual requant split registers", "act",
                  (rq_bits(g["prod_width"], g["z_rounding"]) + rq_bits(g["res_width"], g["r_rounding"])) * q,
                  kind="requant"))
    add(Block("pool adder", "act", Kind.ADD, c.pool_width, 2))
    # r and r0 have two read ports each (the S4D slots' u and the GLU's residual)
    add(Block("r buffer", "act", Kind.RAM, a, 2, depth=max(2, H)))
    add(Block("r0 double buffer", "act", Kind.RAM, a, 2, depth=1 << (hb + 1)))
    add(Block("pool", "act", Kind.RAM, c.pool_width, depth=max(2, H)))
    return B
