"""A hardware sweep point end to end: RTL, Yosys + nextpnr, cycle model, estimate, cache (runs the tools)."""

from __future__ import annotations

import pytest

from hwssm.explore.cache import RecordKind
from hwssm.explore.spec import SweepSpec
from hwssm.explore.sweep import run_sweep
from hwssm.quant.plan import parse_code
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel
from hwssm import targets


@pytest.mark.synth
@pytest.mark.slow
def test_hardware_point(tmp_path, cache):
    qm = random_qmodel(4, 2, 1, plan=parse_code("A6x6-W6-a6"), seed=2)
    path = save_qmodel(qm, tmp_path / "m")
    spec = SweepSpec(model=path, lanes=(1,), devices=(targets.ECP5_25K,), limit=2)
    res = run_sweep(spec, cache=cache)
    assert res.failed == 0, res.errors
    (p,) = res.points
    assert p["status"] == "ok" and p["fits"] is True
    assert p["lanes"] == 1 and p["device"] == "ecp5-25k"
    assert p["lut"] > 0 and p["ff"] > 0 and p["fmax_mhz"] > 0
    assert p["lut_measured"] == p["lut"] + 2 * p["carry"]
    assert p["cycles_per_digit"] > 784 and p["us_per_digit"] == pytest.approx(p["cycles_per_digit"] / p["fmax_mhz"])
    assert p["digits_per_s"] == pytest.approx(1e6 / p["us_per_digit"])
    assert p["estimate"]["lut"] > 0 and abs(p["est_lut_error"]) < 1.0
    assert cache.count(RecordKind.HARDWARE) == 1
    again = run_sweep(spec, cache=cache)
    assert (again.computed, again.cached) == (0, 2) and again.points == res.points
