"""Reading a model's parameter tree from a file written by another framework.

Two containers are read, never by unpickling arbitrary objects:

- ``.pt`` / ``.pth``: a PyTorch state dict saved with ``torch.save``, read with
  ``torch.load(..., weights_only=True)`` (torch's restricted loader: tensors, numbers, strings,
  lists and dicts only). A training checkpoint ``{"model": state_dict, ...}`` (the layout of the
  ``state-spaces/s4`` example script) is unwrapped; a ``module.`` prefix left by
  ``DataParallel`` is removed.
- ``.npz``: one array per tensor, named exactly as the state dict's keys
  (``np.load(..., allow_pickle=False)``).

Every tensor comes back as a float64 numpy array (complex tensors as a trailing axis of 2:
real, imaginary, as ``torch.view_as_real`` stores them). Integer buffers (BatchNorm's
``num_batches_tracked``) are kept as int64.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ...errors import HwssmError

#: File suffixes read as a PyTorch file, and as an NPZ.
TORCH_SUFFIXES = (".pt", ".pth")
NPZ_SUFFIXES = (".npz",)


def _as_array(name: str, value, where: str) -> np.ndarray:
    a = np.asarray(value)
    if a.dtype.kind == "c":
        a = np.stack([a.real, a.imag], axis=-1)
    if a.dtype.kind in "iub":
        return a.astype(np.int64)
    if a.dtype.kind != "f":
        raise HwssmError(f"{where}: tensor {name!r} has dtype {a.dtype}, not a number array")
    return a.astype(np.float64)


def _read_torch(path: Path) -> dict:
    try:
        import torch
    except ImportError:
        raise HwssmError(f"{path}: reading a PyTorch file needs torch (pip install 'hwssm[train]'), "
                         "or save the state dict as an NPZ whose array names are its keys") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HwssmError(f"{path}: not a PyTorch state dict readable with weights_only=True ({first[:160]})") from None
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]
    if not isinstance(obj, dict):
        raise HwssmError(f"{path}: holds a {type(obj).__name__}, not a state dict (a mapping of names to tensors)")
    out = {}
    for name, value in obj.items():
        if not isinstance(value, torch.Tensor):
            raise HwssmError(f"{path}: entry {name!r} is a {type(value).__name__}, not a tensor")
        t = value.detach().cpu()
        if t.is_complex():
            out[str(name)] = t.resolve_conj().to(torch.complex128).numpy()
        elif t.is_floating_point():
            out[str(name)] = t.to(torch.float64).numpy()
        else:
            out[str(name)] = t.numpy()
    return out


def _read_npz(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise HwssmError(f"{path}: an array holds Python objects (pickle); refused") from None
        raise HwssmError(f"{path}: not a readable NPZ file ({str(exc).splitlines()[0]})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise HwssmError(f"{path}: not a readable NPZ file ({str(exc).splitlines()[0] or type(exc).__name__})") from None


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of ``path`` (``.pt``/``.pth`` or ``.npz``) by name, float64 (int64 for integer buffers).

    Raises
    ------
    HwssmError
        Missing file, unknown suffix, unreadable or pickled content, a non-tensor entry, an empty file.
    """
    path = Path(path)
    if not path.is_file():
        raise HwssmError(f"{path}: no such file (give the state dict: .pt, .pth or .npz)")
    suffix = path.suffix.lower()
    if suffix in TORCH_SUFFIXES:
        raw = _read_torch(path)
    elif suffix in NPZ_SUFFIXES:
        raw = _read_npz(path)
    else:
        raise HwssmError(f"{path}: unknown state-dict file type {path.suffix!r} "
                         f"(expected one of {', '.join(TORCH_SUFFIXES + NPZ_SUFFIXES)})")
    if not raw:
        raise HwssmError(f"{path}: holds no tensors")
    out = {}
    for name, value in raw.items():
        key = name[len("module."):] if name.startswith("module.") else name
        out[key] = _as_array(key, value, str(path))
    return out
