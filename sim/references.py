"""The reference designs CI proves bit-exact on real sMNIST digits; data-driven.

Sources, in order:

1. ``rtl/*/manifest.json`` with a ``model`` entry naming a QModel file (relative to the
   repository): the committed Verilog in that directory is simulated as it is.
2. ``sim/references.json``: entries with ``model`` (a QModel file, or a float checkpoint
   with a ``plan`` for PTQ) or ``random`` (``random_qmodel`` arguments); their RTL is
   generated into the cache.

Entries marked ``fallback`` (a random model of the reference shape) are used only while
no real model is listed, so adding a shipped model is one line in references.json (or a
generated ``rtl/<name>/`` directory).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from hwssm.quant.qmodel import QModel

ROOT = Path(__file__).resolve().parent.parent
TABLE = Path(__file__).resolve().parent / "references.json"


@dataclasses.dataclass(frozen=True)
class Reference:
    """One reference design: a model on ``lanes`` lanes (``rtl``: a committed RTL directory)."""

    name: str
    lanes: int
    model: Path | None = None
    plan: str | None = None
    random: dict | None = None
    rtl: Path | None = None
    fallback: bool = False

    def qmodel(self) -> QModel:
        if self.model is not None:
            from hwssm.quant.resolve import resolve_model

            return resolve_model(self.model, self.plan).qmodel
        from hwssm.quant.random_qmodel import random_qmodel

        r = dict(self.random)
        return random_qmodel(r.pop("H"), r.pop("M"), r.pop("L"), **r)


def references(root: Path = ROOT, table: Path = TABLE) -> list[Reference]:
    """The reference designs (see the module docstring)."""
    refs = []
    for man in sorted((root / "rtl").glob("*/manifest.json")):
        m = json.loads(man.read_text())
        if m.get("model"):
            refs.append(Reference(man.parent.name, int(m["lanes"]), model=root / m["model"], rtl=man.parent))
    for d in json.loads(table.read_text())["designs"]:
        refs.append(Reference(d["name"], int(d["lanes"]), model=root / d["model"] if d.get("model") else None,
                              plan=d.get("plan"), random=d.get("random"), fallback=bool(d.get("fallback", False))))
    real = [r for r in refs if not r.fallback]
    return real or refs
