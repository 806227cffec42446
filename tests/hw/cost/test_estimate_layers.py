"""The estimator on per-layer precision: it prices the core the derivation builds, whose shared
operand widths are the widest over blocks (here: as many multipliers as the widest plan)."""

from hwssm.hw.cost.estimate import estimate, inventory, memory_breakdown
from hwssm.hw.derive import derive
from hwssm.hw.options import DesignPoint
from hwssm.quant.plan import parse_code
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.targets.registry import device


def test_per_layer_widths_are_priced_at_the_widest_block():
    up5k = device("up5k")
    narrow, mixed, wide = (random_qmodel(8, 4, 2, parse_code(c), seed=1) for c in
                           ("A8x8-B4C4D4-W8-a6", "A8x8-B4C4D4-W8-a6-L1:A12B12", "A12x8-B12C4D4-W8-a6"))
    d = DesignPoint(2)
    assert derive(mixed, d).coef_field_widths[:4] == derive(wide, d).coef_field_widths[:4] == (12, 12, 12, 12)
    assert derive(narrow, d).coef_field_widths[:4] == (8, 8, 8, 8)
    est = {n: estimate(q, d, up5k) for n, q in (("narrow", narrow), ("mixed", mixed), ("wide", wide))}
    assert est["mixed"].total.dsp == est["wide"].total.dsp
    assert sum(memory_breakdown(mixed).values()) == mixed.footprint_bits
    assert narrow.footprint_bits < mixed.footprint_bits < wide.footprint_bits


def test_per_layer_activation_widths_are_priced_at_the_widest_with_their_narrowings():
    up5k = device("up5k")
    d = DesignPoint(2)
    narrow, mixed, wide = (random_qmodel(8, 4, 2, parse_code(c), seed=1) for c in
                           ("A8x8-W8-a6", "A8x8-W8-a6-L1:a8", "A8x8-W8-a8"))
    assert derive(mixed, d).a == derive(wide, d).a == 8
    names = {n: [b.name for b in inventory(q, d) if "narrowing" in b.name] for n, q in
             (("narrow", narrow), ("mixed", mixed), ("wide", wide))}
    assert names["narrow"] == names["wide"] == []
    assert {n.split()[0] for n in names["mixed"]} == {"y", "v", "z", "r"}
    est = {n: estimate(q, d, up5k).total for n, q in (("narrow", narrow), ("mixed", mixed), ("wide", wide))}
    # tables and memories at the widest width; the narrowings cost LUTs beyond the uniform wide design
    assert est["mixed"].ram_bits == est["wide"].ram_bits > est["narrow"].ram_bits
    assert est["mixed"].lut > est["wide"].lut > est["narrow"].lut
