"""Precision plans: the bit-width, granularity and scheme of every component of the network.

A plan names widths only. The fractional bits of each tensor are chosen by
calibration (PTQ) or learned ranges (QAT) and live in the resulting QModel.

Components (see ``hwssm/quant/ARITHMETIC.md`` §4):

=========  ==========================================================
A_re, A_im  real and imaginary parts of Ā
x_re, x_im  real and imaginary parts of the state x
B, C, D     B̄ (both parts), C̄ (both parts), the skip D
act         every activation of the residual/GELU/mixing/GLU path
weight      encoder, mixing and decoder weights
bias        encoder, mixing and decoder biases
=========  ==========================================================

**S5** (ARITHMETIC.md §6) reads the same components (Λ̄ for Ā, dense B̄ and C̃, per head = per
mode or per channel) plus an optional B̄u format, ``bu_re``/``bu_im`` (:mod:`hwssm.quant.plan_s5`).

Short names read like ``A8x12-B4C4D4-W8-a6``: Ā bits, state bits, B̄/C̄/D bits,
weight bits, activation bits; ``A8.6`` means re 8 / im 6; a ``h`` suffix on the
whole name (``...-h``) marks per-head granularity for Ā, B̄, C̄, D and x, and
``-asym`` marks asymmetric parameters; ``-u10`` (or ``-u10.8``) gives the S5 ``bu`` widths.
Plans without ``bu`` keep their codes, JSON and digests.

**Per-layer precision.** The default is one Spec per component for every block; a plan may
override any component for any block (hls4ml-style, :mod:`hwssm.quant.plan_layers`): in a
code as a tail ``-L<l>:<tokens>`` with the code's own letters, e.g.
``A8x8-B4C4D4-W8-a6-L2:A6x10-L3:B3C3`` (block 2: Ā 6 bits, state 10; block 3: B̄, C̄ 3 bits;
blocks are 0-based), in Python with :meth:`PrecisionPlan.with_layer` or
:func:`plan_with_overrides`, in JSON with the ``layers`` list below. ``plan.for_layer(l)``
gives block l's effective plan. Plans without overrides keep their codes, JSON and digests.

Plan JSON files (the published schema, :data:`PLAN_SCHEMA`; ``PrecisionPlan.from_json`` and
:func:`resolve_plan` enforce it: unknown fields and wrong types are refused)::

    {"format": "hwssm-precision-plan",          (optional)
     "version": 1,                              (optional)
     "name": "my-plan",                         (optional: a label, a string of at most 64 printable characters)
     "A_re": COMPONENT, "A_im": ..., "x_re": ..., "x_im": ..., "B": ..., "C": ..., "D": ...,
     "act": ..., "weight": ..., "bias": ...,    (all ten required)
     "rounding": "half_up" | "floor",           (optional, default half_up)
     "overflow": "saturate" | "wrap",           (optional, default saturate)
     "bu_re": COMPONENT, "bu_im": COMPONENT,    (optional, both or neither: the S5 B̄u format)
     "layers": [{"layer": l, "A_re": OVERRIDE, ...}, ...]}   (optional: per-layer overrides, see
                                                 hwssm.quant.plan_layers; absent when there are none)
    COMPONENT = bits (an integer 2..MAX_WIDTH)
              | {"bits": int, "granularity": "per_tensor"|"per_head", "scheme": "symmetric"|"asymmetric"}
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..errors import HwssmError
from ..io import read_json
from ..fixed import Overflow, Rounding
from .plan_layers import (
    Component, LayerOverride, override_spec, overrides_from_json, overrides_to_json, plan_with_overrides,
)
from .plan_code import code_of, plan_of_code
from .plan_norm import NORM_COMPONENTS, NORM_SCHEMA, check_norm, norm_from_json, norm_to_json
from .plan_s5 import S5_COMPONENTS, S5_SCHEMA, bu_from_json, bu_to_json, check_bu
from .spec import Granularity, PlanError, Scheme, Spec, _enum

__all__ = ["Granularity", "Scheme", "Spec", "PrecisionPlan", "NAMED_PLANS", "PLAN_SCHEMA", "resolve_plan", "parse_code",
           "Component", "LayerOverride", "PlanError", "plan_with_overrides"]

PLAN_FORMAT = "hwssm-precision-plan"
PLAN_VERSION = 1
#: Longest plan name (label) a plan file may give.
MAX_NAME = 64

#: The plan JSON schema: field -> (JSON type, required). Components are an int or a Spec object.
PLAN_SCHEMA: dict[str, tuple[str, bool]] = {
    "format": ("string 'hwssm-precision-plan'", False), "version": ("integer 1", False),
    "name": ("string", False),
    **{c: ("integer or {bits, granularity, scheme}", True)
       for c in ("A_re", "A_im", "x_re", "x_im", "B", "C", "D", "act", "weight", "bias")},
    "rounding": ("string: half_up | floor", False), "overflow": ("string: saturate | wrap", False),
    "layers": ("list of {layer, component overrides} (hwssm.quant.plan_layers)", False),
    **S5_SCHEMA, **NORM_SCHEMA,
}


#: Components computed online: their scheme must be symmetric (they pass through
#: the recurrence and the residual adds, where a zero point would not cancel).
ONLINE = ("x_re", "x_im", "act")
#: Components whose granularity may be per head.
HEADED = ("A_re", "A_im", "x_re", "x_im", "B", "C", "D", "weight", "bias")


@dataclasses.dataclass(frozen=True)
class PrecisionPlan:
    """Per-component precision of the integer network. Immutable; serializable to JSON.

    ``layers`` holds the per-layer overrides (:class:`LayerOverride`), normalized on
    construction (sorted, no-ops dropped; a component overridden twice for one block or a
    block plan breaking a rule below raises :class:`PlanError`).
    """

    A_re: Spec
    A_im: Spec
    x_re: Spec
    x_im: Spec
    B: Spec
    C: Spec
    D: Spec
    act: Spec
    weight: Spec
    bias: Spec
    rounding: Rounding = Rounding.HALF_UP
    overflow: Overflow = Overflow.SATURATE
    label: str = ""
    layers: tuple[LayerOverride, ...] = ()
    bu_re: Spec | None = None
    bu_im: Spec | None = None
    ln_g: Spec | None = None   # LayerNorm γ, β (hwssm.quant.plan_norm); absent: weight, bias
    ln_b: Spec | None = None

    def __post_init__(self) -> None:
        self._check_defaults()
        self._check_bu()
        if self.layers:
            self._normalize_layers()

    def _normalize_layers(self) -> None:
        items = tuple(self.layers) if isinstance(self.layers, (tuple, list)) else None
        if items is None or not all(isinstance(o, LayerOverride) for o in items):
            raise PlanError(f"plan layers must be LayerOverride objects, not {self.layers!r}")
        keys = [o.key for o in items]
        if len(set(keys)) != len(keys):
            dup = next(o for o in items if keys.count(o.key) > 1)
            raise PlanError(f"layer {dup.layer} overrides {dup.component.value} twice")
        kept = tuple(sorted((o for o in items if o.spec != getattr(self, o.component.value)), key=lambda o: o.key))
        object.__setattr__(self, "layers", kept)
        for layer in sorted({o.layer for o in kept}):
            try:
                self.for_layer(layer)
            except ValueError as exc:
                raise PlanError(f"layer {layer}: {exc}") from None

    def _check_bu(self) -> None:
        check_bu(self.bu_re, self.bu_im)
        check_norm(self.ln_g, self.ln_b)

    @property
    def has_s5(self) -> bool:
        """True when the plan gives an S5-only component (``bu``)."""
        return self.bu_re is not None

    def bu_bits(self) -> tuple[int, int]:
        """(re, im) widths of the S5 B̄u format: ``bu`` when given, else the state's (x_re, x_im)."""
        if self.bu_re is None:
            return self.x_re.bits, self.x_im.bits
        return self.bu_re.bits, self.bu_im.bits

    def _check_defaults(self) -> None:
        for f in self.components():
            if not isinstance(getattr(self, f), Spec):
                raise ValueError(f"plan component {f} must be a Spec, not {getattr(self, f)!r}")
        for f in ONLINE:
            if getattr(self, f).scheme is not Scheme.SYMMETRIC:
                raise ValueError(f"plan component {f} must be symmetric: it is computed online, where a zero point would not cancel")
        if self.act.granularity is not Granularity.PER_TENSOR:
            raise ValueError("plan component act must be per tensor: activations are shared by all heads")
        if self.act.bits > 16:
            raise ValueError(f"plan component act has {self.act.bits} bits; at most 16 (the GELU/sigmoid tables have 2^bits entries)")
        if not isinstance(self.rounding, Rounding) or not isinstance(self.overflow, Overflow):
            raise ValueError("plan rounding/overflow must be Rounding/Overflow values")

    @staticmethod
    def components() -> tuple[str, ...]:
        return ("A_re", "A_im", "x_re", "x_im", "B", "C", "D", "act", "weight", "bias")

    # -- per-layer precision -------------------------------------------------
    def for_layer(self, layer: int) -> "PrecisionPlan":
        """Block ``layer``'s effective plan (the defaults with its overrides; no overrides of its own)."""
        mine = {o.component.value: o.spec for o in self.layers if o.layer == layer}
        if not self.layers:
            return self
        return dataclasses.replace(self, layers=(), label="", **mine)

    def check_layers(self, L: int) -> None:
        """PlanError (one line) when an override names a block beyond a network of ``L`` blocks."""
        bad = [o.layer for o in self.layers if o.layer >= L]
        if bad:
            raise PlanError(f"plan {self.name} overrides layer {bad[0]}, but the network has {L} layers (0..{L - 1})")

    @property
    def per_layer(self) -> bool:
        """True when some block's precision differs from the defaults."""
        return bool(self.layers)

    def with_layer(self, layer: int, **changes) -> "PrecisionPlan":
        """A copy where block ``layer`` takes ``changes`` (component name -> bits or Spec).

        Bits keep the default's granularity and scheme for that component; an existing
        override of the same component is replaced. Raises PlanError (one line) for an
        unknown component or an impossible block plan."""
        new = []
        for name, value in changes.items():
            comp = Component.of(name)
            new.append(LayerOverride(layer, comp, override_spec(value, getattr(self, comp.value),
                                                                f"layer {layer} {comp.value}")))
        replaced = {o.key for o in new}
        kept = tuple(o for o in self.layers if o.key not in replaced)
        return dataclasses.replace(self, layers=kept + tuple(new), label="")

    @classmethod
    def uniform(cls, bits: int, *, bias: int | None = None, granularity=Granularity.PER_TENSOR,
                scheme=Scheme.SYMMETRIC, label: str = "") -> "PrecisionPlan":
        """Every component at ``bits`` (biases at ``max(16, bits)`` unless given)."""
        p = Spec(bits, granularity, scheme)
        s = Spec(bits, granularity)
        return cls(A_re=p, A_im=p, x_re=s, x_im=s, B=p, C=p, D=p, act=Spec(bits),
                   weight=p, bias=Spec(bias if bias is not None else max(16, bits), granularity),
                   label=label)

    def with_(self, **changes) -> "PrecisionPlan":
        """A copy with components replaced; integers become per-tensor symmetric Specs
        keeping this plan's granularity and scheme for that component."""
        fixed = {}
        for k, v in changes.items():
            if isinstance(v, int) and not isinstance(v, bool):
                old = getattr(self, k)
                v = Spec(v, old.granularity, old.scheme)
            fixed[k] = v
        fixed.setdefault("label", "")
        return dataclasses.replace(self, **fixed)

    # -- names ---------------------------------------------------------------
    @property
    def name(self) -> str:
        """Short name, e.g. ``A8x12-B4C4D4-W8-a6`` (the label, if one was given)."""
        return self.label or self.code

    @property
    def code(self) -> str:
        """The short code derived from the widths (parseable by :func:`parse_code`)."""
        return code_of(self)

    # -- serialization -----------------------------------------------------
    def to_json(self) -> dict:
        d = {"format": PLAN_FORMAT, "version": PLAN_VERSION, "name": self.name}
        for f in self.components():
            d[f] = getattr(self, f).to_json()
        d["rounding"] = self.rounding.value
        d["overflow"] = self.overflow.value
        if self.layers:
            d["layers"] = overrides_to_json(self.layers)
        d.update(bu_to_json(self.bu_re, self.bu_im), **norm_to_json(self.ln_g, self.ln_b))
        return d

    @classmethod
    def from_json(cls, d: dict) -> "PrecisionPlan":
        if not isinstance(d, dict):
            raise ValueError("a plan must be a JSON object")
        if d.get("format", PLAN_FORMAT) != PLAN_FORMAT:
            raise ValueError(f"not a precision plan (format {d.get('format')!r})")
        version = d.get("version", PLAN_VERSION)
        if isinstance(version, bool) or version != PLAN_VERSION:
            raise ValueError(f"plan version {d.get('version')!r} is not supported (expected {PLAN_VERSION})")
        known = set(cls.components()) | {"format", "version", "name", "rounding", "overflow", "layers", *S5_COMPONENTS, *NORM_COMPONENTS}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown plan fields {sorted(unknown)}")
        kwargs = {}
        for f in cls.components():
            if f not in d:
                raise ValueError(f"plan is missing component {f!r}")
            try:
                kwargs[f] = Spec.from_json(d[f])
            except (ValueError, KeyError) as exc:
                raise ValueError(f"plan component {f}: {exc}") from None
        kwargs.update(bu_from_json(d), **norm_from_json(d))
        kwargs["rounding"] = _enum(Rounding, d.get("rounding", "half_up"), "plan rounding")
        kwargs["overflow"] = _enum(Overflow, d.get("overflow", "saturate"), "plan overflow")
        plan = cls(**kwargs)
        if "layers" in d:
            plan = dataclasses.replace(plan, layers=overrides_from_json(d["layers"], plan))
        name = d.get("name", "")
        if name == plan.code:  # the code (any length: per-layer codes grow with the overrides)
            return plan
        if not isinstance(name, str) or len(name) > MAX_NAME or not name.isprintable():
            raise ValueError(f"plan name must be a string of at most {MAX_NAME} printable characters, not {name!r}")
        if name and name != plan.code:
            plan = dataclasses.replace(plan, label=name)
        return plan


