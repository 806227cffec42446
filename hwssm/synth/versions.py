"""Identity of the EDA tools a synthesis result depends on (part of every cache key)."""

from __future__ import annotations

import contextlib
import functools
import subprocess
from pathlib import Path

from ..config import find_nextpnr, find_yosys
from ..targets import Device

__all__ = ["tool_versions"]


def tool_versions(device: Device) -> dict[str, str]:
    """``{"yosys": ..., "nextpnr": ...}``: Yosys and the nextpnr of ``device``'s family."""
    return {"yosys": _tool_id(find_yosys().argv), "nextpnr": _tool_id(find_nextpnr(device.family.name).argv)}


@functools.lru_cache(maxsize=None)
def _tool_id(argv: tuple[str, ...]) -> str:
    """``yowasp-<x> <version>`` from package metadata (no slow WebAssembly start), else the
    first line ``<tool> -V`` prints."""
    name = Path(argv[0]).name
    if name.startswith("yowasp-"):
        from importlib import metadata

        with contextlib.suppress(metadata.PackageNotFoundError):
            return f"{name} {metadata.version(name)}"
    try:
        out = subprocess.run([*argv, "-V"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return f"{name} ?"
    lines = (out.stdout + out.stderr).strip().splitlines()
    return f"{name} {lines[0] if lines else '?'}"
