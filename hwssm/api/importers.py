"""Importers: a float model trained elsewhere, as an hwssm :class:`~hwssm.model.checkpoint.Checkpoint`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..model.checkpoint import Checkpoint
from ..model.importers import S4DImport, S5Import, import_s4d as _import_s4d, import_s5 as _import_s5
from ..model.importers import read_param_tree, read_state_dict

__all__ = ["S4DImport", "import_s4d", "S5Import", "import_s5"]


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


def import_s5(params: str | Path, options: S5Import = S5Import()) -> Checkpoint:
    """Read a ``lindermanlab/S5`` (JAX/flax) S5 classifier into a float S5 checkpoint.

    Parameters
    ----------
    params : path
        An NPZ of the model's flax variables flattened with ``/``
        (``flax.traverse_util.flatten_dict(variables, sep="/")``: ``params/encoder/layers_0/seq/B``,
        ``batch_stats/encoder/layers_0/norm/mean``, ...; :mod:`hwssm.model.importers.s5_reference`
        lists every array).
    options : S5Import
        Sequence length (mean pooling), input scaling, discretization, activation, norm
        placement, ``conj_sym``, ``clip_eigs``, ``step_rescale``, BatchNorm ε.

    Returns
    -------
    Checkpoint
        float32 parameters whose logits equal the source model's to 1e-5 (with the exact GELU;
        flax's default tanh-approximate GELU differs slightly, see the module);
        ``meta["imported_from"]`` names the file, its SHA-256 and the options.

    Raises
    ------
    HwssmError
        One line naming the array or the file: missing, extra or misshapen arrays, a LayerNorm,
        a postnorm, another activation or a bidirectional SSM, an unreadable file.
    """
    path = Path(params)
    config, arrays = _import_s5(read_param_tree(path), options)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    meta = {"imported_from": {"model": "lindermanlab/S5 ClassificationModel (S5SSM layers)", "file": path.name,
                              "sha256": digest, "options": options.to_json(),
                              "gelu": "hwssm uses the exact GELU; flax nn.gelu defaults to the tanh approximation"}}
    return Checkpoint(config, {k: v.astype(np.float32) for k, v in arrays.items()}, meta)
