"""Parsers of nextpnr's ``--report`` JSON and log (no tools run here)."""

from __future__ import annotations

import pytest

from hwssm.errors import HwssmError
from hwssm.synth.nextpnr import DesignDoesNotFit, clock_name, parse_log_utilization, parse_report
from hwssm.synth.results import PnrResult, Utilization

# Trimmed from nextpnr-ice40 0.11.1 ``--report`` of tests/synth/designs.Mac on up5k.
ICE40_REPORT = {
    "utilization": {
        "ICESTORM_LC": {"available": 5280, "used": 186},
        "ICESTORM_DSP": {"available": 8, "used": 1},
        "ICESTORM_RAM": {"available": 30, "used": 1},
        "SB_IO": {"available": 39, "used": 39},
    },
    "fmax": {"clk$SB_IO_IN_$glb_clk": {"achieved": 55.248619079589844, "constraint": 48.0}},
    "critical_paths": [
        {
            "from": "posedge clk$SB_IO_IN_$glb_clk",
            "to": "posedge clk$SB_IO_IN_$glb_clk",
            "path": [
                {"delay": 0.54, "type": "clk-to-q", "from": {"cell": "prod_DFFLC", "port": "O"}, "to": {"cell": "prod_DFFLC", "port": "O"}},
                {"delay": 1.5, "type": "routing", "net": "prod[0]", "from": {"cell": "prod_DFFLC", "port": "O"}, "to": {"cell": "add_LC", "port": "I1"}},
                {"delay": 0.4, "type": "logic", "from": {"cell": "add_LC", "port": "I1"}, "to": {"cell": "add_LC", "port": "COUT"}},
                {"delay": 0.1, "type": "logic", "from": {"cell": "add2_LC", "port": "CIN"}, "to": {"cell": "add2_LC", "port": "O"}},
                {"delay": 0.9, "type": "routing", "net": "sum", "from": {"cell": "add2_LC", "port": "O"}, "to": {"cell": "acc_LC", "port": "I3"}},
                {"delay": 0.3, "type": "setup", "from": {"cell": "acc_LC", "port": "I3"}, "to": {"cell": "acc_LC", "port": "I3"}},
            ],
        },
        {
            "from": "<async>",
            "to": "posedge clk$SB_IO_IN_$glb_clk",
            "path": [{"delay": 8.0, "type": "routing", "from": {"cell": "x$sb_io", "port": "D_IN_0"}, "to": {"cell": "x1_LC", "port": "I0"}}],
        },
    ],
}

ICE40_LOG_OVERFLOW = """\
Info: Packing constants..
Info: Device utilisation:
Info: 	         ICESTORM_LC:    5941/   5280   112%
Info: 	        ICESTORM_RAM:       0/     30     0%
Info: 	               SB_IO:      38/     39    97%
Info: 	        ICESTORM_DSP:       9/      8   112%
Info: 
Info: Placed 38 cells based on constraints.
ERROR: Unable to place cell 'lane0_DFFLC', no Bels remaining of type 'ICESTORM_LC'
"""


def test_parse_report_ice40():
    r = parse_report(ICE40_REPORT, "up5k")
    assert r.device == "up5k" and r.fits
    assert r.utilization["ICESTORM_LC"] == Utilization(186, 5280)
    assert r.fmax_mhz == {"clk": pytest.approx(55.2486, abs=1e-3)}
    assert r.target_mhz == {"clk": 48.0}
    assert r.min_fmax_mhz == pytest.approx(55.2486, abs=1e-3)
    p = r.critical_paths[0]
    assert (p.from_clock, p.to_clock) == ("posedge clk", "posedge clk")
    assert p.delay_ns == pytest.approx(3.74)
    assert p.routing_ns == pytest.approx(2.4) and p.logic_ns == pytest.approx(1.34)
    assert p.levels == 2
    assert (p.start, p.end) == ("prod_DFFLC.O", "acc_LC.I3")
    assert [c.from_clock for c in r.clocked_paths] == ["posedge clk"]
    assert PnrResult.from_dict(r.to_dict()) == r


def test_parse_report_overflow_means_not_fits():
    rep = {"utilization": {"ICESTORM_LC": {"available": 5280, "used": 6000}}, "fmax": {}, "critical_paths": []}
    r = parse_report(rep, "up5k")
    assert not r.fits and r.min_fmax_mhz is None


def test_parse_report_rejects_garbage():
    with pytest.raises(HwssmError, match="unexpected nextpnr report JSON"):
        parse_report({"fmax": {}}, "up5k")


def test_parse_log_utilization_and_does_not_fit_message():
    util = parse_log_utilization(ICE40_LOG_OVERFLOW)
    assert util["ICESTORM_LC"] == Utilization(5941, 5280)
    assert util["ICESTORM_LC"].overflow == 661 and util["SB_IO"].overflow == 0
    assert set(util) == {"ICESTORM_LC", "ICESTORM_RAM", "SB_IO", "ICESTORM_DSP"}
    err = DesignDoesNotFit("up5k", util)
    assert str(err) == "design does not fit up5k: ICESTORM_LC 5941/5280 (+661), ICESTORM_DSP 9/8 (+1)"
    assert isinstance(err, HwssmError)


def test_parse_log_utilization_keeps_last_table():
    log = "Info: Device utilisation:\nInfo: \t A:  1/ 2  50%\nfoo\nInfo: Device utilisation:\nInfo: \t A:  3/ 2  150%\n"
    assert parse_log_utilization(log) == {"A": Utilization(3, 2)}
    assert parse_log_utilization("nothing here") == {}


def test_clock_name():
    assert clock_name("clk$SB_IO_IN_$glb_clk") == "clk"
    assert clock_name("sys_clk$glb_clk") == "sys_clk"
    assert clock_name("clk") == "clk"
