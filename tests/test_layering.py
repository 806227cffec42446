"""The package's layering, checked on the source: a module never imports a module of a higher floor.

The floors are the README's (section "Layout"); this table is their one definition.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hwssm

PACKAGE = Path(hwssm.__file__).resolve().parent

#: Floor of each top-level module or subpackage of hwssm (a dotted name matches itself and
#: everything below it; the longest match wins). Lower floors never import higher ones.
FLOORS = {
    "hwssm": 1, "hwssm.fixed": 1, "hwssm.errors": 1, "hwssm.io": 1, "hwssm.config": 1, "hwssm.progress": 1,
    "hwssm.procs": 1,
    "hwssm.model": 2, "hwssm.data": 2, "hwssm.quant": 2, "hwssm.targets": 2, "hwssm.report": 2,
    "hwssm.hw.options": 2,
    "hwssm.golden": 3, "hwssm.hw": 3, "hwssm.synth": 3, "hwssm.train": 3,
    "hwssm.verify": 4, "hwssm.board": 4,
    "hwssm.explore": 5, "hwssm.flow": 5, "hwssm.flow_hw": 5, "hwssm.api": 5,
    "hwssm.commands": 6, "hwssm.cli": 6,
}


#: The one sanctioned upward reference: the package's top level re-exports the Python API
#: lazily (``hwssm.evaluate`` imports :mod:`hwssm.api` on first use; ``import hwssm`` alone
#: imports nothing above floor 1).
LAZY_REEXPORTS = {("hwssm", "hwssm.api")}


def floor(module: str) -> int:
    best = max((k for k in FLOORS if module == k or module.startswith(k + ".")), key=len)
    return FLOORS[best]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every hwssm import in ``path`` (functions' bodies included)."""
    mod = _module_name(path)
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("hwssm"):
                continue
            # ``from . import x`` / ``from .pkg import mod``: the imported name may be a module
            names = [f"{target}.{a.name}" for a in node.names]
            out += [(node.lineno, n if _is_module(n) else target) for n in names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("hwssm")]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
              and str(node.args[0].value).startswith("hwssm")):
            out.append((node.lineno, str(node.args[0].value)))  # importlib.import_module("hwssm...")
    return out


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        mod = _module_name(path)
        for line, target in _imports(path):
            if floor(target) > floor(mod) and (mod, target) not in LAZY_REEXPORTS:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {mod} (floor {floor(mod)}) imports "
                           f"{target} (floor {floor(target)})")
    return bad


def test_no_import_runs_up_the_layering():
    assert violations() == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    # A module of floor 1 importing the CLI must be reported: the check can fail.
    assert floor("hwssm.fixed") < floor("hwssm.cli")
    src = tmp_path / "hwssm" / "fixed.py"
    src.parent.mkdir()
    src.write_text("from .cli import main\n")
    (tmp_path / "hwssm" / "cli.py").write_text("")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", tmp_path / "hwssm")
    assert [v.split(": ", 1)[1] for v in violations()] == ["hwssm.fixed (floor 1) imports hwssm.cli (floor 6)"]


def test_every_module_has_a_floor():
    for path in PACKAGE.rglob("*.py"):
        floor(_module_name(path))  # raises ValueError (max of nothing) for an unlisted top-level name


def _package(module: str) -> str:
    """The first two components: ``hwssm.hw.rtl.lane`` -> ``hwssm.hw`` (hw.options counts as its own)."""
    return "hwssm.hw.options" if module.startswith("hwssm.hw.options") else ".".join(module.split(".")[:2])


def package_cycles() -> list[tuple[str, str]]:
    """Pairs of packages that import each other (directly or through others)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        src = _package(_module_name(path))
        for _, target in _imports(path):
            if (_module_name(path), target) in LAZY_REEXPORTS:
                continue
            dst = _package(target)
            if dst != src and dst != "hwssm":
                graph.setdefault(src, set()).add(dst)

    def reach(a: str) -> set[str]:
        seen, todo = set(), [a]
        while todo:
            for b in graph.get(todo.pop(), ()):
                if b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen

    return sorted((a, b) for a in graph for b in reach(a) if a < b and a in reach(b))


def test_no_two_packages_import_each_other():
    assert package_cycles() == []
