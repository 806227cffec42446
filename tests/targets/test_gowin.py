"""The Gowin family and its GW1NR-9: records, tool arguments, the estimator's refusal, and a tiny
design through the real Yosys ``synth_gowin``, nextpnr-himbaechel and ``gowin_pack``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hwssm import targets
from hwssm.errors import HwssmError
from hwssm.hw.cost.estimate import estimate
from hwssm.hw.options import DesignPoint
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.synth import SynthOptions, synthesize
from hwssm.synth.free_pins import port_bits
from hwssm.synth.nextpnr import Pinned, clock_name, placement_args
from hwssm.synth.pack import pack_args
from hwssm.synth.pinned import build_bitstream
from hwssm.synth.yosys import YosysOptions, synth_command
from hwssm.targets import GOWIN, GW1NR_9, ConstraintFormat
from hwssm.targets.boards import TANGNANO9K
from hwssm.targets.constraints import Clock, Pin, render
from tests.synth.designs import Mac, write_rtl

# A counter, a 1k x 16 ROM (block RAM) and an 8 x 8 multiplier (hard MULT9X9): each resource once.
TINY = """module tiny(input wire clk, input wire rx, output reg tx, output wire led);
  reg [9:0] addr = 0; reg [15:0] q; reg [7:0] a, b; reg [15:0] p;
  reg [15:0] rom [0:1023];
  integer i;
  initial for (i = 0; i < 1024; i = i + 1) rom[i] = i * 37;
  always @(posedge clk) begin
    addr <= addr + 1; q <= rom[addr];
    a <= q[7:0]; b <= q[15:8] ^ {8{rx}}; p <= a * b; tx <= ^p;
  end
  assign led = p[15];
