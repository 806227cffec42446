"""Plots of a sweep's points (dicts as :mod:`hwssm.explore.sweep` writes them): data in, PNG out.

Every function takes the list of points and an output path, draws one figure and returns
the rows it drew (JSON-able), so the report can store exactly what each plot shows.
"""

from __future__ import annotations

import os

import numpy as np

from .figures import Styler, kbit, new_figure, pareto_front, plain_log_axis, save_png

#: Components drawn in the per-component plots, with their axis names.
COMPONENT_LABELS = {"A": "Ā", "x": "state x", "B": "B̄", "C": "C̄", "D": "D", "weight": "weights W", "act": "activations",
                    "bias": "biases"}
#: The plan field holding the width of each component (the real part for Ā and x).
COMPONENT_WIDTH = {"A": "A_re", "x": "x_re", "B": "B", "C": "C", "D": "D", "weight": "weight", "act": "act", "bias": "bias"}


def is_hw(p: dict) -> bool:
    return p.get("device") is not None and p.get("lanes") is not None


def lut_of(p: dict) -> float | None:
    """LUT4 equivalents measured by Yosys (ECP5 carry cells included), if known."""
    return p.get("lut_measured", p.get("lut"))


#: Accuracy span (percentage points below the best point) the Pareto plot's y-axis covers at
#: most; points further down are drawn on the bottom edge (▼) with their accuracy in the table.
ZOOM_SPAN = 10.0


def accuracy_limits(accs: list[float], span: float = ZOOM_SPAN) -> tuple[float, float]:
    """y-limits (%) of the Pareto plot: the band where the points are, with a margin.

    ``accs`` in percent. The band runs from the lowest accuracy within ``span`` points of the
    best to the best; the margin is 8 % of the band (at least 0.2 points), the top is capped
    at 100 % plus the margin.
    """
    if not accs:
        return 0.0, 100.0
    top = max(accs)
    low = min(a for a in accs if a >= top - span)
    margin = max(0.2, 0.08 * (top - low))
    return low - margin, min(top + margin, 100.0 + margin)


def is_estimated(p: dict) -> bool:
    """A hardware point of ``hwssm sweep --estimate-only`` (no Yosys counts)."""
    return p.get("hardware") == "estimate"


def latency_ms(p: dict) -> float | None:
    """Latency of one sequence in ms (at Fmax, or at the stated clock of an estimated point)."""
    us = p.get("us_per_digit")
    return None if us is None else us / 1e3


