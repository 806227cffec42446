"""Analytic resource estimate of the core (LUT4, FF, DSP, block RAM, SPRAM) for a QModel on P lanes.

The estimate has two halves, like the cycle model:

1. :func:`inventory` lists the core's building blocks from the same derived description the
   generator uses (:func:`hwssm.hw.derive.derive`, with the generator options ``pipeline``,
   ``storage`` and ``soft_mul_bits``): multipliers with their operand widths, adders,
   multiplexers, variable shifters, requantizers, registers, ROMs and RAMs with their depth,
   width and read ports, the sequencer, and with LOAD storage the loader. Every block is
   attributed to a plan component (Ā, x, B̄, C̄, D, weight, bias, act) or to ``control``.
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
     one LUT4 per bit per shift bit, multiplexers about one LUT4 per bit per extra input;
   * **generator options**: a multiply whose narrower operand has at most ``soft_mul_bits``
     bits is built from LUT adders (never a DSP; ``soft_add`` per adder bit); LOAD storage
     replaces the lanes' coefficient and C̄ ROMs and state RAM by single-port RAMs (16-bit
     coefficient slices, two ping-pong state banks) that go to iCE40 SPRAM (16K × 16 each)
     when ``hwssm synth --spram`` forces them there, plus the loader, the address and field
     multiplexers and the C̄ delay; ``mem_stages`` adds read registers and longer delay
     chains (flip-flops only), ``requant_stages`` a register inside every requantization,
     which also costs LUTs (``split_lut``: the shifter no longer merges with the rounding).

   Per-family :class:`Coefficients` scale each kind; they are calibrated against Yosys on
   the generated core (see ``tests/hw/test_estimate.py`` and the sweep's per-point error).
   ``soft_add`` and ``split_lut`` were measured on pairs of Yosys runs that differ in that
   option only (a 16-channel random core and the shipped heterogeneous model); the others
   keep their earlier fit.

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
from .core_config import ceil_log2
from .options import Pipeline, mix_field
from .cycle_model import mix_gap
from .storage import ParamStorage

__all__ = [
    "Kind", "Block", "Resources", "Coefficients", "COEFFICIENTS", "Estimate",
    "inventory", "cost", "estimate", "lut_error", "memory_breakdown", "COMPONENTS", "ESTIMATOR_VERSION",
    "Options",
]

#: Bump when the model or its coefficients change (results record it beside the estimate).
ESTIMATOR_VERSION = 2

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
    ROM / RAM: ``depth`` words of ``width`` bits (ROM: initialized, read-only; RAM: written);
    a RAM's ``aux`` is its number of read ports (0: one).
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
    when Yosys leaves it in LUTs; without it every stored bit counts. ``soft``: a MUL that
    the generator builds from LUT adders (``soft_mul_bits``, :func:`hwssm.hw.ops.mul`), never
    a DSP. ``spram``: a single-port RAM marked for iCE40 SPRAM (LOAD storage; forced into
    SPRAM by ``hwssm synth --spram``). ``pipe``: a REG that exists only because of the
    pipeline options: ``"mem"`` (memory read registers and the longer delay chains of
    ``mem_stages`` / ``requant_stages``) or ``"requant"`` (the register inside a split
    requantization, priced with the family's ``split_lut``).
    """

    name: str
    component: str
    kind: Kind
    width: int
    aux: int = 0
    depth: int = 0
    count: int = 1
    logic: tuple[float, int] | None = None
    soft: bool = False
    spram: bool = False
    pipe: str = ""


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
    soft_add : float
        LUT4 per adder bit of a multiplier that the generator builds from LUT adders
        (``soft_mul_bits``; the AND of each partial product and the carry logic included).
    split_lut : float
        LUT4 per flip-flop inside a split requantization (``requant_stages``): the register
        between the variable right shift and the rounding/saturation keeps the mapper from
        merging the two (ECP5: the shifter is then built of LUT4 + PFUMX/L6MUX trees).
    spram_shape : tuple[int, int]
        (width, depth) of one single-port RAM block (iCE40 SPRAM 16 × 16384), (0, 0) when
        the family has none.
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
    soft_add: float = 1.0
    split_lut: float = 0.0
    spram_shape: tuple = (0, 0)


