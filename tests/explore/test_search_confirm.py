"""hwssm search: confirmation of front points by Yosys + nextpnr, and QAT of the top plans (tiny model)."""

from __future__ import annotations

import pytest

from hwssm.explore.cache import RecordKind
from hwssm.explore.search import SearchSpec, run_search
from hwssm.explore.search_halving import Rungs
from hwssm.explore.search_qat import QatSettings
from hwssm.explore.search_space import Depth, HardwareGrid, SearchSpace
from hwssm.quant.plan import parse_code
from hwssm.targets import ECP5_25K

from .conftest import CALIB, confirmed_point

PLAN = parse_code("A6x8-B4C4D4-W4-a6")
#: One design: P=1, mix_cols 4, the device's pipeline (the smallest core of the tiny model).
SPACE = SearchSpace((PLAN,), HardwareGrid(lanes=(1,), mix_cols=(4,), depths=(Depth.PROFILE,)))
RUNGS = Rungs(val=(8,), eta=2, test_limit=8)


@pytest.mark.synth
def test_confirmation_places_the_front_and_reports_the_estimator_error(tiny_checkpoint, cache):
    spec = SearchSpec(model=tiny_checkpoint, device=ECP5_25K, floor=0.0, space=SPACE, rungs=RUNGS, confirm=1,
                      calib_digits=CALIB)
    res = run_search(spec, cache=cache)
    # (the family's error band was measured on the full-size model; on this H=4 core the
    # estimate runs about 28 % high, which is what the confirmation is there to show)
    p, conf = confirmed_point(res, band=0.5)
    assert conf["exact"] == {"dsp": conf["dsp"] == p["dsp"], "bram": conf["bram"] == p["bram"],
                             "spram": conf["spram"] == p["spram"]}
    assert conf["dsp"] == p["dsp"]  # hard blocks exact
    assert conf["fmax_mhz"] > 0 and conf["latency_ms_at_fmax"] > 0
    assert cache.count(RecordKind.HARDWARE) == 1
    again = run_search(spec, cache=cache)  # the sweep's hardware record: cached
    assert again.front[0]["confirmed"] == {**conf, "cached": True}


@pytest.mark.train
def test_qat_of_the_top_plan_runs_and_resumes(tiny_checkpoint, cache, tmp_path):
    pytest.importorskip("torch")
    qat = QatSettings(top=1, epochs=1, device="cpu", train_limit=64, val_limit=16, test_limit=16, window=24)
    # floor 100 %: PTQ reaches nothing, so the front below the floor is trained (where QAT is wanted)
    spec = SearchSpec(model=tiny_checkpoint, device=ECP5_25K, floor=1.0, space=SPACE, rungs=RUNGS, qat=qat,
                      calib_digits=CALIB)
    res = run_search(spec, cache=cache, work=tmp_path, say=lambda s: None)
    assert res.front == []
    q = res.front_below_floor[0]["qat"]
    assert q["status"] == "done" and q["golden_digits"] == 16
    assert 0.0 <= q["golden_test_accuracy"] <= 1.0
    assert (tmp_path / "qat" / PLAN.code / "qat.qmodel.json").is_file()
    again = run_search(spec, cache=cache, work=tmp_path, say=lambda s: None)  # finished runs are read back
    assert again.front_below_floor[0]["qat"] == q
