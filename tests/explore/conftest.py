"""Tiny float checkpoints (S4D H=4, N=4, L=1 and S5 H=4, P=3, L=1; untrained) and an empty sweep cache per test."""

from __future__ import annotations

import pytest

from hwssm.model.checkpoint import init_params, save_checkpoint
from hwssm.model.config import S4DConfig
from hwssm.model.s5_config import S5Config

TINY = S4DConfig(H=4, N=4, L=1)
TINY_S5 = S5Config(H=4, P=3, L=1)
#: Test digits and calibration digits used by the explore tests (small: CI has 2 cores).
LIMIT = 6
CALIB = 8


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny"
    return save_checkpoint(path, TINY, init_params(TINY, 0))


@pytest.fixture(scope="session")
def tiny_s5_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("model_s5") / "tiny_s5"
    return save_checkpoint(path, TINY_S5, init_params(TINY_S5, 0))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh HWSSM_CACHE; returns the sweep record cache inside it."""
    from hwssm.explore.cache import RecordCache

    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    return RecordCache.default()


def confirmed_point(res, band: float) -> tuple[dict, dict]:
    """The one front point of a ``confirm=1`` search and its confirmation, checked as the report shows it:
    a fresh place-and-route, Yosys LUT4 (+ 2 per CCU2C on the ECP5) against the estimate, the estimate's
    error inside ±``band`` (the families' bands are measured on full-size models; tiny cores run high)."""
    assert len(res.front) == 1
    p = res.front[0]
    conf = p["confirmed"]
    assert conf["status"] == "ok" and not conf["cached"]
    assert conf["lut_measured"] == conf["lut"] + 2 * conf["carry"]
    assert conf["est_lut_error"] == pytest.approx((p["lut"] - conf["lut_measured"]) / conf["lut_measured"])
    assert -band < conf["est_lut_error"] < band
    return p, conf
