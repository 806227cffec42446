"""The sequence-data file: an NPZ of integer sequences and labels, with an optional JSON sidecar.

Arrays (read with ``allow_pickle=False``; no others allowed)::

    train_x, test_x, [val_x]   (N, T) or (N, T, C): integer codes, or floats on the declared grid
    train_y, test_y, [val_y]   (N,): integer class indices in [0, K)

``val_x``/``val_y`` come together or not at all; without them the val split is the last
``max(1, N_train // 10)`` training sequences (and train the rest). T and C must be the same in
every split; a 2-D ``x`` is C = 1. Every split holds at least one sequence.

Input format (the real input of a step is ``code * 2**-frac``). Without a sidecar the sample
dtype declares it: uint8 -> u8.8 (code p stands for p/256: MNIST pixels, the models' input),
uint16 -> u16.16, int8 -> s8.7, int16 -> s16.15; other dtypes need a sidecar. Every code must
lie in the format's range. Float arrays are accepted only with a sidecar ``input`` format:
each value must be finite and exactly a code of that format (``value * 2**frac`` an integer
in range); they are stored as those codes.

K is the sidecar's ``classes``, else the largest label + 1.

Sidecar: ``<same stem>.json`` beside the NPZ (``digits.npz`` -> ``digits.json``), all fields
optional, no others allowed::

    {"format": "hwssm-sequence-data", "version": 1,
     "name": "my-data",                          what to call the data in messages
     "classes": 10,                              K (every label must be < K)
     "input": {"width": 8, "frac": 8, "signed": false},   the format of the codes
     "encoding": "samples" | "tokens",           tokens: ids for an embedding encoder
     "vocab": 16}                                token vocabulary (tokens only; ids < vocab)

The identity of the data (its cache key) is ``npz:sha256=<NPZ SHA-256>`` plus ``+json:<sidecar
SHA-256>`` when there is a sidecar. Each violation raises :class:`~hwssm.errors.HwssmError`
with one line naming the file, the array and the problem.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from ..fixed import QFormat
from .dataset import DataSplit, Encoding, SequenceDataset, SplitData, read_only

__all__ = ["load_npz", "save_npz", "SIDECAR_SCHEMA", "FORMAT", "VERSION"]

FORMAT = "hwssm-sequence-data"
VERSION = 1
#: Fields of the sidecar JSON and their JSON types (all optional, no others allowed).
SIDECAR_SCHEMA: dict[str, type | tuple] = {"format": str, "version": int, "name": str, "classes": int,
                                           "input": dict, "encoding": str, "vocab": int}
_INPUT_FIELDS = {"width": int, "frac": int, "signed": bool}
_REQUIRED = ("train_x", "train_y", "test_x", "test_y")
_OPTIONAL = ("val_x", "val_y")
#: Input format declared by a sample dtype (no sidecar).
_DTYPE_FORMATS = {np.dtype("u1"): QFormat(8, 8, False), np.dtype("u2"): QFormat(16, 16, False),
                  np.dtype("i1"): QFormat(8, 7, True), np.dtype("i2"): QFormat(16, 15, True)}


def sidecar_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _read_sidecar(path: Path) -> dict:
    where = str(path)
    try:
        d = json.loads(path.read_text())
    except OSError as exc:
        raise HwssmError(f"{where}: cannot read: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise HwssmError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(d, dict):
        raise HwssmError(f"{where}: the sidecar must be a JSON object")
    for k, v in d.items():
        if k not in SIDECAR_SCHEMA:
            raise HwssmError(f"{where}: unknown field {k!r} (known: {', '.join(SIDECAR_SCHEMA)})")
        t = SIDECAR_SCHEMA[k]
        if isinstance(v, bool) and t is int or not isinstance(v, t):
            raise HwssmError(f"{where}: field {k!r} must be a JSON {t.__name__}, not {type(v).__name__}")
    if "format" in d and d["format"] != FORMAT:
        raise HwssmError(f"{where}: format is {d['format']!r}, expected {FORMAT!r}")
    if "version" in d and d["version"] != VERSION:
        raise HwssmError(f"{where}: version {d['version']} is not supported (this hwssm reads {VERSION})")
    if "encoding" in d and d["encoding"] not in [e.value for e in Encoding]:
        raise HwssmError(f"{where}: encoding must be 'samples' or 'tokens', not {d['encoding']!r}")
    if "classes" in d and d["classes"] < 1:
        raise HwssmError(f"{where}: classes must be >= 1, not {d['classes']}")
    if ("vocab" in d) != (d.get("encoding") == "tokens"):
        raise HwssmError(f"{where}: 'vocab' goes with \"encoding\": \"tokens\" and only with it")
    if "vocab" in d and not 1 <= d["vocab"] <= 1 << 16:
        raise HwssmError(f"{where}: vocab must be in [1, 65536], not {d['vocab']}")
    if "input" in d:
        inp = d["input"]
        for k in inp:
            if k not in _INPUT_FIELDS:
                raise HwssmError(f"{where}: unknown field input.{k} (known: width, frac, signed)")
        for k, t in _INPUT_FIELDS.items():
            if k not in inp or (t is int and isinstance(inp[k], bool)) or not isinstance(inp[k], t):
                raise HwssmError(f"{where}: input.{k} must be a JSON {'boolean' if t is bool else 'integer'}")
        try:
            d["input"] = QFormat(inp["width"], inp["frac"], inp["signed"])
        except ValueError as exc:
            raise HwssmError(f"{where}: input: {exc}") from None
    return d


def _arrays(path: Path) -> dict[str, np.ndarray]:
    where = str(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            unknown = [n for n in names if n not in _REQUIRED + _OPTIONAL]
            if unknown:
                raise HwssmError(f"{where}: unknown array {unknown[0]!r} (allowed: {', '.join(_REQUIRED + _OPTIONAL)})")
            out = {}
            for n in names:
                try:
                    out[n] = z[n]
                except ValueError as exc:
                    raise HwssmError(f"{where}: array {n} cannot be read without pickles ({exc})") from None
            return out
    except HwssmError:
        raise
    except FileNotFoundError:
        raise HwssmError(f"{where}: no such file") from None
    except OSError as exc:
        raise HwssmError(f"{where}: cannot read: {exc.strerror or exc}") from None
    except (ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise HwssmError(f"{where}: not a valid NPZ file ({exc})") from None


def _codes(where: str, name: str, x: np.ndarray, fmt: QFormat | None) -> tuple[np.ndarray, QFormat]:
    """Integer codes of ``x`` and their format (from the sidecar, else from the dtype)."""
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            i = tuple(int(v) for v in np.argwhere(bad)[0])
            raise HwssmError(f"{where}: {name} holds NaN or infinity (first at {i})")
        if fmt is None:
            raise HwssmError(f"{where}: {name} is {x.dtype}: float samples need a sidecar 'input' format "
                             "(or store integer codes, e.g. uint8)")
        scaled = np.ldexp(x.astype(np.float64), fmt.frac)
        if not np.array_equal(scaled, np.round(scaled)):
            raise HwssmError(f"{where}: {name} holds values that are not codes of {fmt.name} "
                             f"(multiples of 2^-{fmt.frac})")
        x = scaled.astype(np.int64)
    elif x.dtype.kind in "iu":
        if fmt is None:
            fmt = _DTYPE_FORMATS.get(x.dtype.newbyteorder("=") if x.dtype.byteorder == ">" else x.dtype)
            if fmt is None:
                raise HwssmError(f"{where}: {name} is {x.dtype}: this dtype declares no input format "
                                 "(use uint8/uint16/int8/int16, or a sidecar 'input' format)")
    else:
        raise HwssmError(f"{where}: {name} has dtype {x.dtype}; expected integer codes (or floats with a sidecar)")
    if x.size and (int(x.min()) < fmt.min_code or int(x.max()) > fmt.max_code):
        lo, hi = int(x.min()), int(x.max())
        raise HwssmError(f"{where}: {name} holds codes {lo}..{hi}, outside {fmt.name} "
                         f"({fmt.min_code}..{fmt.max_code})")
    return x, fmt


def load_npz(path: str | Path) -> SequenceDataset:
    """Read and validate a sequence-data NPZ (and its sidecar) into a :class:`SequenceDataset`.

    Raises
    ------
    HwssmError
        One line naming the file, the array and the problem (see the module docstring).
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise HwssmError(f"{where}: no such data file (give smnist, psmnist[:SEED], listops[:SEED] or an NPZ path)")
    side = sidecar_path(path)
    meta = _read_sidecar(side) if side.is_file() else {}
    arrays = _arrays(path)
    missing = [n for n in _REQUIRED if n not in arrays]
    if missing:
        raise HwssmError(f"{where}: missing array {missing[0]} (needs {', '.join(_REQUIRED)}; val_x, val_y optional)")
    if ("val_x" in arrays) != ("val_y" in arrays):
        raise HwssmError(f"{where}: val_x and val_y come together (found only {'val_x' if 'val_x' in arrays else 'val_y'})")
    tokens = meta.get("encoding") == "tokens"
    fmt_decl = meta.get("input")
    splits = [s for s in ("train", "val", "test") if f"{s}_x" in arrays]
    xs, ys, fmt, shape = {}, {}, None, None
    for s in splits:
        x, y = arrays[f"{s}_x"], arrays[f"{s}_y"]
        if x.ndim == 2:
            x = x[:, :, None]
        if x.ndim != 3 or 0 in x.shape:
            raise HwssmError(f"{where}: {s}_x has shape {arrays[f'{s}_x'].shape}; expected (N, T) or (N, T, C), none 0")
        if shape is not None and x.shape[1:] != shape:
            raise HwssmError(f"{where}: {s}_x has T, C = {x.shape[1:]}, but {splits[0]}_x has {shape}; "
                             "T and C must be the same in every split")
        shape = x.shape[1:]
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise HwssmError(f"{where}: {s}_y has shape {y.shape}; expected ({x.shape[0]},), one label per {s}_x row")
        if y.dtype.kind not in "iu":
            raise HwssmError(f"{where}: {s}_y has dtype {y.dtype}; labels must be integers")
        if int(y.min()) < 0:
            raise HwssmError(f"{where}: {s}_y holds a negative label ({int(y.min())})")
        x, f = _codes(where, f"{s}_x", x, fmt_decl)
        if fmt is not None and f != fmt:
            raise HwssmError(f"{where}: {s}_x has dtype {x.dtype} ({f.name}), {splits[0]}_x {fmt.name}; "
                             "store every split in one dtype")
        fmt = f
        xs[s], ys[s] = x, y.astype(np.int64)
    if tokens:
        vocab = meta["vocab"]
        for s in splits:
            if int(xs[s].min()) < 0 or int(xs[s].max()) >= vocab:
                raise HwssmError(f"{where}: {s}_x holds token ids outside [0, {vocab})")
    top = max(int(ys[s].max()) for s in splits)
    K = meta.get("classes", top + 1)
    for s in splits:
        if int(ys[s].max()) >= K:
            raise HwssmError(f"{where}: {s}_y holds label {int(ys[s].max())}, outside [0, {K}) (classes {K})")
    if "val" not in xs:
        n = xs["train"].shape[0]
        if n < 2:
            raise HwssmError(f"{where}: train_x has {n} sequence; without val_x the val split is carved from "
                             "train, which needs at least 2")
        k = max(1, n // 10)
        xs["val"], ys["val"] = xs["train"][n - k:], ys["train"][n - k:]
        xs["train"], ys["train"] = xs["train"][:n - k], ys["train"][:n - k]
    identity = f"npz:sha256={_sha256(path)}" + (f"+json:{_sha256(side)}" if side.is_file() else "")

    def loader(s):
        return lambda: SplitData(read_only(xs[s]), read_only(ys[s]))

    return SequenceDataset(
        name=meta.get("name", path.name), identity=identity, n_classes=K, T=shape[0], C=shape[1],
        input_format=fmt, loaders={d: loader(d.value) for d in DataSplit},
        encoding=Encoding.TOKENS if tokens else Encoding.SAMPLES, vocab=meta.get("vocab"))


def save_npz(path: str | Path, splits: dict[str, tuple[np.ndarray, np.ndarray]], sidecar: dict | None = None,
             *, compress: bool = True) -> Path:
    """Write ``{"train": (x, y), "val": ..., "test": ...}`` in this format (atomically), and the
    sidecar when given (written last). Returns the NPZ path."""
    import io

    from ..io import write_bytes, write_json

    path = Path(path)
    arrays = {}
    for s, (x, y) in splits.items():
        arrays[f"{s}_x"], arrays[f"{s}_y"] = np.asarray(x), np.asarray(y)
    buf = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buf, **arrays)
    write_bytes(path, buf.getvalue())
    if sidecar is not None:
        write_json(sidecar_path(path), sidecar)
    return path
