"""Verilog emission: ``DIR/hwssm_core.v`` + ``DIR/manifest.json`` (both written atomically).

The Verilog comes from ``amaranth.back.verilog.convert(..., emit_src=False)``; memory
contents (parameters, tables) are inline ``initial`` blocks. The manifest names the model
(its digest), the precision plan, the lane count, the sequence length, the generator
version (hwssm version + a hash of the ``hwssm/hw`` sources), the cycle model's figures
and the port list with roles (see :mod:`hwssm.synth.rtl`).
"""

from __future__ import annotations

import functools
import hashlib
import time
from pathlib import Path

from .. import __version__
from ..errors import HwssmError
from ..io import write_json, write_text
from ..quant.qmodel import QModel
from .config import Pipeline, derive
from .core import TOP_NAME, HwssmCore

__all__ = ["generator_version", "generate", "VERILOG_NAME", "MANIFEST_NAME", "MANIFEST_FORMAT"]

VERILOG_NAME = f"{TOP_NAME}.v"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "hwssm-rtl"


@functools.lru_cache(maxsize=1)
def generator_version() -> str:
    """``<hwssm version>+<first 12 hex digits of SHA-256 over hwssm/hw/*.py>``."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return f"{__version__}+{h.hexdigest()[:12]}"


def verilog_text(core: HwssmCore) -> str:
    """The Verilog of ``core`` as module ``hwssm_core``."""
    from amaranth.back import verilog

    return verilog.convert(core, name=TOP_NAME, emit_src=False)


def manifest(core: HwssmCore, qm: QModel) -> dict:
    """The manifest of a generated core (JSON-able)."""
    cfg = core.config
    return {
        "format": MANIFEST_FORMAT,
        "top": TOP_NAME,
        "clock": "clk",
        "reset": "rst",
        "sources": [VERILOG_NAME],
        "ports": core.ports(),
        "model_digest": qm.digest(),
        "plan": qm.plan.to_json(),
        "lanes": cfg.P,
        "seq_len": cfg.T,
        "shape": {"H": cfg.H, "M": cfg.M, "L": cfg.L, "n_classes": cfg.n_classes},
        "pipeline": {"mul_stages": cfg.pipe.mul_stages, "tree_levels_per_stage": cfg.pipe.tree_levels_per_stage},
        "generator_version": generator_version(),
        "cycles_per_step": core.cycles_per_step,
        "cycles_per_digit": core.cycles_per_digit,
        "utilization": round(core.utilization, 6),
        "act_width": cfg.a,
        "logit_width": cfg.logit_width,
        "logit_frac": cfg.logit_frac,
    }


def generate(qm: QModel, lanes: int, out_dir: str | Path, seq_len: int = 784,
             pipeline: Pipeline | None = None) -> dict:
    """Write the Verilog and the manifest of ``qm`` on ``lanes`` lanes into ``out_dir``.

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
    cfg = derive(qm, lanes, seq_len, pipeline)  # fails (one line) before any Elaboratable exists
    core = HwssmCore(cfg)
    text = verilog_text(core)
    man = manifest(core, qm)
    write_text(out / VERILOG_NAME, text)
    write_json(out / MANIFEST_NAME, man)
    return {**man, "seconds": time.monotonic() - t0}