def plot_pareto(points: list[dict], out: str | os.PathLike) -> list[dict]:
    """Accuracy (%) against LUT4 (hardware points) or memory (kbit, accuracy-only points).

    Colour: device; marker: lanes P; hollow: does not fit. The y-axis is zoomed to the band
    where the points are (:func:`accuracy_limits`; points below it sit on the bottom edge as
    ▼). The Pareto front (fewest LUTs for the accuracy) is a step line per device, its points
    numbered, with a table beside the plot (device, plan, P, LUT4, accuracy, latency in ms).
    Estimated points (``hwssm sweep --estimate-only``) are drawn at the estimate with the
    estimator's measured LUT4 error band as a horizontal bar.
    """
    hw = [p for p in points if is_hw(p) and p.get("accuracy") is not None and _x_lut(p)]
    fig = new_figure(13.5, 6.2)
    ax, ax_t = fig.subplots(1, 2, gridspec_kw={"width_ratios": (3.0, 2.1)})
    ax_t.axis("off")
    rows = []
    st = Styler()
    table: list[list[str]] = []
    if hw:
        accs = [100 * p["accuracy"] for p in hw]
        y_lo, y_hi = accuracy_limits(accs)
        groups = sorted({p["device"] for p in hw})
        lanes_st = Styler()
        for P in sorted({p["lanes"] for p in hw}):
            lanes_st.marker(P)
        any_est = any_nofit_est = any_below = False
        keys: list[tuple[str, dict]] = []
        for dev in groups:
            pts = [p for p in hw if p["device"] == dev]
            color = st.color(dev)
            for p in pts:
                fits = bool(p.get("fits"))
                x, y = _x_lut(p), 100 * p["accuracy"]
                below = y < y_lo
                any_below |= below
                y_draw = y_lo + 0.02 * (y_hi - y_lo) if below else y
                if lut_of(p) is None and not is_estimated(p):  # no Yosys count (does not fit): at the estimate
                    any_nofit_est = True
                    ax.scatter(x, y_draw, marker="v" if below else "x", s=40, color=color, linewidths=1.2, zorder=3)
                    continue
                if is_estimated(p):
                    any_est = True
                    lo, hi = (p.get("error_band") or {}).get("lut", (0.0, 0.0))
                    ax.errorbar(x, y_draw, xerr=[[x - x / (1 + hi)], [x / (1 + lo) - x]], fmt="none", ecolor=color,
                                alpha=0.45, capsize=2, linewidth=1, zorder=2)
                ax.scatter(x, y_draw, marker="v" if below else lanes_st.marker(p["lanes"]), s=50,
                           facecolors=color if fits else "none", edgecolors=color, linewidths=1.3, zorder=3)
            drawn = [p for p in pts if lut_of(p) is not None or is_estimated(p)]
            front = pareto_front([p for p in drawn if p.get("fits")] or drawn, _x_lut, lambda p: p["accuracy"])
            fx = [_x_lut(p) for p in front]
            fy = [max(100 * p["accuracy"], y_lo) for p in front]
            if front:
                ax.step(fx, fy, where="post", color=color, alpha=0.6, linewidth=1.2, label=f"{dev} (Pareto front)")
            for p in front:  # numbered on the plot, named in the table (long plan names would overlap)
                keys.append((dev, p))
                ax.annotate(str(len(keys)), (_x_lut(p), max(100 * p["accuracy"], y_lo)), textcoords="offset points",
                            xytext=(5, 4), fontsize=8, color=color, fontweight="bold")
            for p in pts:
                rows.append({"device": dev, "plan": p["plan"], "lanes": p["lanes"], "lut": lut_of(p),
                             "lut_estimate": (p.get("estimate") or {}).get("lut"), "estimated": is_estimated(p),
                             "accuracy": p["accuracy"], "latency_ms": latency_ms(p),
                             "fits": bool(p.get("fits")), "pareto": p in front})
        for P in sorted({p["lanes"] for p in hw}):
            ax.scatter([], [], marker=lanes_st.marker(P), color="black", label=f"P = {P} lanes")
        ax.scatter([], [], marker="o", facecolors="none", edgecolors="black", label="hollow: does not fit")
        if any_nofit_est:
            ax.scatter([], [], marker="x", color="black", label="×: does not fit, no Yosys\ncount (at the estimate)")
        if any_below:
            ax.scatter([], [], marker="v", color="black", label=f"▼: below {y_lo:.1f}% (accuracy in the data)")
        for n, (dev, p) in enumerate(keys, 1):
            lat = latency_ms(p)
            table.append([str(n), dev, p["plan"], str(p["lanes"]),
                          ("≈" if is_estimated(p) else "") + f"{_x_lut(p):,.0f}", f"{100 * p['accuracy']:.2f}",
                          "—" if lat is None else f"{lat:,.1f}"])
        if any_est and all(is_estimated(p) for p in hw):
            ax.set_xlabel("LUT4 (analytic estimate; bars: its measured error band against Yosys)")
        elif any_est:
            ax.set_xlabel("LUT4 (Yosys, or ≈ the analytic estimate with its error band)")
        else:
            ax.set_xlabel("LUT4 (Yosys; ECP5 carry cells count as 2 LUT4)")
        title = "Accuracy vs logic: Pareto front per device"
        xs = [_x_lut(p) for p in hw]
        head = ["#", "device", "plan", "P", "LUT4", "acc. %", "ms/seq."]
    else:
        pts = [p for p in points if p.get("accuracy") is not None]
        y_lo, y_hi = accuracy_limits([100 * p["accuracy"] for p in pts])
        front = pareto_front(pts, lambda p: p["memory_bits"], lambda p: p["accuracy"])
        for p in pts:
            on = p in front
            y = 100 * p["accuracy"]
            ax.scatter(kbit(p["memory_bits"]), max(y, y_lo + 0.02 * (y_hi - y_lo)), marker="o" if y >= y_lo else "v",
                       color="tab:blue" if on else "tab:gray", s=40, zorder=3)
            rows.append({"plan": p["plan"], "memory_bits": p["memory_bits"], "accuracy": p["accuracy"], "pareto": on})
        ax.step([kbit(p["memory_bits"]) for p in front], [max(100 * p["accuracy"], y_lo) for p in front], where="post",
                color="tab:blue", alpha=0.6, label="Pareto front")
        for n, p in enumerate(front, 1):
            ax.annotate(str(n), (kbit(p["memory_bits"]), max(100 * p["accuracy"], y_lo)), textcoords="offset points",
                        xytext=(5, 4), fontsize=8, fontweight="bold")
            table.append([str(n), p["plan"], f"{kbit(p['memory_bits']):,.1f}", f"{100 * p['accuracy']:.2f}"])
        ax.set_xlabel("memory footprint (kbit: parameters + state)")
        title = "Accuracy vs memory: Pareto front"
        xs = [kbit(p["memory_bits"]) for p in pts]
        head = ["#", "plan", "kbit", "acc. %"]
    ax.set_ylim(y_lo, y_hi)
    if xs and max(xs) > 8 * max(min(xs), 1e-9):
        ax.set_xscale("log")
        plain_log_axis(ax.xaxis)
    digits = {p.get("digits") for p in points if p.get("digits")}
    ax.set_ylabel(f"accuracy (%, golden engine, {_digits(digits)} test digits)")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7.5, loc="best")
    if table:
        t = ax_t.table(cellText=table, colLabels=head, loc="upper center", cellLoc="left", colLoc="left")
        t.auto_set_font_size(False)
        t.set_fontsize(7.5)
        t.auto_set_column_width(list(range(len(head))))
        ax_t.set_title("Pareto front" + (" (latency at Fmax, or ≈ at the stated clock)" if hw else ""), fontsize=9)
    save_png(fig, out)
    return rows


