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
from ..model.fast import Precision
from ..quant.qmodel import QModel
from .engine import run

#: Sequences per golden-engine call: a signal is handled between calls (numba holds the main
#: thread), so this bounds how long SIGINT/SIGTERM waits (about 1 s on 2 quiet cores).
CHUNK = 250

#: Precision of the float-agreement pass: float32 (see :class:`hwssm.model.fast.Precision`;
#: on the 10k sMNIST test digits the shipped float model predicts the same class in float32
#: and float64 for every digit; logits agree to about 1e-6 relative).
FLOAT_PRECISION = Precision.FLOAT32


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
    ``float_seconds`` is the float pass's wall time (None when not run); ``float_precision``
    the precision of the float pass (:data:`FLOAT_PRECISION`).
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
    float_precision: Precision = FLOAT_PRECISION

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("pred")
        d["float_reference"] = self.float_reference.value
        d["float_precision"] = self.float_precision.value
        return d


def test_pixels(split: Split = Split.TEST, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(pixels (n, 784) uint8, labels (n,)) of the first ``limit`` digits of ``split``."""
    images, labels = load_mnist(split)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return sequences(images), np.asarray(labels, dtype=np.int64)


def golden_predictions(qm: QModel, pixels: np.ndarray, progress=None) -> np.ndarray:
    """Predictions of the golden engine, in chunks so that progress can be shown (the shift
    tables, or the S5 lowering, are built once for all chunks)."""
    from .s5_engine import pack_s5, run_s5
    from .tables import build_tables

    out = []
    s5 = getattr(qm, "family", Family.S4D) is Family.S5
    if s5:
        tables = pack_s5(qm, T=pixels.shape[1]) if len(pixels) else None
        engine = lambda chunk: run_s5(qm, chunk, tables=tables)  # noqa: E731
    else:
        tables = build_tables(qm, T=pixels.shape[1]) if len(pixels) else None
        engine = lambda chunk: run(qm, chunk, tables=tables)  # noqa: E731
    for start in range(0, len(pixels), CHUNK):
        out.append(engine(pixels[start:start + CHUNK]).pred)
        if progress:
            progress(min(start + CHUNK, len(pixels)), len(pixels))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def float_predictions(ckpt: Checkpoint, pixels: np.ndarray, progress=None,
                      precision: Precision = FLOAT_PRECISION) -> np.ndarray:
    """Float-model predictions, cached on disk by (parameters, pixels, precision) hash."""
    return _float_predictions(ckpt, pixels, progress, precision)[0]


def precision_of(ckpt: Checkpoint, precision: Precision = FLOAT_PRECISION) -> Precision:
    """The precision the float pass of ``ckpt`` runs in: ``precision`` for S4D (the batched FFT
    model), float64 for S5 (its numpy recurrence has no float32 mode)."""
    return Precision.FLOAT64 if ckpt.family is Family.S5 else precision


def _float_cache_path(ckpt: Checkpoint, pixels: np.ndarray, precision: Precision):
    h = hashlib.sha256()
    for k in sorted(ckpt.params):
        h.update(k.encode())
        h.update(np.ascontiguousarray(ckpt.params[k], dtype=np.float32).tobytes())
    h.update(np.ascontiguousarray(pixels).tobytes())
    if precision is not Precision.FLOAT64:   # float64 keeps the key of the caches made before
        h.update(precision.value.encode())
    return cache_dir() / "float_pred" / (h.hexdigest()[:32] + ".npy")


def _cached_float(path, n: int) -> np.ndarray | None:
    if path.exists():
        try:
            pred = np.load(path, allow_pickle=False)
            if pred.shape == (n,):
                return pred
        except (OSError, ValueError):
            pass
    return None


def _float_predictions(ckpt: Checkpoint, pixels: np.ndarray, progress=None,
                       precision: Precision = FLOAT_PRECISION, stop=None) -> tuple[np.ndarray, bool]:
    """(predictions int64 (n,), whether they came from the cache). Computed by the batched FFT
    float model (:class:`hwssm.model.fast.FastClassifier`, about 6x less CPU than
    :meth:`hwssm.model.network.S4DClassifier.predict` in float64, same logits to ~1e-12 relative;
    float32 about 1.4x less again). ``stop``: see :meth:`~hwssm.model.fast.FastClassifier.predict`
    (nothing is cached then)."""
    from ..config import threads
    from ..model.fast import FastClassifier

    precision = precision_of(ckpt, precision)
    path = _float_cache_path(ckpt, pixels, precision)
    pred = _cached_float(path, len(pixels))
    if pred is not None:
        return pred, True
    if len(pixels) == 0:
        return np.zeros(0, np.int64), False
    if ckpt.family is Family.S5:   # the S5 float classifier (numpy recurrence, float64)
        from ..model.s5_network import S5Classifier

        pred = S5Classifier(ckpt.config, ckpt.params).predict(pixels)
    else:
        model = FastClassifier(ckpt.config, ckpt.params, T=pixels.shape[1], precision=precision)
        pred = model.predict(pixels, threads=threads(), progress=progress, stop=stop)
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, pred)
    return pred, False


def evaluate(qm: QModel, pixels: np.ndarray, labels: np.ndarray, ckpt: Checkpoint | None = None,
             progress=None, float_progress=None, *, float_agreement: bool = True) -> Evaluation:
    """Golden-engine accuracy of ``qm`` on ``pixels``/``labels``; with a float checkpoint ``ckpt``
    and ``float_agreement``, also the float model's accuracy and its agreement with the engine.

    A float pass that is not cached runs on a second thread while the golden engine runs
    (both release the GIL), so the two share the cores; ``float_progress`` is then not called
    (two progress bars would write over each other), and ``seconds``/``float_seconds`` are the
    wall times of the two overlapping passes. When the golden engine raises (an interruption:
    SIGINT/SIGTERM), the float pass is stopped within one batch and the exception propagates.
    """
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    agree = facc = fsec = None
    ref = FloatReference.UNAVAILABLE
    fpred = future = None
    if ckpt is not None and not float_agreement:
        ref = FloatReference.SKIPPED
    elif ckpt is not None:
        fpred = _cached_float(_float_cache_path(ckpt, pixels, precision_of(ckpt)), len(pixels))
        ref = FloatReference.CACHED if fpred is not None else FloatReference.COMPUTED

    stop = threading.Event()

    def float_pass():
        t1 = time.perf_counter()
        out = _float_predictions(ckpt, pixels, stop=stop)[0]
        return out, round(time.perf_counter() - t1, 3)

    with ThreadPoolExecutor(max_workers=1) as pool:
        if ref is FloatReference.COMPUTED:
            future = pool.submit(float_pass)
        t0 = time.perf_counter()
        try:
            pred = golden_predictions(qm, pixels, progress)
            seconds = time.perf_counter() - t0
            if future is not None:
                fpred, fsec = future.result()
        except BaseException:
            stop.set()   # the pool's exit then waits for one float batch at most
            raise
    if fpred is not None:
        agree = float(np.mean(fpred == pred))
        facc = float(np.mean(fpred == labels))
    return Evaluation(
        accuracy=float(np.mean(pred == labels)), digits=int(len(pixels)), footprint_bits=qm.footprint_bits,
        float32_bits=qm.float32_bits, compression=round(qm.compression, 4), float_agreement=agree,
        float_accuracy=facc, seconds=round(seconds, 3), pred=pred, float_reference=ref, float_seconds=fsec,
        float_precision=precision_of(ckpt) if ckpt is not None else FLOAT_PRECISION,
    )
