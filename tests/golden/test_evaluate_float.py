"""golden.evaluate's float-agreement pass: the batched FFT float model (hwssm.model.fast) gives
the reference model's predictions; the evaluation says whether it computed, read from the cache,
skipped or had no float model; ``hwssm golden eval --[no-]float-agreement``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwssm.cli import main
from hwssm.golden.evaluate import FloatReference, evaluate, float_predictions
from hwssm.model.checkpoint import Checkpoint, init_params, save_checkpoint
from hwssm.model.config import S4DConfig
from hwssm.model.network import S4DClassifier
from hwssm.quant.random_qmodel import random_qmodel

TINY = S4DConfig(H=4, N=4, L=1)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))


def _data(n=12, T=784):
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, size=(n, T), dtype=np.uint8), rng.integers(0, 10, size=n)


def test_float_predictions_equal_the_reference_model(fresh_cache):
    ck = Checkpoint(TINY, init_params(TINY, 2), {})
    pixels, _ = _data()
    np.testing.assert_array_equal(float_predictions(ck, pixels), S4DClassifier(TINY, ck.params).predict(pixels))


def test_evaluation_says_what_it_did_about_the_float_model(fresh_cache):
    qm = random_qmodel(4, 2, 1, seed=3)
    ck = Checkpoint(TINY, init_params(TINY, 2), {})
    pixels, labels = _data()
    first = evaluate(qm, pixels, labels, ck)
    assert first.float_reference is FloatReference.COMPUTED and first.float_seconds > 0
    assert first.float_agreement is not None and first.to_json()["float_reference"] == "computed"
    again = evaluate(qm, pixels, labels, ck)
    assert again.float_reference is FloatReference.CACHED and again.float_agreement == first.float_agreement
    skipped = evaluate(qm, pixels, labels, ck, float_agreement=False)
    assert skipped.float_reference is FloatReference.SKIPPED
    assert skipped.float_agreement is None and skipped.float_accuracy is None and skipped.float_seconds is None
    none = evaluate(qm, pixels, labels)
    assert none.float_reference is FloatReference.UNAVAILABLE and none.float_agreement is None
    assert skipped.accuracy == none.accuracy == first.accuracy


def test_cli_flag(tmp_path, fresh_cache, capsys):
    ckpt = save_checkpoint(tmp_path / "tiny", TINY, init_params(TINY, 0))
    base = ["golden", "eval", "--model", str(ckpt), "--plan", "uniform8", "--calib-digits", "4", "--limit", "6"]
    for flag, ref in (("--no-float-agreement", "skipped"), ("--float-agreement", "computed"), (None, "cached")):
        assert main(base + ([flag] if flag else []) + ["--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["float_reference"] == ref
        assert (out["float_agreement"] is None) == (ref == "skipped")
    assert main(base + ["--no-float-agreement"]) == 0
    assert "float agreement skipped (--no-float-agreement)" in capsys.readouterr().out
    assert main(base) == 0
    assert "float predictions from the cache" in capsys.readouterr().out


def test_an_interrupted_engine_stops_the_float_thread_and_caches_nothing(fresh_cache, monkeypatch, tmp_path):
    """The float pass runs on a thread beside the golden engine; when the engine is interrupted
    the float pass stops (within a batch) and writes no cache entry."""
    import hwssm.golden.evaluate as ge

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(ge, "golden_predictions", interrupted)
    qm = random_qmodel(4, 2, 1, seed=3)
    ck = Checkpoint(TINY, init_params(TINY, 2), {})
    pixels, labels = _data(n=200)  # 4 batches of 64: the thread cannot have started them all
    with pytest.raises(KeyboardInterrupt):
        evaluate(qm, pixels, labels, ck)
    assert not list((tmp_path / "cache").rglob("*.npy"))
