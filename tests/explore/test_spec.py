"""SweepSpec: validation with one-line errors, JSON round trip, CLI flags."""

from __future__ import annotations

import json

import pytest

from hwssm.errors import HwssmError
from hwssm.explore.spec import SweepSpec
from hwssm.quant.calibrate import Calibration
from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm import targets


def test_json_round_trip_with_a_relative_model(tmp_path):
    spec = SweepSpec(model=tmp_path / "models" / "m.json", plans=(NAMED_PLANS["hetero"], parse_code("A8x12-B4C4D4-W8-a6")),
                     lanes=(1, 4), devices=(targets.UP5K, targets.ECP5_25K), limit=100, calib_digits=64,
                     calibration=Calibration.PERCENTILE)
    (tmp_path / "specs").mkdir()
    path = tmp_path / "specs" / "s.json"
    path.write_text(json.dumps(spec.to_json(relative_to=path.parent)))
    assert json.loads(path.read_text())["model"] == "../models/m.json"
    back = SweepSpec.load(path)
    assert back.model.resolve() == spec.model.resolve()
    assert [p.code for p in back.plans] == [p.code for p in spec.plans]
    assert back.plans[0].name == "hetero"
    assert (back.lanes, back.devices, back.limit, back.calib_digits, back.calibration) == \
        (spec.lanes, spec.devices, spec.limit, spec.calib_digits, spec.calibration)
    assert back.hardware and not back.is_qmodel


@pytest.mark.parametrize("kwargs, message", [
    (dict(plans=()), "give at least one plan"),
    (dict(lanes=(0,), devices=(targets.UP5K,)), "lanes must be integers in"),
    (dict(lanes=(2, 2), devices=(targets.UP5K,)), "lane count twice"),
    (dict(lanes=(2,)), "give both lanes and devices"),
    (dict(limit=0), "limit must be an integer in [1, 10000]"),
    (dict(limit=10001), "limit must be an integer in [1, 10000]"),
    (dict(calib_digits=0), "calib_digits must be a positive integer"),
    (dict(plans=(NAMED_PLANS["uniform8"], NAMED_PLANS["uniform8"])), "lists plan"),
])
def test_bad_specs_raise_one_line_errors(tmp_path, kwargs, message):
    base = dict(model=tmp_path / "m.json", plans=(NAMED_PLANS["uniform8"],))
    with pytest.raises(HwssmError, match=None) as exc:
        SweepSpec(**{**base, **kwargs})
    assert message in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("doc, message", [
    ("{", "not valid JSON"),
    ('{"model": "m.json", "plans": ["uniform8"], "colour": 1}', "unknown sweep spec field 'colour'"),
    ('{"plans": ["uniform8"]}', "needs 'model'"),
    ('{"model": "m.json", "plans": ["nonsense"]}', "cannot parse plan code"),
    ('{"model": "m.json", "plans": ["uniform8"], "devices": ["ice99"], "lanes": [1]}', "unknown device 'ice99'"),
    ('{"model": "m.json", "plans": "uniform8"}', "'plans' must be a list"),
])
def test_bad_spec_files_raise_one_line_errors(tmp_path, doc, message):
    path = tmp_path / "spec.json"
    path.write_text(doc)
    with pytest.raises(HwssmError) as exc:
        SweepSpec.load(path)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_missing_spec_file(tmp_path):
    with pytest.raises(HwssmError, match="does not exist"):
        SweepSpec.load(tmp_path / "nope.json")


def test_qmodel_spec_takes_at_most_its_own_plan(tmp_path):
    SweepSpec(model=tmp_path / "m.qmodel.json")
    with pytest.raises(HwssmError, match="it has one plan"):
        SweepSpec(model=tmp_path / "m.qmodel.json", plans=(NAMED_PLANS["uniform8"], NAMED_PLANS["uniform6"]))
