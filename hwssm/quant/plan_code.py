"""The short code of a precision plan, both ways: :func:`code_of` writes it, :func:`plan_of_code` reads it.

Grammar (the module docstring of :mod:`hwssm.quant.plan` explains each part)::

    A<ar>[.<ai>]x<xr>[.<xi>][-B<b>C<c>D<d>]-W<w>-a<a>[-b<bias>][-u<re>[.<im>]][-n<g>[.<b>]][-h][-asym][-floor][-wrap][-L<l>:<tokens>]...
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from ..fixed import Overflow, Rounding
from .plan_layers import format_layer_codes, parse_layer_codes
from .plan_norm import norm_code, norm_from_flag
from .spec import Granularity, Scheme, Spec

if TYPE_CHECKING:  # hwssm.quant.plan imports this module
    from .plan import PrecisionPlan

__all__ = ["code_of", "plan_of_code"]


def code_of(plan: PrecisionPlan) -> str:
    """The short code of ``plan``'s widths, e.g. ``A8x12-B4C4D4-W8-a6-h`` (labels are not part of it)."""
    def pair(a: Spec, b: Spec) -> str:
        return str(a.bits) if a.bits == b.bits else f"{a.bits}.{b.bits}"

    parts = [f"A{pair(plan.A_re, plan.A_im)}x{pair(plan.x_re, plan.x_im)}"]
    parts.append(f"B{plan.B.bits}C{plan.C.bits}D{plan.D.bits}")
    parts.append(f"W{plan.weight.bits}")
    parts.append(f"a{plan.act.bits}")
    if plan.bias.bits != max(16, plan.weight.bits):
        parts.append(f"b{plan.bias.bits}")
    if plan.bu_re is not None:
        parts.append(f"u{pair(plan.bu_re, plan.bu_im)}")
    parts.extend(norm_code(plan))
    if plan.A_re.granularity is Granularity.PER_HEAD:
        parts.append("h")
    if plan.A_re.scheme is Scheme.ASYMMETRIC:
        parts.append("asym")
    if plan.rounding is Rounding.FLOOR:
        parts.append("floor")
    if plan.overflow is Overflow.WRAP:
        parts.append("wrap")
    return "-".join(parts) + format_layer_codes(plan)


_CODE = re.compile(
    r"^A(?P<ar>\d+)(?:\.(?P<ai>\d+))?x(?P<xr>\d+)(?:\.(?P<xi>\d+))?"
    r"(?:-B(?P<b>\d+)C(?P<c>\d+)D(?P<d>\d+))?"
    r"-W(?P<w>\d+)-a(?P<a>\d+)"
    r"(?P<flags>(?:-(?:b\d+|[un]\d+(?:\.\d+)?|h|asym|floor|wrap))*)"
    r"(?P<layers>(?:-L\d+:[A-Za-z0-9.]*)*)$",
    re.ASCII,
)


def plan_of_code(code: str, cls: type[PrecisionPlan]) -> PrecisionPlan:
    """Parse a short code such as ``A8x12-B4C4D4-W8-a6`` or ``A8x16-W8-a8`` into a ``cls`` plan.

    Without the ``-B..C..D..`` part, B̄, C̄ and D take the weight width. A tail of
    ``-L<l>:<tokens>`` segments overrides block l (:mod:`hwssm.quant.plan_layers`), e.g.
    ``A8x8-B4C4D4-W8-a6-L2:A6x10``.
    """
    if not isinstance(code, str):
        raise ValueError(f"a plan code must be a string, not {type(code).__name__}")
    m = _CODE.fullmatch(code)
    if not m:
        raise ValueError(f"cannot parse plan code {code!r} (expected e.g. A8x12-B4C4D4-W8-a6)")
    flags = [f for f in m["flags"].split("-") if f]
    gran = Granularity.PER_HEAD if "h" in flags else Granularity.PER_TENSOR
    scheme = Scheme.ASYMMETRIC if "asym" in flags else Scheme.SYMMETRIC
    w = int(m["w"])
    bias = next((int(f[1:]) for f in flags if f.startswith("b")), max(16, w))
    bu = next((f[1:].split(".") for f in flags if f.startswith("u")), None)

    def p(bits):
        return Spec(int(bits), gran, scheme)

    def s(bits):
        return Spec(int(bits), gran)

    try:
        plan = _plan_of_code(cls, m, flags, gran, w, bias, p, s)
        if bu is not None:
            plan = dataclasses.replace(plan, bu_re=Spec(int(bu[0])), bu_im=Spec(int(bu[-1])))
        for f in (f for f in flags if f.startswith("n")):
            plan = dataclasses.replace(plan, **norm_from_flag(f, gran))
        if m["layers"]:
            plan = dataclasses.replace(plan, layers=parse_layer_codes(m["layers"], plan))
        return plan
    except ValueError as exc:
        raise ValueError(f"plan code {code!r}: {exc}") from None


def _plan_of_code(cls, m, flags, gran, w, bias, p, s) -> PrecisionPlan:
    return cls(
        A_re=p(m["ar"]), A_im=p(m["ai"] or m["ar"]),
        x_re=s(m["xr"]), x_im=s(m["xi"] or m["xr"]),
        B=p(m["b"] or w), C=p(m["c"] or w), D=p(m["d"] or w),
        act=Spec(int(m["a"])), weight=p(w), bias=Spec(bias, gran),
        rounding=Rounding.FLOOR if "floor" in flags else Rounding.HALF_UP,
        overflow=Overflow.WRAP if "wrap" in flags else Overflow.SATURATE,
    )
