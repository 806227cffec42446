"""The narrow top that fits a core to the device's pins (text only; Yosys runs in test_flow)."""

from __future__ import annotations

import pytest

from hwssm.errors import HwssmError
from hwssm import targets
from hwssm.synth.rtl import Dir, Port, Role, RtlDesign
from hwssm.synth.wrapper import DebugPolicy, make_wrapper


def _rtl(n_in: int, n_out: int, debug_out: int = 0, debug_in: int = 0) -> RtlDesign:
    ports = [Port("clk", Dir.IN, 1, Role.CLK), Port("rst", Dir.IN, 1, Role.RST)]
    if n_in:
        ports.append(Port("x", Dir.IN, n_in, Role.DATA))
    if n_out:
        ports.append(Port("y", Dir.OUT, n_out, Role.DATA))
    if debug_out:
        ports.append(Port("trace", Dir.OUT, debug_out, Role.DEBUG))
    if debug_in:
        ports.append(Port("poke", Dir.IN, debug_in, Role.DEBUG))
    return RtlDesign(path=None, top="core", clock="clk", ports=tuple(ports), sources=(), manifest={})


def test_direct_when_it_fits():
    text, info = make_wrapper(_rtl(16, 21, debug_out=64), targets.UP5K)
    assert info.pins == 39 and info.fold_pins == 0 and info.serialized_input_bits == 0
    assert "module hwssm_ice40_top (" in text
    assert "input wire [15:0] x" in text and "output wire [20:0] y" in text
    assert ".trace()" in text and "hwssm_debug_xor" not in text


def test_outputs_fold_when_too_wide():
    text, info = make_wrapper(_rtl(34, 40), targets.UP5K)
    assert info.fold_pins == 3 and info.folded_output_bits == 40 and info.pins == 39
    assert "assign hwssm_fold[0] = ^{y[0], y[3]," in text
    assert info.overhead_ff == 0


def test_inputs_serialize_when_even_inputs_do_not_fit():
    text, info = make_wrapper(_rtl(64, 8), targets.UP5K)
    assert info.serialized_input_bits == 64 and info.overhead_ff == 64
    assert info.fold_pins == 0 and info.pins == 2 + 1 + 8
    assert "always @(posedge clk) hwssm_sreg <= {hwssm_sreg[62:0], hwssm_sin};" in text
    assert ".x(hwssm_sreg[63:0])" in text
    _, info = make_wrapper(_rtl(64, 100), targets.UP5K)
    assert info.fold_pins == 36 and info.pins == 39


def test_debug_fold_and_debug_inputs_tied_off():
    text, info = make_wrapper(_rtl(8, 8, debug_out=32, debug_in=4), targets.UP5K, DebugPolicy.FOLD)
    assert "output wire hwssm_debug_xor" in text and "assign hwssm_debug_xor = ^{trace};" in text
    assert ".poke(4'd0)" in text and info.debug == "fold"


def test_ecp5_is_out_of_context_so_never_narrowed():
    text, info = make_wrapper(_rtl(300, 500, debug_out=8), targets.ECP5_25K)
    assert "module hwssm_ecp5_top (" in text and info.fold_pins == 0 and info.serialized_input_bits == 0
    assert info.pins == 802 and ".trace()" in text


def test_name_clash_and_no_room():
    rtl = _rtl(4, 4)
    clash = RtlDesign(None, "core", "clk", (*rtl.ports, Port("hwssm_sin", Dir.IN, 1, Role.DATA)), (), {})
    with pytest.raises(HwssmError, match="clashes with the hwssm wrapper"):
        make_wrapper(clash, targets.UP5K)
    many_clocks = tuple(Port(f"c{i}", Dir.IN, 1, Role.CLK) for i in range(39))
    crowded = RtlDesign(None, "core", "c0", (*many_clocks, Port("x", Dir.IN, 4, Role.DATA), Port("y", Dir.OUT, 4, Role.DATA)), (), {})
    with pytest.raises(HwssmError, match="does not fit up5k's 39 IO"):
        make_wrapper(crowded, targets.UP5K)
