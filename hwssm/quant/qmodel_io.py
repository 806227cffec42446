"""QModel files: ``<stem>.qmodel.json`` (formats, plan, provenance) + ``<stem>.qmodel.npz`` (integer codes).

Never pickled. The two files are committed as a set (:func:`hwssm.io.write_set`: the NPZ
first, the JSON naming it and its SHA-256 last). Loading is strict (:data:`QMODEL_SCHEMA`):
unknown fields, missing fields, wrong types, a path in ``arrays``, a missing or wrong
``digest``, and arrays the header does not name are all refused with one HwssmError line.

The schema (the published definition of the file; ``hwssm golden eval --model F`` checks a file)::

    {"format": "hwssm-qmodel", "version": 1,
     "arrays": "<file name of the NPZ, in the JSON's directory>",
     "arrays_sha256": "<64 hex>", "digest": "<64 hex: QModel.digest()>",
     "footprint_bits": int, "float32_bits": int,
     "H": int, "M": int, "L": int, "n_classes": int,
     "plan": <plan JSON, hwssm.quant.plan.PLAN_SCHEMA>,
     "r0": FORMAT,
     "params": {"<name>": {"bits": int, "signed": bool, "frac": [int] * rows, "zero": [int] * rows}, ...},
     "layers": [{"y"|"g"|"v"|"z"|"r_out"|"sig": FORMAT, "x_re": [FORMAT] * H, "x_im": [FORMAT] * H}] * L,
     "meta": {free-form JSON object},
     "C": int (optional, input channels; absent means 1), "vocab": int (optional: a token model)}
    (a layer with a LayerNorm, ARITHMETIC.md §7, also has "norm": {"prenorm": bool, "eps": int,
    "n": FORMAT}, and params/arrays layers.<l>.norm_scale, layers.<l>.norm_bias (γ, β); absent otherwise)
    FORMAT = {"width": int, "frac": int, "signed": bool, "rounding": "half_up"|..., "overflow": "saturate"|...}

``params`` names exactly ``enc_W, enc_b, dec_W, dec_b`` and ``layers.<l>.<A_re|A_im|B_re|B_im|C_re|C_im|D|W|b>``;
the NPZ holds exactly those arrays plus ``layers.<l>.gelu_lut`` and ``layers.<l>.sigmoid_lut``, all integer.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from ..io import confined, json_text, read_json, write_set
from .qmodel import LAYER_ACTS, LAYER_PARAMS, NORM_PARAMS, QModel

__all__ = ["QMODEL_FORMAT", "QMODEL_VERSION", "QMODEL_SCHEMA", "FORMAT_SCHEMA", "PARAM_SCHEMA",
           "qmodel_paths", "is_qmodel_path", "save_qmodel", "load_qmodel", "expected_arrays"]

QMODEL_FORMAT = "hwssm-qmodel"
QMODEL_VERSION = 1
SUFFIX = ".qmodel.json"

#: Top-level fields of the QModel JSON and their JSON types (every one required).
QMODEL_SCHEMA: dict[str, type | tuple[type, ...]] = {
    "format": str, "version": int, "arrays": str, "arrays_sha256": str, "digest": str,
    "footprint_bits": int, "float32_bits": int, "H": int, "M": int, "L": int, "n_classes": int,
    "plan": dict, "r0": dict, "params": dict, "layers": list, "meta": dict,
}
#: Optional top-level fields (integers): input channels C (absent: 1) and a token model's vocabulary.
OPTIONAL_FIELDS = ("C", "vocab")
#: Fields of a fixed-point format object (``QFormat``).
FORMAT_SCHEMA: dict[str, type] = {"width": int, "frac": int, "signed": bool, "rounding": str, "overflow": str}
#: Fields of a parameter's header entry (``QParam`` without its codes).
PARAM_SCHEMA: dict[str, type] = {"bits": int, "signed": bool, "frac": list, "zero": list}
#: Bound on H, M, L, n_classes (a sanity bound against absurd headers, not a design limit).
MAX_DIM = 1 << 16
#: Bound on integers in ``frac`` and ``zero`` lists (int64-safe).
MAX_INT = 1 << 62
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


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
    """Write the QModel's NPZ and JSON as one set (:func:`hwssm.io.write_set`); returns the JSON path.

    An :class:`~hwssm.quant.s5_qmodel.S5QModel` is written by :mod:`hwssm.quant.s5_qmodel_io`."""
    from .s5_qmodel import S5QModel

    if isinstance(qm, S5QModel):
        from .s5_qmodel_io import save_s5_qmodel

        return save_s5_qmodel(qm, path)
    qm.validate()
    jpath, npath = qmodel_paths(path)
    header, arrays = qm.to_parts()
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v, dtype=np.int64) for k, v in arrays.items()})
    data = buf.getvalue()
    header = {"format": QMODEL_FORMAT, "version": QMODEL_VERSION, "arrays": npath.name,
              "arrays_sha256": hashlib.sha256(data).hexdigest(), "digest": qm.digest(),
              "footprint_bits": qm.footprint_bits, "float32_bits": qm.float32_bits, **header}
    write_set([(npath, data), (jpath, json_text(header).encode())])
    return jpath


def expected_arrays(L: int, norms=()) -> tuple[list[str], list[str]]:
    """(parameter names the header's ``params`` holds, every array name the NPZ holds) for L blocks,
    the blocks ``norms`` with a LayerNorm."""
    params = (["enc_W", "enc_b"] + [f"layers.{l}.{n}" for l in range(L)
                                     for n in LAYER_PARAMS + (NORM_PARAMS if l in norms else ())]
              + ["dec_W", "dec_b"])
    luts = [f"layers.{l}.{n}" for l in range(L) for n in ("gelu_lut", "sigmoid_lut")]
    return params, params + luts


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_fields(where: str, d, schema: dict) -> None:
    if not isinstance(d, dict):
        raise HwssmError(f"{where} must be an object, not {type(d).__name__}")
    unknown = sorted(set(d) - set(schema))
    if unknown:
        raise HwssmError(f"{where}: unknown field {unknown[0]!r}")
    missing = [k for k in schema if k not in d]
    if missing:
        raise HwssmError(f"{where}: missing field {missing[0]!r}")
    for k, kind in schema.items():
        v = d[k]
        ok = _is_int(v) if kind is int else isinstance(v, kind) and not (kind is not bool and isinstance(v, bool))
        if not ok:
            raise HwssmError(f"{where}: field {k!r} must be {getattr(kind, '__name__', kind)}, not {type(v).__name__}")


def _check_header(jpath: Path, h) -> None:
    """Every structural rule of :data:`QMODEL_SCHEMA`; HwssmError naming the first broken one."""
    if not isinstance(h, dict) or h.get("format") != QMODEL_FORMAT:
        fmt = h.get("format") if isinstance(h, dict) else None
        raise HwssmError(f"{jpath} is not a hwssm QModel (format {fmt!r})")
    if h.get("version") != QMODEL_VERSION or not _is_int(h.get("version")):
        raise HwssmError(f"{jpath}: QModel version {h.get('version')!r} is not supported (expected {QMODEL_VERSION})")
    for k in OPTIONAL_FIELDS:
        if k in h and not (_is_int(h[k]) and 1 <= h[k] <= MAX_DIM):
            raise HwssmError(f"{jpath}: {k} must be an integer in [1, {MAX_DIM}], not {h[k]!r}")
    _check_fields(str(jpath), {k: v for k, v in h.items() if k not in OPTIONAL_FIELDS}, QMODEL_SCHEMA)
    for k in ("arrays_sha256", "digest"):
        if not _HEX64.match(h[k]):
            raise HwssmError(f"{jpath}: {k} must be 64 lower-case hex digits")
    for k in ("H", "M", "L", "n_classes"):
        if not 1 <= h[k] <= MAX_DIM:
            raise HwssmError(f"{jpath}: {k} must be in [1, {MAX_DIM}], not {h[k]}")
    _check_format(f"{jpath}: r0", h["r0"])
    layers = h["layers"] if isinstance(h["layers"], list) else []
    norms = norm_layers(jpath, h)
    plain = [{k: v for k, v in d.items() if k != "norm"} if isinstance(d, dict) else d for d in layers]
    check_params_and_layers(jpath, {**h, "layers": plain}, expected_arrays(h["L"], norms)[0], LAYER_ACTS)


def norm_layers(jpath: Path, h: dict) -> set[int]:
    """The blocks whose header entry has a LayerNorm (``"norm"``), each checked; HwssmError otherwise."""
    out = set()
    for l, d in enumerate(h["layers"] if isinstance(h.get("layers"), list) else []):
        if not isinstance(d, dict) or "norm" not in d:
            continue
        _check_fields(f"{jpath}: layers[{l}].norm", d["norm"], {"prenorm": bool, "eps": int, "n": dict})
        _check_format(f"{jpath}: layers[{l}].norm.n", d["norm"]["n"])
        out.add(l)
    return out


def check_params_and_layers(jpath: Path, h: dict, names, acts) -> None:
    """The ``params`` (exactly ``names``, each a :data:`PARAM_SCHEMA` record) and ``layers``
    (L records of the activation formats ``acts`` and the state formats) of a QModel header, of
    any family; HwssmError naming the first broken one."""
    extra = sorted(set(h["params"]) - set(names))
    if extra:
        raise HwssmError(f"{jpath}: unknown parameter {extra[0]!r}")
    for name in names:
        if name not in h["params"]:
            raise HwssmError(f"{jpath}: missing parameter {name!r}")
        p = h["params"][name]
        _check_fields(f"{jpath}: params.{name}", p, PARAM_SCHEMA)
        for k in ("frac", "zero"):
            if not all(_is_int(v) and abs(v) <= MAX_INT for v in p[k]):
                raise HwssmError(f"{jpath}: params.{name}.{k} must be a list of integers")
    if len(h["layers"]) != h["L"]:
        raise HwssmError(f"{jpath}: {len(h['layers'])} layers listed, expected L={h['L']}")
    layer_schema = {**{n: dict for n in acts}, "x_re": list, "x_im": list}
    for l, d in enumerate(h["layers"]):
        _check_fields(f"{jpath}: layers[{l}]", d, layer_schema)
        for n in acts:
            _check_format(f"{jpath}: layers[{l}].{n}", d[n])
        for n in ("x_re", "x_im"):
            for i, f in enumerate(d[n]):
                _check_format(f"{jpath}: layers[{l}].{n}[{i}]", f)

def _check_format(where: str, d) -> None:
    _check_fields(where, d, FORMAT_SCHEMA)
    for k in ("width", "frac"):
        if abs(d[k]) > MAX_INT:
            raise HwssmError(f"{where}: {k} {d[k]} is out of range")


def _read_arrays(npath: Path, data: bytes, names: list[str]) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            files = list(z.files)
            extra = sorted(set(files) - set(names))
            if extra:
                raise HwssmError(f"{npath}: unknown array {extra[0]!r} (not named by the QModel header)")
            missing = [n for n in names if n not in files]
            if missing:
                raise HwssmError(f"{npath}: missing array {missing[0]!r}")
            arrays = {k: z[k] for k in files}
    except HwssmError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise HwssmError(f"{npath}: cannot read arrays ({exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''})") from None
    for k, a in arrays.items():
        if a.dtype.kind not in "iu":
            raise HwssmError(f"{npath}: array {k} has dtype {a.dtype}, expected integers")
    return arrays


def load_qmodel(path: str | Path) -> QModel:
    """Read and validate a QModel (:data:`QMODEL_SCHEMA`; an S5 file, ``"family": "s5"``, by
    :func:`hwssm.quant.s5_qmodel_io.load_s5_qmodel`); HwssmError (one line) on any problem."""
    jpath, _ = qmodel_paths(path)
    header = read_json(jpath, "QModel file")
    if isinstance(header, dict) and header.get("family") == "s5":   # S5 files (S4D files have no family)
        from .s5_qmodel_io import load_s5_qmodel

        return load_s5_qmodel(jpath, header)
    _check_header(jpath, header)
    return read_checked(jpath, header, expected_arrays(header["L"], norm_layers(jpath, header))[1], QModel)


def read_checked(jpath: Path, header: dict, names, cls):
    """The model of class ``cls`` (``from_parts``, ``validate``, ``digest``) from a checked
    ``header`` and its NPZ of arrays ``names``: SHA-256, array dtypes, validation, digest and
    footprint checked; HwssmError (one line) on any problem."""
    npath = confined(jpath.parent, header["arrays"], f"{jpath}: arrays")
    try:
        data = npath.read_bytes()
    except FileNotFoundError:
        raise HwssmError(f"QModel arrays {npath} do not exist") from None
    except OSError as exc:
        raise HwssmError(f"cannot read QModel arrays {npath}: {exc.strerror or exc}") from None
    if hashlib.sha256(data).hexdigest() != header["arrays_sha256"]:
        raise HwssmError(f"{npath}: SHA-256 does not match {jpath.name} (corrupt, replaced, or half-written file: "
                         "write the QModel again)")
    arrays = _read_arrays(npath, data, names)
    try:
        qm = cls.from_parts(header, arrays)
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
