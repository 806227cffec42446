"""The Gowin GW2AR-18 (Tang Nano 20K): its record, tool arguments, and a tiny design through the real
Yosys ``synth_gowin -family gw2a``, nextpnr-himbaechel (``GW2A-18C``) and ``gowin_pack -d GW2A-18C``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwssm import targets
from hwssm.errors import HwssmError
from hwssm.hw.cost.estimate import estimate
from hwssm.hw.options import DesignPoint
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.hw.options import ParamStorage, Pipeline
from hwssm.synth.nextpnr import Pinned, placement_args
from hwssm.synth.pack import pack_args
from hwssm.synth.pinned import build_bitstream
from hwssm.synth.yosys import YosysOptions, synth_command
from hwssm.targets import GOWIN, GW1NR_9
from hwssm.targets.boards import TANGNANO20K
from hwssm.targets.constraints import Clock, Pin, render
from hwssm.targets.gowin import GOWIN_GW2A, GW2AR_18
from tests.targets.test_gowin import TINY


def test_the_device_is_known_by_name_but_not_priced():
    assert targets.device("gw2ar-18") is GW2AR_18 and "gw2ar-18" in targets.all_names()
    assert "gw2ar-18" not in targets.names() and GW2AR_18 not in targets.devices() and not GOWIN_GW2A.priced
    # nextpnr-himbaechel's report of GW2AR-LV18QN88C8/I7: LUT4 20736, MULT18X18 48, BSRAM 46
    assert (GW2AR_18.lut4, GW2AR_18.dsp, GW2AR_18.bram, GW2AR_18.bram_bits, GW2AR_18.spram) == (20736, 48, 46, 18432, 0)
    assert GW2AR_18.bels == GW1NR_9.bels and GW2AR_18.default_freq_mhz == 27.0
    assert GW2AR_18.profile.pipeline == Pipeline.fast() and GW2AR_18.profile.storage is ParamStorage.ROM
    # 49 of the 66 bonded QN88 pins, without a configuration function; the oscillator's (4) first
    assert GW2AR_18.io_pins == len(set(GW2AR_18.pin_sites)) == 49 and GW2AR_18.pin_sites[0] == "4"
    assert not {"5", "6", "7", "8", "9", "52", "53", "57", "62", "87", "88"} & set(GW2AR_18.pin_sites)
    with pytest.raises(HwssmError, match=r"^no estimate for gw2ar-18 \(GW2AR-LV18QN88C8/I7\): .*gowin family"):
        estimate(random_qmodel(4, 2, 1, seed=1), DesignPoint(1), GW2AR_18)


def test_same_family_other_packer_database():
    """The cells and name are the Gowin family's; only gowin_pack's device differs."""
    assert GOWIN_GW2A.name == GOWIN.name == "gowin" and targets.family("gowin") is GOWIN
    assert GOWIN_GW2A.cells == GOWIN.cells and GOWIN_GW2A.yosys_synth == GOWIN.yosys_synth
    assert GOWIN_GW2A.bitstream.packer == "gowin_pack" and GOWIN_GW2A.bitstream.bitstream_name == "top.fs"


def test_tool_arguments():
    assert synth_command(GW2AR_18, "top", YosysOptions()) == [
        "synth_gowin", "-family", "gw2a", "-top", "top", "-json", "netlist.json"]
    assert placement_args(GW2AR_18, Pinned(TANGNANO20K.nextpnr_args, "pins.cst")) == [
        "--device", "GW2AR-LV18QN88C8/I7", "--vopt", "family=GW2A-18C", "--vopt", "cst=pins.cst", "--write", "pnr.json"]
    assert pack_args(GW2AR_18, "pnr.json", "top.fs") == ["-d", "GW2A-18C", "-o", "top.fs", "pnr.json"]
    assert pack_args(GW1NR_9, "pnr.json", "top.fs")[:2] == ["-d", "GW1N-9C"]


@pytest.mark.synth
def test_tiny_design_to_a_bitstream(tmp_path: Path):
    bs = GOWIN_GW2A.bitstream
    (tmp_path / "tiny.v").write_text(TINY)
    pins = [Pin("clk", "4"), Pin("rx", "70", pull_up=True), Pin("tx", "69"), Pin("led", "15")]
    (tmp_path / bs.pins_name).write_text(render(bs.constraints, pins, [Clock("clk", 27)]))
    build = build_bitstream(tmp_path, ["tiny.v"], "tiny", GW2AR_18, Pinned(TANGNANO20K.nextpnr_args, bs.pins_name),
                            freq_mhz=27)
    s = build.synth
    assert (s.dsp, s.bram) == (1, 1) and s.ff >= 10 + 1 and s.carry >= 10 and s.lut > 0
    u = build.pnr.utilization
    assert u["BSRAM"].used == 1 and u["MULT9X9"].used == 1 and build.pnr.fits
    assert (u["LUT4"].available, u["BSRAM"].available, u["MULT18X18"].available, u["DFF"].available) == (
        20736, 46, 48, 15552)
    assert build.pnr.fmax_mhz["clk"] > 27
    data = build.bitstream.read_bytes()
    rows = data.splitlines()
    # the .fs file of a GW2A-18C: rows of ASCII '0'/'1' with the sync word 0xA5C3, about 7.3 MB
    # (a GW1N-9C image is about 3.5 MB)
    assert set(b"".join(rows)) == set(b"01") and b"1010010111000011" in rows[:4] and len(data) > 7_000_000


@pytest.mark.synth
def test_every_free_pin_is_placed_and_packed(tmp_path: Path):
    """A design with one port bit per free pin: nextpnr and gowin_pack take all 49 sites, none of them
    reserved for configuration (the SSPI/MSPI pins 52-62 are left out)."""
    bs = GOWIN_GW2A.bitstream
    n = (len(GW2AR_18.pin_sites) - 1) // 2   # 24 inputs, 24 outputs and the clock
    (tmp_path / "pins.v").write_text(
        f"module pins(input wire clk, input wire [{n - 1}:0] a, output reg [{n - 1}:0] y);\n"
        "  always @(posedge clk) y <= a ^ {a[0], a[" + str(n - 1) + ":1]};\nendmodule\n")
    names = ["clk", *(f"a[{i}]" for i in range(n)), *(f"y[{i}]" for i in range(n))]
    assert len(names) == len(GW2AR_18.pin_sites)
    pins = [Pin(name, site) for name, site in zip(names, GW2AR_18.pin_sites)]
    (tmp_path / bs.pins_name).write_text(render(bs.constraints, pins, [Clock("clk", 27)]))
    build = build_bitstream(tmp_path, ["pins.v"], "pins", GW2AR_18, Pinned(TANGNANO20K.nextpnr_args, bs.pins_name),
                            freq_mhz=27)
    # no BSRAM in use: gowin_pack writes no block-RAM initialisation rows (4.6 MB, not 7.3 MB)
    assert build.pnr.utilization["IOB"].used == 49 and build.pnr.fits and build.bitstream.stat().st_size > 4_000_000
