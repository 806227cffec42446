"""The README's Python API example runs as written (the shipped model, eight test digits)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    """The first ``python`` code block of the README's "Python API" section."""
    text = README.read_text()
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the Python API section has no python block"
    return match.group(1)


def test_the_readme_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_example(), str(README), "exec"), {"__name__": "readme"})
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and lines[0].startswith("golden: ") and "trace of r (8, 5, 784, 64)" in lines[0]
    assert "LUT4" in lines[2] and "cycles per digit" in lines[3]
    assert not list(tmp_path.iterdir())  # the example writes nothing where it runs
