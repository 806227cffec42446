"""Memories: where Yosys maps a ROM or RAM block, and what it costs there.

Memories go to block RAM when Yosys' ``memory_libmap`` finds that cheaper than logic (ROM
logic costs 1/16 per bit, RAM logic 1 per bit; an iCE40 ``SB_RAM40_4K`` costs 64, an ECP5
``DP16KD`` 128, an ECP5 16×4 LUT-RAM 4), with the block count of the best width/depth
configuration (iCE40 256×16, 512×8, 1024×4, 2048×2; ECP5 1024×18, 2048×9, 4096×4, 8192×2,
16384×1, and 512×36 for single-port reads); ROMs left in logic cost LUTs that grow with
depth × width. LOAD storage's single-port RAMs go to iCE40 SPRAM (16K × 16 each) when
``hwssm synth --spram`` forces them there.
"""

from __future__ import annotations

import math

from ...targets import Coefficients
from .blocks import Block, Kind, Resources

__all__ = ["LOGIC_COST_ROM", "LOGIC_COST_RAM", "bram_blocks", "memory_cost", "spram_cost"]

#: memory_libmap's logic cost per bit (Yosys defaults).
LOGIC_COST_ROM = 1.0 / 16.0
LOGIC_COST_RAM = 1.0


def bram_blocks(depth: int, width: int, configs) -> int:
    """Fewest blocks for ``depth`` × ``width``: the width split into column groups, each
    group in one configuration (``memory_libmap`` mixes them: an ECP5 8192 × 24 ROM takes
    8 blocks of 18 bits + 2 of 4 + 1 of 2 = 11, not 12)."""
    best = [0] + [0] * width
    for w in range(1, width + 1):
        best[w] = min(math.ceil(depth / d) + best[max(0, w - cw)] for cw, d in configs)
    return best[width]


def spram_cost(block: Block, k: Coefficients) -> Resources:
    """A single-port RAM forced into SPRAM: ⌈width/16⌉·⌈depth/16384⌉ blocks (iCE40
    ``SB_SPRAM256KA``), with a read multiplexer across blocks stacked in depth."""
    sw, sd = k.spram_shape
    cols, rows = math.ceil(block.width / sw), math.ceil(block.depth / sd)
    mux = k.mux * block.width * (rows - 1)
    return Resources(lut=mux, spram=cols * rows, ram_bits=block.depth * block.width)


def memory_cost(block: Block, k: Coefficients) -> Resources:
    """A ROM or RAM where Yosys' ``memory_libmap`` puts it: block RAM, LUT-RAM or logic
    (the cheapest by its cost model), with the block count of the best configuration."""
    depth, width = block.depth, block.width
    bits = depth * width
    if depth <= 1:
        return Resources(ff=width if block.kind is Kind.RAM else 0)
    rom = block.kind is Kind.ROM
    # a block RAM / LUT-RAM has one read port: Yosys builds one copy per read port
    ports = 1 if rom else max(1, block.aux)
    logic_cost = bits * (LOGIC_COST_ROM if rom else LOGIC_COST_RAM)
    bram = bram_blocks(depth, width, k.bram_configs) * ports
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
