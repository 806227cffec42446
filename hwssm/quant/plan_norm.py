"""The LayerNorm components of a precision plan: the widths of γ and β (ARITHMETIC.md §7).

Optional in :class:`hwssm.quant.plan.PrecisionPlan` (both or neither; absent, γ takes the
``weight`` Spec and β the ``bias`` Spec). They are written to JSON (``ln_g``, ``ln_b``) and to
the code (``-n8`` for both, ``-n8.16`` for γ 8 and β 16 bits) only when given, so plans without
them keep their codes, JSON and digests. The LayerNorm's activation format N_l takes the plan's
``act`` width like every other activation. Per-layer overrides do not cover them.
"""

from __future__ import annotations

from .spec import Spec, specs_from_json, specs_to_json

#: The optional LayerNorm components, in JSON order.
NORM_COMPONENTS = ("ln_g", "ln_b")
#: Their entries in the plan JSON schema (hwssm.quant.plan.PLAN_SCHEMA).
NORM_SCHEMA: dict[str, tuple[str, bool]] = {
    "ln_g": ("integer or {bits, granularity, scheme}: LayerNorm γ (default: weight)", False),
    "ln_b": ("integer or {bits, granularity, scheme}: LayerNorm β (default: bias)", False),
}


def check_norm(ln_g: Spec | None, ln_b: Spec | None) -> None:
    """ValueError (one line) unless both are None or both Specs."""
    if (ln_g is None) != (ln_b is None):
        raise ValueError("plan components ln_g and ln_b come together (or neither)")
    for f, spec in zip(NORM_COMPONENTS, (ln_g, ln_b)):
        if spec is not None and not isinstance(spec, Spec):
            raise ValueError(f"plan component {f} must be a Spec, not {spec!r}")


def norm_to_json(ln_g: Spec | None, ln_b: Spec | None) -> dict:
    """The JSON fields of the given components (none when absent)."""
    return specs_to_json(NORM_COMPONENTS, (ln_g, ln_b))


def norm_from_json(d: dict) -> dict:
    """PrecisionPlan keyword arguments of the LayerNorm fields present in the plan JSON ``d``."""
    return specs_from_json(NORM_COMPONENTS, d)


def norm_code(plan) -> list[str]:
    """The code part of the components (``["n8"]``, ``["n8.16"]``), ``[]`` when absent."""
    if plan.ln_g is None:
        return []
    g, b = plan.ln_g.bits, plan.ln_b.bits
    return [f"n{g}" if g == b else f"n{g}.{b}"]


def norm_from_flag(flag: str, gran) -> dict:
    """PrecisionPlan keyword arguments of a code flag ``n8`` / ``n8.16`` (granularity ``gran``)."""
    g, _, b = flag[1:].partition(".")
    return {"ln_g": Spec(int(g), gran), "ln_b": Spec(int(b or g), gran)}


def norm_specs(plan) -> tuple[Spec, Spec]:
    """(γ Spec, β Spec) of a LayerNorm under ``plan``: ``ln_g``/``ln_b``, else ``weight``/``bias``."""
    if plan.ln_g is None:
        return plan.weight, plan.bias
    return plan.ln_g, plan.ln_b
