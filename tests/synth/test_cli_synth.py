"""``hwssm synth`` on the command line (marker ``synth``)."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from hwssm.cli import main

from .designs import Mac, ShiftLanes, write_rtl

pytestmark = pytest.mark.synth


@pytest.fixture
def cache(synth_cache_dir, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(synth_cache_dir))
    return synth_cache_dir


@pytest.fixture
def mac_rtl(tmp_path, cache):
    return write_rtl(Mac(), "mac", tmp_path / "rtl")


def test_json_and_table(mac_rtl, capsys):
    assert main(["synth", "--rtl", str(mac_rtl), "--device", "ecp5-25k", "--json", "--no-cache"]) == 0
    out, err = capsys.readouterr()
    s = json.loads(out)
    for key in ("device", "lut", "ff", "dsp", "bram", "spram", "fmax_mhz", "fits"):
        assert key in s
    assert s["device"] == "ecp5-25k" and s["fits"] and s["dsp"] >= 1 and s["fmax_mhz"] > 0
    assert "yosys synth_ecp5 ... " in err and " s\n" in err  # progress lines with times
    assert main(["synth", "--rtl", str(mac_rtl), "--device", "ecp5-25k"]) == 0
    out, err = capsys.readouterr()
    assert "fmax" in out and "MHz" in out and "cached" in err


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and lines[-1].startswith("hwssm: error: ")
    assert sum(ln.startswith("hwssm: error:") for ln in lines) == 1  # progress lines may precede it
    return lines[-1]


def test_missing_dir_and_manifest(tmp_path, capsys):
    assert "RTL directory not found" in _one_line_error(capsys, ["synth", "--rtl", str(tmp_path / "x"), "--device", "up5k"])
    assert "no manifest.json" in _one_line_error(capsys, ["synth", "--rtl", str(tmp_path), "--device", "up5k"])


def test_missing_tool(mac_rtl, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    monkeypatch.setattr(sys, "executable", str(mac_rtl / "no-venv" / "python"))
    assert "yosys not found" in _one_line_error(capsys, ["synth", "--rtl", str(mac_rtl), "--device", "up5k"])


def test_does_not_fit_exit_2(tmp_path, cache, capsys):
    rtl = write_rtl(ShiftLanes(18, 330), "lanes", tmp_path / "rtl")
    err = _one_line_error(capsys, ["synth", "--rtl", str(rtl), "--device", "up5k"])
    assert "design does not fit up5k: ICESTORM_LC" in err


def test_device_choices_match_the_registry(capsys):
    """``--help`` lists every registered device; an unknown one is refused in one line (exit 2)."""
    from hwssm import targets

    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(f"{d.name} ({d.part}" in help_text for d in targets.devices())
    assert {"up5k", "hx8k", "ecp5-25k", "ecp5-45k", "ecp5-85k"} <= set(targets.names())
    err = _one_line_error(capsys, ["synth", "--rtl", "x", "--device", "xc7a35t"])
    assert "unknown device 'xc7a35t'; expected one of: " + ", ".join(targets.names()) in err


def test_seeds_are_checked(tmp_path, capsys):
    """``--seeds`` takes distinct comma-separated integers; anything else is one line (exit 2)."""
    for bad, msg in (("1,x", "--seeds must be comma-separated integers"), ("2,2", "--seeds lists a seed twice")):
        assert msg in _one_line_error(capsys, ["synth", "--rtl", str(tmp_path), "--device", "up5k", "--seeds", bad])
