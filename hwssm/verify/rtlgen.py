"""Generated RTL for a model, cached: ``cache_dir()/rtl/<model digest>-<DesignPoint.key()>-<generator>``.

The key holds the model digest, the whole design point (lanes, sequence length, pipeline,
storage, soft multipliers: :meth:`~hwssm.hw.options.DesignPoint.key`) and the generator
version, so a changed generator, model or design gives a new directory and an unchanged one
is reused without running Amaranth again.
"""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

from .. import config
from ..hw.options import DesignPoint
from ..quant.qmodel import QModel

__all__ = ["rtl_dir"]


def rtl_dir(qm: QModel, design: DesignPoint, *, log=None) -> Path:
    """The directory holding ``hwssm_core.v`` + ``manifest.json`` of ``qm`` built as
    ``design``, generated on first use.

    Raises HwssmError (from the generator) when the RTL cannot realise the model.
    """
    from ..hw.emit import MANIFEST_NAME, VERILOG_NAME, generate, generator_version

    gen = hashlib.sha256(generator_version().encode()).hexdigest()[:10]
    root = config.cache_dir() / "rtl"
    root.mkdir(parents=True, exist_ok=True)
    name = f"{qm.digest()[:16]}-{design.key()}-{gen}"
    out = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (out / MANIFEST_NAME).is_file() and (out / VERILOG_NAME).is_file():
            return out
        if log:
            log(f"generating the RTL of the model as {design.key()} into {out}")
        man = generate(qm, design, out)
        if log:
            log(f"generated in {man['seconds']:.1f} s: {man['cycles_per_step']} cycles/step, "
                f"{man['cycles_per_digit']} cycles/digit")
    return out
