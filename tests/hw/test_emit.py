"""Verilog emission: the manifest contract, the ports of the Verilog module, Verilator lint."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from hwssm.errors import HwssmError
from hwssm.hw.emit import MANIFEST_NAME, VERILOG_NAME, generate, generator_version
from hwssm.hw.options import DesignPoint
from hwssm.quant.plan import resolve_plan
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.synth.rtl import load_rtl

#: Verilator -Wall warnings that generated Amaranth/Yosys Verilog always raises, and why each is harmless.
LINT_WAIVERS = {
    "UNUSEDSIGNAL": "Amaranth names every intermediate; the top bits of exactly-sized intermediates "
                    "(and unused ROM fields of a lane) are legitimately never read",
    "WIDTHEXPAND": "Yosys' write_verilog leaves operand extension to Verilog's context-determined sizing, "
                   "which implements Amaranth's exact-width semantics",
    "WIDTHTRUNC": "the same, for assignments that drop bits Amaranth's semantics already discarded",
    "DECLFILENAME": "the one file hwssm_core.v holds the top and its submodules (hwssm_core.core, ...), "
                    "kept hierarchical for per-unit synthesis reports",
    "PROCASSINIT": "Yosys declares registers with their reset value as initialiser and also assigns them "
                   "in always blocks (synchronous reset); the initialiser is the power-up value",
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("rtl")
    qm = random_qmodel(3, 2, 2, resolve_plan("A8x8-W8-a8-h-asym"), seed=2)
    man = generate(qm, DesignPoint(3, 6), out)
    return out, qm, man


def test_manifest_contract(small):
    out, qm, man = small
    disk = json.loads((out / MANIFEST_NAME).read_text())
    assert disk == {k: v for k, v in man.items() if k != "seconds"}
    for key in ("top", "ports", "clock", "model_digest", "plan", "lanes", "seq_len", "generator_version",
                "cycles_per_step", "cycles_per_digit", "utilization", "act_width", "logit_width"):
        assert key in disk, key
    assert disk["top"] == "hwssm_core" and disk["clock"] == "clk"
    assert disk["model_digest"] == qm.digest()
    assert disk["plan"] == qm.plan.to_json()
    assert (disk["lanes"], disk["seq_len"]) == (3, 6)
    assert disk["generator_version"] == generator_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*\+[0-9a-f]{12}", disk["generator_version"])
    rtl = load_rtl(out)  # the synthesis helper's reader accepts it
    assert rtl.top == "hwssm_core" and [p.name for p in rtl.sources] == [VERILOG_NAME]
    names = [p["name"] for p in disk["ports"]]
    assert names == ["clk", "rst", "in_valid", "in_ready", "in_data", "out_valid", "out_ready", "out_class",
                     "dbg_valid", "dbg_data", "logit_valid", "logit_data"]
    widths = {p["name"]: p["width"] for p in disk["ports"]}
    assert widths["in_data"] == 8 and widths["out_class"] == 4
    assert widths["dbg_data"] == disk["act_width"] and widths["logit_data"] == disk["logit_width"]


def test_manifest_states_the_design_point(tmp_path, small):
    """The manifest holds the design point's fields (as DesignPoint.to_json) and its key."""
    from hwssm.hw.options import ParamStorage, Pipeline

    _, _, man = small
    fields = ("lanes", "seq_len", "pipeline", "storage", "soft_mul_bits")
    assert DesignPoint.from_json({k: man[k] for k in fields}) == DesignPoint(3, 6)
    assert man["design_key"] == DesignPoint(3, 6).key()
    d = DesignPoint(2, 3, Pipeline(mem_stages=1, mix_cols=8), ParamStorage.LOAD, 4)
    other = generate(random_qmodel(3, 2, 1, resolve_plan("hetero"), seed=1), d, tmp_path)
    assert {k: other[k] for k in fields} == d.to_json() and other["design_key"] == d.key()


