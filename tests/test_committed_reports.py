"""No committed report or manifest names an absolute path of the machine it was made on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Absolute paths of a machine (home, temporary, work and root directories).
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|tmp|root|home|Users)/")


def _committed() -> list[Path]:
    files = [p for p in (ROOT / "reports").rglob("*") if p.is_file() and p.suffix in (".md", ".json", ".log", ".txt")]
    return files + sorted((ROOT / "rtl").glob("*/manifest.json"))


@pytest.mark.skipif(not (ROOT / "reports").is_dir(), reason="needs the repository's reports/")
def test_no_machine_paths_in_reports_and_manifests():
    bad = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in _committed()
           for m in [MACHINE_PATH.search(p.read_text(errors="replace"))] if m]
    assert not bad, bad
