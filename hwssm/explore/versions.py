"""Versions that sweep records depend on: the EDA tools and the RTL generator (hardware records),
the code of the S5 float trace and range computation (S5 calibration records)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from .. import __version__
from ..synth.versions import tool_versions

__all__ = ["tool_versions", "generator_version", "s5_calibration_version", "S5_CALIBRATION_MODULES"]

#: The modules (under ``hwssm/``) whose code determines the calibrated S5 ranges: the float S5
#: forward with its folded trace and the range computation of PTQ.
S5_CALIBRATION_MODULES = ("model/s5_network.py", "model/s5.py", "model/s5_config.py", "model/network.py",
                          "model/s4d.py", "quant/s5_ptq.py")


def generator_version() -> str:
    """Version of the RTL generator (:func:`hwssm.hw.emit.generator_version`: the hwssm version
    and a hash of the ``hwssm/hw`` sources)."""
    from ..hw.emit import generator_version as gv

    return gv()


@functools.lru_cache(maxsize=1)
def s5_calibration_version() -> str:
    """``<hwssm version>+<first 12 hex digits of the SHA-256 of the code of S5_CALIBRATION_MODULES>``
    (each file's syntax tree without docstrings, as :func:`hwssm.hw.emit.generator_version`): an
    S5 calibration record is found again only while that code is unchanged."""
    from ..hw.emit import _code   # the generator version's reading of a file: code without docstrings

    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for name in S5_CALIBRATION_MODULES:
        h.update(name.encode() + b"\0" + _code((package / name).read_text()).encode() + b"\0")
    return f"{__version__}+{h.hexdigest()[:12]}"
