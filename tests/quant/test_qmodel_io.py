"""QModel files: exact round trip, footprint arithmetic, and one-line errors for corruption."""

import json

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm.quant.qmodel_io import load_qmodel, qmodel_paths, save_qmodel
from hwssm.quant.random_qmodel import random_qmodel


def test_round_trip_is_exact(tmp_path):
    qm = random_qmodel(4, 3, 2, parse_code("A8x10-B4C6D5-W6-a6-h-asym"), seed=5)
    path = save_qmodel(qm, tmp_path / "m")
    back = load_qmodel(path)
    assert back.digest() == qm.digest()
    assert back.plan == qm.plan and back.footprint_bits == qm.footprint_bits


def test_footprint_counts_every_code_and_state():
    qm = random_qmodel(2, 3, 1, NAMED_PLANS["uniform8"], seed=0, n_classes=2)
    H, M = 2, 3
    # enc_W (H,1) at 8, enc_b (H) at 16; SSM 6HM + D at 8; W 2H*H at 8; b 2H at 16; dec_W 2H at 8, dec_b 2 at 16
    params = H * 8 + H * 16 + (6 * H * M + H) * 8 + 2 * H * H * 8 + 2 * H * 16 + 2 * H * 8 + 2 * 16
    state = H * M * 16
    assert qm.footprint_bits == params + state
    n = H + H + 6 * H * M + H + 2 * H * H + 2 * H + 2 * H + 2 + 2 * H * M
    assert qm.float32_bits == 32 * n


def test_asymmetric_footprint_counts_zero_points():
    qm = random_qmodel(2, 2, 1, parse_code("A8x8-W8-a8-h-asym"), seed=1)
    sym = random_qmodel(2, 2, 1, parse_code("A8x8-W8-a8-h"), seed=1)
    assert qm.footprint_bits > sym.footprint_bits


def _corrupt(tmp_path, edit):
    qm = random_qmodel(3, 2, 1, seed=2)
    jpath = save_qmodel(qm, tmp_path / "m")
    _, npath = qmodel_paths(jpath)
    edit(jpath, npath)
    with pytest.raises(HwssmError) as exc:
        load_qmodel(jpath)
    assert "\n" not in str(exc.value)
    return str(exc.value)


def test_corruptions(tmp_path):
    def version(j, n):
        d = json.loads(j.read_text()); d["version"] = 7; j.write_text(json.dumps(d))
    assert "version 7 is not supported" in _corrupt(tmp_path / "a", version)

    def truncate(j, n):
        n.write_bytes(n.read_bytes()[:100])
    assert "SHA-256" in _corrupt(tmp_path / "b", truncate)

    def badjson(j, n):
        j.write_text("{")
    assert "not valid JSON" in _corrupt(tmp_path / "c", badjson)

    def missing(j, n):
        n.unlink()
    assert "do not exist" in _corrupt(tmp_path / "d", missing)

    def frac(j, n):
        d = json.loads(j.read_text()); d["params"]["enc_W"]["frac"] = [500, 500, 500]; j.write_text(json.dumps(d))
    assert "frac" in _corrupt(tmp_path / "e", frac)

    def bits(j, n):
        d = json.loads(j.read_text()); d["params"]["enc_W"]["bits"] = 2; j.write_text(json.dumps(d))
    assert "outside" in _corrupt(tmp_path / "f", bits)
