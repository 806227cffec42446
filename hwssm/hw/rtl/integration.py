"""How a generated core meets the design it is put in: module-name prefix and the optional
``last`` marker of the pixel stream (:class:`CoreInterface`).

These choices change names and the input framing, never the arithmetic or the cycle model of
a framed stream, so they are not part of the :class:`~hwssm.hw.options.DesignPoint` (whose
key names simulation caches); the manifest states them under ``interface``.
"""

from __future__ import annotations

import dataclasses
import re

from ...errors import HwssmError

__all__ = ["CoreInterface"]

_PREFIX = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)?$")


@dataclasses.dataclass(frozen=True)
class CoreInterface:
    """Integration options of a generated core.

    Parameters
    ----------
    prefix : str
        Prepended to the name of every module of the core (``""``: top ``hwssm_core``;
        ``"acme_"``: top ``acme_hwssm_core``, submodules ``acme_hwssm_core.core.*``), so that
        several differently configured cores can be elaborated in one design. A Verilog
        identifier prefix: letters, digits, ``_``, not starting with a digit.
    last : bool
        Add the ``in_last`` input (high on the last pixel of every sequence) and the
        ``frame_error`` output (one-cycle pulse when ``in_last`` disagrees with the core's
        pixel count; the core then resynchronises, :mod:`hwssm.hw.rtl.framer`).
    """

    prefix: str = ""
    last: bool = False

    def __post_init__(self):
        if not isinstance(self.prefix, str) or not _PREFIX.match(self.prefix):
            raise HwssmError(f"module prefix {self.prefix!r} is not a Verilog identifier prefix "
                             "(letters, digits, '_'; not starting with a digit)")
        if not isinstance(self.last, bool):
            raise HwssmError(f"CoreInterface.last must be a bool, not {type(self.last).__name__}")

    def to_json(self) -> dict:
        """``{"prefix": str, "last": bool}``."""
        return {"prefix": self.prefix, "last": self.last}

    @classmethod
    def from_json(cls, obj) -> "CoreInterface":
        """The inverse of :meth:`to_json` (a missing object or field: the default)."""
        obj = obj or {}
        if not isinstance(obj, dict) or set(obj) - {"prefix", "last"}:
            raise HwssmError(f"a core interface must be a JSON object with 'prefix' and 'last', not {obj!r}")
        return cls(prefix=obj.get("prefix", ""), last=obj.get("last", False))
