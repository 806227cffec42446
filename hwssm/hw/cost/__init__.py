"""Analytic resource estimate of the core (LUT4, FF, DSP, block RAM, SPRAM), the cost beside each unit.

The estimate has two halves, like the cycle model:

1. :func:`inventory` lists the core's building blocks from the same derived description the
   generator uses (:func:`hwssm.hw.derive.derive` at a :class:`~hwssm.hw.options.DesignPoint`):
   multipliers with their operand widths, adders, multiplexers, variable shifters,
   requantizers, registers, ROMs and RAMs with their depth, width and read ports, the
   sequencer, and with LOAD storage the loader. Every block is attributed to a plan component
   (Ā, x, B̄, C̄, D, weight, bias, act) or to ``control``. One section per RTL unit:
   :mod:`.lanes`, :mod:`.datapath`, :mod:`.glu`, :mod:`.encoder_decoder`, :mod:`.sequencer`,
   :mod:`.loader`.
2. :func:`cost` (:mod:`.price`, :mod:`.memories`) prices one block on an FPGA family,
   following what Yosys does with it; the generator options enter as they change the blocks:
   a multiply whose narrower operand has at most ``soft_mul_bits`` bits is built from LUT
   adders (never a DSP); LOAD storage replaces the lanes' coefficient and C̄ ROMs and state RAM
   by single-port RAMs (16-bit coefficient slices, two ping-pong state banks) that go to iCE40
   SPRAM when ``hwssm synth --spram`` forces them there, plus the loader, the address and field
   multiplexers and the C̄ delay; ``mem_stages`` adds read registers and longer delay chains
   (flip-flops only), ``requant_stages`` a register inside every requantization, which also
   costs LUTs (``split_lut``: the shifter no longer merges with the rounding).

The per-family :class:`~hwssm.targets.Coefficients` (in :mod:`hwssm.targets.ice40` and
:mod:`hwssm.targets.ecp5`) scale each kind; they are calibrated against Yosys on the generated
core (see ``tests/hw/cost/test_estimate.py`` and the sweep's per-point error). ``soft_add`` and
``split_lut`` were measured on pairs of Yosys runs that differ in that option only (a 16-channel
random core and the shipped heterogeneous model); the others keep their earlier fit.

LUT counts are LUT4 equivalents: on ECP5 each ``CCU2C`` carry cell counts as its two LUT4s
(Yosys reports them apart from ``LUT4`` cells). Compare with
:func:`hwssm.explore.sweep.measured_lut`.
"""

from .blocks import COMPONENTS, Block, Kind, Resources, rom_logic
from .estimate import ESTIMATOR_VERSION, Estimate, estimate, inventory, lut_error, memory_breakdown
from .price import cost

__all__ = [
    "Kind", "Block", "Resources", "Estimate", "COMPONENTS", "ESTIMATOR_VERSION",
    "inventory", "cost", "estimate", "lut_error", "memory_breakdown", "rom_logic",
]
