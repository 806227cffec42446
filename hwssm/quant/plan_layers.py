"""Per-layer precision: a plan's override of one component's format for one block.

A :class:`~hwssm.quant.plan.PrecisionPlan` gives one :class:`~hwssm.quant.spec.Spec` per
component for every block; a :class:`LayerOverride` replaces one component's Spec for one
block ``l`` (0-based, the ``layers.<l>`` of a QModel), as hls4ml's per-layer precision does.
The overridable components are the plan's ten (:class:`Component`); for ``weight`` and
``bias`` an override covers block l's mixing layer only (the encoder and decoder keep the
default); for ``act`` it covers block l's activations y, g, v, z and its output r_{l+1}.

Short-code syntax (the tail of a plan code, see :mod:`hwssm.quant.plan`)::

    CODE      = BASE { "-L" LAYER ":" TOKEN { TOKEN } }
    TOKEN     = "A" BITS [ "." BITS ]       Ā (re [. im])
              | "x" BITS [ "." BITS ]       state x (re [. im])
              | "B" BITS | "C" BITS | "D" BITS | "W" BITS (mixing weights)
              | "a" BITS (activations) | "b" BITS (mixing biases)

e.g. ``A8x8-B4C4D4-W8-a6-L2:A6x10-L3:B3C3``: block 2 has Ā at 6 bits and its state at 10,
block 3 B̄ and C̄ at 3. The tokens are the base code's own letters; no ``,`` or ``;``
(``hwssm sweep --plans`` splits on commas, and a shell would split on ``;``). A code
override changes bits only: granularity and scheme stay the default's.

Plan JSON (optional field ``layers``)::

    "layers": [{"layer": l, COMPONENT_NAME: OVERRIDE, ...}, ...]   one object per block, l ascending
    OVERRIDE = bits (keeps the default's granularity and scheme)
             | {"bits": int, "granularity": ..., "scheme": ...} (a missing key keeps the default's)

Overrides are normalized: sorted by (layer, component), an override equal to the default
is dropped, so equal plans have equal codes, JSON and QModel digests; a plan without
overrides writes no ``layers`` field (its JSON, code and digests are those of before).
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import TYPE_CHECKING

from .spec import Granularity, PlanError, Scheme, Spec, _enum

if TYPE_CHECKING:  # the plan module imports this one
    from .plan import PrecisionPlan

__all__ = ["Component", "LayerOverride", "CODE_LETTERS", "parse_layer_codes", "format_layer_codes",
           "overrides_from_json", "overrides_to_json", "override_spec", "plan_with_overrides"]


class Component(enum.Enum):
    """A plan component (a :class:`~hwssm.quant.plan.PrecisionPlan` field)."""

    A_re = "A_re"
    A_im = "A_im"
    x_re = "x_re"
    x_im = "x_im"
    B = "B"
    C = "C"
    D = "D"
    act = "act"
    weight = "weight"
    bias = "bias"

    @classmethod
    def of(cls, name) -> "Component":
        """The Component named ``name`` (a Component or its field name); PlanError otherwise."""
        if isinstance(name, cls):
            return name
        if isinstance(name, str) and name in cls.__members__:
            return cls[name]
        raise PlanError(f"unknown plan component {name!r} (one of {', '.join(cls.__members__)})")


#: Code letter -> the components it sets (a pair: re then im), in code order.
CODE_LETTERS: dict[str, tuple[Component, ...]] = {
    "A": (Component.A_re, Component.A_im), "x": (Component.x_re, Component.x_im),
    "B": (Component.B,), "C": (Component.C,), "D": (Component.D,), "W": (Component.weight,),
    "a": (Component.act,), "b": (Component.bias,),
}
_ORDER = {c: i for i, c in enumerate(Component)}
_SEGMENT = re.compile(r"-L(?P<layer>\d+):(?P<tokens>[A-Za-z0-9.]*)", re.ASCII)
_TOKEN = re.compile(r"(?P<key>[A-Za-z])(?P<re>\d+)(?:\.(?P<im>\d+))?", re.ASCII)
#: Upper bound on a layer index (a sanity bound: the QModel file's MAX_DIM).
MAX_LAYER = 1 << 16


@dataclasses.dataclass(frozen=True)
class LayerOverride:
    """Block ``layer`` (0-based) takes ``spec`` for ``component`` instead of the plan's default."""

    layer: int
    component: Component
    spec: Spec

    def __post_init__(self) -> None:
        if isinstance(self.layer, bool) or not isinstance(self.layer, int) or not 0 <= self.layer < MAX_LAYER:
            raise PlanError(f"a layer override needs a layer index in [0, {MAX_LAYER}), not {self.layer!r}")
        object.__setattr__(self, "component", Component.of(self.component))
        if not isinstance(self.spec, Spec):
            raise PlanError(f"layer {self.layer} {self.component.value}: an override needs a Spec, not {self.spec!r}")

    @property
    def key(self) -> tuple[int, int]:
        """Sort key: (layer, component order)."""
        return self.layer, _ORDER[self.component]


