"""The estimator's vocabulary: block kinds, blocks, resource counts, and the block constructors
the per-unit sections share (a ROM with its logic cost, a multiplier as the generator builds
it, pipeline registers, address widths).
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np

from ...fixed import Rounding
from ..core_config import ceil_log2

__all__ = ["COMPONENTS", "Kind", "Block", "Resources", "rom_logic", "ROM_ANALYSIS_BITS", "rom_block",
           "addr_width", "mul_block", "pipe_block", "rq_bits", "merge_blocks", "merge_units", "csa_block"]

#: Components a block is attributed to (plan components, plus ``control``).
COMPONENTS = ("A", "x", "B", "C", "D", "weight", "bias", "act", "control")


class Kind(enum.Enum):
    """What a block is. ``width``/``aux``/``depth`` of a :class:`Block` mean, per kind:

    MUL: operand widths ``width`` × ``aux``; ADD: ``width``-bit sum of ``aux`` operands;
    MUX: ``width`` bits, ``aux`` inputs; SHIFT: ``width``-bit input, ``aux``-bit variable amount;
    REQUANT: ``width``-bit accumulator to an ``aux``-bit code (round + saturate);
    CSA: ``aux`` carry-save (3:2) layers of ``width`` bits, the part of a sum of more than two
    operands that Yosys' ``maccmap`` builds in LUTs before its one carry-chain adder;
    MERGE: the shift/clamp merge of a requantization with a ``width``-bit variable shift to an
    ``aux``-bit code (:func:`merge_blocks`; ``pipe`` ``"requant"`` when it is split);
    COMPARE: ``width``-bit magnitude comparison; REG: ``width`` flip-flops;
    ROM / RAM: ``depth`` words of ``width`` bits (ROM: initialized, read-only; RAM: written);
    a RAM's ``aux`` is its number of read ports (0: one).
    """

    MUL = "mul"
    ADD = "add"
    CSA = "csa"
    MERGE = "merge"
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
    requantization, priced with the family's ``split_lut``; a MERGE block of a split
    requantization has ``"requant"`` too).
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


#: ROMs above this many bits go to block RAM on every family (their logic cost exceeds any
#: block mapping), so their contents are not analysed.
ROM_ANALYSIS_BITS = 1 << 16


def rom_block(name: str, component: str, words, width: int) -> Block:
    """A ROM block of ``words`` (depth padded to >= 2, as the RTL does), with its logic cost."""
    depth = max(2, len(words))
    logic = rom_logic(words, width) if depth * width <= ROM_ANALYSIS_BITS else None
    return Block(name, component, Kind.ROM, width, depth=depth, logic=logic)


def addr_width(n: int) -> int:
    """Address/counter width of n values (at least 1 bit), as the RTL sizes it."""
    return max(1, ceil_log2(max(2, n)))


def mul_block(name: str, component: str, w: int, a: int, soft_bits: int, count: int = 1) -> Block:
    """A multiplier as :func:`hwssm.hw.ops.mul` builds it: from LUT adders when its narrower
    operand has at most ``soft_bits`` bits, else a plain product (a DSP when wide enough)."""
    soft = soft_bits > 0 and 0 < min(w, a) <= soft_bits
    return Block(name, component, Kind.MUL, w, a, count=count, soft=soft)


def pipe_block(name: str, component: str, width: int, count: int = 1, kind: str = "mem") -> Block:
    """Registers that the pipeline options add: ``kind`` ``"mem"`` (read registers, longer
    delay chains) or ``"requant"`` (inside a split requantization)."""
    return Block(name, component, Kind.REG, width, count=count, pipe=kind)


def rq_bits(width: int, rounding) -> int:
    """Register bits inside a split requantization of a ``width``-bit value (see
    :func:`hwssm.hw.ops.requant`: HALF_UP carries ``(v << 1) >> s``, one bit wider; the
    sign copies above it merge)."""
    return width + (1 if rounding is Rounding.HALF_UP else 0)


def merge_units(shift: int, code: int) -> int:
    """Merge units of a requantization with a ``shift``-bit variable right shift to a ``code``-bit
    result: ``shift · max(0, code - 6)``. Unsplit, Yosys/ABC merge the barrel shifter's last
    stages with the rounding and the clamp into LUT4 trees that grow with both widths; a split
    requantization (``requant_stages``) keeps them apart. Measured on one requantization alone
    (:func:`hwssm.hw.rtl.ops.requant`, HALF_UP, SATURATE, registered in and out, ``synth_ecp5``),
    unsplit against split: 30-bit sum, 4-bit shift, 12-bit code 302 against 186 LUT4 (24 units,
    4.8 LUT4 each); 19/5/5 250 against 210, 19/2/5 and 19/0/5 equal (0 units; the 19/5/5 gap,
    40 LUT4, is left out: the S4D designs, whose codes are 5 to 8 bits wide, show no such saving)."""
    return shift * max(0, code - 6)


def merge_blocks(name: str, component: str, shift: int, code: int, stages: int, count: int = 1) -> list[Block]:
    """The shift/clamp merge of a requantization (:func:`merge_units`) split by ``stages``
    registers (``requant_stages``): priced above its shift and requantization blocks when
    unsplit, below them when split; none without merge units."""
    if merge_units(shift, code) == 0:
        return []
    return [Block(f"{name} shift/clamp merge", component, Kind.MERGE, shift, code, count=count,
                  pipe="requant" if stages else "")]


def csa_block(name: str, component: str, width: int, terms: int, count: int = 1) -> Block | None:
    """The carry-save layers of a ``terms``-operand sum of ``width`` bits written as one
    expression: ``maccmap`` reduces it with ``terms - 2`` 3:2 layers (sum and carry: two LUT4
    per bit, where a sum of pairs spends one LUT4-equivalent per bit on a carry chain) before
    one carry-chain adder. None for two operands or fewer. Measured alone (``synth_ecp5``,
    30 bits, LUT4 + 2 per CCU2C): 3 terms 92 as one sum against 64 summed in pairs, 4 terms
    180 against 96."""
    if terms <= 2 or width <= 0:
        return None
    return Block(name, component, Kind.CSA, width, terms - 2, count=count)
