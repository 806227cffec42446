"""Packing plain flip-flops into ECP5 MULT18X18D registers (hwssm.synth.dsp_regs), on small
hand-built Yosys JSON netlists: which flip-flops move, how the pins are rewired."""

from __future__ import annotations

import copy

from hwssm.synth.dsp_regs import pack_mult_registers


def _ff(d, q, clk=2, **params):
    p = {"CEMUX": "1 ", "CLKMUX": "CLK", "GSR": "DISABLED", "LSRMUX": "LSR", "REGSET": "RESET", **params}
    return {"type": "TRELLIS_FF", "parameters": p, "port_directions": {"CLK": "input", "DI": "input", "LSR": "input",
                                                                      "Q": "output"},
            "connections": {"CLK": [clk], "DI": [d], "LSR": ["0"], "Q": [q]}}


def _mult(a, b, p):
    conn = {**{f"A{i}": [a[i] if i < len(a) else a[-1]] for i in range(18)},
            **{f"B{i}": [b[i] if i < len(b) else b[-1]] for i in range(18)},
            **{f"P{i}": [p[i]] if i < len(p) else [1000 + i] for i in range(36)},
            "SIGNEDA": ["1"], "SIGNEDB": ["1"]}
    dirs = {k: ("output" if k.startswith("P") else "input") for k in conn}
    return {"type": "MULT18X18D", "parameters": {}, "port_directions": dirs, "connections": conn}


def _lut(i, o):
    return {"type": "LUT4", "parameters": {}, "port_directions": {"A": "input", "Z": "output"},
            "connections": {"A": [i], "Z": [o]}}


def _netlist(cells, ports=None):
    return {"modules": {"top": {"ports": ports or {}, "cells": cells, "netnames": {}}}}


def _registered_product():
    """a (bits 10, 11) and b (12) registered into 20, 21 / 22; product 30, 31 registered into 40, 41."""
    cells = {
        "fa0": _ff(10, 20), "fa1": _ff(11, 21), "fb0": _ff(12, 22),
        "m": _mult([20, 21], [22], [30, 31]),
        "fp0": _ff(30, 40), "fp1": _ff(31, 41),
        "use0": _lut(40, 50), "use1": _lut(41, 51),
    }
    return _netlist(cells)


def test_a_registered_product_moves_into_the_multiplier():
    n = _registered_product()
    counts = pack_mult_registers(n, "top")
    cells = n["modules"]["top"]["cells"]
    assert (counts.mults, counts.input_regs, counts.output_regs, counts.ffs_removed) == (1, 2, 1, 5)
    assert set(cells) == {"m", "use0", "use1"}
    m = cells["m"]
    c, p = m["connections"], m["parameters"]
    # operands from the flip-flops' D inputs (sign extension included), product onto their Q nets
    assert [c[f"A{i}"][0] for i in range(3)] == [10, 11, 11] and c["B0"] == [12] and c["B17"] == [12]
    assert (c["P0"], c["P1"]) == ([40], [41]) and c["P2"] == [1002]
    assert (c["CLK0"], c["CE0"], c["RST0"]) == ([2], ["1"], ["0"])
    assert p["REG_INPUTA_CLK"] == p["REG_INPUTB_CLK"] == p["REG_OUTPUT_CLK"] == "CLK0"
    assert "REG_PIPELINE_CLK" not in p and m["port_directions"]["CLK0"] == "input"


def test_flip_flops_with_other_readers_stay_and_odd_ones_are_left_alone():
    n = _registered_product()
    cells = n["modules"]["top"]["cells"]
    cells["other"] = _lut(20, 60)            # a0's register is read elsewhere too: copied, not moved
    cells["fb0"] = _ff(12, 22, CEMUX="CE")   # b's register has an enable: B stays unregistered
    cells["fb0"]["connections"]["CE"] = [70]
    cells["fp1"]["connections"]["LSR"] = [71]  # a product bit with a reset: no output register
    counts = pack_mult_registers(n, "top")
    c, p = cells["m"]["connections"], cells["m"]["parameters"]
    # B cannot be registered, so A is not either (both or neither); no output register
    assert (counts.input_regs, counts.output_regs, counts.ffs_removed) == (0, 0, 0)
    assert c["A0"] == [20] and c["B0"] == [22] and c["P0"] == [30]
    assert not any(k.startswith("REG_") for k in p)
    # without the enable on B both operands move; a0's register, read elsewhere too, is copied
    cells["fb0"] = _ff(12, 22)
    counts = pack_mult_registers(n, "top")
    assert (counts.input_regs, counts.output_regs) == (2, 0)
    assert c["A0"] == [10] and c["B0"] == [12] and c["P0"] == [30]
    assert "fa0" in cells and "fa1" not in cells and "fb0" not in cells and {"fp0", "fp1"} <= set(cells)
    assert p["REG_INPUTA_CLK"] == p["REG_INPUTB_CLK"] == "CLK0" and "REG_OUTPUT_CLK" not in p


def test_a_product_bit_with_two_readers_keeps_the_output_register_out():
    n = _registered_product()
    cells = n["modules"]["top"]["cells"]
    cells["tap"] = _lut(31, 61)
    counts = pack_mult_registers(n, "top")
    assert counts.output_regs == 0 and "fp0" in cells and cells["m"]["connections"]["P0"] == [30]


def test_nothing_to_pack_changes_nothing():
    cells = {"m": _mult([10, 11], [12], [30, 31]), "use": _lut(30, 50)}
    n = _netlist(cells)
    before = copy.deepcopy(n)
    counts = pack_mult_registers(n, "top")
    assert (counts.input_regs, counts.output_regs, counts.ffs_removed) == (0, 0, 0) and n == before
