"""The committed reference designs under rtl/ are up to date with the generator and the shipped models."""

import dataclasses
import json

import pytest

from hwssm.hw.emit import generator_version
from hwssm.hw.options import DesignPoint
from hwssm.hw.references import REFERENCES, find_reference
from hwssm.quant.qmodel_io import load_qmodel


@pytest.mark.parametrize("ref", REFERENCES, ids=lambda r: r.name)
def test_reference_design_is_fresh(ref):
    man_path = ref.directory / "manifest.json"
    assert man_path.exists(), f"{ref.directory} is missing: run python -m hwssm.hw.references"
    man = json.loads(man_path.read_text())
    stale = "stale: regenerate with python -m hwssm.hw.references"
    assert man["generator_version"] == generator_version(), stale
    assert man["model_digest"] == load_qmodel(ref.model_path).digest(), stale
    assert man["lanes"] == ref.lanes
    assert man["pipeline"] == dataclasses.asdict(ref.pipeline), stale
    assert (ref.directory / "hwssm_core.v").stat().st_size > 0


@pytest.mark.parametrize("ref", REFERENCES, ids=lambda r: r.name)
def test_reference_design_point_is_the_committed_one(ref):
    """The committed manifest was built as the Reference's DesignPoint, so a design
    regenerated from the table (e.g. by the simulation benchmark) equals the committed one."""
    man = json.loads((ref.directory / "manifest.json").read_text())
    fields = {k: man[k] for k in ("lanes", "seq_len", "pipeline", "storage", "soft_mul_bits")}
    assert DesignPoint.from_json(fields) == ref.design
    assert ref.design.pipeline.mix_cols == 8


def test_find_reference():
    assert find_reference("s4d_hetero.qmodel.json", 4).name == "hetero_P4"
    assert find_reference("s4d_hetero.qmodel.json", 3) is None
