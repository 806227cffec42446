"""An RTL directory as the generator writes it: ``DIR/*.v`` and ``DIR/manifest.json``.

The manifest holds at least::

    {"top": "<module>", "clock": "clk",
     "ports": [{"name": "clk", "dir": "in", "width": 1, "role": "clk"}, ...],
     "files": {"<name>.v": "<SHA-256 hex>", ...}}

``files`` names every file of the directory besides the manifest, with its SHA-256
(:mod:`hwssm.hw.manifest`): :func:`load_rtl` refuses a directory whose files differ from it
or that holds others, so simulation, synthesis and the flow use exactly the generated files.
The sources are the named ``*.v`` files, sorted by name.

``role`` is one of ``clk``, ``rst``, ``data``, ``debug``. Debug ports exist for
simulation only (e.g. a per-layer verification stream).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from pathlib import Path

from ..errors import HwssmError
from ..hw.manifest import check_files

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class Role(enum.Enum):
    CLK = "clk"
    RST = "rst"
    DATA = "data"
    DEBUG = "debug"


class Dir(enum.Enum):
    IN = "in"
    OUT = "out"


@dataclasses.dataclass(frozen=True)
class Port:
    """One top-level port: name, direction, width in bits, role."""

    name: str
    dir: Dir
    width: int
    role: Role


@dataclasses.dataclass(frozen=True)
class RtlDesign:
    """A validated RTL directory.

    Attributes
    ----------
    path : Path
        The directory.
    top : str
        Name of the top module.
    clock : str
        Name of the (main) clock port.
    ports : tuple[Port, ...]
        Top-level ports in manifest order.
    sources : tuple[Path, ...]
        The ``*.v`` files the manifest names (checked against their SHA-256), sorted by name.
    manifest : dict
        The manifest as read (for extra fields: model, precision plan, generator version).
    """

    path: Path
    top: str
    clock: str
    ports: tuple[Port, ...]
    sources: tuple[Path, ...]
    manifest: dict

    def ports_with(self, role: Role, dir: Dir | None = None) -> list[Port]:
        return [p for p in self.ports if p.role is role and (dir is None or p.dir is dir)]


def load_rtl(path: str | Path) -> RtlDesign:
    """Read and check ``path/manifest.json`` and the files it names (their SHA-256, no others:
    :func:`hwssm.hw.manifest.check_files`); HwssmError on any problem."""
    path = Path(path)
    if not path.is_dir():
        raise HwssmError(f"RTL directory not found: {path}")
    mpath = path / "manifest.json"
    if not mpath.is_file():
        raise HwssmError(f"no manifest.json in RTL directory {path}")
    try:
        manifest = json.loads(mpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HwssmError(f"{mpath}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise HwssmError(f"{mpath}: expected a JSON object")
    top = manifest.get("top")
    if not isinstance(top, str) or not _IDENT.match(top):
        raise HwssmError(f"{mpath}: 'top' must name a Verilog module, not {top!r}")
    raw_ports = manifest.get("ports")
    if not isinstance(raw_ports, list) or not raw_ports:
        raise HwssmError(f"{mpath}: 'ports' must be a non-empty list")
    ports = tuple(_port(mpath, i, p) for i, p in enumerate(raw_ports))
    names = [p.name for p in ports]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise HwssmError(f"{mpath}: duplicate port {dup[0]!r}")
    clock = manifest.get("clock")
    clocks = [p.name for p in ports if p.role is Role.CLK]
    if clock is None and len(clocks) == 1:
        clock = clocks[0]
    if clock not in clocks:
        raise HwssmError(f"{mpath}: 'clock' is {clock!r}, which is not a port with role 'clk' (those are {clocks})")
    sources = tuple(sorted(p for p in check_files(path, manifest) if p.suffix == ".v"))
    if not sources:
        raise HwssmError(f"no Verilog (*.v) files in RTL directory {path}")
    return RtlDesign(path, top, clock, ports, sources, manifest)


def _port(mpath: Path, i: int, p) -> Port:
    where = f"{mpath}: ports[{i}]"
    if not isinstance(p, dict):
        raise HwssmError(f"{where} must be an object")
    name = p.get("name")
    if not isinstance(name, str) or not _IDENT.match(name):
        raise HwssmError(f"{where}: 'name' must be a Verilog identifier, not {name!r}")
    try:
        dir_ = Dir(p.get("dir"))
    except ValueError:
        raise HwssmError(f"{where} ({name}): 'dir' must be 'in' or 'out', not {p.get('dir')!r}") from None
    try:
        role = Role(p.get("role", "data"))
    except ValueError:
        raise HwssmError(f"{where} ({name}): 'role' must be one of clk, rst, data, debug, not {p.get('role')!r}") from None
    width = p.get("width")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise HwssmError(f"{where} ({name}): 'width' must be a positive integer, not {width!r}")
    if role in (Role.CLK, Role.RST) and (dir_ is not Dir.IN or width != 1):
        raise HwssmError(f"{where} ({name}): a {role.value} port must be a 1-bit input")
    return Port(name, dir_, width, role)
