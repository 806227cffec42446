"""The S5-only components of a precision plan: the B̄u format ``bu_re``/``bu_im`` (ARITHMETIC.md §6).

Optional in :class:`hwssm.quant.plan.PrecisionPlan` (both or neither; absent, each part takes its
state part's width). They are written to JSON (and to the code, ``-u10`` / ``-u10.8``) only when
given, so S4D plans keep their codes, JSON and digests. Per-tensor symmetric: B̄u is computed
online, with one format per part.
"""

from __future__ import annotations

from .spec import Granularity, Scheme, Spec, specs_from_json, specs_to_json

#: The optional S5 components, in JSON order.
S5_COMPONENTS = ("bu_re", "bu_im")
#: Their entries in the plan JSON schema (hwssm.quant.plan.PLAN_SCHEMA).
S5_SCHEMA: dict[str, tuple[str, bool]] = {
    "bu_re": ("integer or {bits, granularity, scheme}: the S5 B̄u format, re", False),
    "bu_im": ("integer or {bits, granularity, scheme}: the S5 B̄u format, im", False),
}


def check_bu(bu_re: Spec | None, bu_im: Spec | None) -> None:
    """ValueError (one line) unless both are None or both per-tensor symmetric Specs."""
    if (bu_re is None) != (bu_im is None):
        raise ValueError("plan components bu_re and bu_im come together (or neither)")
    for f, spec in zip(S5_COMPONENTS, (bu_re, bu_im)):
        if spec is None:
            continue
        if not isinstance(spec, Spec):
            raise ValueError(f"plan component {f} must be a Spec, not {spec!r}")
        if spec.scheme is not Scheme.SYMMETRIC or spec.granularity is not Granularity.PER_TENSOR:
            raise ValueError(f"plan component {f} must be per-tensor symmetric: B̄u is computed online, "
                             "one format per part")


def bu_to_json(bu_re: Spec | None, bu_im: Spec | None) -> dict:
    """The JSON fields of the given components (none when absent)."""
    return specs_to_json(S5_COMPONENTS, (bu_re, bu_im))


def bu_from_json(d: dict) -> dict:
    """PrecisionPlan keyword arguments of the S5 fields present in the plan JSON ``d``."""
    return specs_from_json(S5_COMPONENTS, d)