def override_spec(value, default: Spec, where: str) -> Spec:
    """The Spec an override ``value`` stands for: a Spec as is; bits (int), or a JSON object
    whose missing granularity/scheme keep ``default``'s. PlanError naming ``where`` otherwise."""
    if isinstance(value, Spec):
        return value
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return Spec(value, default.granularity, default.scheme)
        if isinstance(value, dict):
            unknown = set(value) - {"bits", "granularity", "scheme"}
            if unknown:
                raise ValueError(f"unknown component fields {sorted(unknown)}")
            if "bits" not in value:
                raise ValueError("component needs 'bits'")
            return Spec(value["bits"],
                        _enum(Granularity, value.get("granularity", default.granularity.value), "granularity"),
                        _enum(Scheme, value.get("scheme", default.scheme.value), "scheme"))
    except ValueError as exc:
        raise PlanError(f"{where}: {exc}") from None
    raise PlanError(f"{where}: an override must be bits (an integer), a Spec or an object, not {value!r}")


def parse_layer_codes(tail: str, default) -> tuple[LayerOverride, ...]:
    """The overrides of a code's tail (``-L2:A6x10-L3:B3``) over the plan ``default``."""
    out, pos = [], 0
    while pos < len(tail):
        m = _SEGMENT.match(tail, pos)
        if not m:
            raise PlanError(f"cannot parse layer override {tail[pos:]!r} (expected e.g. -L2:A6x10)")
        pos = m.end()
        layer, tokens, tpos = int(m["layer"]), m["tokens"], 0
        if not tokens:
            raise PlanError(f"layer override L{layer}: names no component (e.g. L{layer}:A6x10)")
        while tpos < len(tokens):
            t = _TOKEN.match(tokens, tpos)
            if not t or t["key"] not in CODE_LETTERS:
                bad = tokens[tpos:]
                raise PlanError(f"layer override L{layer}: cannot read {bad!r} (components "
                                f"{', '.join(CODE_LETTERS)}, each followed by its bits, e.g. A6x10)")
            tpos = t.end()
            comps = CODE_LETTERS[t["key"]]
            if t["im"] is not None and len(comps) == 1:
                raise PlanError(f"layer override L{layer}: {t['key']} takes one width, not {t[0][1:]!r}")
            bits = (int(t["re"]), int(t["im"] if t["im"] is not None else t["re"]))
            for comp, b in zip(comps, bits):
                spec = getattr(default, comp.value)
                out.append(LayerOverride(layer, comp, override_spec(b, spec, f"layer override L{layer} {t['key']}")))
    return tuple(out)


