"""Float checkpoints: ``<stem>.json`` (format, config, meta, sha256) beside ``<stem>.npz`` (arrays).

Never pickle: arrays are read with ``np.load(..., allow_pickle=False)``. The JSON reads::

    {"format": "hwssm-s4d-checkpoint", "version": 1, "config": S4DConfig.to_json(),
     "arrays": "<stem>.npz", "arrays_sha256": "<hex>", "n_params": <int>, "meta": {...}}

This is the published schema (:data:`CHECKPOINT_SCHEMA`; :func:`load_checkpoint` enforces it):
every field is required and no other is allowed, except the optional ``"family"``
(:class:`~hwssm.model.config.Family` value, ``"s4d"`` when absent: files without it are S4D
checkpoints, and S4D checkpoints are written without it, so their bytes and digests do not
change); ``config`` holds exactly the fields of :class:`S4DConfig` (or of
:class:`~hwssm.model.s5_config.S5Config` for ``"family": "s5"``); ``meta`` is a free-form JSON object (training history, not read back).
``arrays`` is a plain file name in the JSON's directory (no path); ``n_params`` counts every real value
stored (the :meth:`S4DConfig.param_shapes` arrays plus any Ā/B̄ overrides).
The NPZ holds float32 arrays named as :meth:`S4DConfig.param_shapes`, plus optionally, per block l,
all four of ``layers.{l}.Abar_re, Abar_im, Bbar_re, Bbar_im`` (H, M) (see :func:`s4d.discretize`).
Every problem raises :class:`HwssmError` with one line naming the file. The two files are
committed as a set (:func:`hwssm.io.write_set`: NPZ first, the JSON naming its SHA-256 last).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import io
import zipfile
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from ..io import confined, json_text, read_json, write_set
from .config import Family, Norm, S4DConfig
from .s4d import OVERRIDE_NAMES, init_ssm
from .s5_config import S5Config

FORMAT = "hwssm-s4d-checkpoint"
VERSION = 1

#: Fields of the checkpoint JSON and their JSON types (all required, no others allowed).
CHECKPOINT_SCHEMA: dict[str, type] = {"format": str, "version": int, "config": dict, "arrays": str,
                                      "arrays_sha256": str, "n_params": int, "meta": dict}
#: Optional fields of the checkpoint JSON (absent: S4D).
OPTIONAL_FIELDS: dict[str, type] = {"family": str}
#: The config class of each family.
CONFIGS: dict[Family, type] = {Family.S4D: S4DConfig, Family.S5: S5Config}


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: config, arrays by name (float32 or float64 as stored), free-form meta."""

    config: S4DConfig | S5Config
    params: dict[str, np.ndarray]
    meta: dict

    @property
    def family(self) -> Family:
        """The model family (from the config's type)."""
        return self.config.family


def override_shapes(config: S4DConfig | S5Config) -> dict[str, tuple[int, ...]]:
    """Shapes of the optional per-block Ā/B̄ override arrays, by name (S4D only; none for S5)."""
    if config.family is not Family.S4D:
        return {}
    return {f"layers.{l}.{n}": (config.H, config.M) for l in range(config.L) for n in OVERRIDE_NAMES}


def init_params(config: S4DConfig | S5Config, seed: int) -> dict[str, np.ndarray]:
    """Random float32 parameters for ``config`` (no training), deterministic in ``seed``.

    S5: :func:`hwssm.model.s5_network.init_params`. S4D:

    SSM arrays as :func:`s4d.init_ssm`; a token model's embedding ``encoder.E`` ~ N(0, 1); encoder, mixing and decoder Linear layers (weight and
    bias) ~ U[-1/√fan_in, 1/√fan_in] (PyTorch's default); a LayerNorm's γ = 1, β = 0. Draw order: encoder, blocks 0..L-1
    (SSM, then W, b), decoder.
    """
    if config.family is Family.S5:
        from .s5_network import init_params as init_s5

        return init_s5(config, seed)
    rng = np.random.default_rng(seed)
    H = config.H

    def linear(fan_out: int, fan_in: int):
        bound = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, (fan_out, fan_in)), rng.uniform(-bound, bound, fan_out)

    params: dict[str, np.ndarray] = {}
    if config.tokens:   # embedding ~ N(0, 1), as torch.nn.Embedding
        params["encoder.E"] = rng.standard_normal((config.vocab, H))
    else:
        params["encoder.W"], params["encoder.b"] = linear(H, config.C)
    for l in range(config.L):
        ssm = init_ssm(H, config.N, config.init, config.dt_min, config.dt_max, rng)
        params.update({f"layers.{l}.{k}": v for k, v in ssm.items()})
        params[f"layers.{l}.W"], params[f"layers.{l}.b"] = linear(2 * H, H)
        if config.norm is Norm.LAYER:   # LayerNorm γ = 1, β = 0 (torch's init; no draws)
            params[f"layers.{l}.norm_scale"], params[f"layers.{l}.norm_bias"] = np.ones(H), np.zeros(H)
    params["decoder.W"], params["decoder.b"] = linear(config.n_classes, H)
    shapes = config.param_shapes()
    return {k: params[k].astype(np.float32) for k in shapes}


