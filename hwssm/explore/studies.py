"""The PTQ studies of the quantization report, as lists of precision plans.

Each :class:`Study` is a question; :func:`study_plans` gives the plans that answer it. All
of them run as one accuracy-only sweep (shared plans are evaluated once, and every result
is cached like any other sweep record).

=============  =====================================================================
A_BITS         Ā at 4…16 bits, everything else at 16 (activations 16)
X_BITS         state x at 6…16 bits, everything else at 16
UNIFORM        every component at 16 / 12 / 10 / 8 / 6 / 4 bits
GRANULARITY    per tensor against per head, uniform 10 / 8 / 6 bits
SCHEME         symmetric against asymmetric parameters, uniform 10 / 8 / 6 bits
HETERO         heterogeneous plans (memory against accuracy), with the uniform ones
=============  =====================================================================

The heterogeneous plans keep Ā and x wide (PTQ of the trained model loses its accuracy
below about 10-bit Ā and 12-bit x with per-tensor scales, while B̄, C̄, D, weights and
activations tolerate 6-8 bits alone), and include the seed paper's ``hetero`` plan.
"""

from __future__ import annotations

import dataclasses
import enum

from ..quant.plan import NAMED_PLANS, Granularity, PrecisionPlan, Scheme, parse_code

__all__ = ["Study", "StudyPlan", "study_plans", "all_plans", "study_rows", "A_BITS", "X_BITS", "UNIFORM_BITS", "HETERO_CODES"]

#: Widths of the one-component sweeps.
A_BITS = (4, 6, 8, 10, 12, 16)
X_BITS = (6, 8, 10, 12, 14, 16)
#: Widths of the uniform, granularity and scheme comparisons.
UNIFORM_BITS = (16, 12, 10, 8, 6, 4)
COMPARE_BITS = (10, 8, 6)
#: Heterogeneous plans (short codes), besides the named ``hetero`` plan.
HETERO_CODES = (
    "A12x16-B8C8D8-W8-a8",
    "A10x12-B8C8D8-W8-a12",
    "A10x14-B6C6D6-W6-a10",
    "A8x14-B8C8D8-W8-a12-h",
    "A10x12-B6C6D6-W6-a8",
    "A10x14-B4C4D4-W4-a8",
    "A8x12-B4C4D4-W8-a6",
)


class Study(enum.Enum):
    A_BITS = "a_bits"
    X_BITS = "x_bits"
    UNIFORM = "uniform"
    GRANULARITY = "granularity"
    SCHEME = "scheme"
    HETERO = "hetero"


@dataclasses.dataclass(frozen=True)
class StudyPlan:
    """One plan of a study: ``bits`` is the study's x-axis value (None where it has none);
    ``variant`` names the arm of a comparison (per_tensor / per_head, symmetric / asymmetric)."""

    plan: PrecisionPlan
    bits: int | None = None
    variant: str = ""


def _base16() -> PrecisionPlan:
    return PrecisionPlan.uniform(16)


def _uniform(bits: int, granularity=Granularity.PER_TENSOR, scheme=Scheme.SYMMETRIC) -> PrecisionPlan:
    label = f"uniform{bits}" + ("-h" if granularity is Granularity.PER_HEAD else "") + ("-asym" if scheme is Scheme.ASYMMETRIC else "")
    return PrecisionPlan.uniform(bits, granularity=granularity, scheme=scheme, label=label)


def study_plans() -> dict[Study, list[StudyPlan]]:
    """Every study and its plans (plans are plain objects; equal codes mean the same QModel)."""
    base = _base16()
    out: dict[Study, list[StudyPlan]] = {}
    out[Study.A_BITS] = [StudyPlan(base.with_(A_re=b, A_im=b), b) for b in A_BITS]
    out[Study.X_BITS] = [StudyPlan(base.with_(x_re=b, x_im=b), b) for b in X_BITS]
    out[Study.UNIFORM] = [StudyPlan(_uniform(b), b) for b in UNIFORM_BITS]
    out[Study.GRANULARITY] = [StudyPlan(_uniform(b, g), b, g.value) for b in COMPARE_BITS for g in Granularity]
    out[Study.SCHEME] = [StudyPlan(_uniform(b, scheme=s), b, s.value) for b in COMPARE_BITS for s in Scheme]
    hetero = [StudyPlan(NAMED_PLANS["hetero"], None, "hetero")]
    hetero += [StudyPlan(parse_code(c), None, "hetero") for c in HETERO_CODES]
    hetero += [StudyPlan(_uniform(b), b, "uniform") for b in UNIFORM_BITS]
    out[Study.HETERO] = hetero
    return out


def all_plans(studies: dict[Study, list[StudyPlan]] | None = None) -> list[PrecisionPlan]:
    """The distinct plans of all studies (by code), first occurrence first."""
    seen: dict[str, PrecisionPlan] = {}
    for items in (studies or study_plans()).values():
        for sp in items:
            seen.setdefault(sp.plan.code, sp.plan)
    return list(seen.values())


def study_rows(studies: dict[Study, list[StudyPlan]], points_by_code: dict[str, dict]) -> dict[str, list[dict]]:
    """Join each study's plans with their sweep points: rows of plan, code, bits, variant,
    accuracy (fraction or None), digits, memory bits and compression."""
    out = {}
    for study, items in studies.items():
        rows = []
        for sp in items:
            p = points_by_code.get(sp.plan.code, {})
            rows.append({"plan": sp.plan.name, "code": sp.plan.code, "bits": sp.bits, "variant": sp.variant,
                         "accuracy": p.get("accuracy"), "digits": p.get("digits"), "memory_bits": p.get("memory_bits"),
                         "compression": p.get("compression"), "memory_breakdown": p.get("memory_breakdown")})
        out[study.value] = rows
    return out