def test_verilog_ports_match_manifest(small):
    out, _, man = small
    text = (out / VERILOG_NAME).read_text()
    header = re.search(r"module hwssm_core\(([^)]*)\);", text)
    assert header
    top = text[header.start():text.index("endmodule", header.start())]
    declared = {}
    for d, rng, name in re.findall(r"^\s*(input|output)\s+(?:\[(\d+):0\]\s+)?(\w+);", top, re.M):
        declared[name] = (d[:-3] if d == "output" else d[:2], int(rng) + 1 if rng else 1)
    want = {p["name"]: (p["dir"], p["width"]) for p in man["ports"]}
    assert {n.strip() for n in header.group(1).split(",")} == set(want)
    assert declared == want
    assert "initial" in text  # memory contents inline


def test_foreign_verilog_refused(tmp_path):
    (tmp_path / "other.v").write_text("module other; endmodule\n")
    with pytest.raises(HwssmError, match="other Verilog"):
        generate(random_qmodel(3, 2, 1), DesignPoint(1, 2), tmp_path)


@pytest.mark.verilator
def test_verilator_lint(small):
    from hwssm.config import find_verilator

    out, _, _ = small
    v = find_verilator()
    cmd = [str(v.executable), "--lint-only", "-Wall", "--top-module", "hwssm_core", str(out / VERILOG_NAME)]
    raw = subprocess.run(cmd, env=v.env(), capture_output=True, text=True, timeout=300)
    errors = [ln for ln in raw.stderr.splitlines() if ln.startswith("%Error") and "Exiting due to" not in ln]
    assert not errors, errors[:5]
    classes = set(re.findall(r"%Warning-(\w+)", raw.stderr))
    assert classes <= set(LINT_WAIVERS), f"new warning classes: {classes - set(LINT_WAIVERS)}"
    waived = subprocess.run(cmd + [f"-Wno-{w}" for w in LINT_WAIVERS], env=v.env(), capture_output=True,
                            text=True, timeout=300)
    assert waived.returncode == 0 and "%Warning" not in waived.stderr, waived.stderr[:2000]


def test_generator_version_ignores_prose():
    """Comments and docstrings do not change the generator version; code does."""
    from hwssm.hw.emit import _code

    plain = "x = 1\ndef f(a):\n    return a + x\nclass C:\n    y = 2\n"
    prose = ('"""Module."""\nx = 1  # one\ndef f(a):\n    """Adds."""\n    # the sum\n    return a + x\n'
             'class C:\n    """A class."""\n    y = 2\n')
    assert _code(prose) == _code(plain)
    assert _code("def f():\n    '''only a docstring'''\n") == _code("def f():\n    pass\n")
    assert _code(plain.replace("a + x", "a - x")) != _code(plain)


