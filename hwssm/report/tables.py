"""Markdown tables and number formatting for the reports."""

from __future__ import annotations

from collections.abc import Sequence


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of a GitHub Markdown table (numbers right-aligned when every cell of a column is numeric)."""
    def numeric(s: str) -> bool:
        t = s.replace(",", "").replace("%", "").replace("×", "").replace("+", "").replace("−", "-").strip()
        try:
            float(t)
            return True
        except ValueError:
            return t in ("—", "")

    align = []
    for j in range(len(header)):
        col = [r[j] for r in rows]
        align.append("---:" if col and all(numeric(c) for c in col) else "---")
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def fmt_int(v) -> str:
    return "—" if v is None else f"{int(round(v)):,}"


def fmt_num(v, digits: int = 2) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def fmt_pct(v, digits: int = 2) -> str:
    """A fraction as a percentage."""
    return "—" if v is None else f"{100 * v:.{digits}f}%"
