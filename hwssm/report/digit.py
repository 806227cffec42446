"""One MNIST digit beside its sMNIST/psMNIST input sequence, as a PNG."""

from __future__ import annotations

import os

import numpy as np

from ..errors import HwssmError
from ..io import atomic_path


def plot_digit(image: np.ndarray, sequence: np.ndarray, out: str | os.PathLike, *, title: str) -> None:
    """Draw a digit image and its pixel sequence side by side; write a PNG atomically.

    Parameters
    ----------
    image
        uint8, shape (rows, cols): pixel intensity 0 (background) to 255, drawn dark on white.
    sequence
        shape (T,) with T = rows·cols: the pixel value fed to the model at each time step.
    out
        Path of the PNG to write (replaced atomically; untouched on error).
    title
        Figure title, e.g. ``"test[0]: label 7, sMNIST"``.
    """
    image = np.asarray(image)
    sequence = np.asarray(sequence)
    if image.ndim != 2 or sequence.shape != (image.size,):
        raise HwssmError(f"plot_digit needs a 2-D image and a sequence of its {image.size} pixels, not {image.shape} and {sequence.shape}")
    # Agg canvas directly: no pyplot, no global backend switch.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.2), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(1, 2, width_ratios=(1, 3.6))
    ax_img = fig.add_subplot(grid[0])
    ax_seq = fig.add_subplot(grid[1])

    ax_img.imshow(image, cmap="gray_r", vmin=0, vmax=255, interpolation="nearest")
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    ax_img.set_title(f"image {image.shape[0]}×{image.shape[1]}")

    steps = np.arange(sequence.size)
    ax_seq.plot(steps, sequence, linewidth=0.8, color="tab:blue")
    ax_seq.set_xlim(0, sequence.size - 1)
    ax_seq.set_ylim(-5, 260)
    ax_seq.set_xlabel(f"time step t (T = {sequence.size})")
    ax_seq.set_ylabel("pixel value u[t]")
    ax_seq.set_xticks(np.arange(0, sequence.size, 4 * image.shape[1]))
    ax_seq.grid(True, alpha=0.3)
    ax_seq.set_title("input sequence")
    fig.suptitle(title)

    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