def format_layer_codes(plan) -> str:
    """The code tail of ``plan``'s overrides (``""`` without any), parseable by :func:`parse_layer_codes`."""
    parts = []
    for layer in sorted({o.layer for o in plan.layers}):
        eff, changed = plan.for_layer(layer), {o.component for o in plan.layers if o.layer == layer}
        tokens = []
        for key, comps in CODE_LETTERS.items():
            if changed.intersection(comps):
                b = [getattr(eff, c.value).bits for c in comps]
                tokens.append(f"{key}{b[0]}" if len(set(b)) == 1 else f"{key}{b[0]}.{b[1]}")
        parts.append(f"-L{layer}:{''.join(tokens)}")
    return "".join(parts)


def overrides_to_json(overrides: tuple[LayerOverride, ...]) -> list[dict]:
    """The plan JSON ``layers`` list (one object per block, components as full Spec objects)."""
    out: dict[int, dict] = {}
    for o in overrides:
        out.setdefault(o.layer, {"layer": o.layer})[o.component.value] = o.spec.to_json()
    return [out[l] for l in sorted(out)]


def overrides_from_json(items, default) -> tuple[LayerOverride, ...]:
    """Overrides from the plan JSON ``layers`` list over the plan ``default``; PlanError (one line)."""
    if not isinstance(items, list):
        raise PlanError(f"plan layers must be a list of objects, not {type(items).__name__}")
    out, seen = [], set()
    for i, d in enumerate(items):
        where = f"plan layers[{i}]"
        if not isinstance(d, dict):
            raise PlanError(f"{where} must be an object, not {type(d).__name__}")
        layer = d.get("layer")
        if isinstance(layer, bool) or not isinstance(layer, int):
            raise PlanError(f"{where} needs an integer 'layer', not {layer!r}")
        if layer in seen:
            raise PlanError(f"{where}: layer {layer} is listed twice")
        seen.add(layer)
        comps = [k for k in d if k != "layer"]
        if not comps:
            raise PlanError(f"{where} (layer {layer}) overrides no component")
        for k in comps:
            comp = Component.of(k) if k in Component.__members__ else None
            if comp is None:
                raise PlanError(f"{where}: unknown plan component {k!r} (one of {', '.join(Component.__members__)})")
            spec = override_spec(d[k], getattr(default, comp.value), f"{where} {k}")
            out.append(LayerOverride(layer, comp, spec))
    return tuple(out)


def plan_with_overrides(base: str | PrecisionPlan, overrides) -> PrecisionPlan:
    """``base`` (a plan, or a name / code / plan file for :func:`~hwssm.quant.plan.resolve_plan`) with per-layer overrides.

    ``overrides`` maps a block index (0-based) to ``{component: bits or Spec}`` (component a
    :class:`Component` or its name: ``A_re``, ``A_im``, ``x_re``, ``x_im``, ``B``, ``C``, ``D``,
    ``act``, ``weight``, ``bias``), or is an iterable of :class:`LayerOverride`. Bits keep the
    default's granularity and scheme. Raises HwssmError (PlanError, one line) for an unknown
    component or a block plan that breaks a rule; :meth:`~hwssm.quant.plan.PrecisionPlan.check_layers` (run by PTQ)
    refuses blocks beyond the network. Example::

        plan_with_overrides("hetero", {2: {"A_re": 6, "A_im": 6, "x_re": 10}})   # A8x8-...-a6-L2:A6x10.8
    """
    from .plan import resolve_plan  # the plan module imports this one

    plan = resolve_plan(base)
    if isinstance(overrides, dict):
        for layer, changes in overrides.items():
            if not isinstance(changes, dict):
                raise PlanError(f"layer {layer}: overrides must be a mapping component -> bits, not {changes!r}")
            plan = plan.with_layer(layer, **{Component.of(k).value: v for k, v in changes.items()})
        return plan
    items = tuple(overrides)
    if not all(isinstance(o, LayerOverride) for o in items):
        raise PlanError("overrides must be a mapping {layer: {component: bits}} or LayerOverride objects")
    replaced = {o.key for o in items}
    return dataclasses.replace(plan, layers=tuple(o for o in plan.layers if o.key not in replaced) + items, label="")