#: Coefficients per FPGA family, fitted (relative least squares) to Yosys 0.70 (yowasp) cell
#: counts of 14 generated cores (H 8-32, M 4-16, L 1-2, P 1-8, plans from 4 to 12 bits,
#: per tensor / per head, symmetric / asymmetric); see tests/hw/test_estimate.py.
COEFFICIENTS: dict[str, Coefficients] = {
    "ice40": Coefficients(
        add=0.65, mux=0.65, shift=0.78, requant=0.65, compare=0.65, soft_mul=1.79, rom_logic=1.89, ram_logic=0.58,
        control=0.0, control_fixed=751.0, ff_scale=0.94, ff_fixed=301.0,
        dsp_a=16, dsp_b=16, dsp_min_y=11, bram_cost=64.0, lutram_cost=0.0,
        bram_configs=((16, 256), (8, 512), (4, 1024), (2, 2048)), lutram_shape=(0, 0), lutram_lut=0.0,
        soft_add=1.15, split_lut=0.3, spram_shape=(16, 16384),
    ),
    "ecp5": Coefficients(
        add=0.98, mux=0.98, shift=1.01, requant=0.98, compare=0.98, soft_mul=1.2, rom_logic=1.05, ram_logic=0.58,
        control=0.0, control_fixed=384.0, ff_scale=0.96, ff_fixed=111.0,
        dsp_a=18, dsp_b=18, dsp_min_y=0, bram_cost=128.0, lutram_cost=4.0,
        bram_configs=((36, 512), (18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384)),
        lutram_shape=(4, 16), lutram_lut=0.0, soft_add=1.8, split_lut=2.1,
    ),
}

#: memory_libmap's logic cost per bit (Yosys defaults).
LOGIC_COST_ROM = 1.0 / 16.0
LOGIC_COST_RAM = 1.0


def _bram_blocks(depth: int, width: int, configs) -> int:
    """Fewest blocks for ``depth`` × ``width``: the width split into column groups, each
    group in one configuration (``memory_libmap`` mixes them: an ECP5 8192 × 24 ROM takes
    8 blocks of 18 bits + 2 of 4 + 1 of 2 = 11, not 12)."""
    best = [0] + [0] * width
    for w in range(1, width + 1):
        best[w] = min(math.ceil(depth / d) + best[max(0, w - cw)] for cw, d in configs)
    return best[width]


def cost(block: Block, family: str, dsp: bool = True, k: Coefficients | None = None, spram: bool = True) -> Resources:
    """Resources of ``block`` (all ``count`` copies) on ``family`` (``"ice40"`` / ``"ecp5"``).

    ``spram``: memories marked for SPRAM go to SPRAM on a family that has it (``hwssm synth
    --spram`` forces them there); otherwise Yosys' cost model places them like any RAM.
    """
    k = k or COEFFICIENTS[family]
    r = _cost(block, dsp, k, spram)
    return dataclasses.replace(r, ff=r.ff * k.ff_scale) if r.ff else r


def _cost(block: Block, dsp: bool, k: Coefficients, spram: bool = True) -> Resources:
    w, a, n = block.width, block.aux, block.count
    kind = block.kind
    if w <= 0 or n <= 0:
        return Resources()
    if kind is Kind.MUL:
        if block.soft:
            # Σ n[i]·w·2^i over the narrow operand's bits: n - 1 adders of about the product's width
            narrow, wide = min(w, a), max(w, a)
            adder_bits = sum(narrow + wide - i for i in range(1, narrow))
            return Resources(lut=k.soft_add * adder_bits + k.mux * wide).scaled(n)
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
        return Resources(lut=k.split_lut * w if block.pipe == "requant" else 0.0, ff=w).scaled(n)
    if kind in (Kind.ROM, Kind.RAM):
        if block.spram and spram and k.spram_shape != (0, 0):
            return _spram(block, k).scaled(n)
        return _memory(block, k).scaled(n)
    raise ValueError(f"unknown block kind {kind}")  # pragma: no cover


def _spram(block: Block, k: Coefficients) -> Resources:
    """A single-port RAM forced into SPRAM: ⌈width/16⌉·⌈depth/16384⌉ blocks (iCE40
    ``SB_SPRAM256KA``), with a read multiplexer across blocks stacked in depth."""
    sw, sd = k.spram_shape
    cols, rows = math.ceil(block.width / sw), math.ceil(block.depth / sd)
    mux = k.mux * block.width * (rows - 1)
    return Resources(lut=mux, spram=cols * rows, ram_bits=block.depth * block.width)


