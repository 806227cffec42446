"""Cost section of the LayerNorm unit (:mod:`hwssm.hw.rtl.layernorm`, ARITHMETIC.md §7):
its input RAM and output buffer, the per-row constant ROM, the S1/S2 accumulators and V, the
mantissa normalizer, the ρ digit recurrence, the multipliers (x², S1², d·H·ρ, cg·ν) and
its variable shifts, the output requantization, and with postnorm the pool adder it adds.

Everything is attributed to ``act`` (the LayerNorm's own formats), its control to ``control``.
"""

from __future__ import annotations

from ...fixed import signed_width
from ..norm_config import REC_BITS, RHO_BITS, NormConfig
from .blocks import Block, Kind, addr_width, rom_block

__all__ = ["layernorm_blocks"]


def layernorm_blocks(c) -> list[Block]:
    """The LayerNorm unit of CoreConfig ``c`` (empty without LayerNorm)."""
    nc: NormConfig | None = c.norm
    if nc is None:
        return []
    H, a = nc.H, nc.a
    hb = addr_width(H)
    dw, vw = nc.d_width, nc.v_width
    mw = max(vw - 1, 22)
    tab = nc.table
    cg_w, add_w = tab.value_widths["cg"], tab.value_widths["add"]
    p_w = dw + H.bit_length() + RHO_BITS + 2
    acc_w = max(cg_w + nc.nu_width, add_w) + 1
    s_w = (nc.s_max - 5).bit_length()
    B: list[Block] = []
    add = B.append
    add(Block("LayerNorm counters / state", "control", Kind.ADD, 2 * hb + 5 + addr_width(nc.L) + addr_width(c.T), 4))
    add(Block("LayerNorm context chain", "control", Kind.REG, 5 * (3 + hb + addr_width(nc.L))))
    add(Block("LayerNorm input RAM", "act", Kind.RAM, a, depth=max(2, H)))
    add(Block("LayerNorm output buffer", "act", Kind.RAM, a, depth=max(2, H)))
    add(rom_block("LayerNorm γ/β/shift ROM", "act", tab.words(), tab.width))
    add(Block("S1 accumulator", "act", Kind.ADD, nc.s1_width, 2))
    add(Block("x² multiplier", "act", Kind.MUL, a, a))
    add(Block("S2 accumulator", "act", Kind.ADD, nc.s2_width, 2))
    add(Block("S1² multiplier", "act", Kind.MUL, nc.s1_width, nc.s1_width))
    add(Block("V = H²·(H·S2 − S1²) + E", "act", Kind.ADD, vw, 3))
    add(Block("d = H·x − S1", "act", Kind.ADD, dw, 2))
    add(Block("mantissa normalizer", "act", Kind.MUX, mw, 3))
    add(Block("mantissa range compares", "act", Kind.COMPARE, mw, count=2))
    # R − inc (the test), and the next P and inc for both outcomes, selected with R
    add(Block("ρ recurrence subtract", "act", Kind.ADD, REC_BITS + 1, 2))
    add(Block("ρ recurrence adders", "act", Kind.ADD, REC_BITS, 2, count=3))
    add(Block("ρ recurrence selects", "act", Kind.MUX, REC_BITS, 2, count=3))
    add(Block("ρ recurrence registers", "act", Kind.REG, 5 * REC_BITS + RHO_BITS + mw + 8 + s_w))
    add(Block("d·H·ρ multiplier", "act", Kind.MUL, dw + H.bit_length(), RHO_BITS + 1))
    # ν: a floor shift and a HALF_UP one ((p << 1) >> s, + 1, >> 1), selected per block
    add(Block("ν shift", "act", Kind.SHIFT, p_w + 1, max(1, s_w), count=2))
    add(Block("ν rounding select", "act", Kind.MUX, nc.nu_width, 2))
    add(Block("cg·ν multiplier", "act", Kind.MUL, cg_w, nc.nu_width))
    add(Block("cg·ν + add", "act", Kind.ADD, acc_w, 2))
    add(Block("LayerNorm requant", "act", Kind.REQUANT, acc_w, a))
    rsh = tab.shifts["rsh"]
    if rsh.width:
        add(Block("LayerNorm per-row shift", "act", Kind.SHIFT, acc_w, rsh.width))
    add(Block("LayerNorm pipeline registers", "act", Kind.REG,
              3 * nc.s1_width + 2 * nc.s2_width + dw + p_w + nc.nu_width + acc_w + a + 3 * tab.width))
    # constant multiplies by H and H² (shift-and-add: free for a power of two)
    for name, width, c_ in (("H·S2", nc.s2_width + hb, H), ("H²·(H·S2 − S1²)", vw, H * H), ("H·x", dw, H),
                            ("H·d", dw + hb, H)):
        ones = bin(c_).count("1")
        if ones > 1:
            add(Block(f"constant multiply {name}", "act", Kind.ADD, width, ones))
    if not nc.prenorm:
        add(Block("LayerNorm pool adder", "act", Kind.ADD, c.pool_width, 2))
    if signed_width(0, max(nc.E)) > 1:
        add(Block("ε term select", "act", Kind.MUX, signed_width(0, max(nc.E)), nc.L))
    return B
