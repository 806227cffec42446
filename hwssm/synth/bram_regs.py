"""Plain flip-flops after ECP5 block RAM reads moved into the block RAM's output register, in a
Yosys JSON netlist.

Yosys ``synth_ecp5`` maps a memory with a synchronous read to a ``DP16KD`` without its
output register (``REGMODE_A/B = "NOREG"``): the read data come 5.6 ns after the clock edge
(speed grade 6), and a register right after the read (``Pipeline.mem_stages``) is a fabric
flip-flop that nextpnr may place far from the block (a seed-dependent 3.5 ns route on top:
110 MHz where other seeds give 138). :func:`pack_bram_output_registers` rewrites the
netlist that nextpnr places: when every used read-data bit of one port drives exactly one
sink, the D input of a *plain* flip-flop (``TRELLIS_FF`` on that port's clock, no clock
enable, no set/reset, reset value 0; :func:`hwssm.synth.dsp_regs.plain_ff`) and the port is
always enabled (``CE<port>`` 1, ``RST<port>`` 0, as Yosys maps a ROM or a state RAM), the port's
output register is used (``REGMODE_<port> = "OUTREG"``, output enable ``OCE<port>`` tied to
1) and the flip-flops go, their outputs now driven by the block.
nextpnr-ecp5 times the block with its ``OUTREG`` clock-to-out.

The values, and the cycle they appear in, are the same: the output register samples the
read data every cycle as the flip-flop did. Blocks in the 36-bit mode (read data on both
ports) are left as they are (the two halves' output registers would need both port clocks).
Which families get this is their :attr:`hwssm.targets.Family.pack_bram_registers`.
"""

from __future__ import annotations

import dataclasses

from .dsp_regs import plain_ff

__all__ = ["BRAM_PACK_VERSION", "BramPackCounts", "pack_bram_output_registers"]

#: Part of the synthesis cache key of a family that packs (bump when the rewrite changes).
BRAM_PACK_VERSION = 1

_BRAM = "DP16KD"
_CONST = ("0", "1", "x", "z")


@dataclasses.dataclass(frozen=True)
class BramPackCounts:
    """What :func:`pack_bram_output_registers` did: block RAMs seen, output registers used
    (one per packed read port), fabric flip-flops removed."""

    brams: int = 0
    output_regs: int = 0
    ffs_removed: int = 0


def _width(cell: dict, port: str) -> int:
    raw = str(cell.get("parameters", {}).get(f"DATA_WIDTH_{port}", "18")).strip()
    try:
        return int(raw, 2) if set(raw) <= {"0", "1"} and len(raw) > 2 else int(raw)
    except ValueError:
        return 0


def pack_bram_output_registers(netlist: dict, top: str) -> BramPackCounts:
    """Rewrite ``netlist["modules"][top]`` in place (see the module docstring); returns the counts."""
    mod = netlist["modules"][top]
    cells = mod["cells"]
    sinks: dict = {}
    for name, cell in cells.items():
        dirs = cell.get("port_directions", {})
        for port, bits in cell["connections"].items():
            if dirs.get(port) == "output":
                continue
            for b in bits:
                if b not in _CONST:
                    sinks.setdefault(b, []).append((name, port))
    port_bits = {b for p in mod.get("ports", {}).values() for b in p["bits"]}

    brams = sorted(n for n, c in cells.items() if c["type"] == _BRAM)
    packed, removed = 0, set()
    for bname in brams:
        bc = cells[bname]
        conn, params = bc["connections"], bc.setdefault("parameters", {})
        used = {p: conn[p][0] for p in conn if p[:3] in ("DOA", "DOB") and conn[p] and conn[p][0] not in _CONST
                and (sinks.get(conn[p][0]) or conn[p][0] in port_bits)}
        ports = {p[2] for p in used}
        if len(ports) != 1:
            continue  # nothing read, or read data on both ports (36-bit mode)
        port = ports.pop()
        clk = conn.get(f"CLK{port}", ["0"])
        if (_width(bc, port) not in (1, 2, 4, 9, 18) or clk[0] in _CONST
                or str(params.get(f"REGMODE_{port}", "NOREG")).strip() != "NOREG"
                or str(params.get(f"CLK{port}MUX", f"CLK{port}")).strip() != f"CLK{port}"
                or conn.get(f"RST{port}", ["0"]) != ["0"] or conn.get(f"CE{port}", ["1"]) != ["1"]):
            continue
        ffs = {}
        for p, b in used.items():
            ss = sinks.get(b, [])
            if len(ss) != 1 or b in port_bits or ss[0][1] != "DI":
                break
            f = ss[0][0]
            fc = cells[f]
            if f in removed or not plain_ff(fc) or fc["connections"]["CLK"] != clk:
                break
            ffs[p] = f
        else:
            for p, f in ffs.items():
                conn[p] = [cells[f]["connections"]["Q"][0]]
                removed.add(f)
            params[f"REGMODE_{port}"] = "OUTREG"
            conn[f"OCE{port}"] = ["1"]
            bc.setdefault("port_directions", {})[f"OCE{port}"] = "input"
            packed += 1
    for f in removed:
        del cells[f]
    return BramPackCounts(brams=len(brams), output_regs=packed, ffs_removed=len(removed))
