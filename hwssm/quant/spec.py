"""One component's precision (:class:`Spec`: bits, granularity, scheme) and the plan errors.

Split from :mod:`hwssm.quant.plan` so that the per-layer overrides
(:mod:`hwssm.quant.plan_layers`) and the plan share it; :mod:`hwssm.quant.plan` re-exports
every name.
"""

from __future__ import annotations

import dataclasses
import enum
import operator

from ..errors import HwssmError
from ..fixed import MAX_WIDTH

__all__ = ["Granularity", "Scheme", "Spec", "PlanError"]


class PlanError(HwssmError, ValueError):
    """A plan that cannot be: one line naming the component or layer.

    A :class:`~hwssm.errors.HwssmError` (the CLI's one-line error) and, for callers that catch
    the ValueError of malformed plan input (:func:`hwssm.quant.plan.resolve_plan` adds the
    source), a ValueError.
    """


class Granularity(enum.Enum):
    """One scale (frac) and zero point per tensor, or one per head (row)."""

    PER_TENSOR = "per_tensor"
    PER_HEAD = "per_head"


class Scheme(enum.Enum):
    """Symmetric (signed codes, zero point 0) or asymmetric (unsigned codes, zero point)."""

    SYMMETRIC = "symmetric"
    ASYMMETRIC = "asymmetric"


@dataclasses.dataclass(frozen=True)
class Spec:
    """Precision of one component: ``bits`` wide, with a granularity and a scheme."""

    bits: int
    granularity: Granularity = Granularity.PER_TENSOR
    scheme: Scheme = Scheme.SYMMETRIC

    def __post_init__(self) -> None:
        if isinstance(self.bits, bool) or not isinstance(self.bits, int):
            raise ValueError(f"bits must be an integer, not {type(self.bits).__name__}")
        object.__setattr__(self, "bits", operator.index(self.bits))
        if not 2 <= self.bits <= MAX_WIDTH:
            raise ValueError(f"bits must be in [2, {MAX_WIDTH}], not {self.bits}")
        if not isinstance(self.granularity, Granularity):
            raise ValueError(f"granularity must be a Granularity, not {self.granularity!r}")
        if not isinstance(self.scheme, Scheme):
            raise ValueError(f"scheme must be a Scheme, not {self.scheme!r}")

    def to_json(self) -> dict:
        return {"bits": self.bits, "granularity": self.granularity.value, "scheme": self.scheme.value}

    @classmethod
    def from_json(cls, d) -> "Spec":
        if isinstance(d, int) and not isinstance(d, bool):
            return cls(d)
        if not isinstance(d, dict):
            raise ValueError(f"a component must be an integer or an object, not {d!r}")
        unknown = set(d) - {"bits", "granularity", "scheme"}
        if unknown:
            raise ValueError(f"unknown component fields {sorted(unknown)}")
        return cls(
            d["bits"] if "bits" in d else _missing("bits"),
            _enum(Granularity, d.get("granularity", "per_tensor"), "granularity"),
            _enum(Scheme, d.get("scheme", "symmetric"), "scheme"),
        )


def _enum(kind, value, what: str):
    """``kind(value)`` for a string value; ValueError naming the allowed values otherwise."""
    if isinstance(value, str):
        for member in kind:
            if member.value == value:
                return member
    raise ValueError(f"{what} must be one of {[m.value for m in kind]}, not {value!r}")


def _missing(name):
    raise ValueError(f"component needs {name!r}")


def specs_to_json(names: tuple[str, ...], specs: tuple) -> dict:
    """The JSON fields of optional plan components: ``{name: spec.to_json()}`` for the specs
    given (None: absent, written as nothing)."""
    return {f: spec.to_json() for f, spec in zip(names, specs) if spec is not None}


def specs_from_json(names: tuple[str, ...], d: dict) -> dict:
    """``{name: Spec}`` of the optional components ``names`` present in the plan JSON ``d``;
    ValueError (one line, naming the component) for a malformed one."""
    out = {}
    for f in names:
        if f in d:
            try:
                out[f] = Spec.from_json(d[f])
            except (ValueError, KeyError) as exc:
                raise ValueError(f"plan component {f}: {exc}") from None
    return out