def _memory(block: Block, k: Coefficients) -> Resources:
    depth, width = block.depth, block.width
    bits = depth * width
    if depth <= 1:
        return Resources(ff=width if block.kind is Kind.RAM else 0)
    rom = block.kind is Kind.ROM
    # a block RAM / LUT-RAM has one read port: Yosys builds one copy per read port
    ports = 1 if rom else max(1, block.aux)
    logic_cost = bits * (LOGIC_COST_ROM if rom else LOGIC_COST_RAM)
    bram = _bram_blocks(depth, width, k.bram_configs) * ports
    options = [(bram * k.bram_cost, "bram")]
    # LUT-RAM has no read enable, which a single-port (SPRAM-style) RAM needs
    if k.lutram_cost and not rom and not block.spram:
        lw, ld = k.lutram_shape
        cells = math.ceil(width / lw) * math.ceil(depth / ld) * ports
        options.append((cells * k.lutram_cost, "lutram"))
    best_cost, best = min(options)
    if logic_cost <= best_cost:
        if rom:
            units, cols = block.logic if block.logic is not None else (bits / 16.0, width)
            return Resources(lut=k.rom_logic * units, ff=cols)
        # flip-flops with one write decoder; each extra read port adds its read multiplexer
        return Resources(lut=k.ram_logic * bits * (1 + 0.5 * (ports - 1)), ff=bits)
    if best == "bram":
        return Resources(bram=bram, ram_bits=bits)
    lw, ld = k.lutram_shape
    cells = math.ceil(width / lw) * math.ceil(depth / ld) * ports
    # read multiplexing across 16-word cells
    mux = k.mux * width * max(0, math.ceil(depth / ld) - 1) * ports
    return Resources(lut=cells * k.lutram_lut + mux, lutram=cells, ram_bits=bits)


def inventory(qm: QModel, lanes: int, *, pipeline: Pipeline | None = None,
              storage: ParamStorage | str = ParamStorage.ROM, soft_mul_bits: int = 0, seq_len: int = 784) -> list[Block]:
    """The core's blocks for ``qm`` on ``lanes`` lanes, module by module as :mod:`hwssm.hw.core`
    builds them with the given generator options (from :func:`hwssm.hw.derive.derive`, the
    generator's own description)."""
    from .derive import derive
    from .options import DesignPoint

    c = derive(qm, DesignPoint(lanes, seq_len, pipeline or Pipeline(), storage, soft_mul_bits))
    B = _lanes(c) + _datapath_shared(c, ceil_log2) + _glu(c, ceil_log2) + _encoder_decoder(c, ceil_log2) \
        + _sequencer(c, ceil_log2)
    if c.storage is ParamStorage.LOAD:
        B += _loader(c, ceil_log2)
    return B


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


def _mul(name: str, component: str, w: int, a: int, soft_bits: int, count: int = 1) -> Block:
    """A multiplier as :func:`hwssm.hw.ops.mul` builds it: from LUT adders when its narrower
    operand has at most ``soft_bits`` bits, else a plain product (a DSP when wide enough)."""
    soft = soft_bits > 0 and 0 < min(w, a) <= soft_bits
    return Block(name, component, Kind.MUL, w, a, count=count, soft=soft)


def _pipe(name: str, component: str, width: int, count: int = 1, kind: str = "mem") -> Block:
    """Registers that the pipeline options add: ``kind`` ``"mem"`` (read registers, longer
    delay chains) or ``"requant"`` (inside a split requantization)."""
    return Block(name, component, Kind.REG, width, count=count, pipe=kind)


def _rq_bits(width: int, rounding) -> int:
    """Register bits inside a split requantization of a ``width``-bit value (see
    :func:`hwssm.hw.ops.requant`: HALF_UP carries ``(v << 1) >> s``, one bit wider; the
    sign copies above it merge)."""
    from ..fixed import Rounding

    return width + (1 if rounding is Rounding.HALF_UP else 0)


