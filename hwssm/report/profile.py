"""The per-layer profile plot and table (hls4ml-style), from :mod:`hwssm.report.profile_stats`.

One PNG per block (``profile_enc.png``, ``profile_0.png`` …, ``profile_dec.png``) and one of
the whole network (``profile.png``): a horizontal box plot per tensor of log2 |float value|
(box: quartiles, whiskers: 1st/99th percentile, dots beyond), over a shaded band from the
format's resolution 2^-frac to its largest representable magnitude: values left of the band
round to zero, values right of it saturate. Per-row or per-head formats draw two bands: the
light one spans every row's range, the dark one the range all rows share. ``profile.md`` is
the table of the fractions clipped and rounded to zero per tensor; ``profile.json`` the same
as data.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..io import write_json, write_text
from .figures import new_figure, save_png
from .profile_stats import TensorProfile

__all__ = ["write_profile_report", "plot_profile"]


def plot_profile(profiles: list[TensorProfile], title: str, out: Path) -> None:
    """Box plot of log2 |value| per tensor against its format's band (see the module docstring)."""
    n = len(profiles)
    fig = new_figure(8.0, 0.9 + 0.36 * n)
    ax = fig.add_subplot(1, 1, 1)
    for i, p in enumerate(profiles):
        y = n - 1 - i
        lo_all, hi_all = math.log2(p.step_lo), math.log2(p.top_hi)
        lo_all_rows, hi_all_rows = math.log2(p.step_hi), math.log2(p.top_lo)
        ax.add_patch(_rect(fig, lo_all, y - 0.4, hi_all - lo_all, 0.8, "tab:green", 0.18))
        if hi_all_rows > lo_all_rows:
            ax.add_patch(_rect(fig, lo_all_rows, y - 0.4, hi_all_rows - lo_all_rows, 0.8, "tab:green", 0.30))
    data = [np.log2(p.sample) if p.sample.size else np.array([np.nan]) for p in profiles]
    colors = ["tab:blue" if p.kind == "weight" else "tab:orange" for p in profiles]
    bp = ax.boxplot(data[::-1], positions=list(range(n)), orientation="horizontal", whis=(1, 99), widths=0.5, patch_artist=True,
                    flierprops={"markersize": 1.5, "alpha": 0.4}, manage_ticks=False)
    for patch, c in zip(bp["boxes"], colors[::-1]):
        patch.set_facecolor(c)
        patch.set_alpha(0.75)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{p.block}.{p.name} ({p.fmt})" for p in profiles][::-1], fontsize=7)
    ax.set_xlabel("log2 |value|  (band: format's resolution 2^-frac .. largest magnitude)")
    ax.set_title(title, fontsize=9)
    ax.set_ylim(-0.6, n - 0.4)
    ax.grid(axis="x", alpha=0.3)
    save_png(fig, out)


def _rect(fig, x, y, w, h, color, alpha):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, alpha=alpha, edgecolor="none")


def _pct(x: float) -> str:
    return "0" if x == 0 else (f"{100 * x:.2f}%" if x >= 1e-4 else f"{100 * x:.1e}%")


def _table(profiles: list[TensorProfile]) -> str:
    rows = ["| block | tensor | kind | format | values | max abs | range (2^-frac .. max) | clipped | rounded to 0 |",
            "|---|---|---|---|---:|---:|---|---:|---:|"]
    for p in profiles:
        rows.append(f"| {p.block} | {p.name} | {p.kind} | {p.fmt} | {p.n:,} | {p.max_abs:.3g} | "
                    f"{p.step_lo:.3g} .. {p.top_hi:.3g} | {_pct(p.clipped)} | {_pct(p.zeroed)} |")
    return "\n".join(rows)


def write_profile_report(profiles: list[TensorProfile], out: Path, *, model: str, digits: int, data: str) -> list[Path]:
    """Write ``profile.md``, ``profile.json``, ``profile.png`` and one ``profile_<block>.png`` per
    block into ``out``; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    blocks = list(dict.fromkeys(p.block for p in profiles))
    for b in blocks:
        path = out / f"profile_{b}.png"
        plot_profile([p for p in profiles if p.block == b], f"{model}: block {b}", path)
        paths.append(path)
    whole = out / "profile.png"
    plot_profile(profiles, f"{model}: every tensor ({digits} {data} digits for the activations)", whole)
    worst = sorted(profiles, key=lambda p: -(p.clipped + p.zeroed))[:5]
    md = "\n".join([
        f"# Numerical profile of {model}",
        "",
        f"Float weights of the source checkpoint and float activations on {digits} {data} calibration digits, "
        "each against the fixed-point format the model gives it (round to nearest at the format's frac, per "
        "row or head where the format is). **clipped**: outside the representable range (saturated); "
        "**rounded to 0**: non-zero values whose code is 0. Plots: `profile.png` (every tensor) and "
        "`profile_<block>.png`; boxes are log2 |value| (quartiles, whiskers at the 1st and 99th percentile), "
        "the green band the format's 2^-frac .. largest magnitude (dark: shared by all rows/heads).",
        "",
        "Most affected: " + ", ".join(f"{p.block}.{p.name} ({_pct(p.clipped)} clipped, {_pct(p.zeroed)} to 0)"
                                      for p in worst) + ".",
        "",
        _table(profiles),
        "",
    ])
    write_text(out / "profile.md", md)
    write_json(out / "profile.json", {"model": model, "digits": digits, "data": data,
                                      "tensors": [p.row() for p in profiles]})
    return [out / "profile.md", out / "profile.json", whole] + paths
