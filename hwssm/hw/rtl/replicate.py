"""Fold repeated items of Verilog concatenations into replications.

Amaranth materializes every sign extension as a concatenation, and Yosys writes it bit by
bit: ``{ a[19], a[19], a[19], a[19], a[19], a[19], a[19:6] }``. Verilator compiles each
repeated bit separately (a shift and a mask per copy, every cycle); the same value written
as ``{ {6{a[19]}}, a[19:6] }`` compiles to one negate-and-shift. Measured on the 16-lane
reference core (standalone Verilator build, best of 5 runs of 300k cycles): 0.39 s → 0.35 s,
12.2k → 10.9k instructions per cycle (callgrind).

The rewrite only changes how a concatenation is spelled: every item keeps its position
and width, so Yosys reads the same netlist from either text.
"""

from __future__ import annotations

import re

__all__ = ["fold_replications"]

#: A concatenation as Yosys writes it: ``{ item, item, ... }`` (items hold no braces).
_CONCAT = re.compile(r"\{ ([^{}]*) \}")


def _fold_items(items: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1] == items[i]:
            j += 1
        n = j - i + 1
        # an escaped identifier ends at white space: keep the space before the closing braces
        out.append(items[i] if n == 1 else f"{{{n}{{{items[i]} }}}}" if items[i].startswith("\\") and
                   not items[i].endswith("]") else f"{{{n}{{{items[i]}}}}}")
        i = j + 1
    return out


def _fold(mo: re.Match) -> str:
    items = mo.group(1).split(", ")
    if len(items) < 2 or all(a != b for a, b in zip(items, items[1:])):
        return mo.group(0)
    return "{ " + ", ".join(_fold_items(items)) + " }"


def fold_replications(text: str) -> str:
    """``text`` with every run of identical consecutive concatenation items written as one
    replication ``{n{item}}`` (see the module docstring)."""
    return _CONCAT.sub(_fold, text)