def _lanes(c) -> list[Block]:
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
    add(_mul("Ā·x / W·g multiplier re·re", "A", f0, max(xr, a), sb, count=P))
    add(_mul("Ā·x / W·g multiplier im·im", "A", f1, max(xi, a), sb, count=P))
    add(_mul("Ā·x / W·g multiplier re·im", "A", max(w2, f0), max(xi, a), sb, count=P))
    add(_mul("Ā·x / W·g multiplier im·re", "A", max(w3, f1), max(xr, a), sb, count=P))
    add(_mul("B̄·u multiplier re" + (" / W·g" if k >= 6 else ""), "B", b2, a, sb, count=P))
    add(_mul("B̄·u multiplier im" + (" / W·g" if k >= 6 else ""), "B", b3, a, sb, count=P))
    add(_mul("C̄·x' multiplier re" + (" / W·g" if k == 8 else ""), "C", cr, oxr, sb, count=P))
    add(_mul("C̄·x' multiplier im" + (" / W·g" if k == 8 else ""), "C", ci, oxi, sb, count=P))
    add(Block("operand muxes x|g", "weight", Kind.MUX, max(xr, xi, a), 2, count=4 * P))
    add(Block("coefficient muxes", "weight", Kind.MUX, max(f0, f1, w2, w3), 2, count=2 * P))
    if k == 8:
        add(Block("readout operand muxes (C̄|W, x'|g)", "weight", Kind.MUX, max(cr, ci, oxr, oxi), 2, count=4 * P))
    prods = (f0 + max(xr, a)) + (f1 + max(xi, a)) + (max(w2, f0) + max(xi, a)) + (max(w3, f1) + max(xr, a)) + (b2 + a) + (b3 + a)
    add(Block("product registers", "A", Kind.REG, prods + 4, count=P * ms))
    # stage ms: aligned sums
    for name, comp, w in (("ar", "A", f0 + xr), ("ai", "A", f1 + xi), ("br", "B", f2 + a),
                          ("ax", "A", max(f2, f0) + xi), ("ia", "A", max(f3, f1) + xr), ("bi", "B", f3 + a)):
        if sh[name].width:
            add(Block(f"alignment shift {name}", comp, Kind.SHIFT, w, sh[name].width, count=P))
    add(Block("state sums re (3 terms)", "x", Kind.ADD, ln.acc_re_width, 3, count=P))
    add(Block("state sums im (3 terms)", "x", Kind.ADD, ln.acc_im_width, 3, count=P))
    add(Block(f"real-mode {k}-term sum", "weight", Kind.ADD, ln.racc_width, k, count=P))
    add(Block("stage-ms registers", "x", Kind.REG, ln.acc_re_width + ln.acc_im_width + ln.racc_width + 4, count=P))
    # stage ms+1: state requant, real-mode accumulate / align / bias
    for name, w, out, rnd in (("re", ln.acc_re_width, xr, ln.xr_rounding), ("im", ln.acc_im_width, xi, ln.xi_rounding)):
        add(Block(f"state requant {name}", "x", Kind.REQUANT, w, out, count=P))
        if sh[name].width:
            add(Block(f"state requant shift {name}", "x", Kind.SHIFT, w, sh[name].width, count=P))
        if q:
            add(_pipe(f"state requant {name} split register", "x", _rq_bits(w, rnd) * q, count=P, kind="requant"))
    add(Block("real-mode accumulator", "weight", Kind.ADD, ln.racc_width, 2, count=P))
    add(Block("real-mode first-item mux", "weight", Kind.MUX, ln.racc_width, 2, count=P))
    if sh["w"].width:
        add(Block("real-mode shift w", "weight", Kind.SHIFT, ln.racc_width, sh["w"].width, count=P))
    add(Block("real-mode bias add", "bias", Kind.ADD, ln.fin_width, 2, count=P))
    add(Block("stage-ms+1 registers", "x", Kind.REG, xr + xi + ln.racc_width + ln.fin_width + 2, count=P))
    # stage ms+2: readout products (delayed ms), readout alignment, real-mode requant
    add(Block("readout product registers", "C", Kind.REG, cr + oxr + ci + oxi, count=P * ms))
    for name in ("cr", "ci"):
        if sh[name].width:
            prod = cr + oxr if name == "cr" else ci + oxi
            add(Block(f"readout shift {name}", "C", Kind.SHIFT, prod, sh[name].width, count=P))
    add(Block("readout subtract", "C", Kind.ADD, ln.part_width, 2, count=P))
    add(Block("real-mode requant v", "act", Kind.REQUANT, ln.fin_width, ln.v_width, count=P))
    if sh["v"].width:
        add(Block("real-mode requant shift v", "act", Kind.SHIFT, ln.fin_width, sh["v"].width, count=P))
    if q:
        add(_pipe("real-mode requant v split register", "act", _rq_bits(ln.fin_width, ln.v_rounding) * q, count=P, kind="requant"))
        add(_pipe("state / v valid delays", "control", 2 * q, count=P))
    add(Block("stage-ms+2 registers", "C", Kind.REG, ln.part_width + ln.v_width + 1, count=P))
    # per-lane memories
    ssm_depth = max(2, L * H * c.Cs)
    if load:
        ld = c.load
        daw = _aw(ld.depth, ceil_log2)
        for k, w in enumerate(ld.slices):
            add(Block(f"coefficient RAM slice {k} (LOAD)", "A", Kind.RAM, w, depth=max(2, ld.depth), count=P, spram=True))
        add(Block("coefficient RAM address mux (load | issue)", "control", Kind.MUX, daw, 2, count=P * len(ld.slices)))
        add(Block("coefficient RAM write select", "control", Kind.COMPARE, _aw(len(ld.segments), ceil_log2),
                  count=P * len(ld.slices)))
        if s:
            add(_pipe("coefficient read registers", "A", sum(ld.slices) * s, count=P))
        add(Block("coefficient field muxes (S4D | mixing)", "weight", Kind.MUX, sum(c.coef_field_widths[:4]), 2, count=P))
        add(Block("C̄ carried to the readout", "C", Kind.REG, ln.cr_width + ln.ci_width, count=P * (ms + 2 + q)))
        xaw = _aw(ssm_depth, ceil_log2)
        add(Block("state bank {xr, xi}", "x", Kind.RAM, xr + xi, depth=ssm_depth, count=2 * P, spram=True))
        add(Block("state bank address mux (write | read)", "x", Kind.MUX, xaw, 2, count=2 * P))
        add(Block("state bank select", "x", Kind.MUX, xr + xi, 2, count=P))
        if s:
            add(_pipe("state read registers", "x", 2 * (xr + xi) * s, count=P))
    else:
        for p in range(P):
            add(_rom(f"coefficient ROM {{Ār, Āi, B̄r, B̄i | {k} W}}", "A", c.coef_words[p], sum(c.coef_field_widths)))
            add(_rom("C̄ ROM", "C", c.c_words[p], ln.cr_width + ln.ci_width))
        add(Block("state RAM {xr, xi}", "x", Kind.RAM, xr + xi, depth=ssm_depth, count=P))
        if s:
            add(_pipe("coefficient / C̄ / state read registers", "A",
                      (sum(c.coef_field_widths) + ln.cr_width + ln.ci_width + xr + xi) * s, count=P))
    add(Block("first-step zero of the state", "x", Kind.MUX, xr + xi, 2, count=P))
    mix_w = c.mix_tables[0].width if c.mix_tables else 0
    if mix_w:
        for p in range(P):
            add(_rom("mixing row ROM (bias, shifts)", "bias", c.mix_tables[p].words(), mix_w))
        add(Block("mixing row delayed copy", "bias", Kind.REG, mix_w, count=P))
        if s:
            add(_pipe("mixing row read registers", "bias", mix_w * s, count=P))
    return B


