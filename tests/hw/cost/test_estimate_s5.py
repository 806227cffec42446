"""The estimator prices S5 cores (its own rows: u banks, bu buffers, update-shift ROMs, ...) from
the S5 derivation, with exact cycle counts from the S5 cycle model, and with LOAD storage the
coefficient memories in SPRAM; one small S5 core through Yosys and nextpnr on the ECP5: the
LUT4 estimate within ±15 %. ``S5_MEASURED``: placed S5 designs of the error band
(``tests/hw/cost/test_error_band.py``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hwssm import targets
from hwssm.hw import cycle_model
from hwssm.hw.cost import estimate, inventory, lut_error, memory_breakdown
from hwssm.hw.derive import derive
from hwssm.hw.options import DesignPoint, Pipeline
from hwssm.model.s5_config import Glu, S5Config
from tests.hw.s5_models import s5_model


DATA = Path(__file__).resolve().parent / "data"
#: Yosys counts of placed S5 designs (model file in tests/hw/cost/data/, device, lanes, counts), the
#: device's build profile unchanged (UP5K: LOAD storage, SPRAM, 4-bit soft multipliers, closure
#: pipeline); measured with the generator of the commit that added them:
#:   hwssm rtl generate --model tests/hw/cost/data/s5_tiny_up5k.qmodel.json --lanes 1 --profile up5k --out DIR
#:   hwssm synth --rtl DIR --device up5k --spram --seeds 1,2,3 --json
#: (s5_tiny_up5k: a float S5 of H=16, P=16, L=1 trained 3 epochs on 6,000 sMNIST digits on the CPU
#: (79.53 % test), QAT 6 epochs on the CPU with A8:h x10 B6:h C4 D4 W4 a6 b12 (the plan in the file):
#: 65.94 % test; it fits: 4,724/5,280 LCs, 42.2 / 40.4 / 40.7 MHz at placer seeds 1 / 2 / 3)
S5_MEASURED = [
    ("s5_tiny_up5k.qmodel.json", targets.UP5K, 1, dict(lut=2660, ff=2989, carry=566, dsp=8, bram=9, spram=2)),
]

#: Yosys counts (``synth_ecp5``, flattened; LUT4 + 2 per CCU2C is the measured LUT4 figure) of the
#: tiny trained S5 (tests/verify/data/s5tiny.json: H=8, P=5, L=2, 24.35 % test) quantized with the
#: plan A8x12-B8C8D8-W8-a8-h, P = 2 lanes, ECP5-25k, Yosys 0.70 (yowasp), generator of this commit:
#:   hwssm ptq --model tests/verify/data/s5tiny.json --plan A8x12-B8C8D8-W8-a8-h --out tests/hw/cost/data/s5tiny_ecp5
#:   hwssm rtl generate --model tests/hw/cost/data/s5tiny_ecp5.qmodel.json --lanes 2 [--profile ecp5-25k] --out DIR
#:   yosys -p "read_verilog DIR/hwssm_core.v; synth_ecp5 -top hwssm_core; stat"   (what hwssm synth runs)
#: (name, design label, counts). "default": Pipeline() and ROM storage; "profile": the ECP5 build profile.
#: Estimator version 2 on them: default LUT4 4,757 (-8.2 %), FF 2,091 (-5.8 %); profile LUT4 5,334
#: (+19.8 %), FF 5,410 (-3.9 %); DSP/DP16KD exact on both. Yosys runs with one option changed:
#: Pipeline() -> Pipeline(requant_stages=1) +46 LUT4 here (+540 on s4d_hetero P=2: 4,017 -> 4,557),
#: priced +577 (+460); Pipeline() -> Pipeline(mul_stages=3) -430 LUT4 +123 CCU2C (-184 LUT4-eq),
#: priced 0; Pipeline.fast() -> the profile -372 (s4d_hetero P=2: -355). Two causes:
#: * a split requantization alone (hwssm.hw.rtl.ops.requant, HALF_UP, SATURATE, registered in and out,
#:   synth_ecp5) costs no LUT4 more than an unsplit one, wide ones less: 30-bit sum, 4-bit shift, 12-bit
#:   code 302 -> 186; 19/5/5 250 -> 210; 19/0/5 (lo 3) 48 -> 50; 19/2/5 67 -> 67: unsplit, the mapper
#:   merges the shift with the clamp. This S5's state and v codes are 12 bits behind 4-bit shifts (the
#:   S4D's 5 to 8 bits), so its split saves what the register loses elsewhere (the S4D's +540 is lost
#:   cross-module optimization: with the GLU, encoder and decoder kept as separate modules
#:   (keep_hierarchy) s4d_hetero P=2 costs 4,789 / 5,038 (+249) against 4,017 / 4,557 (+540) flat).
#:   Version 3 prices the merge (hwssm.hw.cost.blocks.merge_units, ECP5 ``merge``) above the split
#:   price unsplit and below it split.
#: * with mul_stages 1 a 3- or k-term sum is one $macc that maccmap builds from carry-save layers in
#:   LUTs (30-bit, 3 terms: 92 LUT4-eq against 64 summed in pairs; 4 terms: 180 against 96); with
#:   mul_stages >= 2 the RTL sums pairs. Version 3 prices the layers (ECP5 ``csa``; -200 LUT4 here at
#:   mul_stages 3) and refits split_lut and control_fixed with them on every measured ECP5 point.
#: Version 3: default LUT4 5,197 (+0.3 %), profile 4,808 (+8.0 %); FF and hard blocks as before.
S5_ECP5_MEASURED = [
    ("s5tiny_ecp5.qmodel.json", "default", dict(lut=4366, carry=408, ff=2219, dsp=16, bram=2, lutram=61)),
    ("s5tiny_ecp5.qmodel.json", "profile", dict(lut=3397, carry=528, ff=5632, dsp=16, bram=2, lutram=61)),
]


def _ecp5_point(label: str):
    from hwssm.synth.profile import device_profile

    prof = device_profile(targets.ECP5_25K)
    return prof.design(2, 784) if label == "profile" else DesignPoint(2, 784)


@pytest.fixture(scope="module")
def qm():
    return s5_model(S5Config(H=5, P=7, L=2, n_classes=4), "uniform8")


def test_s5_inventory_has_its_own_rows_and_prices_them(qm):
    names = [b.name for b in inventory(qm, DesignPoint(3, 16))]
    for row in ("u banks (B̄u operands)", "bu buffer re", "bu buffer im", "update shift ROM",
                "bu | coefficient field muxes", "row finish δ add"):
        assert row in names, row
    e1, e3 = (estimate(qm, DesignPoint(p, 16), targets.ECP5_25K) for p in (1, 3))
    assert 0 < e1.total.lut < e3.total.lut and e1.total.dsp < e3.total.dsp
    assert sum(memory_breakdown(qm).values()) == qm.footprint_bits


def test_s5_half_glu_prices_the_value_buffer_writes_and_full_glu_does_not():
    full = s5_model(S5Config(H=4, P=3, L=1, n_classes=3, glu=Glu.FULL), "uniform6")
    half = s5_model(S5Config(H=4, P=3, L=1, n_classes=3), "uniform6")
    row = "value buffer write slot/word counters (half GLU)"
    assert row in [b.name for b in inventory(half, DesignPoint(2, 8))]
    assert row not in [b.name for b in inventory(full, DesignPoint(2, 8))]


def test_s5_load_storage_prices_the_coefficient_slices_in_spram(qm):
    """LOAD storage (the UP5K profile's): one SPRAM per 16-bit slice of a lane's coefficient word
    (B̄u/GLU rows, Λ̄, C̃ words), no coefficient or C̄ ROM; the state stays in the two-port RAM (no
    ping-pong banks), the loader and the readout identity muxes are priced; the cycles are the ROM core's."""
    from hwssm.hw.cost.blocks import Kind
    from hwssm.hw.options import ParamStorage
    from hwssm.synth.profile import device_profile

    prof = device_profile(targets.UP5K)
    for lanes in (1, 2):
        d = prof.design(lanes, 16)
        assert d.storage is ParamStorage.LOAD
        cfg = derive(qm, d)
        e = estimate(qm, d, targets.UP5K, dsp=prof.synth.dsp, spram=prof.synth.spram)
        names = [b.name for b, _ in e.blocks]
        assert not any("coefficient ROM" in n or n == "C̄ ROM" or n.startswith("state bank") for n in names)
        assert {"state RAM {xr, xi}", "loader counters", "readout identity muxes (LOAD)"} <= set(names)
        assert e.total.spram == lanes * len(cfg.load.slices) > 0
        for b, r in e.blocks:
            if b.spram:
                assert b.kind is Kind.RAM and b.depth == cfg.load.depth and r.spram == b.count and r.bram == 0
        rom = estimate(qm, dataclasses.replace(d, storage=ParamStorage.ROM), targets.UP5K, dsp=prof.synth.dsp)
        assert rom.total.spram == 0 and e.total.bram <= rom.total.bram
        assert cycle_model.cycles_per_digit(qm, d) == cycle_model.cycles_per_digit(derive(qm, rom.design))
    # without --spram (or on the ECP5) they are ordinary RAMs
    assert estimate(qm, prof.design(1, 16), targets.UP5K, spram=False).total.spram == 0


@pytest.mark.parametrize("lanes,pipe", [(1, Pipeline()), (3, Pipeline.fast()), (8, Pipeline.closure()),
                                        (2, Pipeline(mix_cols=6)), (4, Pipeline(mix_cols=8))])
def test_s5_cycles_from_the_qmodel_equal_the_cycles_of_its_core(qm, lanes, pipe):
    d = DesignPoint(lanes, 784, pipe)
    cfg = derive(qm, d)
    assert cycle_model.cycles_per_digit(qm, d) == cycle_model.cycles_per_digit(cfg)
    assert 0 < cycle_model.utilization(qm, d) == cycle_model.utilization(cfg) <= 1
    assert estimate(qm, d, targets.ECP5_25K).total.lut > 0


@pytest.mark.synth
@pytest.mark.slow
def test_s5_lut_estimate_within_tolerance_of_yosys(qm, tmp_path, monkeypatch):
    from hwssm.explore.sweep import measured_lut
    from hwssm.hw.emit import generate
    from hwssm.synth import synthesize

    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    generate(qm, DesignPoint(2, 16), tmp_path / "rtl")
    device = targets.ECP5_25K
    hw = synthesize(tmp_path / "rtl", device).summary()
    est = estimate(qm, DesignPoint(2, 16), device)
    err = lut_error(est.total.lut, measured_lut(hw, device))
    assert abs(err) <= 0.15, err
    # the B̄·u multipliers take bu times the constant 1: synthesis folds them, the estimate does not price them
    assert est.total.dsp == hw["dsp"]


@pytest.mark.parametrize("name,label,hw", S5_ECP5_MEASURED, ids=[m[1] for m in S5_ECP5_MEASURED])
def test_s5_ecp5_measured_points_within_15_percent_hard_blocks_exact(name, label, hw):
    """DSP and DP16KD of the measured S5 ECP5 points are exact; the LUT4 estimate of both (Pipeline()
    and the ECP5 build profile) is within ±15 % of Yosys (LUT4 + 2 per CCU2C)."""
    from hwssm.quant.qmodel_io import load_qmodel

    e = estimate(load_qmodel(DATA / name), _ecp5_point(label), targets.ECP5_25K).total
    assert (round(e.dsp), round(e.bram), round(e.spram)) == (hw["dsp"], hw["bram"], 0)
    assert round(e.lutram) == hw["lutram"]
    assert abs(lut_error(e.lut, hw["lut"] + 2 * hw["carry"])) <= 0.15, (label, e.lut)


def test_s5_ecp5_pipeline_options_move_the_estimate_as_yosys_measured():
    """The one-option Yosys runs of S5_ECP5_MEASURED's notes: mul_stages 3 sums pairs (measured
    -184 LUT4-eq, priced by the carry-save layers it drops), and the split requantization costs this
    S5 far less than the S4D (measured +46 against +540 on s4d_hetero P=2): its 12-bit codes behind
    4-bit shifts save the shift/clamp merge."""
    from hwssm.hw.cost.blocks import Kind
    from hwssm.quant.qmodel_io import load_qmodel

    s5 = load_qmodel(DATA / "s5tiny_ecp5.qmodel.json")
    het = load_qmodel(DATA.parents[3] / "models" / "s4d_hetero.qmodel.json")
    dev = targets.ECP5_25K

    def lut(q, pipe):
        return estimate(q, DesignPoint(2, 784, pipe), dev).total.lut

    base = lut(s5, Pipeline())
    assert -300 < lut(s5, Pipeline(mul_stages=3)) - base < -100
    ms3 = estimate(s5, DesignPoint(2, 784, Pipeline(mul_stages=3)), dev)
    assert not [b for b, _ in ms3.blocks if b.kind is Kind.CSA]   # (k = 4: two pair sums at stage ms)
    split_s5 = lut(s5, Pipeline(requant_stages=1)) - base
    split_het = lut(het, Pipeline(requant_stages=1)) - lut(het, Pipeline())
    assert split_s5 < 100 < 300 < split_het
    merged = [b for b, _ in estimate(s5, DesignPoint(2, 784), dev).blocks if b.kind is Kind.MERGE]
    assert merged and all(b.pipe == "" for b in merged)
