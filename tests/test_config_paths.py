"""Where hwssm finds its own files: the source checkout, the shipped models."""

from __future__ import annotations

from pathlib import Path

from hwssm import config

ROOT = Path(__file__).resolve().parents[1]


def test_source_root_and_models_dir_of_a_checkout():
    assert config.source_root() == ROOT
    d = config.models_dir()
    assert d in (ROOT / "models", ROOT / "hwssm" / config.SHIPPED_MODELS)
    assert (d / "s4d_hetero.qmodel.json").is_file()


def test_data_dirs_start_with_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HWSSM_DATA", str(tmp_path))
    dirs = config.data_dirs()
    assert dirs[0] == tmp_path and ROOT / "data" / "mnist" in dirs


def test_shipped_models_by_name():
    d = config.models_dir()
    assert config.shipped_model("s4d_hetero") == d / "s4d_hetero.qmodel.json"
    assert config.shipped_model("s4d_qat8.qmodel.json") == d / "s4d_qat8.qmodel.json"
    assert config.shipped_model("s4d_float") == d / "s4d_float.json"
    assert config.shipped_model("nothing") is None and config.shipped_model("models/s4d_hetero") is None


def test_resolve_model_takes_a_shipped_name(tmp_path, monkeypatch):
    from hwssm.quant.resolve import resolve_model

    monkeypatch.chdir(tmp_path)
    res = resolve_model("s4d_hetero")
    assert res.qmodel.plan.name == "A8x5-B4C4D4-W3-a6-b8-h" and res.checkpoint_path.name == "s4d_float.json"
