"""Export of a float training run: final float32 metrics, the optional float64 numpy test
accuracy, and the checkpoint + log + plot files (:func:`export`).

Split out of :mod:`hwssm.train.float_train` (which re-exports these names); the training
loop and :class:`~hwssm.train.float_train.Outcome` stay there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..data.mnist import Split, load_mnist, sequences
from ..data.registry import DataSpec, data_identity, split_sequences
from ..io import write_json
from ..model.config import S4DConfig
from ..model.s5_config import S5Config
from .families import describe, numpy_classifier

if TYPE_CHECKING:
    from .float_train import Outcome


def final_metrics(outcome: Outcome, test_limit: int | None = None) -> dict:
    """Float32 (no autocast) loss and accuracy of the trained model on the val and test splits
    (the first ``test_limit`` test sequences only, when given)."""
    from .float_train import _split_tensors, evaluate

    out = {}
    for split, limit in ((Split.VAL, outcome.recipe.val_limit), (Split.TEST, test_limit)):
        x, y = _split_tensors(split, limit, outcome.device, outcome.recipe.data)
        loss, acc = evaluate(outcome.model, x, y, amp=False)
        out[split.value] = {"loss": loss, "accuracy": acc, "n": len(x)}
    return out


def numpy_test_accuracy(config: S4DConfig | S5Config, params: dict[str, np.ndarray], batch_size: int = 100,
                        limit: int | None = None, data: DataSpec | None = None) -> float:
    """Test accuracy of ``params`` under the float64 numpy reference (:mod:`hwssm.model.network`),
    on the first ``limit`` test sequences (default all 10,000)."""
    if data_identity(data) is not None:
        x, y = split_sequences(data, "test", limit)
        pred = numpy_classifier(config, params).predict(x, batch_size=batch_size)
        return float((pred == y).mean())
    images, labels = load_mnist(Split.TEST)
    pred = numpy_classifier(config, params).predict(sequences(images)[:limit], batch_size=batch_size)
    return float((pred == labels[:limit]).mean())


def summary_meta(outcome: Outcome, metrics: dict, numpy_acc: float | None) -> dict:
    """The ``meta`` of the exported float checkpoint."""
    seconds = sorted(e["seconds"] for e in outcome.log)
    devices = sorted({e["device"] for e in outcome.log})
    kind, _, notes = describe(outcome.config)
    meta = {
        "kind": kind if data_identity(outcome.recipe.data) is None
        else kind.replace("sMNIST", outcome.recipe.data.text()),
        "test_accuracy": numpy_acc if numpy_acc is not None else metrics["test"]["accuracy"],
        "test_accuracy_source": "numpy float64 reference" if numpy_acc is not None else "torch float32",
        "test_accuracy_torch_fp32": metrics["test"]["accuracy"],
        "val_accuracy_torch_fp32": metrics["val"]["accuracy"],
        "test_loss_torch_fp32": metrics["test"]["loss"],
        "test_n": metrics["test"]["n"],
        "epochs": outcome.epoch,
        "seconds_per_epoch": seconds[len(seconds) // 2] if seconds else None,
        "training_seconds": sum(seconds),
        "training_device": ", ".join(devices),
        "n_params": outcome.config.n_params(),
        "train_split": Split.TRAIN.value,
        "recipe": outcome.recipe.to_json(),
        "recipe_notes": notes,
        "torch_training": ", ".join(sorted({e.get("torch", "unknown") for e in outcome.log})),
        "torch_export": torch.__version__,
    }
    return meta


def export(outcome: Outcome, out: str | Path, *, numpy_test: bool = False, test_limit: int | None = None,
           say: Callable[[str], None] = print) -> Path:
    """Write the trained network as the float checkpoint ``<out>.json`` + ``<out>.npz``, its
    training log ``<out>.log.json`` and plot ``<out>.training.png``; return the JSON path.

    The checkpoint holds exactly the arrays of :meth:`S4DConfig.param_shapes` (a copy of the
    module's parameters) and a ``meta`` of :func:`summary_meta`. With ``numpy_test`` the test
    accuracy is also measured with the float64 numpy reference model (minutes on a CPU).
    ``test_limit`` evaluates the first n test sequences only (tests).
    """
    from ..model.checkpoint import save_checkpoint
    from ..report.training import plot_training

    out = Path(out)
    if out.suffix == ".json":
        out = out.with_suffix("")
    metrics = final_metrics(outcome, test_limit)
    say(f"float32 test accuracy {100 * metrics['test']['accuracy']:.2f}% "
        f"(val {100 * metrics['val']['accuracy']:.2f}%)")
    params = outcome.model.to_params()
    numpy_acc = None
    if numpy_test:
        numpy_acc = numpy_test_accuracy(outcome.config, params, limit=test_limit, data=outcome.recipe.data)
        say(f"numpy float64 reference test accuracy {100 * numpy_acc:.2f}%")
    path = save_checkpoint(out, outcome.config, params, summary_meta(outcome, metrics, numpy_acc))
    write_json(out.with_name(out.name + ".log.json"), outcome.log)
    plot_training(outcome.log, out.with_name(out.name + ".training.png"),
                  title=f"{describe(outcome.config)[1]}, "
                        f"test {100 * (numpy_acc if numpy_acc is not None else metrics['test']['accuracy']):.2f}%")
    say(f"wrote {path}")
    return path
