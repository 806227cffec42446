"""Cost section of the P lanes (:mod:`hwssm.hw.lane`) and their per-lane memories: the eight
multipliers, alignment shifts, state and mixing sums, requantizations, and the coefficient,
C̄, state and mixing-row memories (ROMs, or with LOAD storage the SPRAM-mappable RAMs).
"""

from __future__ import annotations

import dataclasses

from ..options import ParamStorage, mix_field
from ..storage import bank_depth
from .blocks import Block, Kind, addr_width, csa_block, merge_blocks, mul_block, pipe_block, rom_block, rq_bits

__all__ = ["lanes_blocks"]


def lanes_blocks(c) -> list[Block]:
    """P lanes (:class:`hwssm.hw.lane.Lane`) with their per-lane memories."""
    P, L, H, a = c.P, c.L, c.H, c.a
    ln = c.lane
    ms = ln.mul_stages
    s, q = c.pipe.mem_stages, c.pipe.requant_stages
    sb = c.soft_mul_bits
    load = c.storage is ParamStorage.LOAD
    fw = ln.f_widths
    k = ln.mix_cols
    f0, f1, f2, f3 = fw[:4]
    # real-mode weights of multipliers 2, 3 (hwssm.hw.options.mix_field)
    w2, w3 = fw[mix_field(k, 2)], fw[mix_field(k, 3)]
    xr, xi = ln.xr_width, ln.xi_width
    # B̄·u takes only B̄'s own bits when the config says so (LOAD storage)
    b2, b3 = ln.b_widths or (f2, f3)
    # with 8 columns the readout multipliers also take (w | C̄) and (g | x')
    cr, ci = (max(ln.cr_width, fw[6]), max(ln.ci_width, fw[7])) if k == 8 else (ln.cr_width, ln.ci_width)
    oxr, oxi = (max(xr, a), max(xi, a)) if k == 8 else (xr, xi)
    B: list[Block] = []
    add = B.append
    sh = ln.shifts
    # stage 0: eight multipliers; four take (x | g) and two of them (w|f0, w|f1) through muxes
    add(mul_block("Ā·x / W·g multiplier re·re", "A", f0, max(xr, a), sb, count=P))
    add(mul_block("Ā·x / W·g multiplier im·im", "A", f1, max(xi, a), sb, count=P))
    add(mul_block("Ā·x / W·g multiplier re·im", "A", max(w2, f0), max(xi, a), sb, count=P))
    add(mul_block("Ā·x / W·g multiplier im·re", "A", max(w3, f1), max(xr, a), sb, count=P))
    if c.s5 is None:   # (S5: bu enters through them times the constant u = 1, which synthesis folds away)
        add(mul_block("B̄·u multiplier re" + (" / W·g" if k >= 6 else ""), "B", b2, a, sb, count=P))
        add(mul_block("B̄·u multiplier im" + (" / W·g" if k >= 6 else ""), "B", b3, a, sb, count=P))
    add(mul_block("C̄·x' multiplier re" + (" / W·g" if k == 8 else ""), "C", cr, oxr, sb, count=P))
    add(mul_block("C̄·x' multiplier im" + (" / W·g" if k == 8 else ""), "C", ci, oxi, sb, count=P))
    add(Block("operand muxes x|g", "weight", Kind.MUX, max(xr, xi, a), 2, count=4 * P))
    add(Block("coefficient muxes", "weight", Kind.MUX, max(f0, f1, w2, w3), 2, count=2 * P))
    if k == 8:
        add(Block("readout operand muxes (C̄|W, x'|g)", "weight", Kind.MUX, max(cr, ci, oxr, oxi), 2, count=4 * P))
    prods = (f0 + max(xr, a)) + (f1 + max(xi, a)) + (max(w2, f0) + max(xi, a)) + (max(w3, f1) + max(xr, a)) + (b2 + a) + (b3 + a)
    add(Block("product registers", "A", Kind.REG, prods + 4, count=P))
    if ln.operand_regs:
        # Pipeline.operand_regs: the multiplexed operands registered in the lane (and with 8
        # columns the readout multipliers' real-mode operands and mode)
        extra = 1 + fw[6] + fw[7] + 2 * a if k == 8 else 0
        add(pipe_block("operand registers", "A", prods + extra, count=P))
    if ms > 1:
        # with ms >= 2 the later registers hold the aligned pair sums: two of each state sum,
        # ceil(k/2) of the real-mode dot product
        pair = 2 * (ln.acc_re_width + ln.acc_im_width) + (k + 1) // 2 * (ln.racc_width - 1) + 4
        add(Block("aligned pair-sum registers", "x", Kind.REG, pair, count=P * (ms - 1)))
    # stage ms: aligned sums
    for name, comp, w in (("ar", "A", f0 + xr), ("ai", "A", f1 + xi), ("br", "B", f2 + a),
                          ("ax", "A", max(f2, f0) + xi), ("ia", "A", max(f3, f1) + xr), ("bi", "B", f3 + a)):
        if sh[name].width:
            add(Block(f"alignment shift {name}", comp, Kind.SHIFT, w, sh[name].width, count=P))
    add(Block("state sums re (3 terms)", "x", Kind.ADD, ln.acc_re_width, 3, count=P))
    add(Block("state sums im (3 terms)", "x", Kind.ADD, ln.acc_im_width, 3, count=P))
    add(Block(f"real-mode {k}-term sum", "weight", Kind.ADD, ln.racc_width, k, count=P))
    # the sums written as one expression: with ms 1 all terms at once, with ms >= 2 the pairs'
    # sums (ceil(n/2) terms) at stage ms; more than two terms: maccmap's carry-save layers
    for name, comp, w, n in (("state sum re", "x", ln.acc_re_width, 3), ("state sum im", "x", ln.acc_im_width, 3),
                             (f"real-mode {k}-term sum", "weight", ln.racc_width, k)):
        csa = csa_block(f"{name} carry-save layers", comp, w, n if ms == 1 else (n + 1) // 2, count=P)
        if csa is not None:
            add(csa)
    add(Block("stage-ms registers", "x", Kind.REG, ln.acc_re_width + ln.acc_im_width + ln.racc_width + 4, count=P))
    # stage ms+1: state requant, real-mode accumulate / align / bias
    for name, w, out, rnd in (("re", ln.acc_re_width, xr, ln.xr_rounding), ("im", ln.acc_im_width, xi, ln.xi_rounding)):
        add(Block(f"state requant {name}", "x", Kind.REQUANT, w, out, count=P))
        if sh[name].width:
            add(Block(f"state requant shift {name}", "x", Kind.SHIFT, w, sh[name].width, count=P))
        if q:
            add(pipe_block(f"state requant {name} split register", "x", rq_bits(w, rnd) * q, count=P, kind="requant"))
        B.extend(merge_blocks(f"state requant {name}", "x", sh[name].width, out, q, count=P))
        d = sh.get("xd" + name[0])  # per-layer state widths: the row's narrowing (a second saturation)
        if d is not None and d.width:
            add(Block(f"state narrowing {name}", "x", Kind.REQUANT, out, out, count=P))
            add(Block(f"state narrowing {name} bounds", "x", Kind.SHIFT, out, d.width, count=2 * P))
    add(Block("real-mode accumulator", "weight", Kind.ADD, ln.racc_width, 2, count=P))
    add(Block("real-mode first-item mux", "weight", Kind.MUX, ln.racc_width, 2, count=P))
    if sh["w"].width:
        add(Block("real-mode shift w", "weight", Kind.SHIFT, ln.racc_width, sh["w"].width, count=P))
    add(Block("real-mode bias add", "bias", Kind.ADD, ln.fin_width, 2, count=P))
    if ln.align_stages:
        # the aligned row sum registered before the bias add; the mixing-row word one cycle longer
        add(pipe_block("real-mode aligned row sum (align_stages)", "bias", ln.fin_width + 1, count=P))
    add(Block("stage-ms+1 registers", "x", Kind.REG, xr + xi + ln.racc_width + ln.fin_width + 2, count=P))
    # stage ms+2: readout products (delayed ms), readout alignment, real-mode requant; with
    # ms >= 2 the registers after the first hold the aligned terms (part_width each)
    add(Block("readout product registers", "C", Kind.REG, cr + oxr + ci + oxi, count=P))
    if ms > 1:
        add(Block("aligned readout registers", "C", Kind.REG, 2 * ln.part_width, count=P * (ms - 1)))
    for name in ("cr", "ci"):
        if sh[name].width:
            prod = cr + oxr if name == "cr" else ci + oxi
            add(Block(f"readout shift {name}", "C", Kind.SHIFT, prod, sh[name].width, count=P))
    add(Block("readout subtract", "C", Kind.ADD, ln.part_width, 2, count=P))
    add(Block("real-mode requant v", "act", Kind.REQUANT, ln.fin_width, ln.v_width, count=P))
    if sh["v"].width:
        add(Block("real-mode requant shift v", "act", Kind.SHIFT, ln.fin_width, sh["v"].width, count=P))
    B.extend(merge_blocks("real-mode requant v", "act", sh["v"].width, ln.v_width, q, count=P))
    if q:
        add(pipe_block("real-mode requant v split register", "act", rq_bits(ln.fin_width, ln.v_rounding) * q, count=P, kind="requant"))
        add(pipe_block("state / v valid delays", "control", 2 * q, count=P))
    add(Block("stage-ms+2 registers", "C", Kind.REG, ln.part_width + ln.v_width + 1, count=P))
    # per-lane memories
    ssm_depth = max(2, L * H * c.Cs) if c.s5 is None else max(2, L * c.Cs)   # S5: one state per mode chunk
    if load:
        ld = c.load
        daw = addr_width(ld.depth)
        for k, w in enumerate(ld.slices):
            add(Block(f"coefficient RAM slice {k} (LOAD)", "A", Kind.RAM, w, depth=max(2, ld.depth), count=P, spram=True))
        add(Block("coefficient RAM address mux (load | issue)", "control", Kind.MUX, daw, 2, count=P * len(ld.slices)))
        add(Block("coefficient RAM write select", "control", Kind.COMPARE, addr_width(len(ld.segments)),
                  count=P * len(ld.slices)))
        if s:
            add(pipe_block("coefficient read registers", "A", sum(ld.slices) * s, count=P))
        add(Block("coefficient field muxes (S4D | mixing)", "weight", Kind.MUX, sum(c.coef_field_widths[:4]), 2, count=P))
        add(Block("C̄ carried to the readout", "C", Kind.REG, ln.cr_width + ln.ci_width, count=P * (ms + 2 + q)))
    if load and c.s5 is None:
        xaw = addr_width(ssm_depth)
        add(Block("state bank {xr, xi}", "x", Kind.RAM, xr + xi, depth=ssm_depth, count=2 * P, spram=True))
        add(Block("state bank address mux (write | read)", "x", Kind.MUX, xaw, 2, count=2 * P))
        add(Block("state bank select", "x", Kind.MUX, xr + xi, 2, count=P))
        if s:
            add(pipe_block("state read registers", "x", 2 * (xr + xi) * s, count=P))
    else:   # (an S5 core's state stays in this two-port RAM with LOAD storage too)
        so = s - c.pipe.operand_regs  # the coefficient ROM's and the state RAM's read registers
        cw, crw = sum(c.coef_field_widths), ln.cr_width + ln.ci_width
        for p in range(P if not load else 0):
            B.extend(banked_rom(f"coefficient ROM {{Ār, Āi, B̄r, B̄i | {k} W}}", "A", c.coef_words[p], cw, so, c.pipe.bank_words))
            B.extend(banked_rom("C̄ ROM", "C", c.c_words[p], crw, s, c.pipe.bank_words))
        B.extend(banked_ram("state RAM {xr, xi}", "x", xr + xi, ssm_depth, so, c.pipe.bank_words, P))
    add(Block("first-step zero of the state", "x", Kind.MUX, xr + xi, 2, count=P))
    mix_w = c.mix_tables[0].width if c.mix_tables else 0
    if mix_w:
        for p in range(P):
            add(rom_block("mixing row ROM (bias, shifts)", "bias", c.mix_tables[p].words(), mix_w))
        add(Block("mixing row delayed copy", "bias", Kind.REG, mix_w, count=P))
        if s:
            add(pipe_block("mixing row read registers", "bias", mix_w * s, count=P))
    return B


def banked_rom(name: str, component: str, words, width: int, stages: int, bank_words: int) -> list[Block]:
    """A coefficient ROM read through ``stages`` registers, split into banks as the datapath's
    ``_rom_q`` splits it (``Pipeline.bank_words``; :func:`hwssm.hw.storage.bank_depth`): each
    bank its own ROM and read registers, then the bank select (:func:`_bank_select`)."""
    d = bank_depth(width, bank_words)
    if not d or stages < 1 or width == 0 or len(words) <= d:
        B = [rom_block(name, component, words, width)]
        return B + ([pipe_block(f"{name} read registers", component, width * stages)] if stages else [])
    banks = [words[i:i + d] for i in range(0, len(words), d)]
    B = [rom_block(f"{name} bank {b}", component, w, width) for b, w in enumerate(banks)]
    B.append(pipe_block(f"{name} bank read registers", component, width * stages, count=len(banks)))
    return B + [_bank_select(name, width, len(banks), stages)]


def banked_ram(name: str, component: str, width: int, depth: int, stages: int, bank_words: int, count: int) -> list[Block]:
    """``count`` state RAMs (one write port, one read port) read through ``stages`` registers,
    split into banks as the datapath's ``_banked_ram`` splits them."""
    d = bank_depth(width, bank_words)
    if not d or stages < 1 or depth <= d:
        B = [Block(name, component, Kind.RAM, width, depth=depth, count=count)]
        return B + ([pipe_block(f"{name} read registers", component, width * stages, count=count)] if stages else [])
    n = -(-depth // d)
    return [Block(f"{name} bank", component, Kind.RAM, width, depth=d, count=count * n),
            pipe_block(f"{name} bank read registers", component, width * stages, count=count * n),
            dataclasses.replace(_bank_select(name, width, n, stages), count=count)]


def _bank_select(name: str, width: int, n: int, stages: int) -> Block:
    """The bank select's address bits, delayed with the read data. Its n-input multiplexer (and
    a banked RAM's write enables) is not priced: it replaces the depth multiplexer and write
    decoder Yosys builds in LUTs for a memory deeper than one block, which the family's fitted
    coefficients already absorb (an ECP5 design split into 2048-word banks measured +86 LUT4
    over the same design unsplit, within the estimator's band)."""
    return pipe_block(f"{name} bank select delay", "control", addr_width(n) * (1 + stages))
