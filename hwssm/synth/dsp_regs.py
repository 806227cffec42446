"""Plain flip-flops moved into the registers of ECP5 hard multipliers, in a Yosys JSON netlist.

Yosys ``synth_ecp5`` maps every multiply to a ``MULT18X18D`` without its input and output
registers (unlike ``synth_ice40``, whose ``ice40_dsp`` packs them into ``SB_MAC16``), so a
registered product is a fabric flip-flop, 3.9 ns of multiplier, a fabric flip-flop, with
routing to and from the DSP row on both sides. :func:`pack_mult_registers` rewrites the
netlist that nextpnr places:

* **inputs:** when every non-constant bit of both operands comes from a *plain* flip-flop
  (``TRELLIS_FF`` on the multiplier's clock, no clock enable, no set/reset, reset value 0),
  the operand pins take those flip-flops' D inputs and the multiplier's own A and B
  registers (``REG_INPUTA_CLK = REG_INPUTB_CLK = "CLK0"``); a flip-flop nothing else reads
  is removed. Both or neither: nextpnr times a multiplier with one registered operand as if
  neither were;
* **output:** when every used product bit drives exactly one sink, the D input of a plain
  flip-flop on that clock, the product pins drive those flip-flops' outputs instead, the
  multiplier's output register is used (``REG_OUTPUT_CLK = "CLK0"``) and the flip-flops go.

Either way the values, and the cycle they appear in, are the same as before. ``CLK0`` is
the flip-flops' clock, ``CE0`` is tied to 1 and ``RST0`` to 0. Which families get this is
their :attr:`hwssm.targets.Family.pack_dsp_registers`.
"""

from __future__ import annotations

import dataclasses

__all__ = ["PACK_VERSION", "PackCounts", "pack_mult_registers", "plain_ff"]

#: Part of the synthesis cache key of a family that packs (bump when the rewrite changes).
PACK_VERSION = 1

_MULT = "MULT18X18D"
_FF = "TRELLIS_FF"
_CONST = ("0", "1", "x", "z")


@dataclasses.dataclass(frozen=True)
class PackCounts:
    """What :func:`pack_mult_registers` did: multipliers seen, operand registers used
    (A and B counted apart), output registers used, fabric flip-flops removed."""

    mults: int = 0
    input_regs: int = 0
    output_regs: int = 0
    ffs_removed: int = 0


def _param(cell: dict, name: str, default: str = "") -> str:
    return str(cell.get("parameters", {}).get(name, default)).strip()


def plain_ff(cell: dict) -> bool:
    """A rising-edge flip-flop without enable, set/reset or a set initial value."""
    conn = cell["connections"]
    if cell["type"] != _FF or _param(cell, "CLKMUX", "CLK") != "CLK" or _param(cell, "REGSET", "RESET") != "RESET":
        return False
    if conn.get("LSR", ["0"]) != ["0"] or _param(cell, "SRMODE", "LSR_OVER_CE") not in ("LSR_OVER_CE", "ASYNC"):
        return False
    cemux = _param(cell, "CEMUX", "1")
    return cemux == "1" or (cemux == "CE" and conn.get("CE", ["1"]) == ["1"])


def pack_mult_registers(netlist: dict, top: str) -> PackCounts:
    """Rewrite ``netlist["modules"][top]`` in place (see the module docstring); returns the counts."""
    mod = netlist["modules"][top]
    cells = mod["cells"]
    driver, sinks = {}, {}
    for name, cell in cells.items():
        dirs = cell.get("port_directions", {})
        for port, bits in cell["connections"].items():
            for i, b in enumerate(bits):
                if b in _CONST:
                    continue
                if dirs.get(port) == "output":
                    driver[b] = (name, port)
                else:
                    sinks.setdefault(b, []).append((name, port, i))
    port_bits = {b for p in mod.get("ports", {}).values() for b in p["bits"]}

    mults = sorted(n for n, c in cells.items() if c["type"] == _MULT)
    n_in = n_out = 0
    removed = set()
    for mname in mults:
        mc = cells[mname]
        conn, params = mc["connections"], mc.setdefault("parameters", {})
        if any(_param(mc, f"REG_{r}_CLK", "NONE") != "NONE" for r in ("INPUTA", "INPUTB", "OUTPUT", "PIPELINE")):
            continue  # registers already in use: leave it as it is
        clk = None

        def ff_of(bit):
            d = driver.get(bit)
            if d is None or d[1] != "Q" or d[0] in removed or not plain_ff(cells[d[0]]):
                return None
            return d[0]

        done = []
        # both operand registers or neither (nextpnr times a multiplier with one registered
        # operand as if neither were); an all-constant operand is registered as it is
        plan = {}
        for op in ("A", "B"):
            pins = [f"{op}{i}" for i in range(18) if f"{op}{i}" in conn]
            ffs = {}
            for p in pins:
                b = conn[p][0]
                if b in _CONST:
                    continue
                f = ff_of(b)
                fclk = cells[f]["connections"]["CLK"] if f else None
                if f is None or (clk is not None and fclk != clk):
                    ffs = None
                    break
                clk = fclk
                ffs[p] = f
            if ffs is None:
                plan = None
                break
            plan[op] = ffs
        if plan is None or not any(plan.values()):
            clk = None
            plan = {}
        for op, ffs in plan.items():
            for p, f in ffs.items():
                old = conn[p][0]
                new = cells[f]["connections"]["DI"][0]
                conn[p] = [new]
                sinks[old] = [s for s in sinks.get(old, []) if not (s[0] == mname and s[1] == p)]
                if new not in _CONST:
                    sinks.setdefault(new, []).append((mname, p, 0))
            for f in set(ffs.values()):
                q = cells[f]["connections"]["Q"][0]
                if not sinks.get(q) and q not in port_bits:
                    removed.add(f)
            params[f"REG_INPUT{op}_CLK"], params[f"REG_INPUT{op}_CE"], params[f"REG_INPUT{op}_RST"] = "CLK0", "CE0", "RST0"
            done.append(op)
            n_in += 1

        # the output register: every used product bit feeds exactly one plain flip-flop
        outs = {}
        ok = True
        for i in range(36):
            p = f"P{i}"
            if p not in conn or conn[p][0] in _CONST:
                continue
            b = conn[p][0]
            ss = sinks.get(b, [])
            if not ss:
                continue
            if len(ss) != 1 or b in port_bits or ss[0][1] != "DI":
                ok = False
                break
            f = ss[0][0]
            if f in removed or not plain_ff(cells[f]) or (clk is not None and cells[f]["connections"]["CLK"] != clk):
                ok = False
                break
            clk = cells[f]["connections"]["CLK"]
            outs[p] = f
        if ok and outs:
            for p, f in outs.items():
                conn[p] = [cells[f]["connections"]["Q"][0]]
                removed.add(f)
            params["REG_OUTPUT_CLK"], params["REG_OUTPUT_CE"], params["REG_OUTPUT_RST"] = "CLK0", "CE0", "RST0"
            done.append("P")
            n_out += 1
        if done:
            conn["CLK0"], conn["CE0"], conn["RST0"] = list(clk), ["1"], ["0"]
            dirs = mc.setdefault("port_directions", {})
            dirs.update({"CLK0": "input", "CE0": "input", "RST0": "input"})
            params["GSR"] = "DISABLED"
    for f in removed:
        del cells[f]
    return PackCounts(mults=len(mults), input_regs=n_in, output_regs=n_out, ffs_removed=len(removed))
