"""Golden-engine accuracy on an MNIST split, and agreement with the float model."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from ..config import cache_dir
from ..data import Split, load_mnist, sequences
from ..model.checkpoint import Checkpoint
from ..quant.qmodel import QModel
from .engine import run

CHUNK = 500


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Accuracy of the integer network; ``float_agreement`` is None without a float model."""

    accuracy: float
    digits: int
    footprint_bits: int
    float32_bits: int
    compression: float
    float_agreement: float | None
    float_accuracy: float | None
    seconds: float
    pred: np.ndarray = dataclasses.field(repr=False)

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("pred")
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
    from ..model.network import S4DClassifier

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
                return pred
        except (OSError, ValueError):
            pass
    model = S4DClassifier(ckpt.config, ckpt.params, T=pixels.shape[1])
    out = []
    for start in range(0, len(pixels), CHUNK):
        out.append(model.predict(pixels[start:start + CHUNK]))
        if progress:
            progress(min(start + CHUNK, len(pixels)), len(pixels))
    pred = np.concatenate(out).astype(np.int64)
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, pred)
    return pred


def evaluate(qm: QModel, pixels: np.ndarray, labels: np.ndarray, ckpt: Checkpoint | None = None,
             progress=None, float_progress=None) -> Evaluation:
    import time

    t0 = time.perf_counter()
    pred = golden_predictions(qm, pixels, progress)
    seconds = time.perf_counter() - t0
    agree = facc = None
    if ckpt is not None:
        fpred = float_predictions(ckpt, pixels, float_progress)
        agree = float(np.mean(fpred == pred))
        facc = float(np.mean(fpred == labels))
    return Evaluation(
        accuracy=float(np.mean(pred == labels)), digits=int(len(pixels)), footprint_bits=qm.footprint_bits,
        float32_bits=qm.float32_bits, compression=round(qm.compression, 4), float_agreement=agree,
        float_accuracy=facc, seconds=round(seconds, 3), pred=pred,
    )
