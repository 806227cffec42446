"""Bitstream packing: the textual configuration of a pinned nextpnr run -> the FPGA bitstream.

iCE40: ``icepack top.asc top.bin`` (Project IceStorm); ECP5: ``ecppack --input top.config
--bit top.bit`` (Project Trellis). The program and its arguments are the family's data
(:attr:`hwssm.targets.Family.bitstream`); the tool is native when on PATH, else the yowasp
build (:func:`hwssm.config.find_packer`). The packer writes a temporary name that is renamed
onto the bitstream only when it succeeded, so a failed run leaves no partial bitstream.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import find_packer
from ..errors import HwssmError
from ..targets import Device
from ._run import Progress, fail, run_tool

__all__ = ["pack_args", "run_pack"]


def pack_args(device: Device, config: str, bitstream: str) -> list[str]:
    """The packer's arguments for ``config`` -> ``bitstream`` (file names relative to the work directory)."""
    bs = device.family.bitstream
    if bs is None:
        raise HwssmError(f"device {device.name} ({device.family.name}) has no bitstream packer")
    return [a.replace("{config}", config).replace("{bitstream}", bitstream) for a in bs.packer_args]


def run_pack(workdir: Path, device: Device, progress: Progress | None = None) -> tuple[Path, float]:
    """Pack ``workdir/<config_name>`` into ``workdir/<bitstream_name>``; returns its path and the wall time (s).

    Raises HwssmError when the packer is missing, the configuration is absent, or the packer
    fails (its last output line and log path).
    """
    bs = device.family.bitstream
    if bs is None:
        raise HwssmError(f"device {device.name} ({device.family.name}) has no bitstream packer")
    tool = find_packer(bs.packer)
    if not (workdir / bs.config_name).is_file():
        raise HwssmError(f"no {bs.config_name} in {workdir} to pack (nextpnr did not write it)")
    final = workdir / bs.bitstream_name
    tmp = f".{bs.bitstream_name}.{os.getpid()}.tmp"
    (workdir / tmp).unlink(missing_ok=True)
    run = run_tool(tool, pack_args(device, bs.config_name, tmp), cwd=workdir, log_name=bs.packer,
                   label=f"{bs.packer} {bs.bitstream_name}", progress=progress)
    if run.returncode != 0 or not (workdir / tmp).is_file() or (workdir / tmp).stat().st_size == 0:
        (workdir / tmp).unlink(missing_ok=True)
        raise fail(f"{bs.packer} {bs.bitstream_name}", run)
    os.replace(workdir / tmp, final)
    return final, run.seconds