def _tree_out(c) -> int:
    """Issue → tree output (τ_R - τ), as :attr:`hwssm.hw.datapath.Datapath.latency_tree_out`."""
    ms, s, q = c.lane.mul_stages, c.pipe.mem_stages, c.pipe.requant_stages
    return 1 + s + (2 * ms + 3 + q) + c.tree_stages


def _datapath_shared(c, ceil_log2) -> list[Block]:
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
        add(_rom("S4D row-constant ROM", "D", t.words(), t.width))
        # each field is carried down the chain to the stage that uses it (rtaps[k] is at τ+1+k;
        # the lanes' stage k reads rtaps[s + k]; D is used at rtaps[s])
        use = {"ar": s + ms, "ai": s + ms, "br": s + ms, "ax": s + ms, "ia": s + ms, "bi": s + ms,
               "re": s + ms + 1, "im": s + ms + 1, "cr": s + 2 * ms + 2 + q, "ci": s + 2 * ms + 2 + q,
               "es": TR - 1 + fa, "ed": TR - 1 + fa, "sy": TR + fa}
        base = {"ar": ms, "ai": ms, "br": ms, "ax": ms, "ia": ms, "bi": ms, "re": ms + 1, "im": ms + 1,
                "cr": 2 * ms + 2, "ci": 2 * ms + 2, "es": TR - 1 - s - q, "ed": TR - 1 - s - q, "sy": TR - s - q}
        bits = sum(t.shifts[n].width * base.get(n, TR - s - q) for n in t.shifts)
        extra = sum(t.shifts[n].width * (use.get(n, TR) - base.get(n, TR - s - q)) for n in t.shifts)
        if "D" not in t.consts:
            extra += t.value_widths.get("D", 0) * s
        add(Block("row-constant delay chain", "control", Kind.REG, bits))
        if extra:
            add(_pipe("row-constant delay chain (pipeline)", "control", extra))
    hb, lb = _aw(H, ceil_log2), ceil_log2(L)
    ssm_bits = _aw(L * H * c.Cs, ceil_log2)
    TR0 = TR - s - q
    # the state write address (1+s+latency_state), the C̄ ROM address (stage_c; ROM only), the
    # mixing-row address (stage_round), the slot kind bits (1+s), the row control (TR) and the
    # channel/layer of the row finish (TR+3+q)
    add(Block("issue context delays", "control", Kind.REG,
              5 + ssm_bits * (ms + 3 + (0 if load else ms + 2)) + _aw(L * 2 * c.KP, ceil_log2) * (ms + 1)
              + 3 * TR0 + (hb + lb) * (TR0 + 3)))
    extra = ssm_bits * ((s + q) + (0 if load else q)) + 5 * s + 3 * (s + q) + (hb + lb) * (s + 2 * q)
    if load:
        extra += 2 + 2 * s + q  # step parity, read and write
    # acc_stages: the mixing-row address, the value/gate context, each lane's and the row
    # finish's valid bit, the channel/layer of the row finish
    extra += fa * (_aw(L * 2 * c.KP, ceil_log2) + _aw(c.KP, ceil_log2) + _aw(P + 1, ceil_log2) + 2 + P + hb + lb)
    if extra:
        add(_pipe("issue context delays (pipeline)", "control", extra))
    if P > 1:
        add(Block("cross-lane adder tree", "C", Kind.ADD, c.rowsum_width, 2, count=P - 1))
        add(Block("adder tree registers", "C", Kind.REG, c.rowsum_width, count=_tree_regs(P, c.pipe.tree_levels_per_stage)))
    add(_mul("D·u multiplier", "D", c.d_width, a, c.soft_mul_bits))
    add(Block("D·u delay", "D", Kind.REG, c.du_width, count=max(0, TR0 - 1)))
    if q + fa:
        add(_pipe("D·u delay (pipeline)", "D", c.du_width, count=q + fa))
    add(Block("row sum accumulator", "C", Kind.ADD, c.rowsum_width, 2))
    add(Block("row sum first-chunk mux", "C", Kind.MUX, c.rowsum_width, 2))
    for name, w in (("es", c.rowsum_width), ("ed", c.du_width)):
        sh = t.shifts.get(name)
        if sh is not None and sh.width:
            add(Block(f"row finish shift {name}", "D", Kind.SHIFT, w, sh.width))
    add(Block("row finish add", "D", Kind.ADD, c.fin_width, 2))
    add(Block("y requant", "act", Kind.REQUANT, c.fin_width, a))
    sh = t.shifts.get("sy")
    if sh is not None and sh.width:
        add(Block("y requant shift", "act", Kind.SHIFT, c.fin_width, sh.width))
    if q:
        add(_pipe("y requant split register", "act", _rq_bits(c.fin_width, c.y_rounding) * q, kind="requant"))
        add(_pipe("y valid delay", "control", q))
    add(Block("row finish registers", "C", Kind.REG, c.rowsum_width + c.fin_width + a + 2))
    add(_rom("GELU ROM", "act", c.gelu_words, a))
    k = c.pipe.mix_cols
    add(Block("g banks", "act", Kind.RAM, a, depth=max(2, c.Q), count=k))
    if k >= 6:
        add(Block("g | u muxes of the B̄·u multipliers", "act", Kind.MUX, a, 2, count=2))
    if k & (k - 1):
        add(_pipe("g bank/word write counters", "control", ceil_log2(k) + _aw(c.Q, ceil_log2)))
    if s:
        add(_pipe("g bank read registers", "act", k * a * s + 2 * a * s + s))  # and u (r0 | r)
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
    s, q = c.pipe.mem_stages, c.pipe.requant_stages
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
    extra = (s + 2 * q) * (5 + hb + lb + pb) + (c.sig_width + 2 * a + c.pool_width) * s + a * q
    if extra:
        add(_pipe("GLU pipeline registers", "act", extra))
    if q:
        add(_pipe("z / residual requant split registers", "act",
                  (_rq_bits(g["prod_width"], g["z_rounding"]) + _rq_bits(g["res_width"], g["r_rounding"])) * q,
                  kind="requant"))
    add(Block("pool adder", "act", Kind.ADD, c.pool_width, 2))
    # r and r0 have two read ports each (the S4D slots' u and the GLU's residual)
    add(Block("r buffer", "act", Kind.RAM, a, 2, depth=max(2, H)))
    add(Block("r0 double buffer", "act", Kind.RAM, a, 2, depth=1 << (hb + 1)))
    add(Block("pool", "act", Kind.RAM, c.pool_width, depth=max(2, H)))
    return B


