"""The family's register packing of a Yosys netlist file, between Yosys and nextpnr.

:func:`pack_netlist_registers` rewrites ``workdir/netlist.json`` in place with the rewrites
the device's family asks for: plain flip-flops into hard-multiplier registers
(:attr:`~hwssm.targets.Family.pack_dsp_registers`, :mod:`hwssm.synth.dsp_regs`, with hard
multipliers on) and into block-RAM output registers
(:attr:`~hwssm.targets.Family.pack_bram_registers`, :mod:`hwssm.synth.bram_regs`), and
writes what each did to ``dsp_regs.json`` / ``bram_regs.json``. Both the cached synthesis
flow (:mod:`hwssm.synth.flow`) and the board flow (:mod:`hwssm.synth.pinned`) run it, so a
board bitstream has the registers that ``hwssm synth`` timed.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ..errors import HwssmError
from ..io import write_json, write_text
from ..targets import Device
from ._run import Progress
from .bram_regs import BRAM_PACK_VERSION, pack_bram_output_registers
from .dsp_regs import PACK_VERSION, pack_mult_registers

__all__ = ["DSP_REGS", "BRAM_REGS", "packs", "pack_versions", "pack_netlist_registers"]

#: What :mod:`hwssm.synth.dsp_regs` did to the netlist (families that pack DSP registers).
DSP_REGS = "dsp_regs.json"
#: What :mod:`hwssm.synth.bram_regs` did to the netlist (families that pack block-RAM registers).
BRAM_REGS = "bram_regs.json"


def packs(device: Device, dsp: bool) -> dict[str, bool]:
    """Which rewrites run on ``device`` (``dsp``: hard multipliers on): keys ``dsp``, ``bram``."""
    fam = device.family
    return {"dsp": fam.pack_dsp_registers and dsp, "bram": fam.pack_bram_registers}


def pack_versions(device: Device, dsp: bool) -> dict[str, int]:
    """The versions of the rewrites that run (part of the synthesis cache key; empty when none)."""
    p = packs(device, dsp)
    return {**({"dsp_regs": PACK_VERSION} if p["dsp"] else {}), **({"bram_regs": BRAM_PACK_VERSION} if p["bram"] else {})}


def pack_netlist_registers(workdir: Path, netlist_name: str, top: str, device: Device, dsp: bool,
                           progress: Progress | None = None) -> None:
    """Run the family's rewrites on ``workdir/netlist_name`` (module ``top``); nothing when none."""
    todo = packs(device, dsp)
    if not any(todo.values()):
        return
    path = Path(workdir) / netlist_name
    try:
        netlist = json.loads(path.read_text())
        dsp_counts = pack_mult_registers(netlist, top) if todo["dsp"] else None
        bram_counts = pack_bram_output_registers(netlist, top) if todo["bram"] else None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HwssmError(f"cannot pack the registers of {path} ({type(exc).__name__}: {exc})") from None
    write_text(path, json.dumps(netlist))
    if dsp_counts is not None:
        write_json(Path(workdir) / DSP_REGS, dataclasses.asdict(dsp_counts))
        if progress:
            progress(f"DSP registers packed: {dsp_counts.input_regs} operand and {dsp_counts.output_regs} product "
                     f"registers of {dsp_counts.mults} multipliers, {dsp_counts.ffs_removed} flip-flops removed")
    if bram_counts is not None:
        write_json(Path(workdir) / BRAM_REGS, dataclasses.asdict(bram_counts))
        if progress:
            progress(f"block-RAM output registers packed: {bram_counts.output_regs} of {bram_counts.brams} blocks, "
                     f"{bram_counts.ffs_removed} flip-flops removed")
