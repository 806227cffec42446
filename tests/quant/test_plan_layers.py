"""Per-layer precision plans: codes, JSON round trips, normalization, one-line errors."""

import json

import pytest
from hypothesis import given, settings, strategies as st

from hwssm.errors import HwssmError
from hwssm.quant.plan import (
    NAMED_PLANS, Component, Granularity, LayerOverride, PlanError, PrecisionPlan, Scheme, Spec, parse_code,
    plan_with_overrides, resolve_plan,
)

BASES = ["A8x8-B4C4D4-W8-a6", "A8x12-B4C4D4-W8-a6-h", "A8x8-B8C8D8-W8-a8-h-asym", "A6.8x8.10-W5-a5-floor-wrap",
         "A8x8-B4C4D4-W8-a6-b12"]


@st.composite
def plans(draw):
    """A base plan with random per-layer overrides of every component (bits only)."""
    plan = parse_code(draw(st.sampled_from(BASES)))
    changes = draw(st.dictionaries(st.integers(0, 5), st.dictionaries(
        st.sampled_from([c.value for c in Component]), st.integers(2, 16), min_size=1, max_size=4), max_size=3))
    return plan_with_overrides(plan, changes)


@settings(max_examples=200, deadline=None)
@given(plans())
def test_plans_with_overrides_round_trip_through_json_and_code(plan):
    assert PrecisionPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan
    again = parse_code(plan.code)
    assert again == plan and again.code == plan.code
    for l in range(6):
        eff = plan.for_layer(l)
        assert eff.layers == ()
        for c in Component:
            want = next((o.spec for o in plan.layers if o.layer == l and o.component is c), getattr(plan, c.value))
            assert getattr(eff, c.value) == want


@settings(max_examples=100, deadline=None)
@given(plans(), st.sampled_from([Granularity.PER_HEAD, Granularity.PER_TENSOR]))
def test_json_overrides_may_change_granularity_and_round_trip(plan, gran):
    p = plan.with_layer(1, B=Spec(5, gran, Scheme.ASYMMETRIC), weight={"bits": 7, "granularity": gran.value})
    q = PrecisionPlan.from_json(json.loads(json.dumps(p.to_json())))
    assert q == p
    assert q.for_layer(1).B == Spec(5, gran, Scheme.ASYMMETRIC)
    assert q.for_layer(1).weight == Spec(7, gran, plan.weight.scheme)


def test_the_code_syntax():
    p = parse_code("A8x8-B4C4D4-W8-a6-L2:A6x10-L3:B3C3")
    assert p.for_layer(2).A_re.bits == p.for_layer(2).A_im.bits == 6
    assert (p.for_layer(2).x_re.bits, p.for_layer(2).x_im.bits) == (10, 10)
    assert (p.for_layer(3).B.bits, p.for_layer(3).C.bits, p.for_layer(3).D.bits) == (3, 3, 4)
    assert p.for_layer(0) == parse_code("A8x8-B4C4D4-W8-a6")
    # canonical token order A x B C D W a b; W8 equals the default and is dropped
    assert parse_code("A8x8-W8-a8-h-L0:A8.6x12.10W8b12a7").code == "A8x8-B8C8D8-W8-a8-h-L0:A8.6x12.10a7b12"
    p = parse_code("A8x8-W8-a8-h-L1:A6")
    assert p.for_layer(1).A_re == Spec(6, Granularity.PER_HEAD)  # bits only: the default's granularity


def test_overrides_are_normalized_and_plans_without_them_are_unchanged():
    assert parse_code("A8x8-W8-a8-L1:A8").code == "A8x8-B8C8D8-W8-a8"
    assert parse_code("A8x8-W8-a8-L3:B4-L1:A6") == parse_code("A8x8-W8-a8-L1:A6-L3:B4")
    assert parse_code("A8x8-W8-a8-L3:B4-L1:A6").code == "A8x8-B8C8D8-W8-a8-L1:A6-L3:B4"
    for plan in NAMED_PLANS.values():
        assert "layers" not in plan.to_json() and "-L" not in plan.code and plan.for_layer(0) is plan
    # with_layer replaces an earlier override of the same component
    p = NAMED_PLANS["hetero"].with_layer(1, B=3).with_layer(1, B=5)
    assert p.code == "A8x8-B4C4D4-W8-a6-L1:B5"
    assert p.name == p.code  # the label of the named plan does not survive a change


