"""``hwssm synth`` on the command line (marker ``synth``)."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from hwssm.cli import main

from .designs import Mac, write_rtl

pytestmark = pytest.mark.synth


@pytest.fixture
def mac_rtl(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    return write_rtl(Mac(), "mac", tmp_path / "rtl")


def test_json_and_table(mac_rtl, capsys):
    assert main(["synth", "--rtl", str(mac_rtl), "--device", "ecp5-25k", "--json"]) == 0
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
    assert out == "" and err.count("\n") == 1 and err.startswith("hwssm: error: ")
    return err


def test_missing_dir_and_manifest(tmp_path, capsys):
    assert "RTL directory not found" in _one_line_error(capsys, ["synth", "--rtl", str(tmp_path / "x"), "--device", "up5k"])
    assert "no manifest.json" in _one_line_error(capsys, ["synth", "--rtl", str(tmp_path), "--device", "up5k"])


def test_missing_tool(mac_rtl, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    monkeypatch.setattr(sys, "executable", str(mac_rtl / "no-venv" / "python"))
    assert "yosys not found" in _one_line_error(capsys, ["synth", "--rtl", str(mac_rtl), "--device", "up5k"])


def test_does_not_fit_exit_2(tmp_path, monkeypatch, capsys):
    from .designs import ShiftLanes

    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    rtl = write_rtl(ShiftLanes(18, 330), "lanes", tmp_path / "rtl")
    err = _one_line_error(capsys, ["synth", "--rtl", str(rtl), "--device", "up5k"])
    assert "design does not fit up5k: ICESTORM_LC" in err
