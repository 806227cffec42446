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
   costs LUTs (``split_lut``: optimization lost across the register) and keeps a wide shift
   apart from the clamp (``merge``, :func:`.blocks.merge_units`: the merged form costs more);
   ``mul_stages`` 1 sums the lanes' 3- and k-term sums in one expression, which Yosys builds
   from carry-save layers (``csa``), ``mul_stages`` >= 2 sums pairs.

The per-family :class:`~hwssm.targets.Coefficients` (in :mod:`hwssm.targets.ice40` and
:mod:`hwssm.targets.ecp5`) scale each kind; they are calibrated against Yosys on the generated
core (see ``tests/hw/cost/test_estimate.py`` and the sweep's per-point error). ``soft_add`` was
measured on pairs of Yosys runs that differ in that option only (a 16-channel random core and
the shipped heterogeneous model); ``csa`` and ``merge`` (ECP5) on single sums and single
requantizations through ``synth_ecp5``; ECP5 ``split_lut`` and ``control_fixed`` refitted with
them on every measured ECP5 point (S4D and S5, ``tests/hw/cost/test_estimate_s5.py``); the
others keep their earlier fit.

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