def check_params(config: S4DConfig | S5Config, params: dict[str, np.ndarray], where: str = "parameters") -> None:
    """Raise HwssmError unless ``params`` has exactly the arrays of ``config``, with the right
    shapes, a float dtype (float32/float64) and finite values."""
    required = config.param_shapes()
    optional = override_shapes(config)
    missing = [k for k in required if k not in params]
    if missing:
        raise HwssmError(f"{where}: missing array {missing[0]!r} ({len(missing)} missing)")
    unknown = sorted(set(params) - set(required) - set(optional))
    if unknown:
        raise HwssmError(f"{where}: unknown array {unknown[0]!r}")
    for l in range(config.L):
        have = [n for n in OVERRIDE_NAMES if f"layers.{l}.{n}" in params]
        if have and len(have) != len(OVERRIDE_NAMES):
            raise HwssmError(f"{where}: layers.{l} has override arrays {have} but needs all of {list(OVERRIDE_NAMES)}")
    for name, a in params.items():
        shape = required.get(name) or optional[name]
        if not isinstance(a, np.ndarray):
            raise HwssmError(f"{where}: array {name!r} is a {type(a).__name__}, not a numpy array")
        if a.dtype not in (np.float32, np.float64):
            raise HwssmError(f"{where}: array {name!r} has dtype {a.dtype}, expected float32 or float64")
        if a.shape != shape:
            raise HwssmError(f"{where}: array {name!r} has shape {a.shape}, expected {shape}")
        if not np.isfinite(a).all():
            raise HwssmError(f"{where}: array {name!r} holds NaN or infinite values")


