"""QAT runs: calibrate the frame, train the integer network, export a golden-checked QModel.

Recipe (:class:`QATRecipe`)
---------------------------
- The frame (formats, fracs, zero points, tables) is the PTQ model of the float checkpoint
  under the plan, calibrated on the first ``calib_digits`` training digits, with every state
  frac raised by ``state_headroom``; it never changes (:mod:`hwssm.train.qat_frame`), and the
  export writes exactly it. Training starts from the float parameters, so epoch 0 is that
  PTQ model.
- AdamW, no dropout. SSM parameters (see :data:`hwssm.train.qat_model.SSM_NAMES`) at
  ``ssm_lr`` without weight decay; ``decoder.W`` at ``lr/T`` with ``weight_decay·T`` (the
  sum-pool scale, as in float training); the rest at ``lr``. Linear warm-up, cosine to 0.
- Forward and loss are the integer network's (cross-entropy of ``logit·2**-logit_frac``),
  so the validation accuracy logged each epoch is the golden engine's.

Work directory
--------------
``frame.qmodel.json/.npz``   the PTQ model that fixes the frame (written once, read on resume)
``state.pt``                 torch.save of state dicts (master parameters, optimizer, scheduler,
                             RNG, epoch, run identity) — private, read with ``weights_only=True``
``log.json``                 one entry per finished epoch
``final.npz``                after the last epoch: the QAT model's integer logits on the test
                             digits (the export compares the golden engine against them)

A resumed run continues where it stopped; one whose epochs are all done goes straight to
the export. Resuming with another checkpoint, plan, parameterization or recipe is an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from ..data.registry import DataSpec, data_identity
from ..errors import HwssmError
from ..model.checkpoint import Checkpoint
from ..quant.calibrate import Calibration
from ..quant.plan import PrecisionPlan
from .qat_frame import build_frame
from .qat_loop import (FINAL_FILE, LOG_FILE, STATE_FILE, Outcome, QATFamily, _read_log,  # noqa: F401  (moved there)
                       _tensors, _window, device_name, final_logits, lr_factor, param_groups, predict, resolve_device,
                       split_arrays, train_loop)
from .qat_model import SSM_NAMES, AParam, QATModel
from .qat_prepare import (FRAME_STEM, _ckpt_json, calibration_ranges, frame_identity,  # noqa: F401  (moved there)
                          prepare_frame, with_state_headroom)


@dataclasses.dataclass(frozen=True)
class QATRecipe:
    """Hyperparameters of a QAT run.

    Parameters
    ----------
    epochs, batch_size : int
    lr, ssm_lr : float
        Peak learning rates of the ordinary and SSM parameter groups.
    weight_decay : float
    warmup_epochs : float
    seed : int
        Data order.
    calib_digits : int
        Training digits for the PTQ calibration that fixes the frame.
    calibration : Calibration
    train_limit, val_limit, test_limit : int or None
        Use only the first n digits of a split (tests, smoke runs).
    window : int or None
        Use only the middle ``window`` pixels of each digit (tests, smoke runs).
    state_headroom : int
        Bits of range the state formats give up for resolution: every state frac is the
        calibrated one plus ``state_headroom`` (values beyond the smaller range saturate, as the
        contract clips the state at every step anyway). 0 keeps the PTQ formats.
    data : DataSpec or None
        The dataset (:mod:`hwssm.data.registry`); None: smnist. Named in ``to_json`` and the
        frame identity only when it is not smnist.
    """

    epochs: int = 8
    batch_size: int = 128
    lr: float = 1e-3
    ssm_lr: float = 1e-4
    weight_decay: float = 0.0
    warmup_epochs: float = 0.1
    seed: int = 0
    calib_digits: int = 256
    calibration: Calibration = Calibration.MINMAX
    train_limit: int | None = None
    val_limit: int | None = None
    test_limit: int | None = None
    window: int | None = None
    state_headroom: int = 0
    data: DataSpec | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "calib_digits"):
            if getattr(self, name) < 1:
                raise HwssmError(f"--{name.replace('_', '-')} must be >= 1, not {getattr(self, name)}")
        for name in ("lr", "ssm_lr"):
            if not getattr(self, name) > 0:
                raise HwssmError(f"--{name.replace('_', '-')} must be > 0, not {getattr(self, name)}")
        if self.weight_decay < 0 or self.warmup_epochs < 0:
            raise HwssmError("--weight-decay and --warmup-epochs must be >= 0")
        for name in ("train_limit", "val_limit", "test_limit", "window"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise HwssmError(f"--{name.replace('_', '-')} must be >= 1, not {v}")
        if not 0 <= self.state_headroom <= 16:
            raise HwssmError(f"--state-headroom must lie in [0, 16], not {self.state_headroom}")
        if not isinstance(self.calibration, Calibration):
            raise HwssmError(f"calibration must be a Calibration, not {self.calibration!r}")

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["calibration"] = self.calibration.value
        del d["data"]
        if data_identity(self.data) is not None:
            d["data"] = data_identity(self.data)
        return d


def _check(ckpt_path: Path, ckpt: Checkpoint, aparam: AParam) -> None:
    if aparam is AParam.CONTINUOUS and any(k.endswith(".Abar_re") for k in ckpt.params):
        raise HwssmError(f"{ckpt_path} gives Ā/B̄ directly (discrete overrides): use --param discrete or frozen")


#: The S4D family of the shared QAT loop (:mod:`hwssm.train.qat_loop`).
S4D_QAT = QATFamily(
    prepare=lambda ckpt_path, ckpt, plan, recipe, work, say: prepare_frame(ckpt_path, plan, recipe, work, ckpt=ckpt,
                                                                           say=say),
    build=lambda template, T, ckpt, aparam: QATModel(build_frame(template, T), ckpt.config, ckpt.params, aparam),
    ssm_names=SSM_NAMES,
    check=_check,
    mismatch=" (checkpoint, plan, parameterization or recipe differ)",
)


def train_qat(checkpoint: str | Path, plan: PrecisionPlan, aparam: AParam, recipe: QATRecipe, work: str | Path, *,
              device: str | None = None, time_budget: float | None = None, start_time: float | None = None,
              export_reserve: float = 120.0, stop_after: int | None = None,
              say: Callable[[str], None] = print) -> Outcome:
    """Train (or resume) an S4D QAT run until ``recipe.epochs``, the time budget, or ``stop_after``.

    ``time_budget`` (seconds from ``start_time``): no epoch is started that is not expected to
    end ``export_reserve`` seconds before the budget runs out. The loop is
    :func:`hwssm.train.qat_loop.train_loop`, shared with the S5 family.
    """
    return train_loop(S4D_QAT, checkpoint, plan, aparam, recipe, work, device=device, time_budget=time_budget,
                      start_time=start_time, export_reserve=export_reserve, stop_after=stop_after, say=say)
