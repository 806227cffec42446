"""Shared figure plumbing: an Agg-canvas Figure, atomic PNG output, one colour/marker per key."""

from __future__ import annotations

import os

from ..io import atomic_path

#: Colours (matplotlib's tab10) and markers, assigned to keys in order of first use.
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
          "tab:gray", "tab:olive", "tab:cyan")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
DPI = 110


def new_figure(width: float, height: float):
    """A matplotlib Figure on the Agg canvas (no pyplot, no global backend), constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, out: str | os.PathLike) -> None:
    """Write ``fig`` as a PNG atomically."""
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)


class Styler:
    """Stable colour and marker per key (device, plan, lanes...), in order of first use."""

    def __init__(self):
        self._keys: dict = {}

    def _index(self, key) -> int:
        return self._keys.setdefault(key, len(self._keys))

    def color(self, key) -> str:
        return COLORS[self._index(key) % len(COLORS)]

    def marker(self, key) -> str:
        return MARKERS[self._index(key) % len(MARKERS)]


def pareto_front(points, x, y) -> list:
    """Points not dominated in (smaller ``x(p)``, larger ``y(p)``), sorted by x."""
    pts = sorted(points, key=lambda p: (x(p), -y(p)))
    front, best = [], float("-inf")
    for p in pts:
        if y(p) > best:
            front.append(p)
            best = y(p)
    return front


def plain_log_axis(axis) -> None:
    """Label a log-scaled axis (``ax.xaxis`` / ``ax.yaxis``) at 1, 2, 5 × 10^k with plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def kbit(bits: float) -> float:
    return bits / 1000.0
