"""QModel files: ``<stem>.qmodel.json`` (formats, plan, provenance) + ``<stem>.qmodel.npz`` (integer codes).

Never pickled. Loading validates the format name and version, the array hash,
every shape, code range and table size; any problem is one HwssmError line.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from ..io import atomic_path, write_json
from .qmodel import QModel

QMODEL_FORMAT = "hwssm-qmodel"
QMODEL_VERSION = 1
SUFFIX = ".qmodel.json"


def qmodel_paths(path: str | Path) -> tuple[Path, Path]:
    """(json path, npz path) for a stem, a ``.qmodel.json`` path or a ``.qmodel.npz`` path."""
    p = Path(path)
    name = p.name
    for suffix in (SUFFIX, ".qmodel.npz", ".qmodel"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    stem = p.with_name(name)
    return stem.with_name(name + SUFFIX), stem.with_name(name + ".qmodel.npz")


def is_qmodel_path(path: str | Path) -> bool:
    return str(path).endswith((SUFFIX, ".qmodel.npz", ".qmodel"))


def save_qmodel(qm: QModel, path: str | Path) -> Path:
    """Write the QModel atomically; returns the JSON path."""
    qm.validate()
    jpath, npath = qmodel_paths(path)
    header, arrays = qm.to_parts()
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v, dtype=np.int64) for k, v in arrays.items()})
    data = buf.getvalue()
    with atomic_path(npath, suffix=".npz") as tmp:
        tmp.write_bytes(data)
    header = {"format": QMODEL_FORMAT, "version": QMODEL_VERSION, "arrays": npath.name,
              "arrays_sha256": hashlib.sha256(data).hexdigest(), "digest": qm.digest(),
              "footprint_bits": qm.footprint_bits, "float32_bits": qm.float32_bits, **header}
    write_json(jpath, header)
    return jpath


def load_qmodel(path: str | Path) -> QModel:
    """Read and validate a QModel; HwssmError (one line) on any problem."""
    jpath, npath = qmodel_paths(path)
    try:
        header = json.loads(jpath.read_text())
    except FileNotFoundError:
        raise HwssmError(f"QModel file {jpath} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HwssmError(f"QModel file {jpath} is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != QMODEL_FORMAT:
        raise HwssmError(f"{jpath} is not a hwssm QModel (format {header.get('format') if isinstance(header, dict) else None!r})")
    if header.get("version") != QMODEL_VERSION:
        raise HwssmError(f"{jpath}: QModel version {header.get('version')!r} is not supported (expected {QMODEL_VERSION})")
    npath = jpath.with_name(header.get("arrays", npath.name))
    try:
        data = npath.read_bytes()
    except FileNotFoundError:
        raise HwssmError(f"QModel arrays {npath} do not exist") from None
    if hashlib.sha256(data).hexdigest() != header.get("arrays_sha256"):
        raise HwssmError(f"{npath}: SHA-256 does not match {jpath.name} (corrupt or replaced file)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # zipfile/ValueError variety
        raise HwssmError(f"{npath}: cannot read arrays ({exc.__class__.__name__}: {exc})") from None
    for k, a in arrays.items():
        if a.dtype.kind not in "iu":
            raise HwssmError(f"{npath}: array {k} has dtype {a.dtype}, expected integers")
    try:
        qm = QModel.from_parts(header, arrays)
        qm.validate()
    except KeyError as exc:
        raise HwssmError(f"{jpath}: missing entry {exc}") from None
    except (ValueError, TypeError) as exc:
        raise HwssmError(f"{jpath}: {exc}") from None
    if header.get("digest") and header["digest"] != qm.digest():
        raise HwssmError(f"{jpath}: model digest mismatch (header edited?)")
    return qm
