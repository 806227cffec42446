"""Lattice iCE40 (Yosys ``synth_ice40``, ``nextpnr-ice40``): the family and its devices.

Devices are placed and routed as whole chips: nextpnr places the wrapper's pins itself
(``--pcf-allow-unconstrained``: no PCF is written; only bonded pins of the package are used).

Sources of the device facts: Lattice iCE40 UltraPlus family data sheet (FPGA-DS-02008) for
the UP5K; iCE40 LP/HX family data sheet (DS1040 / FPGA-DS-02029: 7,680 LUT4, 128 kbit of
sysMEM EBR = 32 blocks of 4 kbit, up to 206 IO in the CT256 package, no DSP, no SPRAM) for the
HX8K; each checked against nextpnr-ice40's own device utilisation report (the
``available`` column of ``ICESTORM_LC``, ``ICESTORM_RAM``, ``ICESTORM_DSP``, ``ICESTORM_SPRAM``).
"""

from __future__ import annotations

from ..hw.options import ParamStorage, Pipeline
from .device import Bitstream, CellTypes, Coefficients, ConstraintFormat, Device, ErrorBand, Family, Profile

#: The iCE40 family. Coefficients fitted (relative least squares) to Yosys 0.70 (yowasp) cell
#: counts of generated cores on the UP5K (see tests/hw/cost/test_estimate.py); the HX8K maps
#: the same LUT4/carry/EBR cells with the same ``synth_ice40`` and shares them.
ICE40 = Family(
    name="ice40",
    yosys_synth="synth_ice40",
    dsp_on=("-dsp",),
    dsp_off=(),
    spram_on=("-spram",),
    cells=CellTypes(lut=("SB_LUT4",), ff=("SB_DFF*",), carry=("SB_CARRY",), dsp=("SB_MAC16",),
                    bram=("SB_RAM40_4K*",), spram=("SB_SPRAM256KA",)),
    carry_lut4=0,
    logic_bel="ICESTORM_LC", dsp_bel="ICESTORM_DSP", bram_bel="ICESTORM_RAM", spram_bel="ICESTORM_SPRAM",
    coefficients=Coefficients(
        add=0.65, mux=0.65, shift=0.78, requant=0.65, compare=0.65, soft_mul=1.79, rom_logic=1.89, ram_logic=0.58,
        control=0.0, control_fixed=751.0, ff_scale=0.94, ff_fixed=301.0,
        dsp_a=16, dsp_b=16, dsp_min_y=11, bram_cost=64.0, lutram_cost=0.0,
        bram_configs=((16, 256), (8, 512), (4, 1024), (2, 2048)), lutram_shape=(0, 0), lutram_lut=0.0,
        soft_add=1.15, split_lut=0.3, spram_shape=(16, 16384),
    ),
    # Estimate against Yosys on 8 placed UP5K designs (6 of the shipped heterogeneous model in
    # tests/hw/cost/test_estimate.py HETERO_MEASURED, P=1 with five pipelines and mix_cols 4/8;
    # the PTQ A8x8-B4C4D4-W8-a6 P=1 point of reports/reference/; one S5 design with the UP5K
    # profile in tests/hw/cost/test_estimate_s5.py S5_MEASURED, LUT4 +9.0 %, FF +8.2 %):
    # LUT4 -8.8 % .. +9.0 %, FF +3.1 % .. +9.3 %, DSP/EBR/SPRAM exact (estimator version 2; 3 prices the same on iCE40).
    # Rounded outwards.
    error_band=ErrorBand(lut=(-0.09, 0.09), ff=(0.03, 0.095), points=8,
                         source="tests/hw/cost/test_estimate.py HETERO_MEASURED, "
                                "tests/hw/cost/test_estimate_s5.py S5_MEASURED, reports/reference/report.json"),
    # Board flow: nextpnr-ice40 --pcf pins.pcf --asc top.asc; icepack top.asc top.bin (Project IceStorm).
    bitstream=Bitstream(ConstraintFormat.PCF, "pins.pcf", "--pcf", "--asc", "top.asc", "icepack",
                        ("{config}", "{bitstream}"), "top.bin"),
)

#: iCE40 UltraPlus UP5K, SG48 (5,280 LUT4, 8 SB_MAC16, 30 EBR, 4 SPRAM of 256 kbit, 39 user IO).
#: Profile: coefficients and state in RAMs filled through the load port, forced into SPRAM
#: (LOAD, ``spram``); multiplies with an operand of at most 4 bits built from LUT adders, so that
#: a one-lane core of the heterogeneous plan needs at most 8 hard multipliers; the timing-closure
#: pipeline (``Pipeline.closure()``): the shipped heterogeneous model at P = 1 places at
#: 48.9 / 48.9 / 48.6 MHz (placer seeds 1 / 2 / 3; ``Pipeline.fast()``: 34.3 MHz, seed 1) in
#: 4,468 of 5,280 logic cells, 7 DSP, 19 EBR, 4 SPRAM, 12,865,326 cycles per digit (fast():
#: 12,851,993). 48 MHz: the UP5K's internal oscillator. (The iCEBreaker board build keeps
#: ``Pipeline.fast()``: :attr:`hwssm.targets.boards.Board.pipeline`.)
UP5K = Device(
    name="up5k", family=ICE40, part="iCE40UP5K-SG48",
    lut4=5280, dsp=8, bram=30, bram_bits=4096, spram=4, spram_bits=262144, io_pins=39,
    yosys_args=("-device", "u"),
    nextpnr_args=("--up5k", "--package", "sg48", "--pcf-allow-unconstrained"),
    default_freq_mhz=48.0,
    profile=Profile(Pipeline.closure(), ParamStorage.LOAD, 4, dsp=True, spram=True),
)

#: iCE40 HX8K, CT256 (7,680 LUT4, 32 EBR of 4 kbit, 206 user IO; no DSP, no SPRAM).
#: Profile: parameters in ROMs (EBR); every multiplier in LUTs (no DSP), those with an operand of
#: at most 4 bits from LUT adders (as on the UP5K); ``Pipeline.fast()``.
HX8K = Device(
    name="hx8k", family=ICE40, part="iCE40HX8K-CT256",
    lut4=7680, dsp=0, bram=32, bram_bits=4096, io_pins=206,
    yosys_args=("-device", "hx"),
    nextpnr_args=("--hx8k", "--package", "ct256", "--pcf-allow-unconstrained"),
    default_freq_mhz=48.0,
    profile=Profile(Pipeline.fast(), ParamStorage.ROM, 4, dsp=False),
)

DEVICES = (UP5K, HX8K)
