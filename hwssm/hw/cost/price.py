"""What one block costs on an FPGA family, following what Yosys does with it.

* **multipliers** go to hard DSPs when DSPs are on and the product is wide enough (iCE40
  ``SB_MAC16`` 16×16 for products of ≥ 11 bits, as ``synth_ice40 -dsp`` maps them; ECP5
  ``MULT18X18D`` 18×18), a wider product split into block-wide slices as ``mul2dsp`` splits it
  (:func:`dsp_split`: a slice too narrow for a block stays in LUTs), else LUTs; one that
  the generator builds from LUT adders (``soft_mul_bits``) costs ``soft_add`` per adder bit;
* **adders** cost one LUT4 per bit per extra operand (plus carry cells), the carry-save layers
  of a sum of more than two operands in one expression ``csa`` per bit and layer, variable shifts one
  LUT4 per bit per shift bit, multiplexers about one LUT4 per bit per extra input;
* **registers** one flip-flop per bit (``split_lut`` LUTs more inside a split requantization:
  the optimization across the register that synthesis loses);
* **a requantization's shift/clamp merge** ``merge`` LUT4 per merge unit
  (:func:`.blocks.merge_units`) more when unsplit, as many less when split;
* **memories**: see :mod:`.memories`.

Every count is scaled by the family's :class:`~hwssm.targets.Coefficients`.
"""

from __future__ import annotations

import dataclasses
import math

from ...targets import Coefficients, Family
from .blocks import Block, Kind, Resources, merge_units
from .memories import memory_cost, spram_cost

__all__ = ["cost", "dsp_split"]

#: The narrowest operand Yosys maps to a hard multiplier (``DSP_A_MINWIDTH`` / ``DSP_B_MINWIDTH``
#: of ``mul2dsp`` in ``synth_ice40`` and ``synth_ecp5``).
DSP_MIN_OPERAND = 2


def dsp_split(a: int, b: int, k: Coefficients) -> tuple[int, list[tuple[int, int]]]:
    """How Yosys' ``mul2dsp`` maps a signed a×b-bit product (full width) onto hard multipliers.

    The wider operand goes first; an operand wider than the block (``k.dsp_a``/``k.dsp_b``) is
    cut into block-wide slices from the LSB and a remainder, each slice multiplied by the other
    operand and split again the same way. A slice whose operands are narrower than
    :data:`DSP_MIN_OPERAND` or whose product is narrower than ``k.dsp_min_y`` stays in LUTs: an
    8×18 product on iCE40 is one ``SB_MAC16`` (8×16) and a 2×8 LUT slice, not two blocks.
    Checked against Yosys 0.70 cell counts for 110 operand pairs per family
    (``tests/hw/cost/test_dsp_split.py``).

    Returns the hard multipliers and the (a, b) widths of the LUT slices.
    """
    if a < b:
        a, b = b, a
    if a > k.dsp_a:
        parts, other = _slices(a, k.dsp_a), b
        pairs = [(p, other) for p in parts]
    elif b > k.dsp_b:
        pairs = [(a, p) for p in _slices(b, k.dsp_b)]
    elif a >= DSP_MIN_OPERAND and b >= DSP_MIN_OPERAND and a + b >= k.dsp_min_y:
        return 1, []
    else:
        return 0, [(a, b)]
    hard, soft = 0, []
    for x, y in pairs:
        h, s = dsp_split(x, y, k)
        hard, soft = hard + h, soft + s
    return hard, soft


def _slices(width: int, block: int) -> list[int]:
    n = math.ceil(width / block)
    return [block] * (n - 1) + [width - (n - 1) * block]


def cost(block: Block, family: Family, dsp: bool = True, k: Coefficients | None = None, spram: bool = True) -> Resources:
    """Resources of ``block`` (all ``count`` copies) on ``family`` (priced with its
    :attr:`~hwssm.targets.Family.coefficients`, or with ``k`` when given).

    ``spram``: memories marked for SPRAM go to SPRAM on a family that has it (``hwssm synth
    --spram`` forces them there); otherwise Yosys' cost model places them like any RAM.
    """
    k = k or family.coefficients
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
        if dsp:
            hard, soft = dsp_split(w, a, k)
            if hard:
                # the LUT slices, and the partial products of a split multiply summed in LUTs
                slices = hard + len(soft)
                lut = sum(k.soft_mul * x * y for x, y in soft) + (slices - 1) * (w + a) * k.add
                return Resources(lut=lut, dsp=hard).scaled(n)
        return Resources(lut=k.soft_mul * w * a).scaled(n)
    if kind is Kind.ADD:
        return Resources(lut=k.add * w * max(1, a - 1)).scaled(n)
    if kind is Kind.CSA:
        return Resources(lut=k.csa * w * a).scaled(n)
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
    if kind is Kind.MERGE:
        units = merge_units(w, a)
        return Resources(lut=-k.merge * units if block.pipe == "requant" else k.merge * units).scaled(n)
    if kind in (Kind.ROM, Kind.RAM):
        if block.spram and spram and k.spram_shape != (0, 0):
            return spram_cost(block, k).scaled(n)
        return memory_cost(block, k).scaled(n)
    raise ValueError(f"unknown block kind {kind}")  # pragma: no cover
