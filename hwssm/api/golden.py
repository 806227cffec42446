"""Evaluation: the bit-exact golden engine over digits, with accuracy, logits and traces."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..errors import HwssmError
from ..model.checkpoint import Checkpoint
from ..quant.qmodel import QModel
from ..verify.simulate import Digits
from .models import Progress, require_integer_model

__all__ = ["EvalOptions", "EvalResult", "Trace", "MAX_TRACE_VALUES", "evaluate"]

#: Sequences run by the golden engine at once (progress is reported per batch).
BATCH = 500
#: Most integers a trace may hold (n·T·(L+1)·H + n·T·L·H + n·T·L·2H; 8 bytes each): 2^28 is 2 GiB.
MAX_TRACE_VALUES = 1 << 28


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """What :func:`evaluate` computes besides predictions.

    Parameters
    ----------
    trace : bool
        Keep every layer's output at every step (:class:`Trace`); memory grows with
        n·T·L·H, so trace a few sequences (at most :data:`MAX_TRACE_VALUES` integers).
    reference : Checkpoint or None
        The float model the QModel came from: also report its accuracy and the fraction
        of sequences on which both predict the same class.
    """

    trace: bool = False
    reference: Checkpoint | None = None

    def __post_init__(self):
        if not isinstance(self.trace, bool):
            raise HwssmError(f"trace must be True or False, not {self.trace!r}")
        if self.reference is not None and not isinstance(self.reference, Checkpoint):
            raise HwssmError(f"reference must be a float Checkpoint, not {type(self.reference).__name__}")


@dataclasses.dataclass(frozen=True)
class Trace:
    """Integer codes of every layer at every step (formats: the QModel's ``r``, ``y``, ``v``).

    Attributes
    ----------
    r : int64 (n, L+1, T, H)
        Residual stream: ``r[:, 0]`` the encoder output, ``r[:, l+1]`` block l's output.
    y : int64 (n, L, T, H)
        S4D outputs (after GELU's input requantization).
    v : int64 (n, L, T, 2H)
        Mixing outputs (value and gate halves).
    """

    r: np.ndarray
    y: np.ndarray
    v: np.ndarray


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """Outcome of :func:`evaluate`.

    Attributes
    ----------
    digits : int
        Sequences evaluated.
    pred : int64 (n,)
        Predicted classes (argmax of the logits, smallest index on ties).
    logits : int64 (n, K)
        Integer logits at ``logit_frac`` fractional bits (value = code · 2^-logit_frac).
    logit_frac : int
    labels : int64 (n,) or None
        The true classes, when the digits have them.
    accuracy : float or None
        Fraction of ``pred == labels`` (None without labels).
    float_accuracy, float_agreement : float or None
        With a reference checkpoint: its accuracy, and the fraction of equal predictions.
    trace : Trace or None
        With ``EvalOptions(trace=True)``.
    seconds : float
        Wall time of the golden engine (numba compilation included on a first call).
    """

    digits: int
    pred: np.ndarray
    logits: np.ndarray
    logit_frac: int
    labels: np.ndarray | None
    accuracy: float | None
    float_accuracy: float | None
    float_agreement: float | None
    trace: Trace | None
    seconds: float

    def to_json(self) -> dict:
        """The scalar figures (no arrays): ``digits``, ``accuracy``, ``float_accuracy``,
        ``float_agreement``, ``seconds``."""
        return {"digits": self.digits, "accuracy": self.accuracy, "float_accuracy": self.float_accuracy,
                "float_agreement": self.float_agreement, "seconds": self.seconds}


def _check_trace_size(qm: QModel, digits: Digits) -> None:
    n, T = digits.pixels.shape
    values = n * T * qm.L * qm.H * 3 + n * T * qm.H
    if values > MAX_TRACE_VALUES:
        raise HwssmError(f"a trace of {n} sequences would hold {values} integers (more than {MAX_TRACE_VALUES}); "
                         "trace fewer sequences")


def evaluate(qm: QModel, digits: Digits | None = None, options: EvalOptions = EvalOptions(), *,
             progress: Progress | None = None) -> EvalResult:
    """Run the golden engine (the bit-exact integer reference) over ``digits``.

    Parameters
    ----------
    qm : QModel
    digits : Digits or None
        uint8 sequences (n, T) with optional labels (:func:`mnist_digits`, or
        ``Digits(pixels, indices, labels)`` of your own); None: the 10,000 MNIST test digits.
    options : EvalOptions
        Traces and a float reference.
    progress : callable or None
        ``progress(done, total)`` in sequences, per batch of 500.

    Returns
    -------
    EvalResult
    """
    from ..golden.engine import run

    qm = require_integer_model(qm, "evaluate")
    if not isinstance(options, EvalOptions):
        raise HwssmError(f"options must be EvalOptions, not {type(options).__name__}")
    if digits is None:
        from .data import mnist_digits

        digits = mnist_digits()
    if not isinstance(digits, Digits):
        raise HwssmError(f"digits must be Digits (see hwssm.mnist_digits), not {type(digits).__name__}")
    if options.trace:
        _check_trace_size(qm, digits)
    labels = digits.labels
    if labels is not None and (labels.min() < 0 or labels.max() >= qm.n_classes):
        raise HwssmError(f"labels must be classes in [0, {qm.n_classes}) of this model")
    pix, n = digits.pixels, digits.n
    t0 = time.perf_counter()
    parts = []
    for start in range(0, n, BATCH):
        parts.append(run(qm, pix[start:start + BATCH], trace=options.trace))
        if progress:
            progress(min(start + BATCH, n), n)
    seconds = time.perf_counter() - t0
    pred = np.concatenate([p.pred for p in parts])
    trace = None
    if options.trace:
        trace = Trace(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("r", "y", "v")))
    acc = None if labels is None else float(np.mean(pred == labels))
    facc = agree = None
    if options.reference is not None:
        from ..golden.evaluate import float_predictions

        if options.reference.config.n_classes != qm.n_classes:
            raise HwssmError(f"the reference has {options.reference.config.n_classes} classes, "
                             f"the QModel {qm.n_classes}")
        fpred = float_predictions(options.reference, pix)
        agree = float(np.mean(fpred == pred))
        facc = None if labels is None else float(np.mean(fpred == labels))
    return EvalResult(digits=n, pred=pred, logits=np.concatenate([p.logits for p in parts]),
                      logit_frac=parts[0].logit_frac, labels=labels, accuracy=acc, float_accuracy=facc,
                      float_agreement=agree, trace=trace, seconds=round(seconds, 3))
