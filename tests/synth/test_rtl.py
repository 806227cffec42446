"""The RTL directory contract: manifest.json + *.v."""

from __future__ import annotations

import json

import pytest

from hwssm.errors import HwssmError
from hwssm.hw.manifest import file_digests
from hwssm.synth.rtl import Dir, Role, load_rtl

PORTS = [
    {"name": "clk", "dir": "in", "width": 1, "role": "clk"},
    {"name": "rst", "dir": "in", "width": 1, "role": "rst"},
    {"name": "x", "dir": "in", "width": 8, "role": "data"},
    {"name": "y", "dir": "out", "width": 4, "role": "data"},
    {"name": "trace", "dir": "out", "width": 32, "role": "debug"},
]


def _write(tmp_path, manifest, verilog=True):
    """An RTL directory: ``core.v`` (or, without Verilog, only a load image) and ``manifest``
    (a dict gets the ``files`` SHA-256 of what was written)."""
    name = "core.v" if verilog else "params.hex"
    (tmp_path / name).write_text("module core(); endmodule\n" if verilog else "0000\n")
    if isinstance(manifest, dict):
        manifest = {**manifest, "files": file_digests(tmp_path, [name])}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest) if isinstance(manifest, dict) else manifest)
    return tmp_path


def test_load_rtl(tmp_path):
    rtl = load_rtl(_write(tmp_path, {"top": "core", "clock": "clk", "ports": PORTS}))
    assert rtl.top == "core" and rtl.clock == "clk"
    assert [p.name for p in rtl.ports_with(Role.DATA, Dir.IN)] == ["x"]
    assert [p.name for p in rtl.ports_with(Role.DEBUG)] == ["trace"]
    assert [p.name for p in rtl.sources] == ["core.v"]


@pytest.mark.parametrize(
    "manifest, message",
    [
        ("{not json", "not valid JSON"),
        ({"clock": "clk", "ports": PORTS}, "'top' must name a Verilog module"),
        ({"top": "core", "clock": "clk", "ports": []}, "'ports' must be a non-empty list"),
        ({"top": "core", "clock": "ck", "ports": PORTS}, "'clock' is 'ck'"),
        ({"top": "core", "ports": [*PORTS, {"name": "z", "dir": "sideways", "width": 1, "role": "data"}]}, "'dir' must be"),
        ({"top": "core", "ports": [*PORTS, {"name": "z", "dir": "in", "width": 0, "role": "data"}]}, "'width' must be"),
        ({"top": "core", "ports": [*PORTS, {"name": "z", "dir": "in", "width": 1, "role": "x"}]}, "'role' must be"),
        ({"top": "core", "ports": [*PORTS, PORTS[2]]}, "duplicate port 'x'"),
    ],
)
def test_load_rtl_rejects_bad_manifest(tmp_path, manifest, message):
    with pytest.raises(HwssmError, match=message):
        load_rtl(_write(tmp_path, manifest))


def test_load_rtl_missing_pieces(tmp_path):
    with pytest.raises(HwssmError, match="RTL directory not found"):
        load_rtl(tmp_path / "nope")
    with pytest.raises(HwssmError, match="no manifest.json"):
        load_rtl(tmp_path)
    with pytest.raises(HwssmError, match=r"no Verilog \(\*.v\) files"):
        load_rtl(_write(tmp_path, {"top": "core", "ports": PORTS}, verilog=False))
