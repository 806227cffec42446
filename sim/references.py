"""The reference designs CI proves bit-exact on real sMNIST digits; data-driven.

Sources, in order:

1. :data:`hwssm.hw.references.REFERENCES`, the designs committed under ``rtl/`` (a shipped
   model in ``models/`` on P lanes). When ``rtl/<name>/manifest.json`` exists, that
   committed Verilog is simulated as it is (its model digest must match the model);
   otherwise the RTL is generated into the cache. Entries whose model is not shipped yet
   are left out.
2. ``sim/references.json``: extra entries with ``model`` (a QModel file, or a float
   checkpoint with a ``plan`` for PTQ) or ``random`` (``random_qmodel`` arguments).

Entries marked ``fallback`` (a random model of the reference shape) are used only while
no real model is available, so adding a shipped model is one line in either table.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from hwssm.hw.options import DesignPoint
from hwssm.quant.qmodel import QModel

ROOT = Path(__file__).resolve().parent.parent
TABLE = Path(__file__).resolve().parent / "references.json"


@dataclasses.dataclass(frozen=True)
class Reference:
    """One reference design: a model built as ``design`` (``rtl``: a committed RTL directory,
    else the RTL is generated as ``design``)."""

    name: str
    design: DesignPoint
    model: Path | None = None
    plan: str | None = None
    random: dict | None = None
    rtl: Path | None = None
    fallback: bool = False

    @property
    def lanes(self) -> int:
        return self.design.lanes

    def qmodel(self) -> QModel:
        if self.model is not None:
            from hwssm.quant.resolve import resolve_model

            return resolve_model(self.model, self.plan).qmodel
        from hwssm.quant.random_qmodel import random_qmodel

        r = dict(self.random)
        return random_qmodel(r.pop("H"), r.pop("M"), r.pop("L"), **r)


def _hw_references() -> tuple:
    try:
        from hwssm.hw.references import REFERENCES
    except ImportError:
        return ()
    return REFERENCES


def references(root: Path = ROOT, table: Path = TABLE, hw=None) -> list[Reference]:
    """The reference designs (see the module docstring); ``hw`` overrides the rtl/ table,
    given as :class:`hwssm.hw.references.Reference` entries (name, model file name under
    models/, design point). The entries of ``table`` are built as ``DesignPoint(lanes)``."""
    refs = []
    for r in (_hw_references() if hw is None else hw):
        mpath = root / "models" / r.model
        if not mpath.is_file():
            continue
        rdir = root / "rtl" / r.name
        refs.append(Reference(r.name, r.design, model=mpath, rtl=rdir if (rdir / "manifest.json").is_file() else None))
    for d in json.loads(table.read_text())["designs"]:
        refs.append(Reference(d["name"], DesignPoint(int(d["lanes"])), model=root / d["model"] if d.get("model") else None,
                              plan=d.get("plan"), random=d.get("random"), fallback=bool(d.get("fallback", False))))
    real = [r for r in refs if not r.fallback]
    return real or refs
