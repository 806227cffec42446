"""The front plot of ``hwssm search``: accuracy against LUT4, latency as colour, the front numbered.

Data in (the rows of the search results, :mod:`hwssm.explore.search`), PNG out; returns the
rows it drew.
"""

from __future__ import annotations

import os

from .figures import new_figure, save_png
from .sweep_plots import accuracy_limits


def fmt_ms(v: float) -> str:
    """Milliseconds with three significant digits (thousands separated)."""
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def plot_search_front(points: list[dict], front: list[dict], floor: float, out: str | os.PathLike,
                      device: str = "", *, below_floor: bool = False, stopped: list[dict] = ()) -> list[dict]:
    """Accuracy (%) against estimated LUT4 of every candidate measured on the test split (grey),
    the front coloured by latency (ms per sequence at the stated clock, log colour scale) and
    numbered, with a table beside it; the floor as a dashed line. The y-axis is zoomed to the
    band where the points are (:func:`~hwssm.report.sweep_plots.accuracy_limits`); points below
    it sit on the bottom edge as ▼. ``below_floor``: ``front`` is the front of what the floor
    rules out (nothing reaches it), and the title says so. ``stopped``: plans that stopped on a
    validation rung, each at its cheapest fitting design with the accuracy of its last rung
    (hollow)."""
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FuncFormatter

    fig = new_figure(14.0, 6.4)
    ax, ax_t = fig.subplots(1, 2, gridspec_kw={"width_ratios": (3.0, 2.2)})
    ax_t.axis("off")
    tested = [p for p in points if p.get("split") == "test" and p.get("fit") in ("yes", "borderline")]
    accs = [100 * p["accuracy"] for p in tested]
    y_lo, y_hi = accuracy_limits(([100 * floor] if not below_floor else []) + accs
                                 + [100 * p["accuracy"] for p in stopped])

    def y_of(p):
        return max(100 * p["accuracy"], y_lo + 0.02 * (y_hi - y_lo))

    others = [p for p in tested if p not in front]
    below = [p for p in others if 100 * p["accuracy"] < y_lo]
    ax.scatter([p["lut"] for p in others if p not in below], [y_of(p) for p in others if p not in below],
               s=14, color="tab:gray", alpha=0.45, label="candidates on the test split", zorder=2)
    if below:
        ax.scatter([p["lut"] for p in below], [y_of(p) for p in below], marker="v", s=16, color="tab:gray",
                   alpha=0.45, label=f"▼ below {y_lo:.1f}%", zorder=2)
    for sel, marker, label in ((lambda p: 100 * p["accuracy"] >= y_lo, "o",
                                "stopped on validation (last rung's accuracy, cheapest design)"),
                               (lambda p: 100 * p["accuracy"] < y_lo, "v", f"▽ stopped on validation, below {y_lo:.1f}%")):
        pts = [p for p in stopped if sel(p)]
        if pts:
            ax.scatter([p["lut"] for p in pts], [y_of(p) for p in pts], marker=marker, s=22, facecolors="none",
                       edgecolors="tab:gray", linewidths=0.9, zorder=2, label=label)
    rows = []
    table = []
    if front:
        lats = [p["latency_ms"] for p in front]
        xs, ys = [p["lut"] for p in front], [y_of(p) for p in front]
        label = "Pareto front" + (" — below the floor" if below_floor else "")
        if max(lats) / min(lats) < 1.05:  # one latency: no colour scale (it would repeat one tick)
            ax.scatter(xs, ys, color="tab:blue", s=60, edgecolors="black", linewidths=0.8, zorder=4,
                       label=f"{label} (latency ≈ {fmt_ms(min(lats))} ms)")
        else:
            sc = ax.scatter(xs, ys, c=lats, cmap="viridis_r", norm=LogNorm(vmin=min(lats), vmax=max(lats)), s=60,
                            edgecolors="black", linewidths=0.8, zorder=4, label=f"{label} (colour: latency)")
            cb = fig.colorbar(sc, ax=ax, pad=0.01)
            cb.set_label("latency (ms per 784-step sequence, stated clock)")
            cb.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_ms(v)))
            cb.ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: fmt_ms(v)))
        for p in front:
            ax.annotate(str(p["front"]), (p["lut"], y_of(p)), textcoords="offset points", xytext=(5, 4), fontsize=8,
                        fontweight="bold")
            conf = p.get("confirmed") or {}
            table.append([str(p["front"]), p["plan"], str(p["lanes"]), str(p["mix_cols"]), p["depth"][:4],
                          f"{p['lut']:,}", "—" if conf.get("lut_measured") is None else f"{conf['lut_measured']:,}",
                          "—" if conf.get("fmax_mhz") is None else f"{conf['fmax_mhz']:.1f}",
                          f"{100 * p['accuracy']:.2f}", fmt_ms(p["latency_ms"])])
            rows.append({k: p.get(k) for k in ("front", "plan", "lanes", "mix_cols", "depth", "lut", "accuracy",
                                                "latency_ms")})
    if y_lo <= 100 * floor <= y_hi:
        ax.axhline(100 * floor, color="tab:red", linestyle="--", linewidth=1, label=f"floor {100 * floor:.2f}%")
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("LUT4 (analytic estimate)")
    digits = {p.get("digits") for p in tested if p.get("digits")}
    ax.set_ylabel(f"accuracy (%, golden engine, {', '.join(f'{d:,}' for d in sorted(digits)) or '?'} test digits)")
    ax.grid(True, alpha=0.3)
    ax.set_title(f"Search front{' on ' + device if device else ''}: accuracy × LUT4 × latency"
                 + (f"\n(nothing reaches the floor {100 * floor:.2f}%: the front of what was measured)"
                    if below_floor else ""))
    ax.legend(fontsize=7.5, loc="best")
    if table:
        head = ["#", "plan", "P", "mix", "pipe", "LUT4 est.", "LUT4 Yosys", "Fmax", "acc. %", "ms/seq."]
        t = ax_t.table(cellText=table, colLabels=head, loc="upper center", cellLoc="left", colLoc="left")
        t.auto_set_font_size(False)
        t.set_fontsize(7.5)
        t.auto_set_column_width(list(range(len(head))))
        ax_t.set_title("Pareto front (latency at the stated clock; Yosys LUT4 and Fmax (MHz): --confirm)",
                       fontsize=9)
    save_png(fig, out)
    return rows
