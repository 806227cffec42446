"""The FPGA targets as data: the registry, the records, and the tool arguments of the devices
whose synthesis results are cached (they must not change)."""

from __future__ import annotations

import dataclasses

import pytest

from hwssm import targets
from hwssm.errors import HwssmError
from hwssm.hw.options import DesignPoint, ParamStorage, Pipeline


def test_lookup_by_name_and_unknown_names():
    assert targets.device("up5k") is targets.UP5K and targets.device(targets.HX8K) is targets.HX8K
    assert targets.names() == ("up5k", "hx8k", "ecp5-25k", "ecp5-45k", "ecp5-85k")
    assert targets.all_names() == (*targets.names(), "gw1nr-9", "gw2ar-18") and targets.device("gw1nr-9") is targets.GW1NR_9
    with pytest.raises(HwssmError, match=r"^unknown device 'xc7'; expected one of: up5k, hx8k, ecp5-25k, ecp5-45k, ecp5-85k, "
                                         r"gw1nr-9, gw2ar-18$"):
        targets.device("xc7")
    assert targets.family("ecp5") is targets.ECP5
    assert targets.family("gowin") is targets.GOWIN
    with pytest.raises(HwssmError, match="unknown FPGA family 'xc7'; expected one of: ice40, ecp5, gowin$"):
        targets.family("xc7")


def test_records_are_frozen_and_hashable():
    assert len(set(targets.devices())) == len(targets.devices())
    with pytest.raises(dataclasses.FrozenInstanceError):
        targets.UP5K.lut4 = 1
    for d in targets.devices():
        assert d.family in targets.FAMILIES and d.lut4 > 0 and d.bram > 0 and d.default_freq_mhz > 0
        assert (d.spram > 0) == (d.spram_bits > 0)


def test_the_cached_devices_keep_their_tool_arguments():
    """``up5k`` and ``ecp5-25k`` results are cached under their names and arguments."""
    assert targets.UP5K.nextpnr_args == ("--up5k", "--package", "sg48", "--pcf-allow-unconstrained")
    assert targets.ECP5_25K.nextpnr_args == ("--25k", "--package", "CABGA256", "--speed", "6", "--out-of-context")
    assert targets.UP5K.io_pins == 39 and targets.ECP5_25K.io_pins is None
    assert targets.UP5K.bels == {"logic": "ICESTORM_LC", "dsp": "ICESTORM_DSP", "bram": "ICESTORM_RAM",
                                 "spram": "ICESTORM_SPRAM"}
    assert targets.ECP5_25K.bels == {"logic": "TRELLIS_COMB", "dsp": "MULT18X18D", "bram": "DP16KD"}


def test_added_devices():
    hx = targets.HX8K
    assert hx.family is targets.ICE40 and (hx.lut4, hx.dsp, hx.bram, hx.spram, hx.io_pins) == (7680, 0, 32, 0, 206)
    assert hx.nextpnr_args[:3] == ("--hx8k", "--package", "ct256") and not hx.profile.dsp
    for d, size in ((targets.ECP5_45K, "45"), (targets.ECP5_85K, "85")):
        assert d.family is targets.ECP5 and d.io_pins is None and d.profile == targets.ECP5_25K.profile
        assert d.nextpnr_args == (f"--{size}k", "--package", "CABGA381", "--speed", "6", "--out-of-context")


def test_profile_gives_a_design_point():
    p = targets.UP5K.profile
    assert p.design(2) == DesignPoint(2, 784, Pipeline.closure(), ParamStorage.LOAD, 4)
    assert p.design(1, seq_len=3).seq_len == 3


def test_cell_types_count_exact_names_and_prefixes():
    cells = {"SB_LUT4": 3, "SB_DFFE": 2, "SB_DFF": 1, "SB_RAM40_4KNR": 1, "SB_CARRY": 4}
    c = targets.ICE40.cells
    assert (c.count("lut", cells), c.count("ff", cells), c.count("bram", cells), c.count("dsp", cells)) == (3, 3, 1, 0)
    assert targets.ECP5.cells.count("lutram", {"TRELLIS_DPR16X4": 2, "LUT4": 9}) == 2
