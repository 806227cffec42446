"""The sweep results file (``hwssm sweep --out``, read by ``hwssm report``): its published schema.

Top level (every field required, no other allowed; :data:`RESULTS_SCHEMA`)::

    {"format": "hwssm-sweep-results", "version": 1, "hwssm": "<version>", "sweep_version": int,
     "spec": {sweep spec JSON}, "source": {"kind", "path", "digest"}, "stats": {...},
     "errors": ["<one line per failed record>"], "points": [POINT, ...]}

A POINT (:data:`POINT_SCHEMA`) holds the fields :func:`hwssm.explore.sweep.make_point` writes.
Required: ``plan``, ``plan_code`` (strings), ``memory_bits`` (int), ``compression`` (number),
``accuracy`` (number in [0, 1] or null), ``digits`` (int or null), ``memory_breakdown`` and
``component_bits`` (objects of numbers). Hardware points also have ``device`` (string) and
``lanes`` (int ≥ 1), and, when present, numbers for the measured resources and timing and an
``estimate`` object with numeric ``lut``, ``ff``, ``dsp``, ``bram``. Points of ``hwssm sweep
--estimate-only`` have ``"hardware": "estimate"``, ``fit`` (yes / no / borderline), ``error_band``
(the estimator's measured band) and ``clock_mhz`` (the stated clock of ``us_per_digit``) instead of
measured counts. Unknown fields are refused.
:func:`check_results` enforces it with one HwssmError line naming the file and the point.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import HwssmError

__all__ = ["RESULTS_SCHEMA", "POINT_SCHEMA", "check_results"]

#: JSON type names used by the schemas.
NUM, INT, STR, BOOL, OBJ, LIST, NULL = "number", "integer", "string", "boolean", "object", "array", "null"

#: Top-level fields of a results file and their types.
RESULTS_SCHEMA: dict[str, tuple[str, ...]] = {
    "format": (STR,), "version": (INT,), "hwssm": (STR,), "sweep_version": (INT,), "spec": (OBJ,),
    "source": (OBJ,), "stats": (OBJ,), "errors": (LIST,), "points": (LIST,),
}

_REQUIRED = {"plan": (STR,), "plan_code": (STR,), "memory_bits": (INT,), "compression": (NUM,),
             "accuracy": (NUM, NULL), "digits": (INT, NULL), "memory_breakdown": (OBJ,), "component_bits": (OBJ,)}
_OPTIONAL = {
    "plan_spec": (OBJ,), "qmodel_digest": (STR,), "H": (INT,), "M": (INT,), "P": (INT,), "family": (STR,), "L": (INT,), "float32_bits": (INT,),
    "table_bits": (INT,), "status": (STR,), "lanes": (INT, NULL), "device": (STR, NULL), "profile": (OBJ, NULL),
    "estimate": (OBJ, NULL), "estimate_error": (STR,), "message": (STR, NULL), "generator_version": (STR, NULL),
    "fits": (BOOL,), "utilization": (NUM, OBJ, NULL), "pnr_utilization": (NUM, OBJ, NULL), "source": (STR,),
    "hardware": (STR,), "fit": (STR,), "error_band": (OBJ,), "clock_mhz": (NUM,),
    **{k: (NUM, NULL) for k in ("lut", "ff", "carry", "dsp", "bram", "spram", "lutram", "fmax_mhz", "logic_cells",
                                "logic_cells_available", "dsp_available", "bram_available", "spram_available",
                                "target_mhz", "critical_path_ns", "cycles_per_step", "cycles_per_digit", "yosys_s",
                                "nextpnr_s", "us_per_digit", "digits_per_s", "lut_measured", "est_lut_error")},
}
#: Fields of a point: name -> allowed JSON types (the first eight required).
POINT_SCHEMA: dict[str, tuple[str, ...]] = {**_REQUIRED, **_OPTIONAL}
#: Numeric fields an ``estimate`` object must hold.
ESTIMATE_FIELDS = ("lut", "ff", "dsp", "bram")


def _type_of(v) -> str:
    if v is None:
        return NULL
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, int):
        return INT
    if isinstance(v, float):
        return NUM if math.isfinite(v) else "non-finite number"
    if isinstance(v, str):
        return STR
    if isinstance(v, list):
        return LIST
    if isinstance(v, dict):
        return OBJ
    return type(v).__name__


def _ok(v, kinds: tuple[str, ...]) -> bool:
    t = _type_of(v)
    return t in kinds or (t == INT and NUM in kinds)


def _check_point(where: str, p) -> None:
    if not isinstance(p, dict):
        raise HwssmError(f"{where} must be an object, not {_type_of(p)}")
    unknown = sorted(set(p) - set(POINT_SCHEMA))
    if unknown:
        raise HwssmError(f"{where}: unknown field {unknown[0]!r}")
    for k, kinds in POINT_SCHEMA.items():
        if k not in p:
            if k in _REQUIRED:
                raise HwssmError(f"{where}: missing field {k!r}")
            continue
        if not _ok(p[k], kinds):
            raise HwssmError(f"{where}: field {k!r} must be {' or '.join(kinds)}, not {_type_of(p[k])}")
    if p["accuracy"] is not None and not 0 <= p["accuracy"] <= 1:
        raise HwssmError(f"{where}: accuracy {p['accuracy']} is not in [0, 1]")
    for k in ("memory_breakdown", "component_bits"):
        bad = [n for n, v in p[k].items() if not _ok(v, (NUM,))]
        if bad:
            raise HwssmError(f"{where}: {k}.{bad[0]} must be a number")
    if (p.get("device") is None) != (p.get("lanes") is None):
        raise HwssmError(f"{where}: a hardware point needs both 'device' and 'lanes'")
    if p.get("lanes") is not None and p["lanes"] < 1:
        raise HwssmError(f"{where}: lanes must be >= 1, not {p['lanes']}")
    est = p.get("estimate")
    if est is not None:
        bad = [k for k in ESTIMATE_FIELDS if not _ok(est.get(k), (NUM,))]
        if bad:
            raise HwssmError(f"{where}: estimate.{bad[0]} must be a number")


def check_results(path: Path, d) -> None:
    """Raise HwssmError (one line naming ``path``) unless ``d`` follows :data:`RESULTS_SCHEMA`."""
    unknown = sorted(set(d) - set(RESULTS_SCHEMA))
    if unknown:
        raise HwssmError(f"{path}: unknown field {unknown[0]!r}")
    for k, kinds in RESULTS_SCHEMA.items():
        if k not in d:
            raise HwssmError(f"{path}: missing field {k!r}")
        if not _ok(d[k], kinds):
            raise HwssmError(f"{path}: field {k!r} must be {' or '.join(kinds)}, not {_type_of(d[k])}")
    if not all(isinstance(e, str) for e in d["errors"]):
        raise HwssmError(f"{path}: 'errors' must be a list of strings")
    for i, p in enumerate(d["points"]):
        _check_point(f"{path}: point {i}", p)
