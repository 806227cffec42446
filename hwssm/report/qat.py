"""QAT curves: loss and error rate per epoch of a QAT log, with the PTQ starting point, as a PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..errors import HwssmError
from ..io import atomic_path

#: Keys every log entry must have (as written by :mod:`hwssm.train.qat_train`).
LOG_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")


def plot_qat(log: Sequence[dict], out: str | os.PathLike, *, title: str = "QAT",
             start_val_acc: float | None = None, test_acc: float | None = None) -> None:
    """Draw cross-entropy (log scale) and error rate (log scale) per epoch; write a PNG atomically.

    Parameters
    ----------
    log
        One dict per epoch with :data:`LOG_KEYS` (losses in nats, accuracies fractions in
        [0, 1]); ``lr`` is drawn too when present. Training and validation run the integer
        network, so the validation accuracy is the golden engine's.
    out
        Path of the PNG (replaced atomically; untouched on error).
    start_val_acc
        Validation accuracy before QAT (the PTQ model), drawn at epoch 0.
    test_acc
        Golden test accuracy of the exported model, drawn as a marker after the last epoch.
    """
    if not log:
        raise HwssmError("plot_qat: the QAT log is empty")
    missing = [k for k in LOG_KEYS if any(k not in e for e in log)]
    if missing:
        raise HwssmError(f"plot_qat: log entries lack {missing[0]!r}")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epoch = np.array([e["epoch"] for e in log], dtype=float)
    col = {k: np.array([e[k] for e in log], dtype=float) for k in LOG_KEYS[1:]}
    err = lambda acc: np.clip(1.0 - np.asarray(acc, dtype=float), 1e-4, 1.0) * 100  # noqa: E731

    fig = Figure(figsize=(11, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_err = fig.subplots(1, 2)
    ax_loss.plot(epoch, col["train_loss"], label="train", color="tab:blue")
    ax_loss.plot(epoch, col["val_loss"], label="validation", color="tab:orange")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss (nats)")
    ax_loss.grid(True, which="both", alpha=0.3)
    ax_loss.legend(loc="lower left")
    if all("lr" in e for e in log):
        ax_lr = ax_loss.twinx()
        ax_lr.plot(epoch, [e["lr"] for e in log], color="tab:gray", linestyle=":", linewidth=1)
        ax_lr.set_ylabel("learning rate (dotted)", color="tab:gray")

    ax_err.plot(epoch, err(col["train_acc"]), label="train", color="tab:blue")
    xs, ys = epoch, err(col["val_acc"])
    if start_val_acc is not None:
        xs, ys = np.concatenate([[0.0], xs]), np.concatenate([err([start_val_acc]), ys])
        ax_err.annotate(f"PTQ start {100 * start_val_acc:.2f}%", xy=(0, ys[0]), xytext=(0.12, 0.62),
                        textcoords="axes fraction", arrowprops={"arrowstyle": "->", "color": "gray"})
    ax_err.plot(xs, ys, label="validation (integer network)", color="tab:orange")
    if test_acc is not None:
        ax_err.plot([epoch[-1]], err([test_acc]), "k*", markersize=10,
                    label=f"golden test {100 * test_acc:.2f}%")
    ax_err.set_yscale("log")
    ax_err.set_xlabel("epoch")
    ax_err.set_ylabel("error rate (%)  = 100 − accuracy")
    ax_err.grid(True, which="both", alpha=0.3)
    ax_err.legend(loc="upper right")
    fig.suptitle(title)

    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