def parse_code(code: str) -> PrecisionPlan:
    """Parse a short code such as ``A8x12-B4C4D4-W8-a6`` or ``A8x16-W8-a8`` into a plan
    (the grammar: :mod:`hwssm.quant.plan_code`). ValueError (one line) when it does not parse."""
    return plan_of_code(code, PrecisionPlan)


def _hetero() -> PrecisionPlan:
    # The seed paper's heterogeneous plan: B̄, C̄, D at 4 bits, activations at 6, Ā and x at 8.
    return dataclasses.replace(parse_code("A8x8-B4C4D4-W8-a6"), label="hetero")


#: Named plans: uniform 16/8/6/4 bits and the seed paper's heterogeneous plan.
NAMED_PLANS: dict[str, PrecisionPlan] = {
    "uniform16": PrecisionPlan.uniform(16, label="uniform16"),
    "uniform8": PrecisionPlan.uniform(8, label="uniform8"),
    "uniform6": PrecisionPlan.uniform(6, label="uniform6"),
    "uniform4": PrecisionPlan.uniform(4, label="uniform4"),
    "hetero": _hetero(),
}


def resolve_plan(text: str | PrecisionPlan) -> PrecisionPlan:
    """A plan from a name in NAMED_PLANS, a short code, or a path to a plan JSON file.

    Raises HwssmError (one line) when none of these fits.
    """
    names = ", ".join(NAMED_PLANS)
    if isinstance(text, PrecisionPlan):
        return text
    if not isinstance(text, str):
        raise HwssmError(f"a plan must be a name ({names}), a short code or a plan file path, not {text!r}")
    if not text.strip():
        raise HwssmError(f"the plan is empty: give a named plan ({names}), a short code such as "
                         "A8x12-B4C4D4-W8-a6, or a plan JSON file")
    if text in NAMED_PLANS:
        return NAMED_PLANS[text]
    if _looks_like_path(text):
        path = Path(text)
        if path.is_dir():
            raise HwssmError(f"plan {path} is a directory: give a plan JSON file, a named plan ({names}) or a short code")
        d = read_json(path, "plan file")
        try:
            return PrecisionPlan.from_json(d)
        except (ValueError, TypeError, KeyError) as exc:
            raise HwssmError(f"plan file {path}: {exc}") from None
    try:
        return parse_code(text)
    except ValueError as exc:
        raise HwssmError(f"{exc}; or use a named plan ({names}) or a plan JSON file") from None


def _looks_like_path(text: str) -> bool:
    """True when ``text`` should be read as a plan file: it ends in .json or names something that exists."""
    if "\0" in text:
        return False
    if text.endswith(".json"):
        return True
    try:
        return Path(text).exists()
    except (OSError, ValueError):
        return False
