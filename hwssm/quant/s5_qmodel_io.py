"""S5 QModel files: the QModel file format (:mod:`hwssm.quant.qmodel_io`) with ``"family": "s5"``.

``<stem>.qmodel.json`` + ``<stem>.qmodel.npz``, written as one set, never pickled, read strictly.
:func:`hwssm.quant.qmodel_io.load_qmodel` hands a file whose header says ``"family": "s5"`` to
:func:`load_s5_qmodel`; S4D files have no ``family`` field and are unchanged. The schema::

    {"format": "hwssm-qmodel", "version": 1, "family": "s5",
     "arrays": "<NPZ file name>", "arrays_sha256": "<64 hex>", "digest": "<64 hex: S5QModel.digest()>",
     "footprint_bits": int, "float32_bits": int,
     "H": int, "P": int, "L": int, "n_classes": int, "glu": "half"|"full",
     "plan": <plan JSON>, "r0": FORMAT,
     "params": {"<name>": {"bits", "signed", "frac", "zero"}, ...},
     "layers": [{"bu_re"|"bu_im"|"y"|"g"|"v"|"z"|"r_out"|"sig": FORMAT,
                 "x_re": [FORMAT] * P, "x_im": [FORMAT] * P}] * L,
     "meta": {free-form}}

``params`` names exactly ``enc_W, enc_b, dec_W, dec_b`` and ``layers.<l>.<name>`` for the names of
:data:`~hwssm.quant.s5_qmodel.S5_LAYER_PARAMS`; the NPZ holds those plus the two tables per block.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from ..io import confined, json_text, write_set
from ..model.s5_config import Glu
from .qmodel_io import (
    _HEX64, MAX_DIM, MAX_INT, PARAM_SCHEMA, QMODEL_FORMAT, QMODEL_VERSION, _check_fields, _check_format, _is_int,
    _read_arrays, qmodel_paths,
)
from .s5_qmodel import S5_LAYER_ACTS, S5_LAYER_PARAMS, S5QModel

#: Top-level fields of an S5 QModel JSON and their JSON types (every one required).
S5_QMODEL_SCHEMA: dict[str, type] = {
    "format": str, "version": int, "family": str, "arrays": str, "arrays_sha256": str, "digest": str,
    "footprint_bits": int, "float32_bits": int, "H": int, "P": int, "L": int, "n_classes": int, "glu": str,
    "plan": dict, "r0": dict, "params": dict, "layers": list, "meta": dict,
}


def s5_expected_arrays(L: int) -> tuple[list[str], list[str]]:
    """(parameter names of the header's ``params``, every array name of the NPZ) for L blocks."""
    params = ["enc_W", "enc_b"] + [f"layers.{l}.{n}" for l in range(L) for n in S5_LAYER_PARAMS] + ["dec_W", "dec_b"]
    return params, params + [f"layers.{l}.{n}" for l in range(L) for n in ("gelu_lut", "sigmoid_lut")]


def save_s5_qmodel(qm: S5QModel, path: str | Path) -> Path:
    """Validate ``qm``, write its NPZ and JSON as one set; returns the JSON path."""
    qm.validate()
    jpath, npath = qmodel_paths(path)
    header, arrays = qm.to_parts()
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v, dtype=np.int64) for k, v in arrays.items()})
    data = buf.getvalue()
    doc = {"format": QMODEL_FORMAT, "version": QMODEL_VERSION, "arrays": npath.name,
           "arrays_sha256": hashlib.sha256(data).hexdigest(), "digest": qm.digest(),
           "footprint_bits": qm.footprint_bits, "float32_bits": qm.float32_bits, **header}
    write_set([(npath, data), (jpath, json_text(doc).encode())])
    return jpath


def _check_header(jpath: Path, h: dict) -> None:
    _check_fields(str(jpath), h, S5_QMODEL_SCHEMA)
    for k in ("arrays_sha256", "digest"):
        if not _HEX64.match(h[k]):
            raise HwssmError(f"{jpath}: {k} must be 64 lower-case hex digits")
    for k in ("H", "P", "L", "n_classes"):
        if not 1 <= h[k] <= MAX_DIM:
            raise HwssmError(f"{jpath}: {k} must be in [1, {MAX_DIM}], not {h[k]}")
    if h["glu"] not in {g.value for g in Glu}:
        raise HwssmError(f"{jpath}: glu must be one of {[g.value for g in Glu]}, not {h['glu']!r}")
    _check_format(f"{jpath}: r0", h["r0"])
    names, _ = s5_expected_arrays(h["L"])
    extra = sorted(set(h["params"]) - set(names))
    if extra:
        raise HwssmError(f"{jpath}: unknown parameter {extra[0]!r}")
    for name in names:
        if name not in h["params"]:
            raise HwssmError(f"{jpath}: missing parameter {name!r}")
        _check_fields(f"{jpath}: params.{name}", h["params"][name], PARAM_SCHEMA)
        for k in ("frac", "zero"):
            if not all(_is_int(v) and abs(v) <= MAX_INT for v in h["params"][name][k]):
                raise HwssmError(f"{jpath}: params.{name}.{k} must be a list of integers")
    if len(h["layers"]) != h["L"]:
        raise HwssmError(f"{jpath}: {len(h['layers'])} layers listed, expected L={h['L']}")
    schema = {**{n: dict for n in S5_LAYER_ACTS}, "x_re": list, "x_im": list}
    for l, d in enumerate(h["layers"]):
        _check_fields(f"{jpath}: layers[{l}]", d, schema)
        for n in S5_LAYER_ACTS:
            _check_format(f"{jpath}: layers[{l}].{n}", d[n])
        for n in ("x_re", "x_im"):
            for i, f in enumerate(d[n]):
                _check_format(f"{jpath}: layers[{l}].{n}[{i}]", f)


def load_s5_qmodel(jpath: Path, header: dict) -> S5QModel:
    """The S5QModel of the JSON ``jpath`` whose parsed ``header`` says ``"family": "s5"`` (format and
    version checked here); HwssmError (one line) on any problem."""
    if header.get("format") != QMODEL_FORMAT or header.get("version") != QMODEL_VERSION:
        raise HwssmError(f"{jpath}: not a version {QMODEL_VERSION} {QMODEL_FORMAT} file "
                         f"(format {header.get('format')!r}, version {header.get('version')!r})")
    _check_header(jpath, header)
    npath = confined(jpath.parent, header["arrays"], f"{jpath}: arrays")
    try:
        data = npath.read_bytes()
    except OSError as exc:
        raise HwssmError(f"cannot read QModel arrays {npath}: {exc.strerror or exc}") from None
    if hashlib.sha256(data).hexdigest() != header["arrays_sha256"]:
        raise HwssmError(f"{npath}: SHA-256 does not match {jpath.name} (corrupt, replaced, or half-written file)")
    arrays = _read_arrays(npath, data, s5_expected_arrays(header["L"])[1])
    try:
        qm = S5QModel.from_parts(header, arrays)
        qm.validate()
    except KeyError as exc:
        raise HwssmError(f"{jpath}: missing entry {exc}") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise HwssmError(f"{jpath}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}") from None
    if header["digest"] != qm.digest():
        raise HwssmError(f"{jpath}: model digest mismatch (header edited?)")
    if header["footprint_bits"] != qm.footprint_bits or header["float32_bits"] != qm.float32_bits:
        raise HwssmError(f"{jpath}: footprint_bits/float32_bits do not match the model (header edited?)")
    return qm
