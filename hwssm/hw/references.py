"""The reference designs committed under ``rtl/``: which shipped model built as which design point.

``python -m hwssm.hw.references`` regenerates them all; the test
``tests/hw/test_reference_designs.py`` fails when one is stale (its manifest names
another generator version or another model digest than the shipped model has now).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from .options import DesignPoint, Pipeline

ROOT = Path(__file__).resolve().parent.parent.parent
#: The pipeline of every reference design.
REFERENCE_PIPELINE = Pipeline(mix_cols=8)


@dataclasses.dataclass(frozen=True)
class Reference:
    """One reference design: ``rtl/<name>/`` from ``models/<model>`` built as ``design``.

    The reference designs use all eight multipliers of a lane in the mixing layers
    (``Pipeline.mix_cols = 8``: 1.3x fewer cycles than 4); everything else is the
    :class:`~hwssm.hw.options.DesignPoint` default (T = 784, ROM storage).
    """

    name: str
    model: str
    design: DesignPoint

    @property
    def lanes(self) -> int:
        """P, the design's lanes."""
        return self.design.lanes

    @property
    def pipeline(self) -> Pipeline:
        return self.design.pipeline

    @property
    def directory(self) -> Path:
        return ROOT / "rtl" / self.name

    @property
    def model_path(self) -> Path:
        return ROOT / "models" / self.model


REFERENCES = (
    Reference("hetero_P4", "s4d_hetero.qmodel.json", DesignPoint(4, pipeline=REFERENCE_PIPELINE)),
    Reference("hetero_P16", "s4d_hetero.qmodel.json", DesignPoint(16, pipeline=REFERENCE_PIPELINE)),
    Reference("qat8_P16", "s4d_qat8.qmodel.json", DesignPoint(16, pipeline=REFERENCE_PIPELINE)),
)


def find_reference(model: str, lanes: int) -> Reference | None:
    """The reference design of ``models/<model>`` on ``lanes`` lanes, or None."""
    return next((r for r in REFERENCES if r.model == model and r.lanes == lanes), None)


def regenerate(refs=REFERENCES) -> None:
    from ..quant.qmodel_io import load_qmodel
    from .emit import generate

    for ref in refs:
        man = generate(load_qmodel(ref.model_path), ref.design, ref.directory)
        print(f"{ref.directory}: {man['cycles_per_digit']} cycles/digit, utilization {man['utilization']:.4f}, "
              f"{man['seconds']:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    regenerate()