def _paths(path) -> tuple[Path, Path]:
    """(json path, npz path) for a ``.json`` path or a stem."""
    path = Path(path)
    if path.suffix == ".json":
        return path, path.with_suffix(".npz")
    return path.with_name(path.name + ".json"), path.with_name(path.name + ".npz")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_checkpoint(path, config: S4DConfig | S5Config, params: dict[str, np.ndarray], meta: dict | None = None) -> Path:
    """Write ``<stem>.npz`` then ``<stem>.json`` atomically; return the JSON path.

    ``path`` is the stem or the ``.json`` path. Arrays are checked (:func:`check_params`) and
    stored as float32. ``meta`` must be JSON-serializable.
    """
    json_path, npz_path = _paths(path)
    check_params(config, params, where=str(json_path))
    try:
        json.dumps(meta or {}, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise HwssmError(f"{json_path}: meta is not JSON-serializable ({exc})") from None
    arrays = {k: np.asarray(params[k], dtype=np.float32) for k in
              [*config.param_shapes(), *(k for k in override_shapes(config) if k in params)]}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    doc = {"format": FORMAT, "version": VERSION}
    if config.family is not Family.S4D:
        doc["family"] = config.family.value
    doc |= {"config": config.to_json(), "arrays": npz_path.name,
           "arrays_sha256": hashlib.sha256(data).hexdigest(), "n_params": int(sum(a.size for a in arrays.values())),
           "meta": meta or {}}
    write_set([(npz_path, data), (json_path, json_text(doc).encode())])
    return json_path


def _read_json(json_path: Path) -> dict:
    if not json_path.exists():
        raise HwssmError(f"{json_path}: cannot read checkpoint (No such file or directory)")
    doc = read_json(json_path, "checkpoint")
    if not isinstance(doc, dict):
        raise HwssmError(f"{json_path}: checkpoint JSON must be an object")
    if doc.get("format") != FORMAT:
        raise HwssmError(f"{json_path}: format is {doc.get('format')!r}, expected {FORMAT!r}")
    if doc.get("version") != VERSION:
        raise HwssmError(f"{json_path}: checkpoint version {doc.get('version')!r} is not supported "
                         f"(this hwssm reads version {VERSION})")
    unknown = sorted(set(doc) - set(CHECKPOINT_SCHEMA) - set(OPTIONAL_FIELDS))
    if unknown:
        raise HwssmError(f"{json_path}: unknown field {unknown[0]!r} (a checkpoint has {', '.join(CHECKPOINT_SCHEMA)})")
    for key, kind in CHECKPOINT_SCHEMA.items():
        if not isinstance(doc.get(key), kind) or isinstance(doc.get(key), bool):
            raise HwssmError(f"{json_path}: field {key!r} missing or not a {kind.__name__}")
    family = doc.get("family", Family.S4D.value)
    if not isinstance(family, str) or family not in {f.value for f in Family}:
        raise HwssmError(f"{json_path}: family {family!r} is not one of {', '.join(f.value for f in Family)}")
    return doc


def _config(json_path: Path, d: dict, family: Family) -> S4DConfig | S5Config:
    cls = CONFIGS[family]
    fields = [f.name for f in dataclasses.fields(cls)]
    # absent: C = 1, linear encoder, no LayerNorm
    optional = {"C", "vocab", "norm", "prenorm", "eps"} if family is Family.S4D else set()
    missing = [f for f in fields if f not in d and f not in optional]
    if missing:
        raise HwssmError(f"{json_path}: config lacks field {missing[0]!r}")
    for key in ("dt_min", "dt_max", *(("eps",) if family is Family.S5 or "eps" in d else ())):
        if isinstance(d[key], bool) or not isinstance(d[key], (int, float)):
            raise HwssmError(f"{json_path}: bad config: {key} must be a number, not {d[key]!r}")
    try:
        return cls.from_json(d)
    except (ValueError, TypeError) as exc:
        msg = str(exc).splitlines()[0].removeprefix(f"bad {cls.__name__}: ")
        raise HwssmError(f"{json_path}: bad config: {msg}") from None


def _load_npz(npz_path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(npz_path, allow_pickle=False) as z:
            names = list(z.files)
            out = {}
            for name in names:
                try:
                    out[name] = z[name]
                except ValueError as exc:
                    if "allow_pickle" in str(exc):
                        raise HwssmError(f"{npz_path}: array {name!r} holds Python objects (pickle); refused") from None
                    raise HwssmError(f"{npz_path}: array {name!r} unreadable ({exc})") from None
            return out
    except HwssmError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise HwssmError(f"{npz_path}: not a readable NPZ file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None


def load_checkpoint(path) -> Checkpoint:
    """Read and validate a checkpoint given its ``.json`` path or its stem.

    Checks: JSON parses; format and version; config fields; the NPZ's sha256; exactly the
    required arrays (plus complete override sets), their shapes, float dtype and finiteness.
    """
    json_path, _ = _paths(path)
    doc = _read_json(json_path)
    config = _config(json_path, doc["config"], Family(doc.get("family", Family.S4D.value)))
    npz_path = confined(json_path.parent, doc["arrays"], f"{json_path}: arrays")
    if not npz_path.is_file():
        raise HwssmError(f"{json_path}: arrays file {str(npz_path)!r} not found")
    if _sha256(npz_path) != doc["arrays_sha256"]:
        raise HwssmError(f"{npz_path}: sha256 does not match {json_path.name} (file changed or corrupt)")
    params = _load_npz(npz_path)
    check_params(config, params, where=str(npz_path))
    n = sum(a.size for a in params.values())
    if n != doc["n_params"]:
        raise HwssmError(f"{json_path}: n_params is {doc['n_params']}, but the arrays hold {n} values")
    return Checkpoint(config, params, doc["meta"])
