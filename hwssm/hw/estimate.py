"""Analytic resource estimate of the core (LUT4, FF, DSP, block RAM, SPRAM) for a QModel on P lanes.

The estimate has two halves, like the cycle model:

1. :func:`inventory` lists the core's building blocks from the same derived description the
   generator uses (:func:`hwssm.hw.config.derive`): multipliers with their operand widths,
   adders, multiplexers, variable shifters, requantizers, registers, ROMs and RAMs with their
   depth and width, and the sequencer. Every block is attributed to a plan component
   (Ā, x, B̄, C̄, D, weight, bias, act) or to ``control``.
2. :func:`cost` prices one block on an FPGA family, following what Yosys does with it:

   * **multipliers** go to hard DSPs when DSPs are on and the product is wide enough
     (iCE40 ``SB_MAC16`` 16×16 for products of ≥ 11 bits, as ``synth_ice40 -dsp`` maps them;
     ECP5 ``MULT18X18D`` 18×18), split into ⌈a/16⌉·⌈b/16⌉ (⌈a/18⌉·⌈b/18⌉) blocks, else LUTs;
   * **memories** go to block RAM when Yosys' ``memory_libmap`` finds that cheaper than logic
     (ROM logic costs 1/16 per bit, RAM logic 1 per bit; an iCE40 ``SB_RAM40_4K`` costs 64,
     an ECP5 ``DP16KD`` 128, an ECP5 16×4 LUT-RAM 4), with the block count of the best
     width/depth configuration (iCE40 256×16, 512×8, 1024×4, 2048×2; ECP5 1024×18,
     2048×9, 4096×4, 8192×2, 16384×1, and 512×36 for single-port reads); ROMs left in
     logic cost LUTs that grow with depth × width;
   * **adders** cost one LUT4 per bit per extra operand (plus carry cells), variable shifts
     one LUT4 per bit per shift bit, multiplexers about one LUT4 per bit per extra input.

   Per-family :class:`Coefficients` scale each kind; they are calibrated against Yosys on
   the generated core (see ``tests/hw/test_estimate.py`` and the sweep's per-point error).

LUT counts are LUT4 equivalents: on ECP5 each ``CCU2C`` carry cell counts as its two LUT4s
(Yosys reports them apart from ``LUT4`` cells). Compare with
:func:`hwssm.explore.sweep.measured_lut`.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable

from ..quant.qmodel import QModel
from ..synth.device import Device

__all__ = [
    "Kind", "Block", "Resources", "Coefficients", "COEFFICIENTS", "Estimate",
    "inventory", "cost", "estimate", "lut_error", "memory_breakdown", "COMPONENTS", "ESTIMATOR_VERSION",
]

#: Bump when the model or its coefficients change (results record it beside the estimate).
ESTIMATOR_VERSION = 1

#: Components a block is attributed to (plan components, plus ``control``).
COMPONENTS = ("A", "x", "B", "C", "D", "weight", "bias", "act", "control")


def memory_breakdown(qm: QModel) -> dict[str, int]:
    """Stored bits per component: Ā, B̄, C̄ (both parts), D, weights, biases (encoder, mixing,
    decoder, with zero points) and the state x of one sequence. Sums to ``qm.footprint_bits``.
    The GELU/sigmoid tables are ``qm.lut_bits`` (not part of the footprint)."""
    out = {"A": 0, "x": qm.state_bits, "B": 0, "C": 0, "D": 0, "weight": 0, "bias": 0}
    for name, p in qm.params():
        leaf = name.rsplit(".", 1)[-1]
        key = {"A_re": "A", "A_im": "A", "B_re": "B", "B_im": "B", "C_re": "C", "C_im": "C", "D": "D",
               "W": "weight", "enc_W": "weight", "dec_W": "weight", "b": "bias", "enc_b": "bias", "dec_b": "bias"}[leaf]
        out[key] += p.n_bits
    return out


class Kind(enum.Enum):
    """What a block is. ``width``/``aux``/``depth`` of a :class:`Block` mean, per kind:

    MUL: operand widths ``width`` × ``aux``; ADD: ``width``-bit sum of ``aux`` operands;
    MUX: ``width`` bits, ``aux`` inputs; SHIFT: ``width``-bit input, ``aux``-bit variable amount;
    REQUANT: ``width``-bit accumulator to an ``aux``-bit code (round + saturate);
    COMPARE: ``width``-bit magnitude comparison; REG: ``width`` flip-flops;
    ROM / RAM: ``depth`` words of ``width`` bits (ROM: initialized, read-only; RAM: written).
    """

    MUL = "mul"
    ADD = "add"
    MUX = "mux"
    SHIFT = "shift"
    REQUANT = "requant"
    COMPARE = "compare"
    REG = "reg"
    ROM = "rom"
    RAM = "ram"


@dataclasses.dataclass(frozen=True)
class Block:
    """``count`` identical blocks of one kind, attributed to ``component``; ``name`` says what it is.

    A ROM may carry ``logic``: what its contents cost as logic (see :func:`rom_logic`), used
    when Yosys leaves it in LUTs; without it every stored bit counts.
    """

    name: str
    component: str
    kind: Kind
    width: int
    aux: int = 0
    depth: int = 0
    count: int = 1
    logic: tuple[float, int] | None = None


def rom_logic(words, width: int) -> tuple[float, int]:
    """(LUT4 units, varying columns) of a ROM's contents as logic.

    Each distinct output column that is not constant is a Boolean function of the address
    bits it depends on (k of them); it costs ``max(1, 2^(k-4))`` LUT4 leaves (the family's
    ``rom_logic`` coefficient scales in the mux tree above them). Constant columns and
    duplicate columns cost nothing (Yosys and ABC remove them). The varying columns are
    also the flip-flops of the synchronous read port.
    """
    import numpy as np

    n = len(words)
    if n == 0 or width == 0:
        return 0.0, 0
    depth = 1 << max(1, (n - 1).bit_length())
    ints = [int(w) for w in words] + [0] * (depth - n)
    units, varying, seen = 0.0, 0, set()
    chunk = 62
    for lo in range(0, width, chunk):
        cw = min(chunk, width - lo)
        arr = np.array([(w >> lo) & ((1 << cw) - 1) for w in ints], dtype=np.int64)
        for j in range(cw):
            col = ((arr >> j) & 1).astype(np.uint8)
            if col.min() == col.max():
                continue
            key = col.tobytes()
            if key in seen:
                continue
            seen.add(key)
            varying += 1
            idx = np.arange(depth)
            k = sum(1 for i in range(depth.bit_length() - 1) if np.any(col != col[idx ^ (1 << i)]))
            units += max(1.0, 2.0 ** (k - 4))
    return units, varying


@dataclasses.dataclass(frozen=True)
class Resources:
    """Resource counts (cells). ``lut``: LUT4 equivalents; ``bram``: EBR blocks; ``spram``: SPRAM blocks;
    ``ram_bits``: memory bits placed in block RAM / LUT-RAM (for the breakdown)."""

    lut: float = 0.0
    ff: float = 0.0
    dsp: int = 0
    bram: int = 0
    spram: int = 0
    lutram: int = 0
    ram_bits: int = 0

    def __add__(self, o: "Resources") -> "Resources":
        return Resources(*(getattr(self, f.name) + getattr(o, f.name) for f in dataclasses.fields(self)))

    def scaled(self, n: int) -> "Resources":
        return Resources(*(getattr(self, f.name) * n for f in dataclasses.fields(self)))

    def rounded(self) -> dict:
        return {f.name: int(round(getattr(self, f.name))) for f in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True)
class Coefficients:
    """Per-family cost coefficients (LUT4 per unit; see :func:`cost`).

    Attributes
    ----------
    add : float
        LUT4 per result bit per extra operand of an adder.
    mux : float
        LUT4 per bit per extra input of a multiplexer.
    shift : float
        LUT4 per data bit per bit of a variable shift amount.
    requant : float
        Scale on a round-and-saturate of a w-bit accumulator to an a-bit code, counted as
        w (rounding adder) + (w - a)/3 (overflow test) + a (clamp mux) LUT4.
    compare : float
        LUT4 per bit of a magnitude comparison.
    soft_mul : float
        LUT4 per partial-product bit (a·b) of a multiplier built from LUTs.
    rom_logic : float
        LUT4 per stored bit of a ROM left in logic.
    ram_logic : float
        LUT4 per stored bit of a small RAM left in flip-flops (read mux).
    control : float
        LUT4 of glue logic per lane not in any block.
    control_fixed : float
        LUT4 of glue logic independent of P (FSM decoding, enables, address arithmetic).
    ff_scale : float
        Scale on counted flip-flops (registers removed or duplicated by the mapper).
    ff_fixed : float
        Flip-flops not in any block (FSM state, valid bits, wrapper).
    dsp_a, dsp_b, dsp_min_y : int
        Hard multiplier operand widths and the smallest product width mapped to it.
    bram_cost, lutram_cost : float
        ``memory_libmap`` cost of one block RAM / one LUT-RAM cell (0: none).
    bram_configs : tuple[tuple[int, int], ...]
        (width, depth) configurations of one block RAM.
    lutram_shape : tuple[int, int]
        (width, depth) of one LUT-RAM cell, (0, 0) when the family has none.
    lutram_lut : float
        LUT4 equivalents used by one LUT-RAM cell (it occupies slice LUTs).
    """

    add: float
    mux: float
    shift: float
    requant: float
    compare: float
    soft_mul: float
    rom_logic: float
    ram_logic: float
    control: float
    control_fixed: float
    ff_scale: float
    ff_fixed: float
    dsp_a: int
    dsp_b: int
    dsp_min_y: int
    bram_cost: float
    lutram_cost: float
    bram_configs: tuple
    lutram_shape: tuple
    lutram_lut: float


#: Coefficients per FPGA family, fitted (relative least squares) to Yosys 0.70 (yowasp) cell
#: counts of 14 generated cores (H 8-32, M 4-16, L 1-2, P 1-8, plans from 4 to 12 bits,
#: per tensor / per head, symmetric / asymmetric); see tests/hw/test_estimate.py.
COEFFICIENTS: dict[str, Coefficients] = {
    "ice40": Coefficients(
        add=0.65, mux=0.65, shift=0.78, requant=0.65, compare=0.65, soft_mul=1.79, rom_logic=1.89, ram_logic=0.58,
        control=0.0, control_fixed=751.0, ff_scale=0.94, ff_fixed=301.0,
        dsp_a=16, dsp_b=16, dsp_min_y=11, bram_cost=64.0, lutram_cost=0.0,
        bram_configs=((16, 256), (8, 512), (4, 1024), (2, 2048)), lutram_shape=(0, 0), lutram_lut=0.0,
    ),
    "ecp5": Coefficients(
        add=0.98, mux=0.98, shift=1.01, requant=0.98, compare=0.98, soft_mul=1.2, rom_logic=1.05, ram_logic=0.58,
        control=0.0, control_fixed=384.0, ff_scale=0.96, ff_fixed=111.0,
        dsp_a=18, dsp_b=18, dsp_min_y=0, bram_cost=128.0, lutram_cost=4.0,
        bram_configs=((36, 512), (18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384)),
        lutram_shape=(4, 16), lutram_lut=0.0,
    ),
}

#: memory_libmap's logic cost per bit (Yosys defaults).
LOGIC_COST_ROM = 1.0 / 16.0
LOGIC_COST_RAM = 1.0


def _bram_blocks(depth: int, width: int, configs) -> int:
    return min(math.ceil(width / w) * math.ceil(depth / d) for w, d in configs)


def cost(block: Block, family: str, dsp: bool = True, k: Coefficients | None = None) -> Resources:
    """Resources of ``block`` (all ``count`` copies) on ``family`` (``"ice40"`` / ``"ecp5"``)."""
    k = k or COEFFICIENTS[family]
    r = _cost(block, dsp, k)
    return dataclasses.replace(r, ff=r.ff * k.ff_scale) if r.ff else r


def _cost(block: Block, dsp: bool, k: Coefficients) -> Resources:
    w, a, n = block.width, block.aux, block.count
    kind = block.kind
    if w <= 0 or n <= 0:
        return Resources()
    if kind is Kind.MUL:
        if dsp and w >= 2 and a >= 2 and w + a >= k.dsp_min_y:
            blocks = math.ceil(w / k.dsp_a) * math.ceil(a / k.dsp_b)
            # partial products of a split multiply are summed in LUTs
            extra = (blocks - 1) * (w + a) * k.add
            return Resources(lut=extra, dsp=blocks).scaled(n)
        return Resources(lut=k.soft_mul * w * a).scaled(n)
    if kind is Kind.ADD:
        return Resources(lut=k.add * w * max(1, a - 1)).scaled(n)
    if kind is Kind.MUX:
        return Resources(lut=k.mux * w * max(0, a - 1)).scaled(n)
    if kind is Kind.SHIFT:
        # a barrel shifter: stage i of a w-bit input is (w + 2^i - 1) bits of 2:1 muxes
        return Resources(lut=k.shift * (w * a + (1 << a) - a - 1)).scaled(n)
    if kind is Kind.REQUANT:
        # rounding adder over the accumulator, all-equal test of the bits above the code, clamp mux
        return Resources(lut=k.requant * (w + max(0, w - a) / 3 + a)).scaled(n)
    if kind is Kind.COMPARE:
        return Resources(lut=k.compare * w).scaled(n)
    if kind is Kind.REG:
        return Resources(ff=w).scaled(n)
    if kind in (Kind.ROM, Kind.RAM):
        return _memory(block, k).scaled(n)
    raise ValueError(f"unknown block kind {kind}")  # pragma: no cover


def _memory(block: Block, k: Coefficients) -> Resources:
    depth, width = block.depth, block.width
    bits = depth * width
    if depth <= 1:
        return Resources(ff=width if block.kind is Kind.RAM else 0)
    rom = block.kind is Kind.ROM
    logic_cost = bits * (LOGIC_COST_ROM if rom else LOGIC_COST_RAM)
    bram = _bram_blocks(depth, width, k.bram_configs)
    options = [(bram * k.bram_cost, "bram")]
    if k.lutram_cost and not rom:
        lw, ld = k.lutram_shape
        cells = math.ceil(width / lw) * math.ceil(depth / ld)
        options.append((cells * k.lutram_cost, "lutram"))
    best_cost, best = min(options)
    if logic_cost <= best_cost:
        if rom:
            units, cols = block.logic if block.logic is not None else (bits / 16.0, width)
            return Resources(lut=k.rom_logic * units, ff=cols)
        return Resources(lut=k.ram_logic * bits, ff=bits)
    if best == "bram":
        return Resources(bram=bram, ram_bits=bits)
    lw, ld = k.lutram_shape
    cells = math.ceil(width / lw) * math.ceil(depth / ld)
    # read multiplexing across 16-word cells
    mux = k.mux * width * max(0, math.ceil(depth / ld) - 1)
    return Resources(lut=cells * k.lutram_lut + mux, lutram=cells, ram_bits=bits)


def inventory(qm: QModel, lanes: int) -> list[Block]:
    """The core's blocks for ``qm`` on ``lanes`` lanes, module by module as :mod:`hwssm.hw.core`
    builds them (from :func:`hwssm.hw.config.derive`, the generator's own description)."""
    from .config import ceil_log2, derive

    c = derive(qm, lanes)
    return _lanes(c) + _datapath_shared(c, ceil_log2) + _glu(c, ceil_log2) + _encoder_decoder(c, ceil_log2) \
        + _sequencer(c, ceil_log2)


#: ROMs above this many bits go to block RAM on every family (their logic cost exceeds any
#: block mapping), so their contents are not analysed.
ROM_ANALYSIS_BITS = 1 << 16


def _rom(name: str, component: str, words, width: int) -> Block:
    """A ROM block of ``words`` (depth padded to >= 2, as the RTL does), with its logic cost."""
    depth = max(2, len(words))
    logic = rom_logic(words, width) if depth * width <= ROM_ANALYSIS_BITS else None
    return Block(name, component, Kind.ROM, width, depth=depth, logic=logic)


def _aw(n: int, ceil_log2) -> int:
    """Address/counter width of n values (at least 1 bit), as the RTL sizes it."""
    return max(1, ceil_log2(max(2, n)))


def _lanes(c) -> list[Block]:
    """P lanes (:class:`hwssm.hw.lane.Lane`) with their per-lane memories."""
    P, L, H, a = c.P, c.L, c.H, c.a
    ln = c.lane
    ms = ln.mul_stages
    f0, f1, f2, f3 = ln.f_widths
    xr, xi = ln.xr_width, ln.xi_width
    B: list[Block] = []
    add = B.append
    sh = ln.shifts
    # stage 0: eight multipliers; four take (x | g) and two of them (f2|f0, f3|f1) through muxes
    add(Block("Ā·x / W·g multiplier re·re", "A", Kind.MUL, f0, max(xr, a), count=P))
    add(Block("Ā·x / W·g multiplier im·im", "A", Kind.MUL, f1, max(xi, a), count=P))
    add(Block("Ā·x / W·g multiplier re·im", "A", Kind.MUL, max(f2, f0), max(xi, a), count=P))
    add(Block("Ā·x / W·g multiplier im·re", "A", Kind.MUL, max(f3, f1), max(xr, a), count=P))
    add(Block("B̄·u multipliers", "B", Kind.MUL, max(f2, f3), a, count=2 * P))
    add(Block("C̄·x' multiplier re", "C", Kind.MUL, ln.cr_width, xr, count=P))
    add(Block("C̄·x' multiplier im", "C", Kind.MUL, ln.ci_width, xi, count=P))
    add(Block("operand muxes x|g", "weight", Kind.MUX, max(xr, xi, a), 2, count=4 * P))
    add(Block("coefficient muxes", "weight", Kind.MUX, max(f0, f1, f2, f3), 2, count=2 * P))
    prods = (f0 + max(xr, a)) + (f1 + max(xi, a)) + (max(f2, f0) + max(xi, a)) + (max(f3, f1) + max(xr, a)) + 2 * (max(f2, f3) + a)
    add(Block("product registers", "A", Kind.REG, prods + 4, count=P * ms))
    # stage ms: aligned sums
    for name, comp, w in (("ar", "A", f0 + xr), ("ai", "A", f1 + xi), ("br", "B", f2 + a),
                          ("ax", "A", max(f2, f0) + xi), ("ia", "A", max(f3, f1) + xr), ("bi", "B", f3 + a)):
        if sh[name].width:
            add(Block(f"alignment shift {name}", comp, Kind.SHIFT, w, sh[name].width, count=P))
    add(Block("state sums re (3 terms)", "x", Kind.ADD, ln.acc_re_width, 3, count=P))
    add(Block("state sums im (3 terms)", "x", Kind.ADD, ln.acc_im_width, 3, count=P))
    add(Block("real-mode 4-term sum", "weight", Kind.ADD, ln.racc_width, 4, count=P))
    add(Block("stage-ms registers", "x", Kind.REG, ln.acc_re_width + ln.acc_im_width + ln.racc_width + 4, count=P))
    # stage ms+1: state requant, real-mode accumulate / align / bias
    for name, w, out in (("re", ln.acc_re_width, xr), ("im", ln.acc_im_width, xi)):
        add(Block(f"state requant {name}", "x", Kind.REQUANT, w, out, count=P))
        if sh[name].width:
            add(Block(f"state requant shift {name}", "x", Kind.SHIFT, w, sh[name].width, count=P))
    add(Block("real-mode accumulator", "weight", Kind.ADD, ln.racc_width, 2, count=P))
    add(Block("real-mode first-item mux", "weight", Kind.MUX, ln.racc_width, 2, count=P))
    if sh["w"].width:
        add(Block("real-mode shift w", "weight", Kind.SHIFT, ln.racc_width, sh["w"].width, count=P))
    add(Block("real-mode bias add", "bias", Kind.ADD, ln.fin_width, 2, count=P))
    add(Block("stage-ms+1 registers", "x", Kind.REG, xr + xi + ln.racc_width + ln.fin_width + 2, count=P))
    # stage ms+2: readout products (delayed ms), readout alignment, real-mode requant
    add(Block("readout product registers", "C", Kind.REG, ln.cr_width + xr + ln.ci_width + xi, count=P * ms))
    for name in ("cr", "ci"):
        if sh[name].width:
            prod = ln.cr_width + xr if name == "cr" else ln.ci_width + xi
            add(Block(f"readout shift {name}", "C", Kind.SHIFT, prod, sh[name].width, count=P))
    add(Block("readout subtract", "C", Kind.ADD, ln.part_width, 2, count=P))
    add(Block("real-mode requant v", "act", Kind.REQUANT, ln.fin_width, ln.v_width, count=P))
    if sh["v"].width:
        add(Block("real-mode requant shift v", "act", Kind.SHIFT, ln.fin_width, sh["v"].width, count=P))
    add(Block("stage-ms+2 registers", "C", Kind.REG, ln.part_width + ln.v_width + 1, count=P))
    # per-lane memories
    ssm_depth = max(2, L * H * c.Cs)
    for p in range(P):
        add(_rom("coefficient ROM {Ār, Āi, B̄r, B̄i | 4 W}", "A", c.coef_words[p], sum(c.coef_field_widths)))
        add(_rom("C̄ ROM", "C", c.c_words[p], ln.cr_width + ln.ci_width))
    add(Block("state RAM {xr, xi}", "x", Kind.RAM, xr + xi, depth=ssm_depth, count=P))
    add(Block("first-step zero of the state", "x", Kind.MUX, xr + xi, 2, count=P))
    mix_w = c.mix_tables[0].width if c.mix_tables else 0
    if mix_w:
        for p in range(P):
            add(_rom("mixing row ROM (bias, shifts)", "bias", c.mix_tables[p].words(), mix_w))
        add(Block("mixing row delayed copy", "bias", Kind.REG, mix_w, count=P))
    return B


def _datapath_shared(c, ceil_log2) -> list[Block]:
    """Row constants, reduction tree, row finish (y), GELU, g banks, value/gate buffers."""
    P, L, H, a = c.P, c.L, c.H, c.a
    ln = c.lane
    ms = ln.mul_stages
    B: list[Block] = []
    add = B.append
    tree_lat = c.tree_stages
    TR = 1 + (2 * ms + 3) + tree_lat  # issue → tree output
    t = c.ssm_table
    if t.width:
        add(_rom("S4D row-constant ROM", "D", t.words(), t.width))
        # each shift field is carried down the chain to the stage that uses it (D is used at once)
        use = {"ar": ms, "ai": ms, "br": ms, "ax": ms, "ia": ms, "bi": ms, "re": ms + 1, "im": ms + 1,
               "cr": 2 * ms + 2, "ci": 2 * ms + 2, "es": TR - 1, "ed": TR - 1, "sy": TR}
        bits = sum(t.shifts[n].width * use.get(n, TR) for n in t.shifts)
        add(Block("row-constant delay chain", "control", Kind.REG, bits))
    hb, lb = _aw(H, ceil_log2), ceil_log2(L)
    ssm_bits = _aw(L * H * c.Cs, ceil_log2)
    add(Block("issue context delays", "control", Kind.REG,
              5 + ssm_bits * (ms + 3 + ms + 2) + _aw(L * 2 * c.KP, ceil_log2) * (ms + 1) + 3 * TR + (hb + lb) * (TR + 3)))
    if P > 1:
        add(Block("cross-lane adder tree", "C", Kind.ADD, c.rowsum_width, 2, count=P - 1))
        add(Block("adder tree registers", "C", Kind.REG, c.rowsum_width, count=_tree_regs(P, c.pipe.tree_levels_per_stage)))
    add(Block("D·u multiplier", "D", Kind.MUL, c.d_width, a))
    add(Block("D·u delay", "D", Kind.REG, c.du_width, count=max(0, TR - 1)))
    add(Block("row sum accumulator", "C", Kind.ADD, c.rowsum_width, 2))
    add(Block("row sum first-chunk mux", "C", Kind.MUX, c.rowsum_width, 2))
    for name, w in (("es", c.rowsum_width), ("ed", c.du_width)):
        s = t.shifts.get(name)
        if s is not None and s.width:
            add(Block(f"row finish shift {name}", "D", Kind.SHIFT, w, s.width))
    add(Block("row finish add", "D", Kind.ADD, c.fin_width, 2))
    add(Block("y requant", "act", Kind.REQUANT, c.fin_width, a))
    s = t.shifts.get("sy")
    if s is not None and s.width:
        add(Block("y requant shift", "act", Kind.SHIFT, c.fin_width, s.width))
    add(Block("row finish registers", "C", Kind.REG, c.rowsum_width + c.fin_width + a + 2))
    add(_rom("GELU ROM", "act", c.gelu_words, a))
    add(Block("g banks", "act", Kind.RAM, a, depth=max(2, c.Q), count=4))
    add(Block("value / gate buffers", "act", Kind.RAM, P * a, depth=max(2, c.KP), count=2))
    return B


def _tree_regs(P: int, lps: int) -> int:
    n, level, regs = P, 0, 0
    while n > 1:
        n = (n + 1) // 2
        level += 1
        if level % lps == 0 or n == 1:
            regs += n
    return regs


def _glu(c, ceil_log2) -> list[Block]:
    """GLU, residual, sum-pool (:class:`hwssm.hw.glu.GluUnit`) and the core's r / r0 / pool memories."""
    P, L, H, a = c.P, c.L, c.H, c.a
    g = c.glu
    hb, lb, pb = _aw(H, ceil_log2), ceil_log2(L), _aw(P, ceil_log2)
    B: list[Block] = []
    add = B.append
    add(Block("GLU counters", "control", Kind.ADD, _aw(H + P + 1, ceil_log2) + 1 + hb + _aw(L, ceil_log2) + _aw(c.T, ceil_log2) + pb + _aw(c.KP, ceil_log2), 2))
    add(Block("GLU context chain", "control", Kind.REG, 5 * (5 + hb + lb + pb)))
    if P > 1:
        add(Block("value / gate word select", "act", Kind.MUX, a, P, count=2))
    add(Block("u select (r0 | r)", "act", Kind.MUX, a, 2))
    add(_rom("sigmoid ROM", "act", c.sig_words, c.sig_width))
    add(Block("GLU multiplier v·σ", "act", Kind.MUL, a, c.sig_width + 1))
    add(Block("z requant", "act", Kind.REQUANT, g["prod_width"], a))
    add(Block("residual add", "act", Kind.ADD, g["res_width"], 2))
    add(Block("residual requant", "act", Kind.REQUANT, g["res_width"], a))
    for name, w in (("z", g["prod_width"]), ("dz", a), ("du", a), ("r", g["res_width"])):
        vals = g[name]
        width = (max(vals) - min(vals)).bit_length()
        if width:
            add(Block(f"per-layer shift {name}", "act", Kind.SHIFT, w, width))
    add(Block("GLU registers", "act", Kind.REG, 6 * a + g["prod_width"]))
    add(Block("pool adder", "act", Kind.ADD, c.pool_width, 2))
    add(Block("r buffer", "act", Kind.RAM, a, depth=max(2, H)))
    add(Block("r0 double buffer", "act", Kind.RAM, a, depth=1 << (hb + 1)))
    add(Block("pool", "act", Kind.RAM, c.pool_width, depth=max(2, H)))
    return B


def _encoder_decoder(c, ceil_log2) -> list[Block]:
    """Encoder (:class:`hwssm.hw.encoder.Encoder`) and decoder with argmax (:class:`hwssm.hw.decoder.Decoder`)."""
    H, a, nc = c.H, c.a, c.n_classes
    hb = _aw(H, ceil_log2)
    et, dt = c.enc_table, c.dec_table
    B: list[Block] = []
    add = B.append
    if et.width:
        add(_rom("encoder ROM", "weight", et.words(), et.width))
    add(Block("encoder multiplier W·p", "weight", Kind.MUL, et.value_widths.get("W", 2), 9))
    add(Block("encoder add", "bias", Kind.ADD, c.enc["fin_width"], 2))
    add(Block("encoder requant", "act", Kind.REQUANT, c.enc["fin_width"], a))
    for name, w in (("w", c.enc["prod_width"]), ("s", c.enc["fin_width"])):
        s = et.shifts.get(name)
        if s is not None and s.width:
            add(Block(f"encoder shift {name}", "act", Kind.SHIFT, w, s.width))
    add(Block("encoder registers", "control", Kind.REG, hb + 10 + c.enc["prod_width"] + et.width + a + 3 * (hb + 2)))
    add(_rom("decoder weight ROM", "weight", c.dec["W_words"], c.dec["W_width"]))
    add(Block("decoder multiplier", "weight", Kind.MUL, c.dec["W_width"], c.pool_width))
    add(Block("decoder accumulator", "weight", Kind.ADD, c.dec["acc_width"], 2))
    add(Block("decoder first mux", "weight", Kind.MUX, c.dec["acc_width"], 2))
    if dt.width:
        add(_rom("decoder class ROM", "bias", dt.words(), dt.width))
    s = dt.shifts.get("w")
    if s is not None and s.width:
        add(Block("decoder shift", "weight", Kind.SHIFT, c.dec["acc_width"], s.width))
    add(Block("logit add", "bias", Kind.ADD, c.logit_width, 2))
    add(Block("argmax compare", "control", Kind.COMPARE, c.logit_width))
    add(Block("decoder registers", "control", Kind.REG, 2 * c.dec["acc_width"] + 2 * c.logit_width + hb + 4 + _aw(nc * H, ceil_log2) + 16))
    return B


def _sequencer(c, ceil_log2) -> list[Block]:
    """Sequencer (:class:`hwssm.hw.sequencer.Sequencer`): counters, addresses and credit counters."""
    P, L, H = c.P, c.L, c.H
    aw = lambda n: _aw(n, ceil_log2)  # noqa: E731
    cw = aw(H + 1) + 1
    counters = (aw(c.T) + aw(L) + aw(H) + aw(c.Cs) + aw(2 * c.KP) + aw(c.KP) + aw(c.Q) + aw(c.coef_depth)
                + aw(L * H * c.Cs) + aw(L * H) + aw(L * 2 * c.KP) + 2 * cw + 3 * cw + 1)
    B = [Block("sequencer counters", "control", Kind.ADD, counters, 2),
         Block("sequencer registers", "control", Kind.REG, counters + 8 + 4)]
    if P > 1:
        B.append(Block("pairs = min(rem, P)", "control", Kind.COMPARE, cw))
    return B


@dataclasses.dataclass(frozen=True)
class Estimate:
    """An estimate for one (QModel, P, device).

    Attributes
    ----------
    device : Device
    lanes : int
    dsp_enabled : bool
    total : Resources
        Sum over the blocks plus the sequencer's control logic.
    by_component : dict[str, Resources]
        The same, split over :data:`COMPONENTS`.
    blocks : tuple[tuple[Block, Resources], ...]
    """

    device: Device
    lanes: int
    dsp_enabled: bool
    total: Resources
    by_component: dict
    blocks: tuple

    def summary(self) -> dict:
        """Flat JSON record: totals (rounded), per-component LUTs, estimator version."""
        t = self.total.rounded()
        return {"lut": t["lut"], "ff": t["ff"], "dsp": t["dsp"], "bram": t["bram"], "spram": t["spram"],
                "lutram": t["lutram"], "ram_bits": t["ram_bits"],
                "lut_by_component": {k: int(round(v.lut)) for k, v in self.by_component.items()},
                "ff_by_component": {k: int(round(v.ff)) for k, v in self.by_component.items()},
                "version": ESTIMATOR_VERSION}


def estimate(qm: QModel, lanes: int, device: Device, *, dsp: bool = True,
             coefficients: Coefficients | None = None, blocks: Iterable[Block] | None = None) -> Estimate:
    """Estimate the resources of the core for ``qm`` on ``lanes`` lanes on ``device``.

    Raises HwssmError (from :func:`hwssm.hw.config.derive`) for a model or P the RTL cannot build.
    """
    family = device.family
    k = coefficients or COEFFICIENTS[family]
    blocks = list(blocks) if blocks is not None else inventory(qm, lanes)
    priced = tuple((b, cost(b, family, dsp, k)) for b in blocks)
    control = Resources(lut=k.control_fixed + k.control * lanes, ff=k.ff_fixed)
    by_comp = {c: Resources() for c in COMPONENTS}
    by_comp["control"] = control
    total = control
    for b, r in priced:
        by_comp[b.component] = by_comp[b.component] + r
        total = total + r
    return Estimate(device, lanes, dsp, total, by_comp, priced)


def lut_error(estimated: float, measured: float) -> float:
    """Relative error of an estimate: (estimated - measured) / measured (0.1 = 10 % high)."""
    if measured <= 0:
        return math.inf if estimated > 0 else 0.0
    return (estimated - measured) / measured
