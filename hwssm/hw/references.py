"""The reference designs committed under ``rtl/``: which shipped model at which lane count.

``python -m hwssm.hw.references`` regenerates them all; the test
``tests/hw/test_reference_designs.py`` fails when one is stale (its manifest names
another generator version or another model digest than the shipped model has now).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclasses.dataclass(frozen=True)
class Reference:
    """One reference design: ``rtl/<name>/`` from ``models/<model>`` on ``lanes`` lanes, with
    ``mix_cols`` real-mode columns per lane-cycle (``Pipeline.mix_cols``; the reference
    designs use all eight multipliers in the mixing layers, 1.3x fewer cycles than 4)."""

    name: str
    model: str
    lanes: int
    mix_cols: int = 8

    @property
    def pipeline(self):
        from .config import Pipeline

        return Pipeline(mix_cols=self.mix_cols)

    @property
    def directory(self) -> Path:
        return ROOT / "rtl" / self.name

    @property
    def model_path(self) -> Path:
        return ROOT / "models" / self.model


REFERENCES = (
    Reference("hetero_P4", "s4d_hetero.qmodel.json", 4),
    Reference("hetero_P16", "s4d_hetero.qmodel.json", 16),
    Reference("qat8_P16", "s4d_qat8.qmodel.json", 16),
)


def regenerate(refs=REFERENCES) -> None:
    from ..quant.qmodel_io import load_qmodel
    from .emit import generate

    for ref in refs:
        man = generate(load_qmodel(ref.model_path), ref.lanes, ref.directory, pipeline=ref.pipeline)
        print(f"{ref.directory}: {man['cycles_per_digit']} cycles/digit, utilization {man['utilization']:.4f}, "
              f"{man['seconds']:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    regenerate()
