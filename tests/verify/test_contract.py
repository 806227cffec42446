"""The port contract read from an RTL directory, and the sim_top wrapper text."""

import json

import pytest

from hwssm.errors import HwssmError
from hwssm.verify.contract import load_contract
from hwssm.verify.wrapper import Clock, Traffic, wrapper_text
from tests.verify.toy_core import write_toy


def _edit(d, fn):
    m = json.loads((d / "manifest.json").read_text())
    fn(m)
    (d / "manifest.json").write_text(json.dumps(m))


def test_toy_contract(tmp_path):
    c = load_contract(write_toy(tmp_path, L=2, H=3, T=5, act_width=7, logit_width=13))
    assert (c.top, c.act_width, c.logit_width, c.class_width, c.seq_len) == ("toy_core", 7, 13, 4, 5)
    assert c.extra_inputs == (("spare_in", 4),) and c.dbg_per_step == 6
    text = wrapper_text(c, 100)
    assert "toy_core dut (" in text and ".spare_in(4'd0)" in text
    assert "localparam integer DBG_PER_STEP = 6;" in text
    # one time slot per cycle by default; the two-slot toggle is the benchmark baseline
    assert "always begin #10 clk = 1'b1; clk <= 1'b0; end" in text and "always #5" not in text
    assert "always #5 clk = ~clk;" in wrapper_text(c, 100, Clock.TOGGLE)
    assert "+hwssm_max_cycles" not in text and "hwssm_max_cycles=%d" in text
    assert "reg done /*verilator public_flat_rd*/" in text
    with pytest.raises(ValueError, match="less than one digit"):
        wrapper_text(c, 4)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m["ports"].pop(2), "no port 'in_valid'"),
    (lambda m: m["ports"][4].update(width=9), "'in_data' must be 8 bit"),
    (lambda m: m["ports"][3].update(dir="in"), "'in_ready' must be an output"),
    (lambda m: m.pop("seq_len"), "'seq_len' must be a positive integer"),
    (lambda m: m.update(act_width=9), "differs from the dbg_data port width"),
    (lambda m: m.update(shape=[1]), "'shape' must be an object"),
    (lambda m: m.update(model_digest=3), "model_digest must be a string"),
])
def test_contract_errors(tmp_path, edit, message):
    d = write_toy(tmp_path)
    _edit(d, edit)
    with pytest.raises(HwssmError, match=message):
        load_contract(d)


@pytest.mark.parametrize("kw", [dict(in_gap=256), dict(out_stall=-1), dict(seed=-1), dict(in_gap=True)])
def test_traffic_validation(kw):
    with pytest.raises(ValueError):
        Traffic(**kw)
    assert Traffic().full_speed and not Traffic(in_gap=1).full_speed