endmodule
"""


def test_the_device_is_known_by_name_but_not_priced():
    assert targets.device("gw1nr-9") is GW1NR_9 and targets.family("gowin") is GOWIN
    assert "gw1nr-9" in targets.all_names() and "gw1nr-9" not in targets.names()
    assert GW1NR_9 not in targets.devices() and GOWIN not in targets.FAMILIES and not GOWIN.priced
    assert all(f.priced for f in targets.FAMILIES)
    assert (GW1NR_9.lut4, GW1NR_9.dsp, GW1NR_9.bram, GW1NR_9.bram_bits, GW1NR_9.spram) == (8640, 20, 26, 18432, 0)
    assert GW1NR_9.bels == {"logic": "LUT4", "dsp": "MULT18X18", "bram": "BSRAM"}
    # 54 of the 71 bonded QN88P pins, without a configuration function; the clock's (GCLKT_3) first
    assert GW1NR_9.io_pins == len(set(GW1NR_9.pin_sites)) == 54 and GW1NR_9.pin_sites[0] == "52"
    assert not {"5", "6", "7", "8", "53", "62", "87", "88"} & set(GW1NR_9.pin_sites)


def test_port_bits_clock_first():
    top = {"attributes": {"top": "00000000000000000000000000000001"},
           "ports": {"d": {"bits": [2, 3]}, "clk": {"bits": [4]}, "q": {"bits": [5, 6, 7], "offset": 1, "upto": 1}}}
    assert port_bits({"modules": {"m": top, "sub": {"attributes": {}, "ports": {"x": {"bits": [9]}}}}}) == [
        "clk", "d[0]", "d[1]", "q[3]", "q[2]", "q[1]"]
    with pytest.raises(HwssmError, match="0 top modules"):
        port_bits({"modules": {}})


def test_tool_arguments():
    assert GW1NR_9.nextpnr_args == ("--device", "GW1NR-LV9QN88PC6/I5", "--vopt", "family=GW1N-9C")
    assert synth_command(GW1NR_9, "top", YosysOptions()) == ["synth_gowin", "-top", "top", "-json", "netlist.json"]
    assert synth_command(GW1NR_9, "top", YosysOptions(dsp=False))[3] == "-nodsp"
    assert placement_args(GW1NR_9, Pinned(TANGNANO9K.nextpnr_args, "pins.cst")) == [
        "--device", "GW1NR-LV9QN88PC6/I5", "--vopt", "family=GW1N-9C", "--vopt", "cst=pins.cst", "--write", "pnr.json"]
    assert pack_args(GW1NR_9, "pnr.json", "top.fs") == ["-d", "GW1N-9C", "-o", "top.fs", "pnr.json"]
    assert clock_name("clk_IBUF_I_O") == "clk"


def test_cell_types():
    cells = {"LUT1": 1, "LUT2": 9, "LUT4": 19, "MUX2_LUT5": 9, "DFF": 40, "DFFRE": 3, "ALU": 10, "MULT9X9": 1,
             "SPX9": 1, "pROM": 2, "RAM16SDP4": 2, "IBUF": 2}
    c = GOWIN.cells
    got = {r: c.count(r, cells) for r in ("lut", "ff", "carry", "dsp", "bram", "lutram")}
    assert got == {"lut": 29, "ff": 43, "carry": 10, "dsp": 1, "bram": 3, "lutram": 2}


def test_cst():
    text = render(ConstraintFormat.CST, [Pin("clk", "52"), Pin("uart_rx", "18", pull_up=True)], [Clock("clk", 27)])
    assert text.splitlines()[1:] == ['IO_LOC "clk" 52;', 'IO_PORT "clk" IO_TYPE=LVCMOS33;',
                                     'IO_LOC "uart_rx" 18;', 'IO_PORT "uart_rx" IO_TYPE=LVCMOS33 PULL_MODE=UP;']


def test_estimate_refuses_in_one_line():
    qm = random_qmodel(4, 2, 1, seed=1)
    with pytest.raises(HwssmError) as exc:
        estimate(qm, DesignPoint(1), GW1NR_9)
    msg = str(exc.value)
    assert "\n" not in msg and "gw1nr-9" in msg and "no price model of the gowin family" in msg


def test_cli_estimate_refuses_and_synth_lists_the_device(tmp_path, capsys):
    from hwssm.cli import main
    from hwssm.quant.qmodel_io import save_qmodel

    path = save_qmodel(random_qmodel(4, 2, 1, seed=1), tmp_path / "m.qmodel.json")
    assert main(["estimate", "--model", str(path), "--device", "gw1nr-9"]) == 2
    out = capsys.readouterr()
    assert out.err.startswith("hwssm: error: no estimate for gw1nr-9") and out.err.count("\n") == 1 and out.out == ""
    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    help_text = re.sub(r"-\n\s*", "-", capsys.readouterr().out)  # argparse wraps after a hyphen
    assert "gw1nr-9 (GW1NR-LV9QN88PC6/I5, 27 MHz)" in help_text


@pytest.mark.synth
def test_tiny_design_to_a_bitstream(tmp_path: Path):
    bs = GOWIN.bitstream
    (tmp_path / "tiny.v").write_text(TINY)
    pins = [Pin("clk", "52"), Pin("rx", "18", pull_up=True), Pin("tx", "17"), Pin("led", "10")]
    (tmp_path / bs.pins_name).write_text(render(bs.constraints, pins, [Clock("clk", 27)]))
    build = build_bitstream(tmp_path, ["tiny.v"], "tiny", GW1NR_9, Pinned(TANGNANO9K.nextpnr_args, bs.pins_name),
                            freq_mhz=27)
    s = build.synth
    assert (s.dsp, s.bram) == (1, 1) and s.ff >= 10 + 1 and s.carry >= 10 and s.lut > 0
    u = build.pnr.utilization
    assert u["BSRAM"].used == 1 and u["MULT9X9"].used == 1 and u["LUT4"].available == 8640
    assert build.pnr.fits and u["DUMMY_CELL"].available == 0  # its bookkeeping cell is no overflow
    assert build.pnr.fmax_mhz["clk"] > 27
    data = build.bitstream.read_bytes()
    assert build.bitstream.name == "top.fs"
    # the .fs file: rows of ASCII '0'/'1', the preamble of 1s, then the sync word 0xA5C3; a GW1N-9C
    # image is about 3.5 MB of them
    rows = data.splitlines()
    assert set(b"".join(rows)) == set(b"01") and b"1010010111000011" in rows[:4] and len(data) > 3_000_000
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.synth
def test_device_run_puts_the_wrapper_on_free_pins(tmp_path: Path, monkeypatch):
    """``hwssm synth --device gw1nr-9``: the 16x16 MAC behind the narrow wrapper, every pin assigned."""
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    rtl = write_rtl(Mac(), "mac", tmp_path / "mac")
    r = synthesize(rtl, GW1NR_9, SynthOptions())
    s = r.summary()
    assert s["dsp"] >= 1 and s["fits"] and s["fmax_mhz"] > 27 and s["logic_cells_available"] == 8640
    cst = (r.workdir / "free_pins.cst").read_text()
    assert cst.count("IO_LOC") == r.wrapper.pins <= 54 and 'IO_LOC "clk" 52;' in cst
