"""A whole-chip build with pin constraints, down to the bitstream (the board flow's tool runs).

:func:`build_bitstream` runs Yosys on the board top's Verilog (:mod:`~hwssm.synth.yosys`; no
wrapper: the top's ports are the board's pins), the family's register packing
(:mod:`~hwssm.synth.regpack`, as ``hwssm synth`` does), nextpnr with the pin file
(:class:`~hwssm.synth.nextpnr.Pinned`) and the packer (:mod:`~hwssm.synth.pack`) in one work
directory, which keeps every log, the netlist and the reports. Nothing is cached: a board
build is asked for explicitly and its bitstream is the product.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..config import find_packer
from ..errors import HwssmError
from ..targets import Device
from ._run import Progress
from .nextpnr import Pinned, run_nextpnr
from .pack import run_pack
from .regpack import pack_netlist_registers
from .results import PnrResult, SynthResult
from .versions import tool_versions
from .yosys import NETLIST, YosysOptions, run_yosys

__all__ = ["PinnedBuild", "build_bitstream"]


@dataclasses.dataclass(frozen=True)
class PinnedBuild:
    """The result of :func:`build_bitstream`.

    Attributes
    ----------
    synth : SynthResult
        Yosys cell counts of the whole top (board logic included).
    pnr : PnrResult
        nextpnr utilization, fmax (MHz) per clock, critical paths.
    bitstream : Path
        The packed bitstream in the work directory (``top.bin`` / ``top.bit``).
    seconds : dict[str, float]
        Wall time of ``yosys``, ``nextpnr`` and ``pack``, seconds.
    tools : dict[str, str]
        Tool identities.
    """

    synth: SynthResult
    pnr: PnrResult
    bitstream: Path
    seconds: dict[str, float]
    tools: dict[str, str]


def build_bitstream(workdir: Path, sources: list[str], top: str, device: Device, pinned: Pinned, *,
                    freq_mhz: float, seed: int = 1, options: YosysOptions = YosysOptions(),
                    progress: Progress | None = None) -> PinnedBuild:
    """Synthesize ``sources`` (Verilog, relative to ``workdir``) with top ``top``, place them
    with ``pinned`` (the pin file already in ``workdir``) at ``freq_mhz`` MHz, and pack.

    Raises HwssmError (missing tool, tool failure) or
    :class:`~hwssm.synth.nextpnr.DesignDoesNotFit` (what overflowed, by how much).
    """
    workdir = Path(workdir)
    if not (workdir / pinned.pins).is_file():
        raise HwssmError(f"pin file {pinned.pins} missing in {workdir}")
    if device.family.bitstream is not None:
        find_packer(device.family.bitstream.packer)  # a missing packer fails before the long runs
    if options.dsp and not device.dsp:
        options = dataclasses.replace(options, dsp=False)
    tools = tool_versions(device)
    synth, yosys_s = run_yosys(workdir, sources, device, top, options, progress)
    pack_netlist_registers(workdir, NETLIST, top, device, options.dsp, progress)
    pnr, nextpnr_s = run_nextpnr(workdir, NETLIST, device, freq_mhz=freq_mhz, seed=seed, progress=progress,
                                 pinned=pinned)
    bitstream, pack_s = run_pack(workdir, device, progress)
    return PinnedBuild(synth, pnr, bitstream, {"yosys": yosys_s, "nextpnr": nextpnr_s, "pack": pack_s}, tools)