def _x_lut(p: dict) -> float | None:
    """Where a hardware point goes on a LUT axis: Yosys' count, else the estimate."""
    v = lut_of(p)
    return v if v is not None else (p.get("estimate") or {}).get("lut")


def _digits(digits: set) -> str:
    if not digits:
        return "?"
    if len(digits) == 1:
        return f"{next(iter(digits)):,}"
    return f"{min(digits):,}–{max(digits):,}"


def plot_cost_vs_bits(points: list[dict], out: str | os.PathLike) -> list[dict]:
    """Per component: its stored bits (kbit) and, for hardware points, the estimated LUT4
    attributed to it, against its bit-width in the plan."""
    from matplotlib.ticker import MaxNLocator

    comps = ["A", "x", "B", "C", "D", "weight", "act"]
    hw = [p for p in points if is_hw(p) and p.get("estimate")]
    nrows = 2 if hw else 1
    fig = new_figure(2.35 * len(comps), 2.9 * nrows + 0.6)
    axes = fig.subplots(nrows, len(comps), squeeze=False)
    rows = []
    st = Styler()
    seen_plans = {}
    for p in points:
        seen_plans.setdefault(p["plan_code"], p)
    for j, comp in enumerate(comps):
        ax = axes[0][j]
        xs, ys = [], []
        for p in seen_plans.values():
            bits = p["component_bits"][COMPONENT_WIDTH[comp]]
            stored = p["memory_breakdown"].get(comp)
            if stored is None:  # activations are not stored: show the GELU/sigmoid tables instead
                stored = p.get("table_bits", 0)
            xs.append(bits)
            ys.append(kbit(stored))
            rows.append({"component": comp, "plan": p["plan"], "bits": bits, "stored_bits": stored})
        ax.scatter(xs, ys, color="tab:blue", s=28, zorder=3)
        ax.set_title(COMPONENT_LABELS[comp], fontsize=10)
        ax.set_xlabel("bits", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if j == 0:
            ax.set_ylabel("stored kbit\n(act: GELU/σ tables)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
        if hw:
            ax2 = axes[1][j]
            for p in hw:
                key = (p["device"], p["lanes"])
                v = p["estimate"]["lut_by_component"].get(comp, 0)
                ax2.scatter(p["component_bits"][COMPONENT_WIDTH[comp]], v, color=st.color(key), marker=st.marker(key), s=26, zorder=3)
                rows.append({"component": comp, "plan": p["plan"], "device": p["device"], "lanes": p["lanes"],
                             "bits": p["component_bits"][COMPONENT_WIDTH[comp]], "est_lut": v})
            ax2.set_xlabel("bits", fontsize=8)
            ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
            if j == 0:
                ax2.set_ylabel("LUT4 (estimate)", fontsize=8)
            ax2.tick_params(labelsize=7)
            ax2.grid(True, alpha=0.3)
    if hw:
        for key in sorted({(p["device"], p["lanes"]) for p in hw}):
            axes[1][0].scatter([], [], color=st.color(key), marker=st.marker(key), label=f"{key[0]} P={key[1]}")
        fig.legend(*axes[1][0].get_legend_handles_labels(), loc="outside lower center", ncols=min(6, len(st._keys)), fontsize=8)
    fig.suptitle("Cost against bit-width, per component", fontsize=11)
    save_png(fig, out)
    return rows


def plot_memory(points: list[dict], out: str | os.PathLike) -> list[dict]:
    """Stacked bars: stored bits per component for each plan (kbit), with the total and the
    compression against float32."""
    comps = ["A", "x", "B", "C", "D", "weight", "bias"]
    plans = {}
    for p in points:
        plans.setdefault(p["plan_code"], p)
    items = sorted(plans.values(), key=lambda p: p["memory_bits"])
    fig = new_figure(10, 1.6 + 0.42 * len(items))
    ax = fig.add_subplot()
    st = Styler()
    rows = []
    y = np.arange(len(items))
    left = np.zeros(len(items))
    for comp in comps:
        vals = np.array([kbit(p["memory_breakdown"].get(comp, 0)) for p in items])
        ax.barh(y, vals, left=left, color=st.color(comp), label=COMPONENT_LABELS[comp], height=0.65)
        left += vals
    total_max = max(left) if len(left) else 1
    for i, p in enumerate(items):
        ax.text(left[i] + 0.01 * total_max, i, f"{kbit(p['memory_bits']):,.1f} kbit ({p['compression']:.1f}× vs fp32)",
                va="center", fontsize=8)
        rows.append({"plan": p["plan"], "plan_code": p["plan_code"], "memory_bits": p["memory_bits"],
                     "compression": p["compression"], **{f"{c}_bits": p["memory_breakdown"].get(c, 0) for c in comps}})
    ax.set_yticks(y, [p["plan"] for p in items], fontsize=8)
    ax.set_xlim(0, total_max * 1.35)
    ax.set_xlabel("stored bits (kbit): parameters + zero points + one sequence's state")
    ax.set_title("Memory breakdown per component")
    ax.grid(True, axis="x", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8, loc="outside lower center", ncols=len(comps))
    save_png(fig, out)
    return rows


def plot_fmax_latency(points: list[dict], out: str | os.PathLike) -> list[dict]:
    """Fmax (MHz) and latency per digit (ms at Fmax) against lanes P; colour: plan, line style: device."""
    hw = [p for p in points if is_hw(p) and p.get("fmax_mhz")]
    fig = new_figure(11, 4.6)
    ax_f, ax_l = fig.subplots(1, 2)
    st = Styler()
    styles = {}
    rows = []
    for dev in sorted({p["device"] for p in hw}):
        styles[dev] = ("-", "o") if not styles else ("--", "s")
        for plan in sorted({p["plan"] for p in hw if p["device"] == dev}):
            pts = sorted((p for p in hw if p["device"] == dev and p["plan"] == plan), key=lambda p: p["lanes"])
            P = [p["lanes"] for p in pts]
            ls, mk = styles[dev]
            ax_f.plot(P, [p["fmax_mhz"] for p in pts], linestyle=ls, marker=mk, color=st.color(plan), label=f"{plan} · {dev}")
            lat = [latency_ms(p) for p in pts]
            ax_l.plot([q for q, v in zip(P, lat) if v], [v for v in lat if v], linestyle=ls, marker=mk, color=st.color(plan))
            for p in pts:
                rows.append({"device": dev, "plan": plan, "lanes": p["lanes"], "fmax_mhz": p["fmax_mhz"],
                             "cycles_per_digit": p.get("cycles_per_digit"), "latency_ms": latency_ms(p),
                             "fits": bool(p.get("fits"))})
    for ax in (ax_f, ax_l):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("lanes P (complex-MAC lanes)")
        ax.grid(True, which="both", alpha=0.3)
    lanes = sorted({p["lanes"] for p in hw})
    if lanes:
        for ax in (ax_f, ax_l):
            ax.set_xticks(lanes, [str(v) for v in lanes])
            ax.minorticks_off()
    ax_f.set_ylabel("Fmax (MHz, nextpnr)")
    ax_f.set_title("Clock")
    ax_l.set_yscale("log")
    plain_log_axis(ax_l.yaxis)
    ax_l.set_ylabel("latency per digit (ms at Fmax)")
    ax_l.set_title("Latency of one 784-step digit")
    if hw:
        fig.legend(*ax_f.get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=8)
    save_png(fig, out)
    return rows

