"""``hwssm search --qat-top K``: quantization-aware training of the best K plans of the front.

Each plan is trained from the float checkpoint with the existing QAT machinery
(:func:`hwssm.train.qat_train.train_qat`, continuous Ā parameterization) in its own work
directory ``DIR/qat/<plan code>/``, which makes it resumable: rerunning the search continues
every unfinished run from its last epoch. A finished run is exported
(:func:`hwssm.train.qat_export.export_qat`: the QModel plus the golden engine's test accuracy)
and its QModel evaluated by the golden engine on the search's final test digits, so the QAT
accuracy stands beside the PTQ accuracy of the same plan. The row keeps the hardware estimate of
the PTQ QModel: the plan's widths fix the design's shape, and the QAT QModel is not re-estimated.

Meant for a GPU (the recurrence runs as a Triton kernel on CUDA); on a CPU an epoch of the
shipped model takes hours, so on a CPU only tiny models or ``QATRecipe(window=..., *_limit=...)``
smoke runs are practical.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from ..errors import HwssmError
from ..quant.plan import PrecisionPlan

__all__ = ["QatSettings", "qat_plan"]


@dataclasses.dataclass(frozen=True)
class QatSettings:
    """How the top plans are trained.

    Attributes
    ----------
    top : int
        Plans of the front to train (0: none).
    epochs : int
    device : str or None
        ``"cuda"`` / ``"cpu"``; None: CUDA when available.
    train_limit, val_limit, test_limit, window : int or None
        Smoke-run limits of :class:`~hwssm.train.qat_train.QATRecipe` (None: the whole split,
        all 784 pixels).
    time_budget : float or None
        Seconds per plan (the run stops resumably before an epoch that would not end in time).
    """

    top: int = 0
    epochs: int = 8
    device: str | None = None
    train_limit: int | None = None
    val_limit: int | None = None
    test_limit: int | None = None
    window: int | None = None
    time_budget: float | None = None

    def __post_init__(self):
        if isinstance(self.top, bool) or not isinstance(self.top, int) or self.top < 0:
            raise HwssmError(f"--qat-top must be a non-negative integer, not {self.top!r}")
        if self.device not in (None, "cuda", "cpu"):
            raise HwssmError(f"QAT device must be cuda or cpu, not {self.device!r}")

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def qat_plan(checkpoint: Path, plan: PrecisionPlan, settings: QatSettings, work: Path, calib_digits: int,
             say: Callable[[str], None] = print) -> dict:
    """Train (or resume) one plan; returns ``{"status": "done"|"stopped", "epoch", "qmodel", "qat_test_accuracy",
    "golden_test_accuracy", "golden_digits"}`` (the last three once done)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise HwssmError("--qat-top needs torch: pip install -e '.[train]'") from None
    from ..model.checkpoint import load_checkpoint
    from ..model.config import Family
    from ..train.qat_export import export_qat
    from ..train.qat_model import AParam
    from ..train.qat_train import QATRecipe, train_qat

    if load_checkpoint(checkpoint).family is Family.S5:   # the S5 family's loop (train/qat_s5_train.py)
        from ..train.qat_s5_train import train_qat_s5 as train_qat
    recipe = QATRecipe(epochs=settings.epochs, calib_digits=calib_digits, train_limit=settings.train_limit,
                       val_limit=settings.val_limit, test_limit=settings.test_limit, window=settings.window)
    work.mkdir(parents=True, exist_ok=True)
    out = work / "qat"
    done_path = Path(f"{out}.qmodel.json")
    result_path = work / "result.json"
    if done_path.is_file() and result_path.is_file():
        from ..io import read_json

        return {"status": "done", "qmodel": str(done_path), **_summary(read_json(result_path, "QAT result"))}
    outcome = train_qat(checkpoint, plan, AParam.CONTINUOUS, recipe, work / "run", device=settings.device,
                        time_budget=settings.time_budget, say=say)
    if not outcome.done:
        return {"status": "stopped", "epoch": outcome.epoch, "epochs": recipe.epochs}
    res = export_qat(outcome, out, result=result_path, golden_digits=settings.test_limit, say=say)
    return {"status": "done", "qmodel": str(done_path), **_summary(res)}


def _summary(res: dict) -> dict:
    keep = ("qat_test_accuracy", "golden_test_accuracy", "golden_digits", "epochs", "start_val_accuracy",
            "final_val_accuracy")
    flat = {**res, **(res.get("meta") or {})}
    return {k: flat[k] for k in keep if k in flat}