def _encoder_decoder(c, ceil_log2) -> list[Block]:
    """Encoder (:class:`hwssm.hw.encoder.Encoder`) and decoder with argmax (:class:`hwssm.hw.decoder.Decoder`)."""
    H, a, nc = c.H, c.a, c.n_classes
    s, q = c.pipe.mem_stages, c.pipe.requant_stages
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
        sh = et.shifts.get(name)
        if sh is not None and sh.width:
            add(Block(f"encoder shift {name}", "act", Kind.SHIFT, w, sh.width))
    add(Block("encoder registers", "control", Kind.REG, hb + 10 + c.enc["prod_width"] + et.width + a + 3 * (hb + 2)))
    extra = et.width * s + (s + q) * (hb + 2)
    if extra:
        add(_pipe("encoder pipeline registers", "control", extra))
    if q:
        add(_pipe("encoder requant split register", "act", _rq_bits(c.enc["fin_width"], c.enc["rounding"]) * q,
                  kind="requant"))
    add(_rom("decoder weight ROM", "weight", c.dec["W_words"], c.dec["W_width"]))
    add(Block("decoder multiplier", "weight", Kind.MUL, c.dec["W_width"], c.pool_width))
    add(Block("decoder accumulator", "weight", Kind.ADD, c.dec["acc_width"], 2))
    add(Block("decoder first mux", "weight", Kind.MUX, c.dec["acc_width"], 2))
    if dt.width:
        add(_rom("decoder class ROM", "bias", dt.words(), dt.width))
    sh = dt.shifts.get("w")
    if sh is not None and sh.width:
        add(Block("decoder shift", "weight", Kind.SHIFT, c.dec["acc_width"], sh.width))
    add(Block("logit add", "bias", Kind.ADD, c.logit_width, 2))
    add(Block("argmax compare", "control", Kind.COMPARE, c.logit_width))
    add(Block("decoder registers", "control", Kind.REG, 2 * c.dec["acc_width"] + 2 * c.logit_width + hb + 4 + _aw(nc * H, ceil_log2) + 16))
    if s:
        add(_pipe("decoder pipeline registers", "control", (c.dec["W_width"] + c.pool_width + dt.width + 7) * s))
    return B


