"""Verilog emission: ``DIR/hwssm_core.v`` + ``DIR/manifest.json`` (both written atomically).

The Verilog comes from ``amaranth.back.verilog.convert(..., emit_src=False)``, with
repeated concatenation items written as replications (:mod:`hwssm.hw.rtl.replicate`, for
Verilator's speed), a race-free time-0 event for every ``always @*`` block and the width
lint waivers (:mod:`hwssm.hw.rtl.portable`: identical on Icarus in Verilog and SystemVerilog
mode and on Verilator), headed by the integration contract as a comment
(:mod:`hwssm.hw.rtl.contract`); memory contents (parameters, tables) are inline ``initial``
blocks. Every module is named after the top, ``<prefix>hwssm_core``
(:class:`~hwssm.hw.rtl.integration.CoreInterface`).
The manifest names the model (its digest), the precision plan, the design point
(:class:`~hwssm.hw.options.DesignPoint`: its fields and ``design_key``), the generator
version (hwssm version + a hash of the generator's code, :func:`generator_sources`), the
cycle model's figures, the port list with roles (see :mod:`hwssm.synth.rtl`), the
``interface`` (prefix, ``last``) and the ``integration`` contract (reset, stream rules,
port signedness and meaning, debug layout, tie rule, backpressure, latencies).

With :attr:`~hwssm.hw.storage.ParamStorage.LOAD` storage the generator also writes
``DIR/params.hex``, the load image (one 16-bit word per line, 4 hex digits, in load order),
and the manifest's ``load`` object describes it (word count, SHA-256 of the words as
little-endian uint16, segments, field layout) and names the load ports (``load_valid``,
``load_ready``, ``load_data``; role ``data``, so that synthesis keeps them as pins). The
all-zero ``initial`` blocks of the load memories and state banks (marked ``hwssm_spram``)
are dropped from the Verilog: their contents are don't-care, and Yosys maps only memories
without init to iCE40 SPRAM (``hwssm synth --spram`` forces the marked ones there).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
import time
from pathlib import Path

from .. import __version__
from ..errors import HwssmError
from ..io import json_text, staged_dir, write_bytes, write_text
from ..quant.qmodel import QModel
from .derive import derive
from .manifest import FILES_KEY, sha256_bytes
from .options import DesignPoint
from .rtl.contract import header, integration
from .rtl.core import TOP_NAME, HwssmCore
from .rtl.integration import CoreInterface
from .rtl.portable import lint_waivers, trigger_at_time_zero
from .rtl.replicate import fold_replications

__all__ = ["top_name", "generator_version", "generator_sources", "source_digest", "GENERATOR_MODULES", "SHARED_MODULES",
           "generate", "VERILOG_NAME", "MANIFEST_NAME", "MANIFEST_FORMAT", "PARAMS_NAME",
           "write_image", "read_image"]

VERILOG_NAME = f"{TOP_NAME}.v"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "hwssm-rtl"
PARAMS_NAME = "params.hex"

#: A memory marked for SPRAM (``hwssm_spram``, contents don't-care) and Amaranth's all-zero init block.
_NOINIT = re.compile(
    r"(\(\* hwssm_spram = 32'd1 \*\)\n[ \t]*reg (?:\[\d+:0\] )?\S+ \[\d+:0\];\n)"
    r"[ \t]*initial begin\n(?:[ \t]*\S+\[\d+\] = \d+'h0+;\n)*[ \t]*end\n")


#: The hwssm package directory (the root of the paths below).
PACKAGE = Path(__file__).resolve().parent.parent
#: The folder of ``hwssm/hw`` whose every file is generator code: the Amaranth units.
RTL_PACKAGE = "rtl"
#: The modules of ``hwssm/hw`` besides :data:`RTL_PACKAGE` whose code determines the Verilog:
#: the derivation of a core's constants, tables and ROM words from a QModel (``derive.py``,
#: ``core_config.py``, ``row_constants.py``, ``rom_table.py``),
#: the S5 family's derivation and cycle model (``derive_s5.py``, ``cycle_s5.py``), the LayerNorm
#: unit's constants and timing (``norm_config.py``),
#: the cycle model (the sequencer's schedule), this module (the text rewrites, the manifest),
#: the design point (``options.py``) and the parameter storage and load image (``storage.py``).
#: A module split off one of these is added here (``tests/hw/test_emit.py`` fails when a
#: module the generator imports is in none of these lists).
GENERATOR_MODULES = ("core_config.py", "cycle_model.py", "cycle_s5.py", "derive.py", "derive_s5.py", "emit.py",
                     "norm_config.py", "options.py", "rom_table.py", "row_constants.py", "storage.py")
#: Modules of ``hwssm`` outside ``hw/`` whose code determines the Verilog: the fixed-point
#: formats and their rounding and overflow arithmetic, and the contract's lowering (term
#: alignments, accumulator widths, requantization shifts; the LayerNorm's, ``quant/layernorm.py``).
SHARED_MODULES = ("fixed.py", "quant/lowering.py", "quant/lowering_sum.py", "quant/s5_lowering.py",
                  "quant/layernorm.py")


def generator_sources(package: Path = PACKAGE) -> list[Path]:
    """The files whose code determines the generated Verilog, in hashing order: every file of
    ``hw/rtl/`` (recursively, less ``__pycache__``), the :data:`GENERATOR_MODULES` of
    ``hw/`` (a name that is a folder stands for every file in it) and the
    :data:`SHARED_MODULES` of ``hwssm/``, under ``package`` (the hwssm package directory).
    Nothing else: the estimator, the reference table and the rest of hwssm do not change the
    Verilog. FileNotFoundError when a declared module is missing (renamed or split without
    updating the lists)."""
    hw = package / "hw"
    declared = ([hw / RTL_PACKAGE] + [hw / name for name in GENERATOR_MODULES]
                + [package / name for name in SHARED_MODULES])
    missing = [p.relative_to(package).as_posix() for p in declared if not p.exists()]
    if missing:
        raise FileNotFoundError(f"generator sources missing under {package}: {', '.join(missing)}")
    out = []
    for p in declared:
        out += sorted(f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts) if p.is_dir() else [p]
    return out


def source_digest(package: Path = PACKAGE) -> str:
    """SHA-256 (hex) over the :func:`generator_sources` of ``package``: each file's path
    relative to ``package``, then its code (a ``.py`` file's syntax tree without docstrings,
    see :func:`_code`; any other file's bytes)."""
    h = hashlib.sha256()
    for path in generator_sources(package):
        h.update(path.relative_to(package).as_posix().encode() + b"\0")
        h.update(_code(path.read_text()).encode() if path.suffix == ".py" else path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def generator_version() -> str:
    """``<hwssm version>+<first 12 hex digits of source_digest()>``: changes exactly when the
    code of a file of :func:`generator_sources` changes. Comments and docstrings are not in
    the code, so editing prose leaves the version, the reference designs' freshness and the
    synthesis caches alone."""
    return f"{__version__}+{source_digest()[:12]}"


def _code(source: str) -> str:
    """The syntax tree of ``source`` without docstrings, as text."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree)


def top_name(interface: CoreInterface = CoreInterface()) -> str:
    """The top module's name: ``hwssm_core`` after the interface's prefix."""
    return interface.prefix + TOP_NAME


def verilog_text(core: HwssmCore) -> str:
    """The Verilog of ``core`` as module :func:`top_name` (its submodules named after it), with
    the rewrites of :mod:`hwssm.hw.rtl.replicate` and :mod:`hwssm.hw.rtl.portable` (no header)."""
    from amaranth.back import verilog

    text = verilog.convert(core, name=top_name(core.interface), emit_src=False)
    return lint_waivers(trigger_at_time_zero(fold_replications(strip_noinit(text))))


def strip_noinit(text: str) -> str:
    """Drop the all-zero init of every memory marked ``hwssm_spram`` (see the module docstring)."""
    marked = text.count("(* hwssm_spram = 32'd1 *)")
    text, n = _NOINIT.subn(r"\1", text)
    if n != marked:  # pragma: no cover - Amaranth/Yosys changed how they print memories
        raise AssertionError(f"dropped the init of {n} of {marked} load/state memories")
    return text


def write_image(path: str | Path, words) -> None:
    """Write a load image: one 16-bit word per line, 4 lower-case hex digits (``$readmemh``)."""
    write_text(Path(path), _image_text(words))


def _image_text(words) -> str:
    return "".join(f"{int(w):04x}\n" for w in words)


def read_image(path: str | Path) -> list[int]:
    """The words of a load image written by :func:`write_image`."""
    return [int(ln, 16) for ln in Path(path).read_text().split()]


def _image_digest(words) -> str:
    import numpy as np

    return hashlib.sha256(np.asarray(words, dtype="<u2").tobytes()).hexdigest()


def manifest(core: HwssmCore, qm: QModel) -> dict:
    """The manifest of a generated core (JSON-able)."""
    cfg = core.config
    design = core.design
    point = design.to_json()
    return {
        "format": MANIFEST_FORMAT,
        "top": top_name(core.interface),
        "clock": "clk",
        "reset": "rst",
        "sources": [VERILOG_NAME],
        "ports": core.ports(),
        "model_digest": qm.digest(),
        "plan": qm.plan.to_json(),
        "lanes": point["lanes"],
        "seq_len": point["seq_len"],
        **_shape(cfg),
        "pipeline": point["pipeline"],
        "storage": point["storage"],
        "soft_mul_bits": point["soft_mul_bits"],
        "design_key": design.key(),
        "generator_version": generator_version(),
        "cycles_per_step": core.cycles_per_step,
        "cycles_per_digit": core.cycles_per_digit,
        "utilization": round(core.utilization, 6),
        "act_width": cfg.a,
        "logit_width": cfg.logit_width,
        "logit_frac": cfg.logit_frac,
        **({"load": _load_manifest(cfg)} if cfg.load is not None else {}),
        "interface": core.interface.to_json(),
        "integration": integration(core),
    }


def _shape(cfg) -> dict:
    """The manifest's ``shape`` (S4D: H, M, L, n_classes; S5 also ``family``, and P modes instead of M)."""
    if cfg.s5 is not None:
        return {"family": "s5", "shape": {"H": cfg.H, "P": cfg.s5.Pm, "L": cfg.L, "n_classes": cfg.n_classes}}
    return {"shape": {"H": cfg.H, "M": cfg.M, "L": cfg.L, "n_classes": cfg.n_classes}}


def _load_manifest(cfg) -> dict:
    ld = cfg.load
    return {
        "image": PARAMS_NAME,
        "ports": {"valid": "load_valid", "ready": "load_ready", "data": "load_data"},
        "sha256": _image_digest(ld.image()),
        "order": "segments in order (lane, slice); each `depth` words, address 0 first; word = bits "
                 "[16*slice, 16*slice+16) of the lane's coefficient word (" + (
                     "S4D slot: Ar|Ai|Br|Bi|Cr|Ci, mixing slot: W0|W1|W2|W3" if cfg.s5 is None else
                     "per block in issue order: B̄u passes W0|W1|..., updates Lr|Li, readout slots (h, c) "
                     "Cr|Ci aligned to the row, GLU passes W0|W1|...") + ", effective integers, LSB first)",
        "after_reset": "stream all words before pixels; reset restarts the loader",
        **ld.describe(),
    }


def generate(qm: QModel, design: DesignPoint, out_dir: str | Path,
             interface: CoreInterface = CoreInterface()) -> dict:
    """Write the Verilog and the manifest of ``qm`` built as ``design`` into ``out_dir``
    (and, with LOAD storage, the load image ``params.hex``).

    ``interface`` (:class:`~hwssm.hw.rtl.integration.CoreInterface`) gives the module-name
    prefix and the optional ``in_last`` marker; the manifest states it (``interface``) and
    the integration contract (``integration``: reset, stream rules, debug layout, tie rule,
    backpressure, latencies; :mod:`hwssm.hw.rtl.contract`), which also heads the Verilog.

    ``design`` (:class:`~hwssm.hw.options.DesignPoint`) gives the lanes, the sequence
    length, the pipeline, the storage and the soft-multiplier width; the manifest states
    its fields (``lanes``, ``seq_len``, ``pipeline``, ``storage``, ``soft_mul_bits``, as
    :meth:`~hwssm.hw.options.DesignPoint.to_json`) and its ``design_key``
    (:meth:`~hwssm.hw.options.DesignPoint.key`).
    Returns the manifest (with ``seconds``, the generation time, added in memory only).
    Raises HwssmError when the RTL cannot realise the model, or when ``out_dir`` holds
    Verilog files this generator did not write (they would be synthesized with the core).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise HwssmError(f"--out {out} exists and is not a directory")
    foreign = sorted(p.name for p in out.glob("*.v") if p.name != VERILOG_NAME) if out.is_dir() else []
    if foreign:
        raise HwssmError(f"{out} holds other Verilog files ({', '.join(foreign)}); use an empty or generator-owned directory")
    t0 = time.monotonic()
    cfg = derive(qm, design)  # fails (one line) before any Elaboratable exists
    core = HwssmCore(cfg, interface=interface)
    man = manifest(core, qm)
    text = header(man) + verilog_text(core)  # the header states the manifest without "files" (they hash the text)
    _commit(out, man, {VERILOG_NAME: text.encode(),
                       **({PARAMS_NAME: _image_text(cfg.load.image()).encode()} if cfg.load is not None else {})})
    return {**man, "seconds": time.monotonic() - t0}


def _commit(out: Path, man: dict, files: dict[str, bytes]) -> None:
    """Write ``files`` and then ``manifest.json`` (``man`` plus their SHA-256 under ``files``,
    :mod:`hwssm.hw.manifest`) into ``out`` as a set: each is written and fsynced in a staging
    sibling directory, then renamed into ``out``, the manifest last (a crash between renames
    leaves files that differ from the manifest, which every reader refuses). A stale load
    image (not in ``files``) is removed first."""
    man[FILES_KEY] = {name: sha256_bytes(data) for name, data in files.items()}
    stale = out / PARAMS_NAME
    if PARAMS_NAME not in files and stale.is_file():
        stale.unlink()  # a LOAD design's image, stale now
    with staged_dir(out) as (staging, commit):
        for name, data in files.items():
            write_bytes(staging / name, data)
        write_text(staging / MANIFEST_NAME, json_text(man))
        commit([*files, MANIFEST_NAME])
