"""Every device added as data synthesizes and places a tiny design (marker ``synth``).

One small design (the 16×16 MAC of :mod:`.designs`) per device, through the real Yosys and
nextpnr; the device facts of :mod:`hwssm.targets` are checked against nextpnr's own count of
the sites (``available``), and a device without hard multipliers gets its multiplier in LUTs.
"""

from __future__ import annotations

import pytest

from hwssm import targets
from hwssm.synth import SynthOptions, synthesize

from .designs import Mac, write_rtl

pytestmark = pytest.mark.synth


@pytest.fixture(scope="module")
def cache(synth_cache_dir):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HWSSM_CACHE", str(synth_cache_dir))
        yield synth_cache_dir


@pytest.fixture(scope="module")
def mac_rtl(tmp_path_factory):
    return write_rtl(Mac(), "mac", tmp_path_factory.mktemp("mac"))


def _available(report, bel: str) -> int:
    u = report.pnr.utilization.get(bel)
    return u.available if u is not None else 0


def test_hx8k_builds_the_multiplier_in_luts(mac_rtl, cache):
    dev = targets.HX8K
    r = synthesize(mac_rtl, dev)  # dsp asked for (the default), but the HX8K has none
    s = r.summary()
    assert s["device"] == "hx8k" and s["fits"] and s["fmax_mhz"] > 0
    assert not r.options.dsp and not s["dsp_enabled"] and s["dsp"] == 0 and s["spram"] == 0
    assert s["lut"] > 200 and s["bram"] >= 1  # a 16×16 multiplier in LUTs; the RAM in EBR
    assert "SB_MAC16" not in r.synth.cells
    assert _available(r, "ICESTORM_LC") == dev.lut4 == 7680
    assert _available(r, "ICESTORM_RAM") == dev.bram == 32
    assert _available(r, "ICESTORM_DSP") == dev.dsp == 0
    assert _available(r, "SB_IO") == dev.io_pins == 206  # user IO of the CT256 package
    assert r.wrapper.fold_pins == 0 and r.pnr.utilization["SB_IO"].used == 2 + 34 + 40  # clk, rst, data: direct
    print(f"\nhx8k mac: yosys {r.yosys_s:.1f} s, nextpnr {r.nextpnr_s:.1f} s, {s}")


@pytest.mark.parametrize("dev", [targets.ECP5_45K, targets.ECP5_85K], ids=lambda d: d.name)
def test_larger_ecp5_dies(mac_rtl, cache, dev):
    r = synthesize(mac_rtl, dev, SynthOptions())
    s = r.summary()
    assert s["device"] == dev.name and s["fits"] and s["fmax_mhz"] > 0
    assert s["dsp"] >= 1 and s["bram"] >= 1 and r.pnr.utilization["MULT18X18D"].used >= 1
    assert _available(r, "TRELLIS_COMB") == dev.lut4
    assert _available(r, "MULT18X18D") == dev.dsp
    assert _available(r, "DP16KD") == dev.bram
    print(f"\n{dev.name} mac: yosys {r.yosys_s:.1f} s, nextpnr {r.nextpnr_s:.1f} s, {s}")
