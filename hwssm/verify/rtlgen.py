"""Generated RTL for a model, cached: ``cache_dir()/rtl/<model digest>-P<lanes>-T<seq_len>[-k<mix_cols>]-<generator>``.

The key holds the model digest, the lane count, the sequence length, ``Pipeline.mix_cols``
(when not the default 4) and the generator
version (a hash of the ``hwssm/hw`` sources), so a changed generator or model gives a new
directory and an unchanged one is reused without running Amaranth again.
"""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

from .. import config
from ..quant.qmodel import QModel

__all__ = ["rtl_dir"]


def rtl_dir(qm: QModel, lanes: int, seq_len: int = 784, *, mix_cols: int = 4, log=None) -> Path:
    """The directory holding ``hwssm_core.v`` + ``manifest.json`` of ``qm`` on ``lanes``
    lanes for sequences of ``seq_len`` steps (``Pipeline(mix_cols=mix_cols)``, otherwise the
    default pipeline), generated on first use.

    Raises HwssmError (from the generator) when the RTL cannot realise the model.
    """
    from ..hw.emit import MANIFEST_NAME, VERILOG_NAME, generate, generator_version

    gen = hashlib.sha256(generator_version().encode()).hexdigest()[:10]
    root = config.cache_dir() / "rtl"
    root.mkdir(parents=True, exist_ok=True)
    from ..hw.config import Pipeline

    pipe = Pipeline(mix_cols=mix_cols)
    name = f"{qm.digest()[:16]}-P{int(lanes)}-T{int(seq_len)}" + (f"-k{mix_cols}" if mix_cols != 4 else "") + f"-{gen}"
    out = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (out / MANIFEST_NAME).is_file() and (out / VERILOG_NAME).is_file():
            return out
        if log:
            log(f"generating the RTL of the model on {lanes} lanes (T={seq_len}) into {out}")
        man = generate(qm, lanes, out, seq_len=seq_len, pipeline=pipe)
        if log:
            log(f"generated in {man['seconds']:.1f} s: {man['cycles_per_step']} cycles/step, "
                f"{man['cycles_per_digit']} cycles/digit")
    return out
