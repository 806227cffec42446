"""Yosys synthesis (``synth_ice40`` / ``synth_ecp5``) and the parser of its ``stat -json``.

The command, its device arguments and its DSP/SPRAM switches are the target's data
(:mod:`hwssm.targets`). Flags checked against Yosys 0.70 (``help synth_ice40``, ``help
synth_lattice``): ``synth_ice40`` takes ``-device hx|lp|u -top -json -dsp -spram -noflatten``;
``synth_ecp5`` (a wrapper of ``synth_lattice -family ecp5``) takes ``-top -json -nodsp
-noflatten`` and infers DSPs by default. Neither has ``-abc9`` any more: ABC9 is the default
LUT mapper of both.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ..config import find_yosys
from ..errors import HwssmError
from ..targets import Device, Family
from ..targets import family as find_family
from ._run import Progress, fail, run_tool
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
        Map multipliers to hard DSPs (iCE40: ``-dsp``; ECP5: default, else ``-nodsp``);
        ignored on a device without them (iCE40 HX).
    spram : bool
        Let Yosys infer SPRAM for large memories (iCE40 UltraPlus: ``-spram``); ignored on a
        device without SPRAM.
    """

    dsp: bool = True
    spram: bool = False


def synth_command(device: Device, top: str, options: YosysOptions) -> list[str]:
    """The synthesis command line of the script, as a list of words: the family's command, the
    device's arguments, and the family's DSP / SPRAM switches where the device has those blocks."""
    fam = device.family
    cmd = [fam.yosys_synth, *device.yosys_args, "-top", top]
    if device.dsp:
        cmd += fam.dsp_on if options.dsp else fam.dsp_off
    if options.spram and device.spram:
        cmd += fam.spram_on
    return cmd + ["-json", NETLIST]


#: Memory attribute of the generator (:mod:`hwssm.hw.storage`): a single-port RAM meant for
#: iCE40 SPRAM. With ``spram`` the script forces those into SPRAM (``ram_style "huge"``);
#: by Yosys' cost model alone a narrow one (e.g. 8192 × 10) would fill block RAM instead.
SPRAM_ATTR = "hwssm_spram"


def synth_script(sources: list[str], device: Device, top: str, options: YosysOptions) -> str:
    """Yosys script text: read ``sources`` (paths relative to the work directory), synthesize, write stats."""
    lines = [f"read_verilog {s}" for s in sources]
    if options.spram and device.spram and device.family.spram_on:
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


def parse_stat(stat: dict, family: Family | str) -> SynthResult:
    """A :class:`SynthResult` from Yosys ``stat -json`` output of a flattened design on ``family``
    (a :class:`~hwssm.targets.Family` or its name; its cell types: ``Family.cells``).

    Uses the ``design`` section (whole-design totals); without one, sums all modules.
    HwssmError for an unknown family or malformed JSON.
    """
    family = find_family(family)
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

    fields = {f: family.cells.count(f, cells) for f in ("lut", "ff", "carry", "dsp", "bram", "spram", "lutram")}
    raw = {k: v for k, v in section.items() if k != "num_cells_by_type"}
    return SynthResult(family=family.name, cells=dict(sorted(cells.items())), raw=raw, **fields)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise HwssmError(f"cannot read {path}: {exc}") from None
