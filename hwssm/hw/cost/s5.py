"""Cost section of what an S5 core adds to the S4D units (:mod:`hwssm.hw.derive_s5`): the u
banks and their operand multiplexers, the lanes' bu buffers and bu field multiplexers, the
per-lane update-shift ROMs, the real-mode narrowing, the S5 slot-kind delays, the half GLU's
value-buffer writes, the y bias δ, the S5 sequencer's extra counters and, with LOAD storage,
the readout slots' identity multiplexers (the coefficient RAM slices themselves, in SPRAM, are
priced in :mod:`.lanes`, with the state RAM of the ROM design). The S4D sections
(:mod:`.lanes`, :mod:`.datapath`, ...) price the rest of the core from the same CoreConfig.
"""

from __future__ import annotations

from ..options import ParamStorage
from .blocks import Block, Kind, addr_width, pipe_block, rom_block

__all__ = ["s5_blocks"]


def s5_blocks(c) -> list[Block]:
    """The S5-only blocks of the core described by ``c`` (a CoreConfig with ``c.s5`` set)."""
    s5, ln = c.s5, c.lane
    P, L, H, a, Cs, Q = c.P, c.L, c.H, c.a, c.Cs, c.Q
    ms, s, q = ln.mul_stages, c.pipe.mem_stages, c.pipe.requant_stages
    fw = c.coef_field_widths
    bw_re, bw_im = s5.bu_widths
    latency_state = ms + 2 + q
    LV = 1 + s + ms + 3 + q + c.pipe.acc_stages + c.pipe.align_stages   # issue → real-mode v
    kb = addr_width(max(c.KP, Cs))
    B = [
        Block("u banks (B̄u operands)", "act", Kind.RAM, a, depth=max(2, Q), count=c.pipe.mix_cols),
        Block("u | g operand muxes", "act", Kind.MUX, a, 2, count=c.pipe.mix_cols),
        Block("u bank write mux (encoder | GLU)", "act", Kind.MUX, a + addr_width(H), 2),
        Block("bu buffer re", "x", Kind.RAM, bw_re, depth=max(2, Cs), count=P),
        Block("bu buffer im", "x", Kind.RAM, bw_im, depth=max(2, Cs), count=P),
        Block("bu | coefficient field muxes", "x", Kind.MUX, max(fw[2], fw[3]), 2, count=2 * P),
        Block("bu write context delays", "control", Kind.REG, (2 + kb) * LV, count=P),
        Block("update / B̄u slot delays", "control", Kind.REG, 2 * (1 + s) + latency_state + LV),
        Block("state write enable (updates only)", "x", Kind.MUX, 1, 2, count=P),
    ]
    width = s5.upd_tables[0].width
    if width:
        for p in range(P):
            B.append(rom_block("update shift ROM", "A", s5.upd_tables[p].words(), width))
        B.append(Block("update shift delay chain", "control", Kind.REG, width * (ms + 1), count=P))
        if s:
            B.append(pipe_block("update shift read registers", "A", width * s, count=P))
    if any("vd" in t.shifts for t in c.mix_tables):
        B.append(Block("real-mode narrowing (vd)", "act", Kind.REQUANT, ln.v_width, ln.v_width, count=P))
        B.append(Block("narrowing shift delay", "control", Kind.REG, 6 * (ms + 2 + q), count=P))
    if s5.half:
        B.append(Block("value buffer write slot/word counters (half GLU)", "act", Kind.ADD,
                       addr_width(P) + addr_width(c.KP), 2))
    if s5.delta:
        B.append(Block("row finish δ add", "D", Kind.ADD, c.fin_width, 2))
    if c.storage is ParamStorage.LOAD:   # a readout slot's Λ̄ = 1 instead of its word's C̃ bits
        B.append(Block("readout identity muxes (LOAD)", "A", Kind.MUX, fw[0] + fw[1], 2, count=P))
    cw = addr_width(H + 1) + 2
    ctr = addr_width(L * Cs) * 2 + addr_width(max(2, 8)) + 2 * cw
    B.append(Block("S5 sequencer counters (x address, u credits, gaps)", "control", Kind.ADD, ctr, 2))
    B.append(Block("S5 sequencer credit compares", "control", Kind.COMPARE, cw, count=2))
    B.append(Block("S5 sequencer registers", "control", Kind.REG, ctr + 3))
    return B
