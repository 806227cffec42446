"""The integration contract of generated Verilog: header comment, manifest fields, module
prefix, the time-0 trigger of every always @* block, and a clean ``verilator --lint-only``
with no options."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from hwssm.hw import cycle_model
from hwssm.hw.emit import MANIFEST_NAME, VERILOG_NAME, generate
from hwssm.hw.options import DesignPoint
from hwssm.hw.rtl.integration import CoreInterface
from hwssm.hw.rtl.portable import trigger_at_time_zero
from hwssm.quant.plan import resolve_plan
from hwssm.quant.random_qmodel import random_qmodel


@pytest.fixture(scope="module")
def cores(tmp_path_factory):
    root = tmp_path_factory.mktemp("rtl")
    qm = random_qmodel(3, 2, 2, resolve_plan("A8x8-W8-a8-h-asym"), seed=2)
    plain = generate(qm, DesignPoint(3, 6), root / "plain")
    acme = generate(qm, DesignPoint(2, 4), root / "acme", CoreInterface("acme_", last=True))
    return root, plain, acme


def test_manifest_states_the_integration_contract(cores):
    root, plain, acme = cores
    disk = json.loads((root / "plain" / MANIFEST_NAME).read_text())
    assert disk["interface"] == {"prefix": "", "last": False}
    it = disk["integration"]
    for key in ("ports", "reset", "input", "output", "logit_stream", "dbg_stream", "latency_cycles", "simulators"):
        assert key in it, key
    assert it["reset"]["min_cycles"] >= 1 and "synchronous" in it["reset"]["kind"]
    assert "smallest class index" in it["output"]["tie_rule"]
    assert it["dbg_stream"]["count_per_sequence"] == 6 * 2 * 3  # T·L·H
    lat = it["latency_cycles"]
    assert lat["first_to_class"] == disk["cycles_per_digit"]
    assert lat["last_to_class"] == disk["cycles_per_step"] + cycle_model.digit_tail(
        random_qmodel(3, 2, 2, resolve_plan("A8x8-W8-a8-h-asym"), seed=2), DesignPoint(3, 6)) - 2
    assert [p["name"] for p in it["ports"]] == [p["name"] for p in disk["ports"]]
    for p in it["ports"]:
        assert isinstance(p["signed"], bool) and p["desc"], p
    signed = {p["name"] for p in it["ports"] if p["signed"]}
    assert signed == {"dbg_data", "logit_data"}
    names = [p["name"] for p in acme["ports"]]
    assert {"in_last", "frame_error"} <= set(names) and acme["interface"] == {"prefix": "acme_", "last": True}


def test_header_comment_and_prefix(cores):
    root, plain, acme = cores
    text = (root / "plain" / VERILOG_NAME).read_text()
    head = text[:text.index("module ")]
    assert head.startswith("// hwssm_core: ")
    for word in ("Ports", "Reset", "Input", "Output", "Logits", "Debug", "Latency", str(plain["cycles_per_digit"])):
        assert word in head, word
    pre = (root / "acme" / VERILOG_NAME).read_text()
    modules = re.findall(r"^module (\S+?)\s*\(", pre, re.M)
    assert modules and all(m.lstrip("\\").startswith("acme_hwssm_core") for m in modules), modules
    assert acme["top"] == "acme_hwssm_core"
    assert "in_last" in pre[:pre.index("module ")]


def test_every_always_star_module_has_a_time_zero_event(cores):
    root, _, _ = cores
    text = (root / "plain" / VERILOG_NAME).read_text()
    for body in re.split(r"^module ", text, flags=re.M)[1:]:
        if "always @*" in body:
            assert re.search(r"initial #0 \\\$auto\$verilog_backend\S+ = 1'b1;", body)
    with pytest.raises(AssertionError):
        trigger_at_time_zero("module m;\n  always @* begin\n  end\nendmodule\n")


@pytest.mark.verilator
@pytest.mark.parametrize("name", ["plain", "acme"])
def test_verilator_lint_only_passes_without_options(cores, name):
    from hwssm.config import find_verilator

    root, _, _ = cores
    v = find_verilator()
    raw = subprocess.run([str(v.executable), "--lint-only", str(root / name / VERILOG_NAME)], env=v.env(),
                         capture_output=True, text=True, timeout=300)
    assert raw.returncode == 0 and "%Warning" not in raw.stderr, raw.stderr[:2000]
