"""Lattice ECP5 (Yosys ``synth_ecp5``, ``nextpnr-ecp5``): the family and its devices.

Devices are placed and routed ``--out-of-context``: no IO buffers, no pins, so a core of any
port count is measured as it is (the package then only names the die's bonding).

Sources of the device facts: Lattice ECP5 and ECP5-5G family data sheet (FPGA-DS-02012),
table 1.1: LFE5U-25F 24k LUT, 56 EBR, 28 18×18 multipliers; LFE5U-45F 44k LUT, 108 EBR, 72
multipliers; LFE5U-85F 84k LUT, 208 EBR, 156 multipliers (EBR: ``DP16KD``, 18 kbit). The exact
LUT4 counts are nextpnr-ecp5's (``TRELLIS_COMB`` available in its utilisation report).
"""

from __future__ import annotations

import dataclasses

from ..hw.options import ParamStorage, Pipeline
from .device import Bitstream, CellTypes, Coefficients, ConstraintFormat, Device, ErrorBand, Family, Profile

#: The ECP5 family. Coefficients fitted to Yosys 0.70 (yowasp) cell counts of generated cores
#: on the LFE5U-25F (see tests/hw/cost/test_estimate.py); the larger dies map the same cells.
ECP5 = Family(
    name="ecp5",
    yosys_synth="synth_ecp5",
    dsp_on=(),
    dsp_off=("-nodsp",),
    spram_on=(),
    cells=CellTypes(lut=("LUT4",), ff=("TRELLIS_FF",), carry=("CCU2C",), dsp=("MULT18X18D",),
                    bram=("DP16KD", "PDPW16KD"), lutram=("TRELLIS_DPR16X4*",)),
    carry_lut4=2,
    logic_bel="TRELLIS_COMB", dsp_bel="MULT18X18D", bram_bel="DP16KD", spram_bel="",
    coefficients=Coefficients(
        add=0.98, mux=0.98, shift=1.01, requant=0.98, compare=0.98, soft_mul=1.2, rom_logic=1.05, ram_logic=0.58,
        control=0.0, control_fixed=255.0, ff_scale=0.96, ff_fixed=111.0,
        dsp_a=18, dsp_b=18, dsp_min_y=0, bram_cost=128.0, lutram_cost=4.0,
        bram_configs=((36, 512), (18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384)),
        lutram_shape=(4, 16), lutram_lut=0.0, soft_add=1.8, split_lut=2.0, merge=2.4, csa=1.0,
    ),
    # Estimate against Yosys on 13 placed ECP5-25k designs (4 of the shipped heterogeneous model
    # in tests/hw/cost/test_estimate.py HETERO_MEASURED, the build profile's banked design among
    # them; the 9 others of reports/reference/: three PTQ plans, the heterogeneous model at P=1 and
    # the QAT 8-bit model, P=1 and 2): LUT4 (+ 2 per CCU2C) -10.7 % .. +10.7 %, FF -1.2 % .. +3.0 %,
    # DSP/DP16KD exact (estimator version 3; the two S5 points of tests/hw/cost/test_estimate_s5.py
    # S5_ECP5_MEASURED: +0.3 % and +8.0 %). Rounded outwards.
    # Version 3 prices maccmap's carry-save layers (csa: mul_stages 1, measured on single sums) and
    # the requantization shift/clamp merge (merge: half of the 4.8 LUT4 per merge unit that one
    # 30/4/12 requantization measured unsplit over split); split_lut 2.1 -> 2.0 and control_fixed
    # 384 -> 255 refitted with them on these 15 points and the two LayerNorm cores of
    # tests/hw/cost/test_estimate_layernorm.py (+0.4 %, +1.6 %); add and the others as before.
    error_band=ErrorBand(lut=(-0.11, 0.11), ff=(-0.015, 0.035), points=13,
                         source="tests/hw/cost/test_estimate.py HETERO_MEASURED, reports/reference/report.json"),
    # Board flow: nextpnr-ecp5 --lpf pins.lpf --textcfg top.config; ecppack --input top.config
    # --bit top.bit (Project Trellis).
    bitstream=Bitstream(ConstraintFormat.LPF, "pins.lpf", "--lpf", "--textcfg", "top.config", "ecppack",
                        ("--input", "{config}", "--bit", "{bitstream}"), "top.bit"),
    # synth_ecp5 leaves the MULT18X18D registers unused (a fabric flip-flop, 3.9 ns of multiplier
    # and routing to and from the DSP row on both sides): the flow moves them in
    pack_dsp_registers=True,
    # the read register after each DP16KD (Pipeline.mem_stages >= 1) becomes its output register
    # (REGMODE OUTREG) instead of a fabric flip-flop that the placer may put across the die
    pack_bram_registers=True,
)

#: The ECP5 build profile: parameters in ROMs (DP16KD), hard multipliers, the timing-closure
#: pipeline (``Pipeline.closure()``) with the deep coefficient ROMs and state RAMs in banks of
#: 2048 words (``bank_words``: no block-RAM depth multiplexer after the DP16KD's 5.6 ns
#: clock-to-out), three memory-read registers (the first two per bank, before its selection;
#: the first one of each block becomes its output register, ``pack_bram_registers`` above).
#: The shipped heterogeneous model at P = 2 places on the 25k (speed grade 6) at 135.9 / 133.6 /
#: 133.8 MHz (placer seeds 1 / 2 / 3; 4 / 5: 131.9 / 136.7; the critical paths then the
#: decoder's multiplier, whose reset flip-flops stay in the fabric, a bank selection into a
#: multiplier operand, a sequencer carry chain; without the block-RAM output registers 138.6 /
#: 110.1 / 138.0: seed 2 put a bank register across the die from its block RAM; ``Pipeline.fast()``:
#: about 100 MHz) with 2,994 LUT4 + 474 CCU2C, 4,442 FF (Yosys; 3,770 placed after the
#: packing), 20 MULT18X18D, 40 DP16KD, 6,449,858 cycles per digit (fast(): 6,429,466).
#: 100 MHz: a common ECP5 system clock.
PROFILE = Profile(dataclasses.replace(Pipeline.closure(), mem_stages=3, bank_words=2048), ParamStorage.ROM, 0, dsp=True)


def _ecp5(name: str, size: str, lut4: int, dsp: int, bram: int, package: str) -> Device:
    """An LFE5U-<size>F in ``package``, speed grade 6, placed out of context."""
    return Device(
        name=name, family=ECP5, part=f"LFE5U-{size}F-6{package}",
        lut4=lut4, dsp=dsp, bram=bram, bram_bits=18432, io_pins=None, yosys_args=(),
        nextpnr_args=(f"--{size}k", "--package", package, "--speed", "6", "--out-of-context"),
        default_freq_mhz=100.0, profile=PROFILE,
    )


ECP5_25K = _ecp5("ecp5-25k", "25", 24288, 28, 56, "CABGA256")
ECP5_45K = _ecp5("ecp5-45k", "45", 43848, 72, 108, "CABGA381")
ECP5_85K = _ecp5("ecp5-85k", "85", 83640, 156, 208, "CABGA381")

DEVICES = (ECP5_25K, ECP5_45K, ECP5_85K)
