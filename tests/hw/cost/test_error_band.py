"""The estimator's error band (hwssm.targets Family.error_band) against every measured point.

Each family's band must hold every point it was measured on, recomputed with the current
estimator: the heterogeneous model's Yosys counts of ``test_estimate.HETERO_MEASURED``, the S5
designs of ``test_estimate_s5.S5_MEASURED`` and the placed points of ``reports/reference/report.json`` (the shipped QModels directly; the PTQ
points, which need calibration on MNIST, in a slow test). DSP/BRAM/SPRAM must be exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwssm import targets
from hwssm.hw.cost import estimate, lut_error
from hwssm.hw.options import DesignPoint, Pipeline

from .test_estimate import HETERO_MEASURED, hetero  # noqa: F401  (fixture)
from .test_estimate_s5 import DATA as S5_DATA, S5_MEASURED

ROOT = Path(__file__).resolve().parents[3]
REPORT = ROOT / "reports" / "reference" / "report.json"
SHIPPED = {"s4d_hetero": "s4d_hetero.qmodel.json", "s4d_qat8": "s4d_qat8.qmodel.json"}


def _measured_lut(hw: dict, device) -> int:
    return hw["lut"] + (device.family.carry_lut4 * hw["carry"])


def _check(device, e, hw: dict, what: str) -> None:
    band = device.family.error_band
    lut, ff = lut_error(e.lut, _measured_lut(hw, device)), lut_error(e.ff, hw["ff"])
    assert band.lut[0] <= lut <= band.lut[1], (what, lut, band.lut)
    assert band.ff[0] <= ff <= band.ff[1], (what, ff, band.ff)
    assert (round(e.dsp), round(e.bram), round(e.spram)) == (hw["dsp"], hw["bram"], hw["spram"]), what


def _reference_points(source: str):
    pts = [p for p in json.loads(REPORT.read_text())["points"] if p.get("lut_measured") is not None]
    return [p for p in pts if p["plan"].endswith(f"[{source}]")]


def _design(p: dict) -> DesignPoint:
    pr = p["profile"]
    return DesignPoint(p["lanes"], pipeline=Pipeline(**pr["pipeline"]), storage=pr["storage"],
                       soft_mul_bits=pr["soft_mul_bits"])


def test_bands_are_data_of_every_family():
    for fam in targets.FAMILIES:
        b = fam.error_band
        assert b.lut[0] < 0 < b.lut[1] and b.points >= 6 and max(abs(x) for x in b.lut) <= 0.15
        lo, hi = b.range("lut", 1000.0)
        assert lo < 1000 / (1 + b.lut[0]) == hi


@pytest.mark.parametrize("key,device,lanes,opts,hw", HETERO_MEASURED, ids=[m[0][:22] for m in HETERO_MEASURED])
def test_hetero_measured_points_lie_in_the_band(hetero, key, device, lanes, opts, hw):  # noqa: F811
    pipe = opts.get("pipeline") or Pipeline(mem_stages=opts["mem_stages"], requant_stages=opts["requant_stages"],
                                            acc_stages=opts.get("acc_stages", 0), mix_cols=opts.get("mix_cols", 4))
    d = DesignPoint(lanes, pipeline=pipe, storage=opts["storage"], soft_mul_bits=opts["soft_mul_bits"])
    _check(device, estimate(hetero, d, device).total, hw, key)


@pytest.mark.parametrize("name,device,lanes,hw", S5_MEASURED, ids=[m[0] for m in S5_MEASURED])
def test_s5_measured_points_lie_in_the_band(name, device, lanes, hw):
    """The placed S5 designs (the device's build profile as it is)."""
    from hwssm.quant.qmodel_io import load_qmodel
    from hwssm.synth.profile import device_profile

    prof = device_profile(device)
    e = estimate(load_qmodel(S5_DATA / name), prof.design(lanes), device, dsp=prof.synth.dsp, spram=prof.synth.spram)
    _check(device, e.total, hw, name)


@pytest.mark.parametrize("source", sorted(SHIPPED))
def test_reference_points_of_the_shipped_models_lie_in_the_band(source):
    from hwssm.quant.qmodel_io import load_qmodel

    pts = _reference_points(source)
    assert pts
    qm = load_qmodel(ROOT / "models" / SHIPPED[source])
    for p in pts:
        assert qm.digest() == p["qmodel_digest"], (
            f"models/{SHIPPED[source]} changed since reports/reference/ was measured: rerun make sweep")
        dev = targets.device(p["device"])
        syn = p["profile"]["synth"]
        e = estimate(qm, _design(p), dev, dsp=syn["dsp"], spram=syn["spram"]).total
        _check(dev, e, p, f"{p['plan']} P={p['lanes']} {p['device']}")


@pytest.mark.slow
def test_reference_ptq_points_lie_in_the_band():
    """The PTQ points: calibrate the float checkpoint (needs MNIST; about 40 s per plan)."""
    from hwssm.quant.resolve import resolve_model

    pts = _reference_points("PTQ")
    assert pts
    models = {}
    for p in pts:
        code = p["plan_code"]
        if code not in models:
            models[code] = resolve_model(ROOT / "models" / "s4d_float.json", code, calib_digits=256).qmodel
        qm = models[code]
        assert qm.digest() == p["qmodel_digest"], code
        dev = targets.device(p["device"])
        syn = p["profile"]["synth"]
        e = estimate(qm, _design(p), dev, dsp=syn["dsp"], spram=syn["spram"]).total
        _check(dev, e, p, f"{p['plan']} P={p['lanes']} {p['device']}")


def test_band_point_counts_match_the_measured_points():
    """The band's ``points`` is the number of distinct measured designs per family."""
    from hwssm.synth.profile import device_profile

    seen = {f.name: set() for f in targets.FAMILIES}
    for key, device, lanes, opts, hw in HETERO_MEASURED:
        pipe = opts.get("pipeline") or Pipeline(mem_stages=opts["mem_stages"], requant_stages=opts["requant_stages"],
                                                acc_stages=opts.get("acc_stages", 0), mix_cols=opts.get("mix_cols", 4))
        d = DesignPoint(lanes, pipeline=pipe, storage=opts["storage"], soft_mul_bits=opts["soft_mul_bits"])
        seen[device.family.name].add(("s4d_hetero", d.key()))
    for p in json.loads(REPORT.read_text())["points"]:
        if p.get("lut_measured") is not None:
            src = p["plan"].rsplit("[", 1)[1].rstrip("]")
            seen[targets.device(p["device"]).family.name].add((src if src != "PTQ" else p["plan_code"], _design(p).key()))
    for name, device, lanes, _ in S5_MEASURED:
        seen[device.family.name].add((name, device_profile(device).design(lanes).key()))
    for fam in targets.FAMILIES:
        assert fam.error_band.points == len(seen[fam.name]), (fam.name, sorted(seen[fam.name]))
