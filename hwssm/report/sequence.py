"""One sequence of any dataset (samples of C channels, or token ids), as a PNG."""

from __future__ import annotations

import os

import numpy as np

from ..errors import HwssmError
from ..io import atomic_path

#: Channels drawn as lines; more are drawn as an image (channel × step).
MAX_LINES = 8


def plot_sequence(x: np.ndarray, out: str | os.PathLike, *, title: str, ylabel: str,
                  token_names: tuple[str, ...] | None = None) -> None:
    """Draw one input sequence over time; write a PNG atomically.

    Parameters
    ----------
    x
        Integer codes, shape (T, C): the model's input at each of the T steps, C channels
        (samples) per step; a token sequence has C = 1 and ids for codes.
    out
        Path of the PNG to write (replaced atomically; untouched on error).
    title
        Figure title, e.g. ``"data.npz test[3]: label 2"``.
    ylabel
        What a code is (``"u8.8 code"``, ``"token id"``).
    token_names
        For token data: the name of each id (the y ticks), when known.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] < 1:
        raise HwssmError(f"plot_sequence needs a (T, C) array of codes, not shape {x.shape}")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    T, C = x.shape
    fig = Figure(figsize=(11, 3.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    steps = np.arange(T)
    if C > MAX_LINES:
        im = ax.imshow(x.T, aspect="auto", interpolation="nearest", cmap="viridis", origin="lower",
                       extent=(-0.5, T - 0.5, -0.5, C - 0.5))
        fig.colorbar(im, ax=ax, label=ylabel)
        ax.set_ylabel("channel c")
    elif token_names is not None:
        ax.step(steps, x[:, 0], where="mid", linewidth=0.8, color="tab:blue")
        used = np.unique(x[:, 0])
        if used.size <= 24:
            ax.set_yticks(used, [token_names[i] if 0 <= i < len(token_names) else str(i) for i in used])
        ax.set_ylabel(ylabel)
    else:
        for c in range(C):
            ax.plot(steps, x[:, c], linewidth=0.8, label=f"channel {c}" if C > 1 else None)
        if C > 1:
            ax.legend(loc="upper right", fontsize="small", ncols=min(C, 4))
        ax.set_ylabel(ylabel)
    ax.set_xlim(-0.5, T - 0.5)
    ax.set_xlabel(f"time step t (T = {T})")
    ax.grid(True, alpha=0.3)
    ax.set_title(title)
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
