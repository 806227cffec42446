"""Yosys script generation and the ``stat -json`` parser (no tools run here)."""

from __future__ import annotations

import pytest

from hwssm.errors import HwssmError
from hwssm.synth._run import first_error
from hwssm import targets
from hwssm.synth.yosys import YosysOptions, parse_stat, synth_script

# Trimmed from Yosys 0.70 ``stat -json`` after synth_ice40 -dsp of tests/synth/designs.Mac.
ICE40_STAT = {
    "creator": "Yosys 0.70",
    "modules": {"\\hwssm_ice40_top": {"num_cells": 265, "num_cells_by_type": {"SB_LUT4": 1}}},
    "design": {
        "num_wires": 172,
        "num_port_bits": 108,
        "num_cells": 265,
        "num_cells_by_type": {
            "SB_CARRY": 45,
            "SB_DFF": 42,
            "SB_DFFESR": 48,
            "SB_DFFSR": 50,
            "SB_LUT4": 78,
            "SB_MAC16": 1,
            "SB_RAM40_4K": 1,
            "SB_SPRAM256KA": 2,
        },
    },
}

# Trimmed from synth_ecp5 of the same design.
ECP5_STAT = {
    "design": {
        "num_cells": 131,
        "num_cells_by_type": {
            "CCU2C": 24,
            "DP16KD": 1,
            "PDPW16KD": 1,
            "LUT4": 7,
            "PFUMX": 2,
            "MULT18X18D": 1,
            "TRELLIS_FF": 98,
            "TRELLIS_DPR16X4": 3,
        },
    }
}


def test_parse_stat_ice40():
    r = parse_stat(ICE40_STAT, "ice40")
    assert (r.lut, r.ff, r.carry, r.dsp, r.bram, r.spram, r.lutram) == (78, 140, 45, 1, 1, 2, 0)
    assert r.cells["SB_DFFESR"] == 48
    assert r.raw["num_port_bits"] == 108 and "num_cells_by_type" not in r.raw


def test_parse_stat_ecp5():
    r = parse_stat(ECP5_STAT, "ecp5")
    assert (r.lut, r.ff, r.carry, r.dsp, r.bram, r.spram, r.lutram) == (7, 98, 24, 1, 2, 0, 3)


def test_parse_stat_without_design_section_sums_modules():
    stat = {"modules": {"a": {"num_cells_by_type": {"SB_LUT4": 3, "SB_DFF": 1}}, "b": {"num_cells_by_type": {"SB_LUT4": 2}}}}
    r = parse_stat(stat, "ice40")
    assert (r.lut, r.ff) == (5, 1)


def test_parse_stat_round_trips_through_dict():
    r = parse_stat(ICE40_STAT, "ice40")
    assert type(r).from_dict(r.to_dict()) == r


def test_parse_stat_rejects_garbage():
    with pytest.raises(HwssmError, match="unexpected Yosys stat JSON"):
        parse_stat({"modules": 3}, "ice40")
    with pytest.raises(HwssmError, match="unknown FPGA family"):
        parse_stat(ICE40_STAT, "xc7")


def test_synth_script_flags():
    ice = synth_script(["rtl/a.v", "wrapper.v"], targets.UP5K, "hwssm_ice40_top", YosysOptions(dsp=True))
    assert "read_verilog rtl/a.v\nread_verilog wrapper.v\n" in ice
    assert "synth_ice40 -device u -top hwssm_ice40_top -dsp -json netlist.json" in ice
    assert "tee -q -o stat.json stat -json" in ice
    no_dsp = synth_script(["a.v"], targets.UP5K, "t", YosysOptions(dsp=False, spram=True))
    assert "-dsp" not in no_dsp and "-spram" in no_dsp
    ecp = synth_script(["a.v"], targets.ECP5_25K, "t", YosysOptions(dsp=False))
    assert "synth_ecp5 -top t -nodsp -json netlist.json" in ecp
    assert "-nodsp" not in synth_script(["a.v"], targets.ECP5_25K, "t", YosysOptions(dsp=True))


def test_synth_script_of_a_device_without_dsp_or_spram():
    """iCE40 HX8K: the family's command with the device's ``-device hx``; ``-dsp`` and ``-spram``
    are left out whatever the options say (it has neither block)."""
    hx = synth_script(["a.v"], targets.HX8K, "t", YosysOptions(dsp=True, spram=True))
    assert "synth_ice40 -device hx -top t -json netlist.json" in hx and "ram_style" not in hx
    assert "synth_ecp5 -top t -json netlist.json" in synth_script(["a.v"], targets.ECP5_85K, "t", YosysOptions())


def test_first_error_takes_first_line_and_trims_yosys_repeat():
    log = "ok\nERROR: File `x.v' not found or is a directoryERROR: File `x.v' not found or is a directory\nERROR: later\n"
    assert first_error(log) == "ERROR: File `x.v' not found or is a directory"
    assert first_error("rtl/a.v:3: ERROR: syntax error, unexpected ';'\n") == "rtl/a.v:3: ERROR: syntax error, unexpected ';'"
    assert first_error("Info: all good\n") is None
