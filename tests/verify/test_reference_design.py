"""``hwssm bench sim``'s reference design (hwssm/verify/bench.reference_design): the committed
one, or the same design point regenerated, never another design under its name."""

from __future__ import annotations

import json

import pytest

from hwssm.errors import HwssmError
from hwssm.hw.references import find_reference
from hwssm.quant.plan import resolve_plan
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.verify.bench import MODEL, reference_design


def test_a_lane_count_without_a_reference_design_is_refused(tmp_path):
    with pytest.raises(HwssmError, match="no reference design of s4d_hetero.qmodel.json on 3 lanes") as e:
        reference_design(3, root=tmp_path)
    assert "\n" not in str(e.value) and "--rtl" in str(e.value)


def test_the_committed_design_is_simulated_as_it_is(tmp_path):
    ref = find_reference(MODEL, 16)
    committed = tmp_path / "rtl" / ref.name
    committed.mkdir(parents=True)
    (committed / "manifest.json").write_text("{}")
    assert reference_design(16, root=tmp_path) == (committed, tmp_path / "models" / MODEL)


def test_a_missing_design_is_regenerated_as_the_reference_design_point(tmp_path, monkeypatch):
    """Without rtl/hetero_P4 the design is generated as the Reference's DesignPoint
    (mix_cols = 8, as committed), not as the default pipeline."""
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    (tmp_path / "models").mkdir()
    save_qmodel(random_qmodel(3, 2, 1, resolve_plan("hetero"), seed=3), tmp_path / "models" / MODEL)
    with pytest.raises(HwssmError, match="no committed RTL rtl/hetero_P16 and no model"):
        reference_design(16, root=tmp_path / "elsewhere")
    rtl, model = reference_design(4, root=tmp_path)
    assert model == tmp_path / "models" / MODEL
    man = json.loads((rtl / "manifest.json").read_text())
    want = find_reference(MODEL, 4).design
    assert man["design_key"] == want.key() and man["pipeline"]["mix_cols"] == 8
    assert {k: man[k] for k in ("lanes", "seq_len", "pipeline", "storage", "soft_mul_bits")} == want.to_json()
