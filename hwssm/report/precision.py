"""Per-layer precision in reports: the widths each block of a QModel (or a plan) uses.

Shown only when they differ between blocks (a per-layer plan, :mod:`hwssm.quant.plan_layers`);
a plan with one format per component gives no section, so existing reports do not change.
Columns are bits: Ā, x (``re.im`` when the parts differ), B̄, C̄, D, the mixing W and b, and
the activations (y, g, v, z, r_out share one width per block).
"""

from __future__ import annotations

from .tables import markdown_table

__all__ = ["COLUMNS", "qmodel_layer_widths", "plan_layer_widths", "layer_widths_lines"]

#: Column names of a block's widths, in table order.
COLUMNS = ("Ā", "x", "B̄", "C̄", "D", "W", "b", "act")


def _pair(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}.{b}"


def _span(widths) -> str:
    """One width, or ``lo–hi`` when the heads of a block differ (per-head state formats do not)."""
    ws = sorted(set(widths))
    return str(ws[0]) if len(ws) == 1 else f"{ws[0]}–{ws[-1]}"


def qmodel_layer_widths(qm) -> list[dict]:
    """One row per block of ``qm`` (a :class:`~hwssm.quant.qmodel.QModel`): ``{"layer": l, COLUMN: bits}``."""
    rows = []
    for l, ly in enumerate(qm.layers):
        rows.append({"layer": l, "Ā": _pair(ly.A_re.bits, ly.A_im.bits),
                     "x": _pair(_span(f.width for f in ly.x_re), _span(f.width for f in ly.x_im)),
                     "B̄": _pair(ly.B_re.bits, ly.B_im.bits), "C̄": _pair(ly.C_re.bits, ly.C_im.bits),
                     "D": str(ly.D.bits), "W": str(ly.W.bits), "b": str(ly.b.bits), "act": str(ly.y.width)})
    return rows


def plan_layer_widths(plan, L: int) -> list[dict]:
    """The same rows for a :class:`~hwssm.quant.plan.PrecisionPlan` over ``L`` blocks (its overrides applied)."""
    rows = []
    for l in range(L):
        p = plan.for_layer(l)
        rows.append({"layer": l, "Ā": _pair(p.A_re.bits, p.A_im.bits), "x": _pair(p.x_re.bits, p.x_im.bits),
                     "B̄": str(p.B.bits), "C̄": str(p.C.bits), "D": str(p.D.bits), "W": str(p.weight.bits),
                     "b": str(p.bias.bits), "act": str(p.act.bits)})
    return rows


def layer_widths_lines(rows: list[dict], title: str = "Per-layer precision (bits)") -> list[str]:
    """Markdown lines (a title and a table, block by block) when the rows differ; ``[]`` when they do not."""
    if len({tuple(r[c] for c in COLUMNS) for r in rows}) <= 1:
        return []
    table = markdown_table(("block", *COLUMNS), [[str(r["layer"]), *(r[c] for c in COLUMNS)] for r in rows])
    return [f"**{title}**", "", *table, ""]
