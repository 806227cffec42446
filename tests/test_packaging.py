"""The wheel (``pip wheel .``, not installed here) carries what an installed hwssm needs:
every package, the cocotb testbench, the shipped models, the Markdown documents."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What the build reads: the package, the shipped models and the packaging files.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "hwssm", "models")
SHIPPED = ("s4d_hetero.qmodel.json", "s4d_hetero.qmodel.npz", "s4d_qat8.qmodel.json", "s4d_qat8.qmodel.npz",
           "s4d_float.json", "s4d_float.npz")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("setuptools") is None or not (ROOT / "setup.py").is_file(),
                    reason="needs setuptools and a source checkout")
def test_wheel_has_testbench_models_and_every_package(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:  # a copy, so that the build's build/ and egg-info stay out of the checkout
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(p, src / name)
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("hwssm-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "hwssm/verify/tb/tb_core.py" in names
    assert "hwssm/board/sim/flash_model.v" in names  # the board simulation's SPI-flash model
    assert {f"hwssm/shipped_models/{f}" for f in SHIPPED} <= names
    assert "hwssm/quant/ARITHMETIC.md" in names
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "hwssm").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names
    assert not any(n.startswith(("tests/", "sim/", "rtl/", "reports/")) for n in names)
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "hwssm = hwssm.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
