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
