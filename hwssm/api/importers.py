"""Importers: a float model trained elsewhere, as an hwssm :class:`~hwssm.model.checkpoint.Checkpoint`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..model.checkpoint import Checkpoint
from ..model.importers import S4DImport, import_s4d as _import_s4d, read_state_dict

__all__ = ["S4DImport", "import_s4d"]


def import_s4d(state_dict: str | Path, options: S4DImport = S4DImport()) -> Checkpoint:
    """Read a ``state-spaces/s4`` example S4D classifier into a float checkpoint.

    Parameters
    ----------
    state_dict : path
        ``.pt``/``.pth`` (``torch.load(weights_only=True)``; needs torch) or an NPZ whose array
        names are the state dict's keys.
    options : S4DImport
        Sequence length (mean pooling), input scaling, ``inv_A_real`` transform, norm placement.

    Returns
    -------
    Checkpoint
        float32 parameters whose logits equal the source model's to 1e-5; ``meta["imported_from"]``
        names the file, its SHA-256 and the options. Save it with
        :func:`hwssm.model.checkpoint.save_checkpoint`, or quantize it directly (:func:`hwssm.quantize`).

    Raises
    ------
    HwssmError
        One line naming the tensor or the file: missing, extra or misshapen tensors, a norm the
        network cannot realise (a BatchNorm after the residual, LayerNorms mixed with
        BatchNorms), an unreadable file.
    """
    path = Path(state_dict)
    config, params = _import_s4d(read_state_dict(path), options)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    meta = {"imported_from": {"model": "state-spaces/s4 example S4Model (S4D layers)", "file": path.name,
                              "sha256": digest, "options": options.to_json()}}
    return Checkpoint(config, {k: v.astype(np.float32) for k, v in params.items()}, meta)
