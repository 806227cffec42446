"""Turn a user's ``--model`` (a QModel file, or a float checkpoint plus a plan) into a QModel."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..errors import HwssmError
from ..model.checkpoint import Checkpoint, load_checkpoint
from ..model.config import Family
from .calibrate import Calibration
from .plan import PrecisionPlan, resolve_plan
from .qmodel import QModel
from .qmodel_io import is_qmodel_path, load_qmodel

#: Training digits used for calibration unless told otherwise.
DEFAULT_CALIB_DIGITS = 256


@dataclasses.dataclass(frozen=True)
class Resolved:
    """The QModel to run, and the float checkpoint it came from when known (for agreement checks)."""

    qmodel: QModel
    checkpoint: Checkpoint | None
    checkpoint_path: Path | None


#: Commands whose hardware path builds S5 models too (the others refuse S5 in one line).
S5_HARDWARE = frozenset({"hwssm rtl", "hwssm sim", "hwssm estimate", "hwssm flow", "hwssm board"})


def require_s4d(qm, what: str, missing: str = "S5 models are not built by this command yet") -> QModel:
    """``qm`` (a QModel or a model config) when it is S4D; one HwssmError line for S5 saying
    what is ``missing`` (by default: this command's S5 path)."""
    if getattr(qm, "family", None) is Family.S5:
        raise HwssmError(f"{what}: {missing} (issue 15); an S5 QModel runs in the golden engine "
                         "(hwssm golden eval, hwssm bench golden --model), in RTL (hwssm rtl generate, "
                         "hwssm sim, hwssm estimate, hwssm flow, hwssm board) and in hwssm sweep, search and report profile")
    return qm


def _source_checkpoint(qm: QModel, qpath: Path) -> tuple[Checkpoint | None, Path | None]:
    src = qm.meta.get("source_checkpoint")
    if not src:
        return None, None
    path = Path(src)
    if not path.is_absolute():
        path = qpath.parent / path
    if not path.exists():
        return None, None
    return load_checkpoint(path), path


def resolve_model(model: str | Path, plan: str | PrecisionPlan | None = None, *,
                  calib_digits: int = DEFAULT_CALIB_DIGITS, calibration: Calibration = Calibration.MINMAX,
                  progress=None, calib_data=None, hardware: str | None = None) -> Resolved:
    """A QModel from ``model``: load it if it is a QModel file; run PTQ on a checkpoint with ``plan``.

    PTQ calibrates on the first ``calib_digits`` sequences of ``calib_data`` (uint8 (n, T), e.g.
    a dataset's training split), by default of the MNIST training split. A bare name
    that is not a file here names a shipped model (:func:`hwssm.config.shipped_model`).
    ``hardware`` names a command that needs RTL (``"hwssm rtl"``): an S5 model (QModel or
    checkpoint) is then refused in one line, before any PTQ (:func:`require_s4d`), unless the
    command builds S5 hardware (:data:`S5_HARDWARE`).
    """
    path = Path(model)
    if not path.exists():
        from ..config import shipped_model

        path = shipped_model(str(model)) or path
    if is_qmodel_path(path):
        qm = load_qmodel(path)
        if hardware and hardware not in S5_HARDWARE:
            require_s4d(qm, hardware)
        if plan is not None and resolve_plan(plan).code != qm.plan.code:
            raise HwssmError(f"{path} was quantized with plan {qm.plan.name}; --plan {plan} does not apply to a QModel")
        ckpt, cpath = _source_checkpoint(qm, path)
        return Resolved(qm, ckpt, cpath)
    if plan is None:
        raise HwssmError(f"{path} is a float checkpoint: give --plan (e.g. uniform8, hetero, A8x12-B4C4D4-W8-a6)")
    if calib_digits < 1:
        raise HwssmError(f"--calib-digits must be >= 1, not {calib_digits}")
    ckpt = load_checkpoint(path)
    if hardware and hardware not in S5_HARDWARE:
        require_s4d(ckpt.config, hardware)
    from ..data import Split, load_mnist, sequences
    from .ptq import ptq

    if calib_data is None:
        images, _ = load_mnist(Split.TRAIN)
        calib = sequences(images[:calib_digits])
    else:
        calib = calib_data[:calib_digits]
    qm = ptq(ckpt.config, ckpt.params, resolve_plan(plan), calib, calibration,
             meta={"source_checkpoint": str(path)}, progress=progress)
    return Resolved(qm, ckpt, path)
