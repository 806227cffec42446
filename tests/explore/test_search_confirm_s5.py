"""hwssm search on an S5 checkpoint: confirmation of the front by Yosys + nextpnr and QAT of the top
plan (the tiny untrained S5 of conftest, H=4, P=3, L=1), as test_search_confirm.py does for S4D."""

from __future__ import annotations

import numpy as np
import pytest

from hwssm.explore.cache import RecordKind
from hwssm.explore.search import SearchSpec, run_search
from hwssm.explore.search_halving import Rungs
from hwssm.explore.search_qat import QatSettings
from hwssm.explore.search_space import Depth, HardwareGrid, SearchSpace
from hwssm.explore.sweep import model_digest
from hwssm.quant.plan import parse_code
from hwssm.quant.resolve import resolve_model
from hwssm.report.search_report import write_search_report
from hwssm.targets import ECP5_25K

from .conftest import CALIB, confirmed_point

#: An S5 plan with its own B̄u width (the S5 component of the plan code).
PLAN = parse_code("A8x12-B8C8D8-W8-a8-u16-h")
#: One design: P=1, mix_cols 4, the device's pipeline (the smallest S5 core: ~2,100 LUT4 on the ECP5).
SPACE = SearchSpace((PLAN,), HardwareGrid(lanes=(1,), mix_cols=(4,), depths=(Depth.PROFILE,)))
RUNGS = Rungs(val=(8,), eta=2, test_limit=8)


@pytest.mark.synth
@pytest.mark.slow
def test_confirmation_places_the_s5_front_and_reports_the_estimator_error(tiny_s5_checkpoint, cache, tmp_path):
    spec = SearchSpec(model=tiny_s5_checkpoint, device=ECP5_25K, floor=0.0, space=SPACE, rungs=RUNGS, confirm=1,
                      calib_digits=CALIB)
    res = run_search(spec, cache=cache)
    # (measured +35 % on this H=4, P=3 core: the S5 estimator's band is fitted on larger models)
    p, conf = confirmed_point(res, band=0.6)
    assert conf["exact"] == {"dsp": True, "bram": True, "spram": True}  # the S5 hard blocks priced exactly
    assert conf["dsp"] == p["dsp"] > 0
    assert conf["fmax_mhz"] > 0 and conf["latency_ms_at_fmax"] == pytest.approx(p["cycles_per_sequence"]
                                                                                  / (conf["fmax_mhz"] * 1e3))
    assert cache.count(RecordKind.HARDWARE) == 1
    record = next((cache.root / RecordKind.HARDWARE.value).glob("*.json")).read_text()
    qm = resolve_model(tiny_s5_checkpoint, PLAN, calib_digits=CALIB).qmodel   # the S5QModel synthesized
    assert model_digest(qm) in record
    again = run_search(spec, cache=cache)  # the sweep's hardware record: cached
    assert again.front[0]["confirmed"] == {**conf, "cached": True}
    write_search_report(again.to_json(), tmp_path / "rep")
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "## Confirmed by synthesis and place-and-route" in md and f"{conf['lut_measured']:,}" in md


@pytest.mark.train
def test_qat_of_the_top_s5_plan_runs_and_resumes(tiny_s5_checkpoint, cache, tmp_path):
    pytest.importorskip("torch")
    from hwssm.data import Split
    from hwssm.golden.engine import run as golden_run
    from hwssm.quant.qmodel_io import load_qmodel
    from hwssm.quant.s5_qmodel import S5QModel
    from hwssm.train.qat_loop import split_arrays

    def spec(time_budget):
        qat = QatSettings(top=1, epochs=2, device="cpu", train_limit=64, val_limit=16, test_limit=16, window=24,
                          time_budget=time_budget)
        # floor 100 %: PTQ reaches nothing, so the front below the floor is trained (where QAT is wanted)
        return SearchSpec(model=tiny_s5_checkpoint, device=ECP5_25K, floor=1.0, space=SPACE, rungs=RUNGS, qat=qat,
                          calib_digits=CALIB)

    stopped = run_search(spec(1e-6), cache=cache, work=tmp_path, say=lambda s: None)  # stops after epoch 1
    assert stopped.front == [] and stopped.front_below_floor[0]["qat"] == {"status": "stopped", "epoch": 1,
                                                                           "epochs": 2}
    res = run_search(spec(None), cache=cache, work=tmp_path, say=lambda s: None)     # resumes at epoch 1
    q = res.front_below_floor[0]["qat"]
    assert q["status"] == "done" and q["epochs"] == 2 and q["golden_digits"] == 16
    qm = load_qmodel(tmp_path / "qat" / PLAN.code / "qat.qmodel.json")
    assert isinstance(qm, S5QModel) and qm.plan.code == PLAN.code and q["qmodel"].endswith("qat.qmodel.json")
    x, y = split_arrays(Split.TEST, 16, 24)       # the golden engine on the run's test window
    assert q["golden_test_accuracy"] == float(np.mean(golden_run(qm, x).pred == y))
    again = run_search(spec(None), cache=cache, work=tmp_path, say=lambda s: None)  # finished runs are read back
    assert again.front_below_floor[0]["qat"] == q
