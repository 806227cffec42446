"""Verilog emission: ``DIR/hwssm_core.v`` + ``DIR/manifest.json`` (both written atomically).

The Verilog comes from ``amaranth.back.verilog.convert(..., emit_src=False)``, with
repeated concatenation items written as replications (:mod:`hwssm.hw.replicate`, for
Verilator's speed); memory contents (parameters, tables) are inline ``initial`` blocks.
The manifest names the model (its digest), the precision plan, the design point
(:class:`~hwssm.hw.options.DesignPoint`: its fields and ``design_key``), the generator
version (hwssm version + a hash of the ``hwssm/hw`` sources), the cycle model's figures
and the port list with roles (see :mod:`hwssm.synth.rtl`).

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
from ..io import write_json, write_text
from ..quant.qmodel import QModel
from .config import derive
from .core import TOP_NAME, HwssmCore
from .options import DesignPoint
from .replicate import fold_replications

__all__ = ["generator_version", "generate", "VERILOG_NAME", "MANIFEST_NAME", "MANIFEST_FORMAT", "PARAMS_NAME",
           "write_image", "read_image"]

VERILOG_NAME = f"{TOP_NAME}.v"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "hwssm-rtl"
PARAMS_NAME = "params.hex"

#: A memory marked for SPRAM (``hwssm_spram``, contents don't-care) and Amaranth's all-zero init block.
_NOINIT = re.compile(
    r"(\(\* hwssm_spram = 32'd1 \*\)\n[ \t]*reg (?:\[\d+:0\] )?\S+ \[\d+:0\];\n)"
    r"[ \t]*initial begin\n(?:[ \t]*\S+\[\d+\] = \d+'h0+;\n)*[ \t]*end\n")


#: Modules of hwssm/hw that do not change the generated Verilog (the resource estimator and
#: the table of reference designs), left out of :func:`generator_version`.
NOT_GENERATOR = frozenset({"estimate.py", "references.py"})


@functools.lru_cache(maxsize=1)
def generator_version() -> str:
    """``<hwssm version>+<first 12 hex digits of SHA-256 over the code of hwssm/hw/*.py>``
    (less :data:`NOT_GENERATOR`). The code is each file's syntax tree without docstrings
    (comments are not in it), so editing prose leaves the version, the reference designs'
    freshness and the synthesis caches alone."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        if path.name in NOT_GENERATOR:
            continue
        h.update(path.name.encode())
        h.update(_code(path.read_text()).encode())
    return f"{__version__}+{h.hexdigest()[:12]}"


def _code(source: str) -> str:
    """The syntax tree of ``source`` without docstrings, as text."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree)


def verilog_text(core: HwssmCore) -> str:
    """The Verilog of ``core`` as module ``hwssm_core``."""
    from amaranth.back import verilog

    text = verilog.convert(core, name=TOP_NAME, emit_src=False)
    return fold_replications(strip_noinit(text))


def strip_noinit(text: str) -> str:
    """Drop the all-zero init of every memory marked ``hwssm_spram`` (see the module docstring)."""
    marked = text.count("(* hwssm_spram = 32'd1 *)")
    text, n = _NOINIT.subn(r"\1", text)
    if n != marked:  # pragma: no cover - Amaranth/Yosys changed how they print memories
        raise AssertionError(f"dropped the init of {n} of {marked} load/state memories")
    return text


def write_image(path: str | Path, words) -> None:
    """Write a load image: one 16-bit word per line, 4 lower-case hex digits (``$readmemh``)."""
    write_text(Path(path), "".join(f"{int(w):04x}\n" for w in words))


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
        "top": TOP_NAME,
        "clock": "clk",
        "reset": "rst",
        "sources": [VERILOG_NAME],
        "ports": core.ports(),
        "model_digest": qm.digest(),
        "plan": qm.plan.to_json(),
        "lanes": point["lanes"],
        "seq_len": point["seq_len"],
        "shape": {"H": cfg.H, "M": cfg.M, "L": cfg.L, "n_classes": cfg.n_classes},
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
    }


def _load_manifest(cfg) -> dict:
    ld = cfg.load
    return {
        "image": PARAMS_NAME,
        "ports": {"valid": "load_valid", "ready": "load_ready", "data": "load_data"},
        "sha256": _image_digest(ld.image()),
        "order": "segments in order (lane, slice); each `depth` words, address 0 first; word = bits "
                 "[16*slice, 16*slice+16) of the lane's coefficient word (S4D slot: Ar|Ai|Br|Bi|Cr|Ci, "
                 "mixing slot: W0|W1|W2|W3, effective integers, LSB first)",
        "after_reset": "stream all words before pixels; reset restarts the loader",
        **ld.describe(),
    }


def generate(qm: QModel, design: DesignPoint, out_dir: str | Path) -> dict:
    """Write the Verilog and the manifest of ``qm`` built as ``design`` into ``out_dir``
    (and, with LOAD storage, the load image ``params.hex``).

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
    core = HwssmCore(cfg)
    text = verilog_text(core)
    man = manifest(core, qm)
    if cfg.load is not None:
        write_image(out / PARAMS_NAME, cfg.load.image())
    elif (out / PARAMS_NAME).is_file():
        (out / PARAMS_NAME).unlink()  # a LOAD design's image, stale now
    write_text(out / VERILOG_NAME, text)
    write_json(out / MANIFEST_NAME, man)
    return {**man, "seconds": time.monotonic() - t0}