def _sequencer(c, ceil_log2) -> list[Block]:
    """Sequencer (:class:`hwssm.hw.sequencer.Sequencer`): counters, addresses and credit counters."""
    P, L, H = c.P, c.L, c.H
    aw = lambda n: _aw(n, ceil_log2)  # noqa: E731
    cw = aw(H + 1) + 1
    counters = (aw(c.T) + aw(L) + aw(H) + aw(c.Cs) + aw(2 * c.KP) + aw(c.KP) + aw(c.Q) + aw(c.coef_depth)
                + aw(L * H * c.Cs) + aw(L * H) + aw(L * 2 * c.KP) + 2 * cw + 3 * cw + 1)
    gap = mix_gap(c.pipe)
    if gap:
        counters += ceil_log2(gap + 1)  # the S4D -> mixing gap countdown (mix_cols = 8)
    B = [Block("sequencer counters", "control", Kind.ADD, counters, 2),
         Block("sequencer registers", "control", Kind.REG, counters + 8 + 4)]
    if P > 1:
        B.append(Block("pairs = min(rem, P)", "control", Kind.COMPARE, cw))
    return B


def _loader(c, ceil_log2) -> list[Block]:
    """The parameter loader of LOAD storage (:class:`hwssm.hw.loader.ParamLoader`): segment and
    address counters, the registered write (segment, address, 16-bit data, enable)."""
    ld = c.load
    sw, dw = _aw(len(ld.segments), ceil_log2), _aw(ld.depth, ceil_log2)
    return [Block("loader counters", "control", Kind.ADD, sw + dw, 2),
            Block("loader end tests", "control", Kind.COMPARE, sw + dw),
            Block("loader registers", "control", Kind.REG, 2 * (sw + dw) + 16 + 2)]


@dataclasses.dataclass(frozen=True)
class Options:
    """The generator and synthesis options an estimate prices (see :func:`estimate`).

    ``pipeline``, ``storage``, ``soft_mul_bits`` are :func:`hwssm.hw.derive.derive`'s options;
    ``dsp`` (hard multipliers) and ``spram`` (LOAD memories forced into iCE40 SPRAM) are
    the synthesis switches of :class:`hwssm.synth.flow.SynthOptions`.
    """

    pipeline: Pipeline = dataclasses.field(default_factory=Pipeline)
    storage: ParamStorage = ParamStorage.ROM
    soft_mul_bits: int = 0
    dsp: bool = True
    spram: bool = True

    def to_dict(self) -> dict:
        return {"pipeline": dataclasses.asdict(self.pipeline), "storage": self.storage.value,
                "soft_mul_bits": self.soft_mul_bits, "dsp": self.dsp, "spram": self.spram}


