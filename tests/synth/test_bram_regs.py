"""Packing the plain flip-flops after ECP5 DP16KD reads into the block's output register
(hwssm.synth.bram_regs), on small hand-built Yosys JSON netlists."""

from __future__ import annotations

from hwssm.synth.bram_regs import pack_bram_output_registers

from .test_dsp_regs import _ff, _lut, _netlist


def _bram(read: str, data: list[int], width: int = 9, clk=2):
    """A DP16KD reading on port ``read`` (``DO<read>i`` drive ``data``; the other port's outputs
    are unused nets 900+), the other port writing (its clock tied off), as Yosys maps a ROM."""
    other = "B" if read == "A" else "A"
    conn = {f"DO{read}{i}": [data[i]] if i < len(data) else [800 + i] for i in range(18)}
    conn.update({f"DO{other}{i}": [900 + i] for i in range(18)})
    conn.update({f"CLK{read}": [clk], f"CLK{other}": ["0"], f"CE{read}": ["1"], f"CE{other}": ["0"],
                 "OCEA": ["1"], "OCEB": ["1"], "RSTA": ["0"], "RSTB": ["0"], f"AD{read}5": [60]})
    dirs = {k: ("output" if k.startswith("DO") else "input") for k in conn}
    params = {"DATA_WIDTH_A": f"{width:032b}", "DATA_WIDTH_B": f"{18:032b}", "REGMODE_A": "NOREG",
              "REGMODE_B": "NOREG", "CLKAMUX": "CLKA", "CLKBMUX": "CLKB", "RESETMODE": "ASYNC"}
    return {"type": "DP16KD", "parameters": params, "port_directions": dirs, "connections": conn}


def _rom_read():
    """A block reading 3 bits (30..32) on port A, each registered (into 40..42) and then used."""
    cells = {"ram": _bram("A", [30, 31, 32]), "f0": _ff(30, 40), "f1": _ff(31, 41), "f2": _ff(32, 42),
             "u0": _lut(40, 50), "u1": _lut(41, 51), "u2": _lut(42, 52)}
    return _netlist(cells)


def test_a_registered_read_moves_into_the_output_register():
    n = _rom_read()
    counts = pack_bram_output_registers(n, "top")
    cells = n["modules"]["top"]["cells"]
    assert (counts.brams, counts.output_regs, counts.ffs_removed) == (1, 1, 3)
    assert set(cells) == {"ram", "u0", "u1", "u2"}
    ram = cells["ram"]
    c, p = ram["connections"], ram["parameters"]
    # the block now drives the flip-flops' output nets, one cycle later as they did
    assert [c[f"DOA{i}"] for i in range(4)] == [[40], [41], [42], [803]]
    assert p["REGMODE_A"] == "OUTREG" and p["REGMODE_B"] == "NOREG"
    assert c["OCEA"] == ["1"] and c["RSTA"] == ["0"] and ram["port_directions"]["OCEA"] == "input"


def test_a_read_on_port_b_uses_port_b_register():
    cells = {"ram": _bram("B", [30, 31], width=18), "f0": _ff(30, 40), "f1": _ff(31, 41),
             "u0": _lut(40, 50), "u1": _lut(41, 51)}
    n = _netlist(cells)
    counts = pack_bram_output_registers(n, "top")
    p = n["modules"]["top"]["cells"]["ram"]["parameters"]
    assert counts.output_regs == 1 and p["REGMODE_B"] == "OUTREG" and p["REGMODE_A"] == "NOREG"


def test_reads_that_cannot_move_are_left_alone():
    cases = []
    n = _rom_read()
    n["modules"]["top"]["cells"]["other"] = _lut(31, 60)  # a read bit with a second reader
    cases.append(n)
    n = _rom_read()
    n["modules"]["top"]["cells"]["f2"] = _ff(32, 42, clk=3)  # a flip-flop on another clock
    cases.append(n)
    n = _rom_read()
    n["modules"]["top"]["cells"]["f1"] = _ff(31, 41, CEMUX="CE")  # a flip-flop with an enable
    n["modules"]["top"]["cells"]["f1"]["connections"]["CE"] = [70]
    cases.append(n)
    n = _rom_read()
    n["modules"]["top"]["cells"]["f0"]["connections"]["LSR"] = [71]  # a flip-flop with a reset
    cases.append(n)
    n = _rom_read()
    n["modules"]["top"]["cells"]["f0"] = _lut(30, 40)  # a read bit into logic, not a flip-flop
    cases.append(n)
    n = _rom_read()
    n["modules"]["top"]["cells"]["ram"]["parameters"]["REGMODE_A"] = "OUTREG"  # already registered
    cases.append(n)
    n = _rom_read()
    n["modules"]["top"]["ports"] = {"q": {"direction": "output", "bits": [31]}}  # read bit is a port
    cases.append(n)
    n = _rom_read()
    n["modules"]["top"]["cells"]["ram"]["connections"]["CEA"] = [72]  # a read port with an enable
    cases.append(n)
    n = _rom_read()  # 36-bit mode: read data on both ports
    n["modules"]["top"]["cells"]["ram"]["connections"]["DOB0"] = [33]
    n["modules"]["top"]["cells"]["f3"] = _ff(33, 43)
    n["modules"]["top"]["cells"]["u3"] = _lut(43, 53)
    cases.append(n)
    for n in cases:
        before = {k: (dict(v["parameters"]), dict(v["connections"])) for k, v in n["modules"]["top"]["cells"].items()}
        counts = pack_bram_output_registers(n, "top")
        cells = n["modules"]["top"]["cells"]
        assert (counts.output_regs, counts.ffs_removed) == (0, 0)
        assert {k: (dict(v["parameters"]), dict(v["connections"])) for k, v in cells.items()} == before


def test_unread_block_is_left_alone():
    n = _netlist({"ram": _bram("A", [])})
    assert pack_bram_output_registers(n, "top").output_regs == 0
