"""The flow's background synthesis: the rtl stage starts one run per FPGA with that device's
build profile, and the synth stage collects the results (a design that does not fit is a
result). Yosys/nextpnr themselves are exercised in tests/synth; here ``synthesize`` is
replaced by a stand-in that checks its arguments against the real signature."""

import inspect

from hwssm import flow, targets
from hwssm.synth import flow as synth_flow
from hwssm.synth.nextpnr import DesignDoesNotFit
from hwssm.synth.profile import device_profile
from hwssm.synth.results import Utilization


class _Report:
    def __init__(self, device):
        self.device = device

    def summary(self):
        return {"device": self.device.name, "lut": 100, "dsp": 1, "bram": 2, "spram": 0, "fmax_mhz": 50.0, "fits": True}


def test_background_synthesis_is_started_and_collected(monkeypatch, tmp_path):
    real = inspect.signature(synth_flow.synthesize)
    calls = []

    def fake(*args, **kwargs):
        bound = real.bind(*args, **kwargs)  # TypeError if the flow calls it wrongly
        calls.append(bound.arguments)
        device = bound.arguments["device"]
        if device is targets.ECP5_25K:
            raise DesignDoesNotFit("ecp5-25k", {"DP16KD": Utilization(60, 56)})
        return _Report(device)

    monkeypatch.setattr(synth_flow, "synthesize", fake)
    ctx = {"rtl": {}, "options": flow.FlowOptions(out=tmp_path)}
    for role, device in flow.SYNTH_DEVICES.items():
        man = {"lanes": flow.DESIGNS[role], "cycles_per_digit": 5_000_000}
        ctx["rtl"][role] = (tmp_path / role, man, None)
        flow._start_synth(ctx, role, device, tmp_path / role)
    text = flow._stage_synth(ctx)
    assert {c["device"] for c in calls} == set(flow.SYNTH_DEVICES.values())
    for c in calls:
        assert c["options"] == device_profile(c["device"]).synth and callable(c["progress"])
    up5k = ctx["synth"]["up5k"]
    assert up5k["fits"] and up5k["profile"]["storage"] == "load" and up5k["lanes"] == flow.DESIGNS["up5k"]
    assert "DP16KD 60/56 (+4)" in ctx["synth"]["ecp5-25k"]["error"]
    assert "100.0 ms/digit" in text and "synth_pool" not in ctx


def test_a_design_the_generator_cannot_build_is_that_designs_result(monkeypatch, tmp_path):
    """A token model under the UP5K's LOAD storage profile (its embedding ROM is built with ROM storage
    only): the rtl stage records that design's one line and starts the other synthesis; the synth stage
    reports both; the report shows the line in the device's row."""
    from hwssm.quant.random_qmodel import random_qmodel
    from hwssm.quant.resolve import Resolved
    from hwssm.report.flow_report import write_flow_report

    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    real = inspect.signature(synth_flow.synthesize)
    calls = []

    def fake(*args, **kwargs):
        calls.append(real.bind(*args, **kwargs).arguments["device"])
        return _Report(calls[-1])

    monkeypatch.setattr(synth_flow, "synthesize", fake)
    qm = random_qmodel(4, 2, 1, seed=1, vocab=5)
    ctx = {"options": flow.FlowOptions(out=tmp_path / "out", copy_rtl=False), "resolved": Resolved(qm, None, None)}
    text = flow._stage_rtl(ctx)
    assert set(ctx["rtl_errors"]) == {"up5k"} and "ROM storage only" in ctx["rtl_errors"]["up5k"]
    assert set(ctx["rtl"]) == {"sim", "ecp5"} and "up5k P1" in text and "not built: " in text
    text = flow._stage_synth(ctx)
    assert calls == [targets.ECP5_25K]
    up5k = ctx["synth"]["up5k"]
    assert up5k["lanes"] == flow.DESIGNS["up5k"] and up5k["profile"]["storage"] == "load"
    assert up5k["error"].startswith("RTL not built: a token model's embedding ROM is built with ROM storage only")
    assert ctx["synth"]["ecp5-25k"]["fits"] and "up5k P=1: RTL not built" in text
    md = write_flow_report(tmp_path / "out", {"model": "tokens", "synth": ctx["synth"]}).read_text()
    assert "| up5k | 1 | RTL not built: a token model's embedding ROM" in md and "| ecp5-25k | 2 | 100 |" in md
