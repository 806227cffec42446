"""Training curves: loss and accuracy per epoch (train and validation) of a training log, as a PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..errors import HwssmError
from ..io import atomic_path

#: Keys every log entry must have (as written by :mod:`hwssm.train.float_train`).
LOG_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")


def plot_training(log: Sequence[dict], out: str | os.PathLike, *, title: str = "training") -> None:
    """Draw loss (log scale) and error rate (log scale) per epoch; write a PNG atomically.

    Parameters
    ----------
    log
        One dict per epoch with :data:`LOG_KEYS` (losses are mean cross-entropy in nats,
        accuracies fractions in [0, 1]); ``lr`` is drawn too when present.
    out
        Path of the PNG (replaced atomically; untouched on error).
    title
        Figure title.
    """
    if not log:
        raise HwssmError("plot_training: the training log is empty")
    missing = [k for k in LOG_KEYS if any(k not in e for e in log)]
    if missing:
        raise HwssmError(f"plot_training: log entries lack {missing[0]!r}")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epoch = np.array([e["epoch"] for e in log], dtype=float)
    col = {k: np.array([e[k] for e in log], dtype=float) for k in LOG_KEYS[1:]}

    fig = Figure(figsize=(11, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_err = fig.subplots(1, 2)
    ax_loss.plot(epoch, col["train_loss"], label="train (with dropout)", color="tab:blue")
    ax_loss.plot(epoch, col["val_loss"], label="validation", color="tab:orange")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss (nats)")
    ax_loss.grid(True, which="both", alpha=0.3)
    ax_loss.legend()
    if all("lr" in e for e in log):
        ax_lr = ax_loss.twinx()
        ax_lr.plot(epoch, [e["lr"] for e in log], color="tab:gray", linestyle=":", linewidth=1)
        ax_lr.set_ylabel("learning rate (dotted)", color="tab:gray")

    for key, label, color in (("train_acc", "train (with dropout)", "tab:blue"),
                              ("val_acc", "validation", "tab:orange")):
        err = np.clip(1.0 - col[key], 1e-4, 1.0) * 100
        ax_err.plot(epoch, err, label=label, color=color)
    best = int(np.argmax(col["val_acc"]))
    ax_err.plot([epoch[best]], [max(1e-2, 100 * (1 - col["val_acc"][best]))], "o", color="tab:orange",
                markerfacecolor="none", label=f"best val {100 * col['val_acc'][best]:.2f}% (epoch {int(epoch[best])})")
    ax_err.set_yscale("log")
    ax_err.set_xlabel("epoch")
    ax_err.set_ylabel("error rate (%)  = 100 − accuracy")
    ax_err.grid(True, which="both", alpha=0.3)
    ax_err.legend(loc="upper right")
    fig.suptitle(title)

    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
