"""Pins for a whole-chip device run on a family whose nextpnr places no unconstrained IO (Gowin).

nextpnr-ice40 places the wrapper's pins itself (``--pcf-allow-unconstrained``);
nextpnr-himbaechel's gowin uarch refuses an IO without a constraint (``ERROR: Unconstrained
IO``). For such a device (:attr:`hwssm.targets.Device.pin_sites` not empty) :func:`assign_pins`
reads the top module's ports from Yosys' netlist and writes a pin file that puts each port bit
on the next free site of ``pin_sites``, in the order clock (``clk``) first, then the ports as the
netlist lists them; the run is then a pinned one (:class:`~hwssm.synth.nextpnr.Pinned`).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import HwssmError
from ..io import write_text
from ..targets import Device
from ..targets.constraints import Pin, render

__all__ = ["PINS_NAME", "port_bits", "assign_pins"]

#: The pin file :func:`assign_pins` writes in the work directory (its format: the family's).
PINS_NAME = "free_pins"


def port_bits(netlist: dict) -> list[str]:
    """The top module's port bits of a Yosys JSON netlist as nextpnr names them (``clk``,
    ``data[3]``), the clock first; HwssmError when the netlist has no single top module."""
    tops = [m for m in netlist.get("modules", {}).values()
            if str(m.get("attributes", {}).get("top", "0")).strip("0") != ""]
    if len(tops) != 1:
        raise HwssmError(f"the netlist has {len(tops)} top modules, not one")
    names = []
    for name, port in tops[0].get("ports", {}).items():
        bits = port.get("bits", [])
        if len(bits) == 1:
            names.append(name)
            continue
        offset, upto = int(port.get("offset", 0)), bool(port.get("upto", 0))
        names += [f"{name}[{offset + (len(bits) - 1 - i if upto else i)}]" for i in range(len(bits))]
    return sorted(names, key=lambda n: n != "clk")


def assign_pins(workdir: Path, netlist: str, device: Device) -> str:
    """Write ``workdir/<PINS_NAME>.<format>`` placing every top port bit of ``workdir/netlist``
    on ``device.pin_sites`` in order; returns the file name. HwssmError when there are more
    port bits than sites."""
    try:
        bits = port_bits(json.loads((Path(workdir) / netlist).read_text()))
    except (OSError, json.JSONDecodeError, AttributeError) as exc:
        raise HwssmError(f"cannot read the top ports of {netlist}: {exc}") from None
    sites = device.pin_sites
    if len(bits) > len(sites):
        raise HwssmError(f"the top has {len(bits)} port bits, {device.name} has {len(sites)} user pins for them")
    bs = device.family.bitstream
    name = f"{PINS_NAME}.{bs.constraints.value}"
    write_text(Path(workdir) / name, render(bs.constraints, [Pin(b, s) for b, s in zip(bits, sites)]))
    return name
