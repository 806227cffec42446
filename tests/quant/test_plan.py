"""Precision plans: names, codes, JSON round trip, and one-line errors for nonsense."""

import json

import pytest

from hwssm.errors import HwssmError
from hwssm.quant.plan import NAMED_PLANS, Granularity, PrecisionPlan, Scheme, Spec, parse_code, resolve_plan


def test_named_plans_exist_and_hetero_matches_the_seed_paper():
    assert set(NAMED_PLANS) == {"uniform16", "uniform8", "uniform6", "uniform4", "hetero"}
    h = NAMED_PLANS["hetero"]
    assert (h.B.bits, h.C.bits, h.D.bits, h.act.bits, h.A_re.bits, h.x_re.bits) == (4, 4, 4, 6, 8, 8)
    assert h.code == "A8x8-B4C4D4-W8-a6"


@pytest.mark.parametrize("code", ["A8x12-B4C4D4-W8-a6", "A8.6x16.12-B4C6D8-W8-a8", "A8x8-B8C8D8-W8-a8-h-asym",
                                  "A4x4-B4C4D4-W4-a4-b12-floor-wrap"])
def test_codes_round_trip(code):
    assert parse_code(code).code == code


def test_short_code_without_bcd_uses_weight_bits():
    p = parse_code("A8x16-W8-a8")
    assert (p.B.bits, p.C.bits, p.D.bits, p.x_re.bits) == (8, 8, 8, 16)


def test_json_round_trip(tmp_path):
    p = parse_code("A8x12-B4C4D4-W8-a6-h-asym")
    q = PrecisionPlan.from_json(json.loads(json.dumps(p.to_json())))
    assert q == p
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(p.to_json()))
    assert resolve_plan(str(path)) == p


def test_per_head_and_asym_flags():
    p = parse_code("A8x8-W8-a8-h-asym")
    assert p.A_re.granularity is Granularity.PER_HEAD and p.A_re.scheme is Scheme.ASYMMETRIC
    assert p.x_re.scheme is Scheme.SYMMETRIC  # the state is always symmetric
    assert p.act.granularity is Granularity.PER_TENSOR


@pytest.mark.parametrize("bits, message", [(0, "bits must be in [2, 64], not 0"), (65, "bits must be in [2, 64], not 65"),
                                           (1, "bits must be in [2, 64], not 1")])
def test_nonsense_widths(bits, message):
    with pytest.raises(ValueError) as exc:
        Spec(bits)
    assert str(exc.value) == message


@pytest.mark.parametrize("text, fragment", [
    ("A0x8-W8-a8", "bits must be in [2, 64], not 0"),
    ("A8x65-W8-a8", "bits must be in [2, 64], not 65"),
    ("nonsense", "cannot parse plan code"),
    ("A8x8-W8-a17", "at most 16"),
])
def test_resolve_plan_errors_are_one_line(text, fragment):
    with pytest.raises((HwssmError, ValueError)) as exc:
        resolve_plan(text)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


def test_plan_file_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(HwssmError, match="not valid JSON"):
        resolve_plan(str(bad))
    d = NAMED_PLANS["uniform8"].to_json()
    d["x_re"] = {"bits": 8, "scheme": "asymmetric"}
    bad.write_text(json.dumps(d))
    with pytest.raises(HwssmError, match="x_re must be symmetric"):
        resolve_plan(str(bad))
    d = NAMED_PLANS["uniform8"].to_json()
    d["version"] = 9
    bad.write_text(json.dumps(d))
    with pytest.raises(HwssmError, match="version 9 is not supported"):
        resolve_plan(str(bad))
    with pytest.raises(HwssmError, match="does not exist"):
        resolve_plan(str(tmp_path / "missing.json"))
