"""Golden-engine accuracy on an MNIST split, and agreement with the float model."""

from __future__ import annotations

import dataclasses
import enum
import hashlib

import numpy as np

from ..config import cache_dir
from ..data import Split, load_mnist, sequences
from ..model.checkpoint import Checkpoint
from ..model.config import Family
from ..quant.qmodel import QModel
from .engine import run

CHUNK = 500


class FloatReference(enum.Enum):
    """What an evaluation did about the float model.

    Members
    -------
    COMPUTED
        Float predictions computed (batched FFT float model, :class:`hwssm.model.fast.FastClassifier`).
    CACHED
        Float predictions read from the cache (same parameters and pixels).
    SKIPPED
        Not asked for (``hwssm golden eval --no-float-agreement``).
    UNAVAILABLE
        No float checkpoint (a QModel whose source checkpoint is not found).
    """

    COMPUTED = "computed"
    CACHED = "cached"
    SKIPPED = "skipped"
    UNAVAILABLE = "unavailable"


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Accuracy of the integer network; ``float_agreement`` is None without a float model.

    ``float_reference`` says what was done about the float model (:class:`FloatReference`);
    ``float_seconds`` is the float pass's wall time (None when not run).
    """

    accuracy: float
    digits: int
    footprint_bits: int
    float32_bits: int
    compression: float
    float_agreement: float | None
    float_accuracy: float | None
    seconds: float
    pred: np.ndarray = dataclasses.field(repr=False)
    float_reference: FloatReference = FloatReference.UNAVAILABLE
    float_seconds: float | None = None

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("pred")
        d["float_reference"] = self.float_reference.value
        return d


def test_pixels(split: Split = Split.TEST, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(pixels (n, 784) uint8, labels (n,)) of the first ``limit`` digits of ``split``."""
    images, labels = load_mnist(split)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return sequences(images), np.asarray(labels, dtype=np.int64)


def golden_predictions(qm: QModel, pixels: np.ndarray, progress=None) -> np.ndarray:
    """Predictions of the golden engine, in chunks so that progress can be shown."""
    out = []
    for start in range(0, len(pixels), CHUNK):
        out.append(run(qm, pixels[start:start + CHUNK]).pred)
        if progress:
            progress(min(start + CHUNK, len(pixels)), len(pixels))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def float_predictions(ckpt: Checkpoint, pixels: np.ndarray, progress=None) -> np.ndarray:
    """Float-model predictions, cached on disk by (parameters, pixels) hash."""
    return _float_predictions(ckpt, pixels, progress)[0]


def _float_predictions(ckpt: Checkpoint, pixels: np.ndarray, progress=None) -> tuple[np.ndarray, bool]:
    """(predictions int64 (n,), whether they came from the cache). Computed by the batched FFT
    float model (:class:`hwssm.model.fast.FastClassifier`, about 6x less CPU than
    :meth:`hwssm.model.network.S4DClassifier.predict`, same logits to ~1e-12 relative)."""
    from ..config import threads
    from ..model.fast import FastClassifier

    h = hashlib.sha256()
    for k in sorted(ckpt.params):
        h.update(k.encode())
        h.update(np.ascontiguousarray(ckpt.params[k], dtype=np.float32).tobytes())
    h.update(np.ascontiguousarray(pixels).tobytes())
    path = cache_dir() / "float_pred" / (h.hexdigest()[:32] + ".npy")
    if path.exists():
        try:
            pred = np.load(path, allow_pickle=False)
            if pred.shape == (len(pixels),):
                return pred, True
        except (OSError, ValueError):
            pass
    if len(pixels) == 0:
        return np.zeros(0, np.int64), False
    if ckpt.family is Family.S5:   # the S5 float classifier (numpy recurrence)
        from ..model.s5_network import S5Classifier

        pred = S5Classifier(ckpt.config, ckpt.params).predict(pixels)
    else:
        model = FastClassifier(ckpt.config, ckpt.params, T=pixels.shape[1])
        pred = model.predict(pixels, threads=threads(), progress=progress)
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, pred)
    return pred, False


def evaluate(qm: QModel, pixels: np.ndarray, labels: np.ndarray, ckpt: Checkpoint | None = None,
             progress=None, float_progress=None, *, float_agreement: bool = True) -> Evaluation:
    """Golden-engine accuracy of ``qm`` on ``pixels``/``labels``; with a float checkpoint ``ckpt``
    and ``float_agreement``, also the float model's accuracy and its agreement with the engine."""
    import time

    t0 = time.perf_counter()
    pred = golden_predictions(qm, pixels, progress)
    seconds = time.perf_counter() - t0
    agree = facc = fsec = None
    ref = FloatReference.UNAVAILABLE
    if ckpt is not None and not float_agreement:
        ref = FloatReference.SKIPPED
    elif ckpt is not None:
        t1 = time.perf_counter()
        fpred, cached = _float_predictions(ckpt, pixels, float_progress)
        fsec = round(time.perf_counter() - t1, 3)
        ref = FloatReference.CACHED if cached else FloatReference.COMPUTED
        agree = float(np.mean(fpred == pred))
        facc = float(np.mean(fpred == labels))
    return Evaluation(
        accuracy=float(np.mean(pred == labels)), digits=int(len(pixels)), footprint_bits=qm.footprint_bits,
        float32_bits=qm.float32_bits, compression=round(qm.compression, 4), float_agreement=agree,
        float_accuracy=facc, seconds=round(seconds, 3), pred=pred, float_reference=ref, float_seconds=fsec,
    )