def test_the_builder_for_candidates():
    p = plan_with_overrides("hetero", {2: {"A_re": 6, "A_im": 6, Component.x_re: 10}, 0: {"act": 8}})
    assert p.code == "A8x8-B4C4D4-W8-a6-L0:a8-L2:A6x10.8"
    assert p == plan_with_overrides(NAMED_PLANS["hetero"], [
        LayerOverride(0, Component.act, Spec(8)), LayerOverride(2, Component.A_re, Spec(6)),
        LayerOverride(2, Component.A_im, Spec(6)), LayerOverride(2, Component.x_re, Spec(10))])
    assert resolve_plan(p.code) == p


@pytest.mark.parametrize("text, fragment", [
    ("A8x8-W8-a8-L1:Q5", "cannot read 'Q5'"),
    ("A8x8-W8-a8-L1:", "names no component"),
    ("A8x8-W8-a8-L1:B4.3", "B takes one width"),
    ("A8x8-W8-a8-L1:a17", "layer 1: plan component act has 17 bits"),
    ("A8x8-W8-a8-L1:A4-L1:A5", "layer 1 overrides A_re twice"),
    ("A8x8-W8-a8-L1:A1", "bits must be in [2, 64], not 1"),
    ("A8x8-W8-a8-L1A4", "cannot parse plan code"),
])
def test_bad_codes_are_one_line_errors(text, fragment):
    with pytest.raises(HwssmError) as exc:
        resolve_plan(text)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("build, fragment", [
    (lambda: NAMED_PLANS["hetero"].with_layer(0, Q=4), "unknown plan component 'Q'"),
    (lambda: plan_with_overrides("hetero", {1: {"act": 20}}), "layer 1: plan component act has 20 bits"),
    (lambda: plan_with_overrides("hetero", {1: {"x_re": {"bits": 8, "scheme": "asymmetric"}}}), "must be symmetric"),
    (lambda: plan_with_overrides("hetero", {-1: {"B": 3}}), "layer index"),
    (lambda: plan_with_overrides("hetero", {1: 3}), "must be a mapping"),
    (lambda: parse_code("A8x8-W8-a8-L7:A4").check_layers(4), "overrides layer 7, but the network has 4 layers"),
    (lambda: LayerOverride(0, "nope", Spec(4)), "unknown plan component 'nope'"),
])
def test_bad_overrides_are_one_line_errors(build, fragment):
    with pytest.raises(PlanError) as exc:
        build()
    assert isinstance(exc.value, HwssmError) and fragment in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("layers, fragment", [
    ({"layer": 1, "foo": 3}, "unknown plan component 'foo'"),
    ({"layer": "1", "B": 3}, "needs an integer 'layer'"),
    ({"layer": 1}, "overrides no component"),
    ({"layer": 1, "B": {"bits": 4, "colour": 1}}, "unknown component fields"),
    ({"layer": 1, "B": True}, "must be bits"),
])
def test_bad_plan_files_are_one_line_errors(tmp_path, layers, fragment):
    d = NAMED_PLANS["hetero"].to_json()
    d["layers"] = [layers]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(d))
    with pytest.raises(HwssmError) as exc:
        resolve_plan(str(path))
    assert fragment in str(exc.value) and "\n" not in str(exc.value)
    d["layers"] = [{"layer": 1, "B": 3}, {"layer": 1, "C": 3}]
    path.write_text(json.dumps(d))
    with pytest.raises(HwssmError, match="layer 1 is listed twice"):
        resolve_plan(str(path))
