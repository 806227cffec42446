"""The pinned whole-chip build down to a bitstream (real Yosys, nextpnr, icepack / ecppack)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwssm.errors import HwssmError
from hwssm.synth.nextpnr import Pinned, placement_args
from hwssm.synth.pack import pack_args, run_pack
from hwssm.synth.pinned import build_bitstream
from hwssm.targets import ECP5_25K, UP5K
from hwssm.targets.constraints import Clock, Pin, render

BLINK = """module blink(input wire clk, input wire btn, output wire led);
  reg [23:0] c = 0;
  always @(posedge clk) c <= c + 1 + btn;
  assign led = c[23];
endmodule
"""

# iCEBreaker (12 MHz oscillator on pin 35, red LED 11, button 10) and ULX3S (25 MHz on G2,
# LED B2, button R1): real board pins, so the placement uses the real package.
BOARDS = {
    "up5k": (UP5K, ("--up5k", "--package", "sg48"),
             [Pin("clk", "35"), Pin("led", "11"), Pin("btn", "10")], Clock("clk", 12)),
    "ecp5-25k": (ECP5_25K, ("--25k", "--package", "CABGA381", "--speed", "6"),
                 [Pin("clk", "G2"), Pin("led", "B2"), Pin("btn", "R1")], Clock("clk", 25)),
}


def test_args():
    assert pack_args(UP5K, "top.asc", "top.bin") == ["top.asc", "top.bin"]
    assert pack_args(ECP5_25K, "top.config", "top.bit") == ["--input", "top.config", "--bit", "top.bit"]
    assert placement_args(UP5K, Pinned(("--up5k", "--package", "sg48"), "pins.pcf")) == [
        "--up5k", "--package", "sg48", "--pcf", "pins.pcf", "--asc", "top.asc"]
    assert placement_args(ECP5_25K, Pinned(("--25k", "--package", "CABGA381"), "pins.lpf")) == [
        "--25k", "--package", "CABGA381", "--lpf", "pins.lpf", "--textcfg", "top.config"]
    assert placement_args(UP5K, None) == list(UP5K.nextpnr_args)


@pytest.mark.synth
@pytest.mark.parametrize("name", sorted(BOARDS))
def test_blink_bitstream(tmp_path: Path, name: str):
    device, args, pins, clock = BOARDS[name]
    bs = device.family.bitstream
    (tmp_path / "blink.v").write_text(BLINK)
    (tmp_path / bs.pins_name).write_text(render(bs.constraints, pins, [clock]))
    build = build_bitstream(tmp_path, ["blink.v"], "blink", device, Pinned(args, bs.pins_name), freq_mhz=clock.mhz)
    data = build.bitstream.read_bytes()
    assert build.bitstream.name == bs.bitstream_name
    if name == "up5k":
        assert data[:4] == b"\xff\x00\x00\xff"  # iCE40 bitstream preamble (icepack)
        assert 100_000 < len(data) < 110_000  # an UP5K image is 104,090 bytes
    else:
        assert b"\xff\xff\xbd\xb3" in data[:64]  # ECP5 sync word (ecppack)
    assert build.pnr.fmax_mhz["clk"] > clock.mhz
    assert build.synth.ff >= 24
    # the pins are where the constraint file put them
    if name == "up5k":
        assert ".io_tile" in (tmp_path / "top.asc").read_text()[:100000]
    assert not list(tmp_path.glob(".*.tmp"))


def test_pack_without_config(tmp_path: Path):
    with pytest.raises(HwssmError, match="no top.asc"):
        run_pack(tmp_path, UP5K)
    assert not (tmp_path / "top.bin").exists()


def test_missing_pin_file(tmp_path: Path):
    with pytest.raises(HwssmError, match="pin file"):
        build_bitstream(tmp_path, ["x.v"], "x", UP5K, Pinned(("--up5k",), "pins.pcf"), freq_mhz=12)


@pytest.mark.synth
def test_pin_on_unknown_site_fails(tmp_path: Path):
    device, args, pins, clock = BOARDS["up5k"]
    (tmp_path / "blink.v").write_text(BLINK)
    (tmp_path / "pins.pcf").write_text(render(device.family.bitstream.constraints, [*pins[:2], Pin("btn", "99")], [clock]))
    with pytest.raises(HwssmError, match="nextpnr"):
        build_bitstream(tmp_path, ["blink.v"], "blink", device, Pinned(args, "pins.pcf"), freq_mhz=12)
    assert not (tmp_path / "top.bin").exists()


ROMREAD = """module romread(input wire clk, input wire btn, output wire led);
  reg [8:0] mem [0:1023];
  integer i;
  initial for (i = 0; i < 1024; i = i + 1) mem[i] = (i * 37) % 509;
  reg [9:0] a = 0;
  reg [8:0] d, q;
  always @(posedge clk) begin a <= a + 1 + btn; d <= mem[a]; q <= d; end
  assign led = ^q;
endmodule
"""


@pytest.mark.synth
def test_ecp5_block_ram_output_register_in_a_bitstream(tmp_path: Path):
    """The board flow packs the register after a ROM read into the DP16KD (hwssm.synth.regpack),
    and ecppack takes the block with its output register."""
    device, args, pins, clock = BOARDS["ecp5-25k"]
    bs = device.family.bitstream
    (tmp_path / "romread.v").write_text(ROMREAD)
    (tmp_path / bs.pins_name).write_text(render(bs.constraints, pins, [clock]))
    build = build_bitstream(tmp_path, ["romread.v"], "romread", device, Pinned(args, bs.pins_name), freq_mhz=clock.mhz)
    assert json.loads((tmp_path / "bram_regs.json").read_text()) == {"brams": 1, "output_regs": 1, "ffs_removed": 9}
    assert "OUTREG" in (tmp_path / "top.config").read_text()
    assert b"\xff\xff\xbd\xb3" in build.bitstream.read_bytes()[:64] and build.pnr.fmax_mhz["clk"] > clock.mhz
