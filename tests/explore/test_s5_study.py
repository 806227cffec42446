"""The Q-S5 study: its settings as hwssm S5 plans, the runner (PTQ + golden engine, cached), saved S5 QAT runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.explore.s5_study import (
    QS5_SETTINGS, WIDE_STATE, StateWidth, run_s5_study, s5_checkpoint, study_rows,
)
from hwssm.explore.s5_study_qat import group_runs, s5_qat_runs
from hwssm.quant.plan import parse_code, resolve_plan

from .s5_tiny import CALIB, LIMIT, train_tiny_s5

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_s5(tmp_path_factory):
    return train_tiny_s5(tmp_path_factory.mktemp("s5"))


def test_every_setting_maps_to_a_plan_with_its_widths():
    rows = study_rows()
    assert len(rows) == 2 * len(QS5_SETTINGS) == len({r.plan.code for r in rows})
    for r in rows:
        s, p = r.setting, r.plan
        assert resolve_plan(p.code).to_json() == p.to_json() == parse_code(p.code).to_json()
        assert (p.A_re.bits, p.A_im.bits, p.B.bits, p.C.bits, p.D.bits, p.weight.bits, p.act.bits) == \
            (s.a_bits, s.a_bits, s.b_bits, s.c_bits, s.d_bits, s.non_ssm_bits, 8)
        x = 8 if r.state is StateWidth.ACTIVATION else WIDE_STATE
        assert (p.x_re.bits, p.x_im.bits) == (x, x) and p.bu_bits() == (x, x) and p.has_s5
        assert p.bias.bits == 16 and p.A_re.granularity.value == "per_tensor"
    assert [s.label for s in QS5_SETTINGS][:1] == ["W8A8"] and QS5_SETTINGS[0].reported == (96.27, 96.79)
    assert {s.label: s.reported_text() for s in QS5_SETTINGS}["W4A8, Λ̄ at 8"] == "38.0"


def test_runner_scores_every_plan_and_caches(tiny_s5, cache):
    from hwssm.golden.evaluate import evaluate, test_pixels
    from hwssm.data import Split, load_mnist, sequences
    from hwssm.quant.ptq import ptq

    seen = []
    data = run_s5_study(tiny_s5, limit=LIMIT, calib_digits=CALIB, cache=cache, progress=lambda d, t: seen.append((d, t)))
    assert data["errors"] == [] and data["stats"]["computed"] == 12 and seen[-1] == (12, 12)
    for r in data["rows"]:
        assert 0 <= r["accuracy"] <= 1 and r["digits"] == LIMIT
        assert 0 < r["memory_bits"] < r["float32_bits"] and r["compression"] > 1
    # the same number as PTQ + the golden engine by hand
    row = data["rows"][1]
    images, _ = load_mnist(Split.TRAIN)
    ckpt = s5_checkpoint(tiny_s5)
    qm = ptq(ckpt.config, ckpt.params, resolve_plan(row["plan"]), sequences(images[:CALIB]))
    pixels, labels = test_pixels(Split.TEST, LIMIT)
    assert evaluate(qm, pixels, labels).accuracy == row["accuracy"] and qm.footprint_bits == row["memory_bits"]
    again = run_s5_study(tiny_s5, limit=LIMIT, calib_digits=CALIB, cache=cache)
    assert again["stats"]["cached"] == 12 and again["stats"]["computed"] == 0
    assert [r["accuracy"] for r in again["rows"]] == [r["accuracy"] for r in data["rows"]]


def test_bad_models_are_one_line_errors(tmp_path, tiny_checkpoint):
    with pytest.raises(HwssmError, match="does not exist"):
        s5_checkpoint(tmp_path / "nothing.json")
    with pytest.raises(HwssmError, match="S4D checkpoint; the Q-S5 study needs a float S5"):
        s5_checkpoint(tiny_checkpoint)
    with pytest.raises(HwssmError, match="is a QModel"):
        s5_checkpoint(tmp_path / "m.qmodel.json")
    with pytest.raises(HwssmError, match="--limit"):
        run_s5_study(tiny_checkpoint, limit=0)
    from hwssm.model.checkpoint import save_checkpoint
    from hwssm.model.s5_config import Norm, S5Config
    from hwssm.model.s5_network import init_params

    ln = S5Config(H=4, P=2, L=1, norm=Norm.LAYER)
    with pytest.raises(HwssmError, match="LayerNorm, which has no integer form"):
        s5_checkpoint(save_checkpoint(tmp_path / "ln", ln, init_params(ln, 0)))


def test_saved_s5_runs_are_read_scored_and_grouped(tiny_s5, tmp_path, cache):
    from hwssm.data import Split, load_mnist, sequences
    from hwssm.quant.ptq import ptq
    from hwssm.quant.qmodel_io import save_qmodel

    res = tmp_path / "results"
    res.mkdir()
    base = {"quantization": "qat", "plan_code": "A8x16-B8C8D8-W4-a8-u16", "parameterization": "continuous",
            "test_digits": 10_000, "footprint_bits": 1000, "compression": 3.5, "source_checkpoint": str(tiny_s5)}
    for seed, acc in ((0, 0.90), (1, 0.94)):
        (res / f"qat_s{seed}.json").write_text(json.dumps({**base, "seed": seed, "qat_test_accuracy": acc,
                                                           "golden_test_accuracy": acc, "golden_digits": 10_000}))
    (res / "s4d.json").write_text(json.dumps({**base, "source_checkpoint": "models/s4d_float.json",
                                              "qat_test_accuracy": 0.5, "seed": 0}))
    (res / "tagged.json").write_text(json.dumps({**base, "family": "s5", "source_checkpoint": None, "seed": 3,
                                                 "plan_code": "A8x8-B8C8D8-W8-a8", "qat_test_accuracy": 0.7,
                                                 "golden_test_accuracy": 0.6, "golden_digits": 100}))
    (res / "broken.json").write_text("{")
    ckpt = s5_checkpoint(tiny_s5)
    images, _ = load_mnist(Split.TRAIN)
    qm = ptq(ckpt.config, ckpt.params, resolve_plan("A8x8-B8C8D8-W8-a8"), sequences(images[:CALIB]))
    qpath = save_qmodel(qm, tmp_path / "s5_ptq")
    runs, notes = s5_qat_runs(res, [qpath], limit=LIMIT, cache=cache)
    assert notes == ["broken.json: unreadable (JSONDecodeError)"]
    assert sorted(r["file"] for r in runs) == ["qat_s0.json", "qat_s1.json", "s5_ptq.qmodel.json", "tagged.json"]
    tagged = next(r for r in runs if r["file"] == "tagged.json")
    assert tagged["accuracy"] == 0.7 and tagged["source"] == "QAT integer forward"   # golden covers 100 of 10,000
    q = next(r for r in runs if r["file"].endswith(".qmodel.json"))
    assert q["method"] == "ptq" and q["digits"] == LIMIT and q["memory_bits"] == qm.footprint_bits
    groups = {g["code"] + g["method"]: g for g in group_runs(runs)}
    g = groups["A8x16-B8C8D8-W4-a8-u16qat"]
    assert g["n"] == 2 and g["seeds"] == [0, 1] and g["mean"] == pytest.approx(0.92)
    assert g["std"] == pytest.approx(np.std([0.90, 0.94], ddof=1))
    assert groups["A8x8-B8C8D8-W8-a8qat"]["std"] is None