def _package_copy(tmp_path):
    """A copy of the hwssm package's .py files (no caches) to edit."""
    import shutil

    from hwssm.hw.emit import PACKAGE

    dst = tmp_path / "hwssm"
    shutil.copytree(PACKAGE, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dst


def test_generator_version_hashes_exactly_the_generator_sources(tmp_path):
    """The version follows the code of hw/rtl/ (every file), the declared hw/ modules and
    fixed.py, and nothing else (the reference table, the estimator)."""
    from hwssm.hw.emit import GENERATOR_MODULES, PACKAGE, generator_sources, source_digest

    pkg = _package_copy(tmp_path)
    base = source_digest(pkg)
    assert base == source_digest(PACKAGE) and generator_version().endswith("+" + base[:12])
    names = {p.relative_to(pkg).as_posix() for p in generator_sources(pkg)}
    assert {"hw/rtl/core.py", "hw/rtl/lane.py", "hw/rtl/__init__.py", "fixed.py"} <= names
    assert {f"hw/{m}" for m in GENERATOR_MODULES} <= names
    assert not names & {"hw/references.py", "hw/estimate.py", "hw/__init__.py"}

    refs = pkg / "hw" / "references.py"
    refs.write_text(refs.read_text() + "\nEXTRA = 1\n")  # code, not prose
    assert source_digest(pkg) == base
    lane = pkg / "hw" / "rtl" / "lane.py"
    lane.write_text(lane.read_text() + "\nEXTRA = 1\n")
    changed = source_digest(pkg)
    assert changed != base
    (pkg / "hw" / "rtl" / "table.hex").write_text("00\n")  # any file of hw/rtl/ counts
    assert source_digest(pkg) != changed
    fixed = pkg / "fixed.py"
    before = source_digest(pkg)
    fixed.write_text(fixed.read_text() + "\nEXTRA = 1\n")
    assert source_digest(pkg) != before


def test_a_missing_generator_module_is_an_error(tmp_path):
    """Renaming or splitting a declared module without updating GENERATOR_MODULES fails
    loudly instead of silently leaving code out of the version."""
    from hwssm.hw.emit import source_digest

    pkg = _package_copy(tmp_path)
    (pkg / "hw" / "cycle_model.py").rename(pkg / "hw" / "schedule.py")
    with pytest.raises(FileNotFoundError, match="hw/cycle_model.py"):
        source_digest(pkg)


#: hwssm modules the generator imports whose code does not determine the Verilog of a given
#: model: package markers and version (the version string holds ``__version__``), error
#: messages, atomic file writing, and the QModel and its plan (the model's data, named in the
#: manifest by its digest; their code is the golden engine's contract as well).
NOT_GENERATOR_CODE = {"hwssm", "hwssm.hw", "hwssm.errors", "hwssm.io", "hwssm.quant.qmodel",
                      "hwssm.quant.plan", "hwssm.procs",  # io.py asks procs whether a temp file's writer lives
                      "hwssm.quant.spec", "hwssm.quant.plan_layers", "hwssm.quant.plan_s5",  # parts of the plan (split off plan.py)
                      "hwssm.quant.plan_code",  # the plan's short code (split off plan.py)
                      "hwssm.quant.qmodel_check",  # the QModel's legality check (split off qmodel.py)
                      "hwssm.hw.manifest",  # hashes the written files (provenance), decides none of their bytes
                      # the LayerNorm's plan components (its lowering, quant/layernorm.py, is a shared module)
                      "hwssm.quant.plan_norm",
                      "hwssm.quant.s5_qmodel",  # the S5 model's data (as quant.qmodel); its sums: quant/s5_lowering.py
                      "hwssm.model.config", "hwssm.model.s5_config"}  # the Family and Glu enums the derivation dispatches on


def _module_imports(path, module, package):
    """The hwssm modules that ``path`` (module name ``module``) imports, at any depth of its code."""
    import ast

    base = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            parts = base.split(".")
            mod = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out |= {n for n in names if n.split(".")[0] == "hwssm" and _module_path(n, package) is not None}
    return out


def _module_path(module, package):
    p = package.parent.joinpath(*module.split("."))
    return p / "__init__.py" if (p / "__init__.py").is_file() else p.with_suffix(".py") if p.with_suffix(".py").is_file() else None


def test_every_module_the_generator_imports_is_hashed_or_declared_not_generator_code():
    """A module split off config.py (or any new import of the generator) must join
    GENERATOR_MODULES or the hw/rtl/ folder, or be named above with its reason."""
    from hwssm.hw.emit import PACKAGE, generator_sources

    def name(p):
        parts = p.relative_to(PACKAGE.parent).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    hashed = {name(p) for p in generator_sources() if p.suffix == ".py"}
    seen, todo = set(hashed), list(hashed)
    while todo:
        m = todo.pop()
        for dep in _module_imports(_module_path(m, PACKAGE), m, PACKAGE) - seen:
            seen.add(dep)
            todo.append(dep)
    assert seen - hashed - NOT_GENERATOR_CODE == set()
