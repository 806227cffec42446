"""Models: load a QModel or a float checkpoint (a file or a shipped model's name), save a
QModel, quantize a float checkpoint with a precision plan (post-training quantization)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from ..errors import HwssmError
from ..model.checkpoint import Checkpoint
from ..quant.calibrate import Calibration
from ..quant.plan import PrecisionPlan
from ..quant.qmodel import QModel
from ..quant.s5_qmodel import S5QModel
from ..verify.simulate import Digits

__all__ = ["DEFAULT_CALIB_DIGITS", "PTQOptions", "model_path", "load_model", "save_model", "quantize",
           "require_integer_model"]

#: Training digits PTQ calibrates on unless told otherwise (as ``hwssm ptq``).
DEFAULT_CALIB_DIGITS = 256

#: ``progress(done, total)``, called as work finishes.
Progress = Callable[[int, int], None]


def model_path(source: str | Path) -> Path:
    """The file ``source`` names: itself when it exists, else the shipped model of that name
    (``"s4d_hetero"``, ``"s4d_qat8"``, ``"s4d_float"``; see :func:`hwssm.config.shipped_model`).

    Raises HwssmError when it is neither.
    """
    from ..config import shipped_model
    from ..quant.qmodel_io import qmodel_paths

    if not isinstance(source, (str, Path)):
        raise HwssmError(f"a model is named by a path or a shipped model's name, not {type(source).__name__}")
    path = Path(source)
    if path.is_file() or qmodel_paths(path)[0].is_file() or path.with_suffix(".json").is_file():
        return path
    shipped = shipped_model(str(source))
    if shipped is None:
        raise HwssmError(f"model {str(source)!r} is neither a file nor a shipped model "
                         "(s4d_hetero, s4d_qat8, s4d_float)")
    return shipped


def load_model(source: str | Path) -> QModel | S5QModel | Checkpoint:
    """Load a model.

    Parameters
    ----------
    source : str or Path
        A QModel file (``NAME.qmodel.json`` beside its ``NAME.qmodel.npz``), a float S4D
        checkpoint (``NAME.json`` beside ``NAME.npz``, or the stem ``NAME``), or the name of
        a shipped model (``"s4d_hetero"``, ``"s4d_qat8"``, ``"s4d_float"``).

    Returns
    -------
    QModel, S5QModel or Checkpoint
        The integer network (a QModel file; S5 files give an S5QModel), or the float parameters and their
        :class:`~hwssm.model.config.S4DConfig` (a checkpoint; see :func:`quantize`).

    Raises
    ------
    HwssmError
        Missing, corrupt or invalid files (one line).
    """
    from ..model.checkpoint import load_checkpoint
    from ..quant.qmodel_io import is_qmodel_path, load_qmodel

    path = model_path(source)
    return load_qmodel(path) if is_qmodel_path(path) else load_checkpoint(path)


def require_integer_model(qm, what: str) -> QModel | S5QModel:
    """``qm`` when it is an integer model of any family (S4D QModel or S5QModel): what the golden
    engine, the RTL, the simulation, the estimator and the QModel files take; HwssmError naming
    ``what`` otherwise (a float checkpoint: quantize it first)."""
    if isinstance(qm, (QModel, S5QModel)):
        return qm
    if isinstance(qm, Checkpoint):
        raise HwssmError(f"{what} needs a QModel, not a float checkpoint: quantize it first (hwssm.quantize)")
    raise HwssmError(f"{what} needs a QModel, not {type(qm).__name__}")


def save_model(qm: QModel | S5QModel, path: str | Path) -> Path:
    """Write ``qm`` atomically as ``STEM.qmodel.json`` (header, formats, digest) beside
    ``STEM.qmodel.npz`` (the integer codes, int64; no pickle).

    Parameters
    ----------
    qm : QModel or S5QModel
    path : str or Path
        A stem or a ``.qmodel.json`` path.

    Returns
    -------
    Path
        The JSON file.
    """
    from ..quant.qmodel_io import save_qmodel

    return save_qmodel(require_integer_model(qm, "save_model"), path)


@dataclasses.dataclass(frozen=True)
class PTQOptions:
    """How :func:`quantize` calibrates.

    Parameters
    ----------
    calib_digits : int
        Calibration sequences: the first ``calib_digits`` digits of the MNIST training
        split (or of ``data``).
    calibration : Calibration or str
        Range estimate per activation: ``Calibration.MINMAX`` (largest magnitude) or
        ``Calibration.PERCENTILE``; the names ``"minmax"``/``"percentile"`` are parsed here.
    percentile : float
        The percentile (in (0, 100]) kept by ``Calibration.PERCENTILE``.
    data : Digits or None
        Calibration sequences of your own (uint8 (n, T)); None: MNIST training digits.
    """

    calib_digits: int = DEFAULT_CALIB_DIGITS
    calibration: Calibration = Calibration.MINMAX
    percentile: float = 99.99
    data: Digits | None = None

    def __post_init__(self):
        if isinstance(self.calib_digits, bool) or not isinstance(self.calib_digits, int) or self.calib_digits < 1:
            raise HwssmError(f"calib_digits must be a positive integer, not {self.calib_digits!r}")
        if not isinstance(self.calibration, Calibration):
            try:
                object.__setattr__(self, "calibration", Calibration(self.calibration))
            except ValueError:
                raise HwssmError(f"unknown calibration {self.calibration!r}; expected one of: "
                                 f"{', '.join(c.value for c in Calibration)}") from None
        if isinstance(self.percentile, bool) or not isinstance(self.percentile, (int, float)) \
                or not 0 < self.percentile <= 100:
            raise HwssmError(f"percentile must be in (0, 100], not {self.percentile!r}")
        if self.data is not None and not isinstance(self.data, Digits):
            raise HwssmError(f"calibration data must be Digits, not {type(self.data).__name__}")


def _plan(plan) -> PrecisionPlan:
    from ..quant.plan import resolve_plan

    if not isinstance(plan, (str, PrecisionPlan)):
        raise HwssmError("a plan is a name, a short code, a plan JSON path or a PrecisionPlan, "
                         f"not {type(plan).__name__}")
    return resolve_plan(plan)


def quantize(model: Checkpoint | str | Path, plan: str | PrecisionPlan, options: PTQOptions = PTQOptions(), *,
             progress: Progress | None = None) -> QModel | S5QModel:
    """Post-training quantization (PTQ) of a float checkpoint (S4D or S5) into a QModel.

    Parameters
    ----------
    model : Checkpoint, str or Path
        A loaded checkpoint, a checkpoint file, or a shipped checkpoint's name (``"s4d_float"``).
    plan : str or PrecisionPlan
        A named plan (``"uniform8"``, ``"hetero"``, ...), a short code
        (``"A8x12-B4C4D4-W8-a6"``), a plan JSON file or a :class:`PrecisionPlan`.
    options : PTQOptions
        Calibration data and method.
    progress : callable or None
        ``progress(done, total)`` in calibration sequences.

    Returns
    -------
    QModel or S5QModel
        (An S5 checkpoint gives an S5QModel.) Every scale a power of two; ``meta`` records the calibration (and the source
        checkpoint's path when ``model`` is a file, for float-agreement checks).
    """
    from ..quant.ptq import ptq
    from ..quant.qmodel_io import is_qmodel_path

    if not isinstance(options, PTQOptions):
        raise HwssmError(f"options must be PTQOptions, not {type(options).__name__}")
    p = _plan(plan)
    meta = {}
    if isinstance(model, Checkpoint):
        ckpt = model
    else:
        from ..model.checkpoint import load_checkpoint

        path = model_path(model)
        if is_qmodel_path(path):
            raise HwssmError(f"{path} is already a QModel; quantize takes a float checkpoint")
        ckpt = load_checkpoint(path)
        meta["source_checkpoint"] = str(path)
    if options.data is None:
        from ..data import Split, load_mnist, sequences

        images, _ = load_mnist(Split.TRAIN)
        calib = sequences(images[:options.calib_digits])
    else:
        calib = options.data.pixels[:options.calib_digits]
    return ptq(ckpt.config, ckpt.params, p, calib, options.calibration, options.percentile, meta=meta,
               progress=progress)
