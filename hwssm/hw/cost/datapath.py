"""Cost section of the shared datapath (:mod:`hwssm.hw.datapath`): row constants and their
delay chains, the cross-lane adder tree (:mod:`hwssm.hw.tree`), the row finish (y), GELU, the
g banks and the value/gate buffers.
"""

from __future__ import annotations

from ..core_config import ceil_log2
from ..options import ParamStorage
from .blocks import Block, Kind, addr_width, merge_blocks, mul_block, pipe_block, rom_block, rq_bits

__all__ = ["datapath_blocks"]


def _tree_out(c) -> int:
    """Issue → tree output (τ_R - τ), as :attr:`hwssm.hw.datapath.Datapath.latency_tree_out`."""
    ms, s, q = c.lane.mul_stages, c.pipe.mem_stages, c.pipe.requant_stages
    return 1 + s + (2 * ms + 3 + q) + c.tree_stages


def datapath_blocks(c) -> list[Block]:
    """Row constants, reduction tree, row finish (y), GELU, g banks, value/gate buffers."""
    P, L, H, a = c.P, c.L, c.H, c.a
    ln = c.lane
    ms = ln.mul_stages
    s, q = c.pipe.mem_stages, c.pipe.requant_stages
    load = c.storage is ParamStorage.LOAD
    B: list[Block] = []
    add = B.append
    TR = _tree_out(c)  # issue → tree output
    fa = c.pipe.acc_stages  # the row finish one cycle later (Pipeline.acc_stages)
    t = c.ssm_table
    if t.width:
        add(rom_block("S4D row-constant ROM", "D", t.words(), t.width))
        # each field is carried down the chain to the stage that uses it (rtaps[k] is at τ+1+k;
        # the lanes' stage k reads rtaps[s + k]; D is used at rtaps[s])
        use = {"ar": s + ms, "ai": s + ms, "br": s + ms, "ax": s + ms, "ia": s + ms, "bi": s + ms,
               "re": s + ms + 1, "im": s + ms + 1, "xdr": s + ms + 1, "xdi": s + ms + 1, "cr": s + 2 * ms + 2 + q, "ci": s + 2 * ms + 2 + q,
               "es": TR - 1 + fa, "ed": TR - 1 + fa, "sy": TR + fa}
        base = {"ar": ms, "ai": ms, "br": ms, "ax": ms, "ia": ms, "bi": ms, "re": ms + 1, "im": ms + 1,
                "xdr": ms + 1, "xdi": ms + 1,
                "cr": 2 * ms + 2, "ci": 2 * ms + 2, "es": TR - 1 - s - q, "ed": TR - 1 - s - q, "sy": TR - s - q}
        bits = sum(t.shifts[n].width * base.get(n, TR - s - q) for n in t.shifts)
        extra = sum(t.shifts[n].width * (use.get(n, TR) - base.get(n, TR - s - q)) for n in t.shifts)
        if "D" not in t.consts:
            extra += t.value_widths.get("D", 0) * s
        add(Block("row-constant delay chain", "control", Kind.REG, bits))
        if extra:
            add(pipe_block("row-constant delay chain (pipeline)", "control", extra))
    hb, lb = addr_width(H), ceil_log2(L)
    ssm_bits = addr_width(L * H * c.Cs)
    TR0 = TR - s - q
    # the state write address (1+s+latency_state), the C̄ ROM address (stage_c; ROM only), the
    # mixing-row address (stage_round), the slot kind bits (1+s), the row control (TR) and the
    # channel/layer of the row finish (TR+3+q)
    add(Block("issue context delays", "control", Kind.REG,
              5 + ssm_bits * (ms + 3 + (0 if load else ms + 2)) + addr_width(L * 2 * c.KP) * (ms + 1)
              + 3 * TR0 + (hb + lb) * (TR0 + 3)))
    extra = ssm_bits * ((s + q) + (0 if load else q)) + 5 * s + 3 * (s + q) + (hb + lb) * (s + 2 * q)
    if load and c.s5 is None:
        extra += 2 + 2 * s + q  # step parity of the state banks, read and write
    # acc_stages: the mixing-row address, the value/gate context, each lane's and the row
    # finish's valid bit, the channel/layer of the row finish
    extra += fa * (addr_width(L * 2 * c.KP) + addr_width(c.KP) + addr_width(P + 1) + 2 + P + hb + lb)
    if extra:
        add(pipe_block("issue context delays (pipeline)", "control", extra))
    if P > 1:
        add(Block("cross-lane adder tree", "C", Kind.ADD, c.rowsum_width, 2, count=P - 1))
        add(Block("adder tree registers", "C", Kind.REG, c.rowsum_width, count=_tree_regs(P, c.pipe.tree_levels_per_stage)))
    add(mul_block("D·u multiplier", "D", c.d_width, a, c.soft_mul_bits))
    add(Block("D·u delay", "D", Kind.REG, c.du_width, count=max(0, TR0 - 1)))
    if q + fa:
        add(pipe_block("D·u delay (pipeline)", "D", c.du_width, count=q + fa))
    add(Block("row sum accumulator", "C", Kind.ADD, c.rowsum_width, 2))
    add(Block("row sum first-chunk mux", "C", Kind.MUX, c.rowsum_width, 2))
    for name, w in (("es", c.rowsum_width), ("ed", c.du_width)):
        sh = t.shifts.get(name)
        if sh is not None and sh.width:
            add(Block(f"row finish shift {name}", "D", Kind.SHIFT, w, sh.width))
    add(Block("row finish add", "D", Kind.ADD, c.fin_width, 2))
    if c.pipe.align_stages:
        # both aligned terms registered before the add; the valid bit, the channel/layer and
        # the y shift one cycle longer
        sy = t.shifts["sy"].width if "sy" in t.shifts else 0
        add(pipe_block("row finish aligned terms (align_stages)", "D", 2 * c.fin_width + 1 + hb + lb + sy))
    add(Block("y requant", "act", Kind.REQUANT, c.fin_width, a))
    sh = t.shifts.get("sy")
    if sh is not None and sh.width:
        add(Block("y requant shift", "act", Kind.SHIFT, c.fin_width, sh.width))
    B.extend(merge_blocks("y requant", "act", sh.width if sh is not None else 0, a, q))
    if q:
        add(pipe_block("y requant split register", "act", rq_bits(c.fin_width, c.y_rounding) * q, kind="requant"))
        add(pipe_block("y valid delay", "control", q))
    add(Block("row finish registers", "C", Kind.REG, c.rowsum_width + c.fin_width + a + 2))
    B += act_narrowing_blocks(c)
    add(rom_block("GELU ROM", "act", c.gelu_words, a))
    k = c.pipe.mix_cols
    add(Block("g banks", "act", Kind.RAM, a, depth=max(2, c.Q), count=k))
    if k >= 6:
        add(Block("g | u muxes of the B̄·u multipliers", "act", Kind.MUX, a, 2, count=2))
    if k & (k - 1):
        add(pipe_block("g bank/word write counters", "control", ceil_log2(k) + addr_width(c.Q)))
    if s:
        add(pipe_block("g bank read registers", "act", k * a * s + 2 * a * s + s))  # and u (r0 | r)
    add(Block("value / gate buffers", "act", Kind.RAM, P * a, depth=max(2, c.KP), count=2))
    return B


def act_narrowing_blocks(c) -> list[Block]:
    """Per-layer activation widths (:mod:`hwssm.hw.rtl.act_width`): y's and each lane's v's fit to
    the row's own width (a second saturation, bounds shifted by the row's deficit) and the
    deficit's delay registers; none with one activation width."""
    a, q, B = c.a, c.pipe.requant_stages, []
    for name, d, count, regs in (("y", c.ssm_table.shifts.get("yd"), 1, q),
                                 ("v", c.mix_tables[0].shifts.get("vd") if c.s5 is None else None, c.P,
                                  2 + q + c.lane.align_stages)):
        if d is not None and d.width:
            B.append(Block(f"{name} narrowing (per-layer activation widths)", "act", Kind.REQUANT, a, a, count=count))
            B.append(Block(f"{name} narrowing bounds", "act", Kind.SHIFT, a, d.width, count=2 * count))
            if regs:
                B.append(pipe_block(f"{name} deficit delay", "act", d.width * regs * count))
    return B


def _tree_regs(P: int, lps: int) -> int:
    n, level, regs = P, 0, 0
    while n > 1:
        n = (n + 1) // 2
        level += 1
        if level % lps == 0 or n == 1:
            regs += n
    return regs
