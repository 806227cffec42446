"""``hwssm flow --out DIR`` writes only under DIR (and the cache), records no machine path,
and leaves the repository's ``git status`` as it was."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hwssm.cli import main
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel

ROOT = Path(__file__).resolve().parents[1]


def _git_status() -> str | None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    res = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True)
    return res.stdout if res.returncode == 0 else None


def _files(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


@pytest.mark.verilator
@pytest.mark.slow
def test_flow_writes_only_under_out(tmp_path, monkeypatch, capsys):
    model = save_qmodel(random_qmodel(3, 2, 1, seed=21), tmp_path / "model" / "m")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = _git_status()
    assert main(["flow", "--out", "out", "--model", str(model), "--sim-digits", "1", "--limit", "20",
                 "--no-synth", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [s["status"] for s in summary["stages"]] == ["done"] * 5 + ["not built", "done"]
    assert {p.parts[0] for p in _files(cwd)} == {"out"}
    assert {"out/report.md", "out/flow.json", "out/rtl/sim_P16/hwssm_core.v", "out/rtl/sim_P16/manifest.json"} \
        <= {str(p) for p in _files(cwd)}
    assert _git_status() == before
    data = json.loads((cwd / "out" / "flow.json").read_text())
    assert data["sim"]["ok"] and data["sim"]["digits"] == 1 and data["designs"]["sim"]["rtl"] == "rtl/sim_P16"
    for name in ("flow.json", "report.md"):
        text = (cwd / "out" / name).read_text()
        for machine in (str(tmp_path), str(Path.home()), "/tmp/", "/work/", "/root/", "/home/"):
            assert machine not in text, (name, machine)


def test_flow_bad_options_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["flow", "--model", str(tmp_path / "none.qmodel.json")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["flow", "--plan", "hetero"]) == 2
    assert "--plan applies to a float checkpoint" in capsys.readouterr().err