def _options(profile, dsp, pipeline, storage, soft_mul_bits, spram) -> Options:
    """Options from a build profile (anything with ``pipeline``, ``storage``, ``soft_mul_bits``
    and optionally ``synth.dsp`` / ``synth.spram``, e.g. :class:`hwssm.synth.profile.BuildProfile`)
    and explicit arguments (which win)."""
    synth = getattr(profile, "synth", None) if profile is not None else None

    def pick(explicit, attr, owner, default):
        if explicit is not None:
            return explicit
        if owner is not None and getattr(owner, attr, None) is not None:
            return getattr(owner, attr)
        return default

    pipe = pick(pipeline, "pipeline", profile, None) or Pipeline()
    return Options(
        pipeline=pipe,
        storage=ParamStorage.parse(pick(storage, "storage", profile, ParamStorage.ROM)),
        soft_mul_bits=int(pick(soft_mul_bits, "soft_mul_bits", profile, 0)),
        dsp=bool(pick(dsp, "dsp", synth, True)),
        spram=bool(pick(spram, "spram", synth, True)),
    )


@dataclasses.dataclass(frozen=True)
class Estimate:
    """An estimate for one (QModel, P, device, options).

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
    options : Options
        The generator / synthesis options priced.
    """

    device: Device
    lanes: int
    dsp_enabled: bool
    total: Resources
    by_component: dict
    blocks: tuple
    options: Options = dataclasses.field(default_factory=Options)

    def summary(self) -> dict:
        """Flat JSON record: totals (rounded), per-component LUTs, options, estimator version."""
        t = self.total.rounded()
        return {"lut": t["lut"], "ff": t["ff"], "dsp": t["dsp"], "bram": t["bram"], "spram": t["spram"],
                "lutram": t["lutram"], "ram_bits": t["ram_bits"],
                "lut_by_component": {k: int(round(v.lut)) for k, v in self.by_component.items()},
                "ff_by_component": {k: int(round(v.ff)) for k, v in self.by_component.items()},
                "options": self.options.to_dict(),
                "version": ESTIMATOR_VERSION}


def estimate(qm: QModel, lanes: int, device: Device, *, dsp: bool | None = None,
             coefficients: Coefficients | None = None, blocks: Iterable[Block] | None = None,
             profile=None, pipeline: Pipeline | None = None, storage: ParamStorage | str | None = None,
             soft_mul_bits: int | None = None, spram: bool | None = None, seq_len: int = 784) -> Estimate:
    """Estimate the resources of the core for ``qm`` on ``lanes`` lanes on ``device``.

    The core is priced as the generator builds it with ``pipeline``, ``storage`` and
    ``soft_mul_bits`` (:func:`hwssm.hw.derive.derive`; defaults: ``Pipeline()``, ROM, 0) and
    as Yosys maps it with ``dsp`` (hard multipliers; default on) and ``spram`` (LOAD memories
    forced into iCE40 SPRAM, as ``hwssm synth --spram``; default on). ``profile`` (a
    :class:`hwssm.synth.profile.BuildProfile`) supplies all five at once; an argument given
    explicitly wins over it::

        estimate(qm, P, device, profile=device_profile(device))

    Raises HwssmError (from :func:`hwssm.hw.derive.derive`) for a model or P the RTL cannot build.
    """
    family = device.family
    k = coefficients or COEFFICIENTS[family]
    opt = _options(profile, dsp, pipeline, storage, soft_mul_bits, spram)
    if blocks is None:
        blocks = inventory(qm, lanes, pipeline=opt.pipeline, storage=opt.storage,
                           soft_mul_bits=opt.soft_mul_bits, seq_len=seq_len)
    priced = tuple((b, cost(b, family, opt.dsp, k, opt.spram)) for b in blocks)
    control = Resources(lut=k.control_fixed + k.control * lanes, ff=k.ff_fixed)
    by_comp = {c: Resources() for c in COMPONENTS}
    by_comp["control"] = control
    total = control
    for b, r in priced:
        by_comp[b.component] = by_comp[b.component] + r
        total = total + r
    return Estimate(device, lanes, opt.dsp, total, by_comp, priced, opt)


def lut_error(estimated: float, measured: float) -> float:
    """Relative error of an estimate: (estimated - measured) / measured (0.1 = 10 % high)."""
    if measured <= 0:
        return math.inf if estimated > 0 else 0.0
    return (estimated - measured) / measured
