"""Yosys synthesis (``synth_ice40`` / ``synth_ecp5``) and the parser of its ``stat -json``.

Flags checked against Yosys 0.70 (``help synth_ice40``, ``help synth_lattice``):
``synth_ice40`` takes ``-device u -top -json -dsp -spram -noflatten``; ``synth_ecp5`` (a
wrapper of ``synth_lattice -family ecp5``) takes ``-top -json -nodsp -noflatten`` and infers
DSPs by default. Neither has ``-abc9`` any more: ABC9 is the default LUT mapper of both.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ..config import find_yosys
from ..errors import HwssmError
from ._run import Progress, fail, run_tool
from .device import Device
from .results import SynthResult

#: Files that :func:`run_yosys` writes in the work directory.
NETLIST = "netlist.json"
STAT = "stat.json"
SCRIPT = "synth.ys"


@dataclasses.dataclass(frozen=True)
class YosysOptions:
    """Synthesis switches.

    Attributes
    ----------
    dsp : bool
        Map multipliers to hard DSPs (iCE40: ``-dsp``; ECP5: default, else ``-nodsp``).
    spram : bool
        iCE40 only: let Yosys infer ``SB_SPRAM256KA`` for large memories (``-spram``).
    """

    dsp: bool = True
    spram: bool = False


def synth_command(device: Device, top: str, options: YosysOptions) -> list[str]:
    """The synthesis command line of the script, as a list of words."""
    if device.family == "ice40":
        cmd = ["synth_ice40", "-device", "u", "-top", top]
        if options.dsp:
            cmd.append("-dsp")
        if options.spram:
            cmd.append("-spram")
    else:
        cmd = ["synth_ecp5", "-top", top]
        if not options.dsp:
            cmd.append("-nodsp")
    return cmd + ["-json", NETLIST]


#: Memory attribute of the generator (:mod:`hwssm.hw.storage`): a single-port RAM meant for
#: iCE40 SPRAM. With ``spram`` the script forces those into SPRAM (``ram_style "huge"``);
#: by Yosys' cost model alone a narrow one (e.g. 8192 × 10) would fill block RAM instead.
SPRAM_ATTR = "hwssm_spram"


def synth_script(sources: list[str], device: Device, top: str, options: YosysOptions) -> str:
    """Yosys script text: read ``sources`` (paths relative to the work directory), synthesize, write stats."""
    lines = [f"read_verilog {s}" for s in sources]
    if device.family == "ice40" and options.spram:
        lines.append(f'setattr -set ram_style "huge" a:{SPRAM_ATTR}')
    lines.append(" ".join(synth_command(device, top, options)))
    lines.append(f"tee -q -o {STAT} stat -json")
    return "\n".join(lines) + "\n"


def run_yosys(
    workdir: Path,
    sources: list[str],
    device: Device,
    top: str,
    options: YosysOptions,
    progress: Progress | None = None,
) -> tuple[SynthResult, float]:
    """Synthesize in ``workdir``; returns the parsed stats and the wall time in seconds.

    ``sources`` are Verilog files relative to ``workdir``. Writes ``synth.ys``,
    ``yosys.log``, ``netlist.json`` (for nextpnr) and ``stat.json`` there.
    Raises HwssmError with the first ERROR line of the log when Yosys fails.
    """
    tool = find_yosys()
    (workdir / SCRIPT).write_text(synth_script(sources, device, top, options))
    words = synth_command(device, top, options)
    label = " ".join(["yosys", words[0], *(w for w in words if w in ("-dsp", "-nodsp", "-spram"))])
    run = run_tool(tool, ["-q", "-l", "yosys.log", "-s", SCRIPT], cwd=workdir, log_name="yosys", label=label, progress=progress)
    if run.returncode != 0 or not (workdir / STAT).is_file() or not (workdir / NETLIST).is_file():
        raise fail(label, run)
    return parse_stat(_read_json(workdir / STAT), device.family), run.seconds


def parse_stat(stat: dict, family: str) -> SynthResult:
    """A :class:`SynthResult` from Yosys ``stat -json`` output of a flattened design.

    Uses the ``design`` section (whole-design totals); without one, sums all modules.
    """
    try:
        section = stat.get("design")
        if section is None:
            mods = list(stat["modules"].values())
            cells: dict[str, int] = {}
            for m in mods:
                for k, v in m.get("num_cells_by_type", {}).items():
                    cells[k] = cells.get(k, 0) + int(v)
            section = {"num_cells": sum(cells.values()), "num_cells_by_type": cells}
        cells = {str(k): int(v) for k, v in section.get("num_cells_by_type", {}).items()}
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise HwssmError(f"unexpected Yosys stat JSON ({type(exc).__name__}: {exc})") from None

    def count(pred) -> int:
        return sum(n for name, n in cells.items() if pred(name))

    if family == "ice40":
        fields = dict(
            lut=count(lambda c: c == "SB_LUT4"),
            ff=count(lambda c: c.startswith("SB_DFF")),
            carry=count(lambda c: c == "SB_CARRY"),
            dsp=count(lambda c: c == "SB_MAC16"),
            bram=count(lambda c: c.startswith("SB_RAM40_4K")),
            spram=count(lambda c: c == "SB_SPRAM256KA"),
            lutram=0,
        )
    elif family == "ecp5":
        fields = dict(
            lut=count(lambda c: c == "LUT4"),
            ff=count(lambda c: c == "TRELLIS_FF"),
            carry=count(lambda c: c == "CCU2C"),
            dsp=count(lambda c: c == "MULT18X18D"),
            bram=count(lambda c: c in ("DP16KD", "PDPW16KD")),
            spram=0,
            lutram=count(lambda c: c.startswith("TRELLIS_DPR16X4")),
        )
    else:
        raise HwssmError(f"unknown FPGA family {family!r}")
    raw = {k: v for k, v in section.items() if k != "num_cells_by_type"}
    return SynthResult(family=family, cells=dict(sorted(cells.items())), raw=raw, **fields)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise HwssmError(f"cannot read {path}: {exc}") from None
