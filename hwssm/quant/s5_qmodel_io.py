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
from ..io import json_text, write_set
from ..model.s5_config import Glu
from .qmodel_io import (
    _HEX64, MAX_DIM, QMODEL_FORMAT, QMODEL_VERSION, _check_fields, _check_format, check_params_and_layers,
    qmodel_paths, read_checked,
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
    check_params_and_layers(jpath, h, s5_expected_arrays(h["L"])[0], S5_LAYER_ACTS)

def load_s5_qmodel(jpath: Path, header: dict) -> S5QModel:
    """The S5QModel of the JSON ``jpath`` whose parsed ``header`` says ``"family": "s5"`` (format and
    version checked here); HwssmError (one line) on any problem."""
    if header.get("format") != QMODEL_FORMAT or header.get("version") != QMODEL_VERSION:
        raise HwssmError(f"{jpath}: not a version {QMODEL_VERSION} {QMODEL_FORMAT} file "
                         f"(format {header.get('format')!r}, version {header.get('version')!r})")
    _check_header(jpath, header)
    return read_checked(jpath, header, s5_expected_arrays(header["L"])[1], S5QModel)
