"""The quantization report: PTQ studies and saved QAT results → ``quantization.md`` + PNGs + JSON.

Input is plain data (see :func:`write_quantization_report`): the study rows of
:func:`hwssm.explore.studies.study_rows` and the QAT/heterogeneous results read by
:func:`collect_results` from JSON files. Nothing here runs a model.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import numpy as np

from ..io import write_json, write_text
from .figures import Styler, kbit, new_figure, pareto_front, plain_log_axis, save_png
from .quantization_qat import group_qat_runs, paper_comparison, plot_qat_grid, qat_markdown
from .tables import fmt_int, fmt_pct, markdown_table

__all__ = ["collect_results", "write_quantization_report"]


def collect_results(directory: str | os.PathLike) -> tuple[list[dict], list[str]]:
    """Accuracy results saved as JSON under ``directory`` (e.g. ``models/results/``, written by QAT).

    Any JSON object (at any depth of any ``*.json`` file) with a numeric ``accuracy`` (a
    fraction, or a percentage above 1) and a ``plan`` (a name/code string or a plan object
    with a ``name``) is a result; ``footprint_bits`` / ``memory_bits``, ``method`` /
    ``quantization``, ``digits``, ``model`` and ``label`` are kept when present. Returns the
    results and one note per file that could not be read.
    """
    d = Path(directory)
    found, notes = [], []
    if not d.is_dir():
        return found, notes
    for path in sorted(d.rglob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            notes.append(f"{path}: unreadable ({type(exc).__name__})")
            continue
        for obj in _objects(doc):
            row = _result(obj)
            if row is not None:
                row["file"] = str(path)
                found.append(row)
    return found, notes


def _objects(doc):
    if isinstance(doc, dict):
        yield doc
        for v in doc.values():
            yield from _objects(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _objects(v)


def _result(obj: dict) -> dict | None:
    acc = obj.get("accuracy", obj.get("test_acc", obj.get("test_accuracy")))
    plan = obj.get("plan")
    if isinstance(plan, dict):
        plan = plan.get("name")
    if isinstance(acc, bool) or not isinstance(acc, (int, float)) or not isinstance(plan, str):
        return None
    acc = float(acc) / 100.0 if acc > 1.0 else float(acc)
    mem = obj.get("footprint_bits", obj.get("memory_bits"))
    return {"plan": plan, "accuracy": acc,
            "memory_bits": int(mem) if isinstance(mem, (int, float)) and not isinstance(mem, bool) else None,
            "method": str(obj.get("method", obj.get("quantization", "qat"))),
            "digits": obj.get("digits"), "label": obj.get("label") or obj.get("name") or plan,
            "model": obj.get("model")}


def _acc(rows):
    return [np.nan if r["accuracy"] is None else 100 * r["accuracy"] for r in rows]


def plot_bits(studies: dict, out, float_accuracy: float | None) -> dict:
    """Accuracy against the width of Ā and of x (every other component at 16 bits)."""
    fig = new_figure(8, 4.8)
    ax = fig.add_subplot()
    drawn = {}
    for key, label, color, marker in (("a_bits", "Ā bits (rest at 16)", "tab:blue", "o"),
                                      ("x_bits", "state x bits (rest at 16)", "tab:orange", "s")):
        rows = sorted(studies.get(key, []), key=lambda r: r["bits"])
        ax.plot([r["bits"] for r in rows], _acc(rows), marker=marker, color=color, label=label)
        drawn[key] = [{"bits": r["bits"], "accuracy": r["accuracy"], "code": r["code"]} for r in rows]
    if float_accuracy is not None:
        ax.axhline(100 * float_accuracy, color="tab:gray", linestyle=":", label=f"float model ({100 * float_accuracy:.2f}%)")
    bits = sorted({r["bits"] for k in ("a_bits", "x_bits") for r in studies.get(k, [])})
    if bits:
        ax.set_xticks(bits)
    ax.set_xlabel("bit-width of the swept component")
    ax.set_ylabel(f"PTQ accuracy (%, {_digits(studies)} test digits)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=9)
    ax.set_title("PTQ: sensitivity to the width of Ā and of the state x")
    save_png(fig, out)
    return drawn


def plot_compare(studies: dict, out) -> dict:
    """Three panels of grouped bars: uniform widths; per tensor vs per head; symmetric vs asymmetric."""
    fig = new_figure(12, 4.4)
    axes = fig.subplots(1, 3, sharey=True)
    drawn = {}
    uni = sorted(studies.get("uniform", []), key=lambda r: -(r["bits"] or 0))
    ax = axes[0]
    x = np.arange(len(uni))
    bars = ax.bar(x, _acc(uni), color="tab:blue", width=0.6)
    _bar_labels(ax, bars, _acc(uni))
    ax.set_xticks(x, [f"{r['bits']}-bit" for r in uni])
    ax.set_title("uniform (every component)")
    ax.set_ylabel(f"PTQ accuracy (%, {_digits(studies)} test digits)")
    drawn["uniform"] = [{"bits": r["bits"], "accuracy": r["accuracy"]} for r in uni]
    for ax, key, title in ((axes[1], "granularity", "per tensor vs per head"),
                           (axes[2], "scheme", "symmetric vs asymmetric")):
        rows = studies.get(key, [])
        variants = list(dict.fromkeys(r["variant"] for r in rows))
        bits = sorted({r["bits"] for r in rows}, reverse=True)
        w = 0.8 / max(1, len(variants))
        st = Styler()
        for i, v in enumerate(variants):
            vals = [next((100 * r["accuracy"] for r in rows if r["bits"] == b and r["variant"] == v and r["accuracy"] is not None), np.nan) for b in bits]
            bars = ax.bar(np.arange(len(bits)) + (i - (len(variants) - 1) / 2) * w, vals, width=w, color=st.color(v),
                          label=v.replace("_", " "))
            _bar_labels(ax, bars, vals)
        ax.set_xticks(np.arange(len(bits)), [f"{b}-bit" for b in bits])
        ax.set_title(title)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncols=2, fontsize=8, frameon=False)
        drawn[key] = [{"bits": r["bits"], "variant": r["variant"], "accuracy": r["accuracy"]} for r in rows]
    for ax in axes:
        ax.set_ylim(0, 108)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("PTQ at uniform widths: granularity and scheme")
    save_png(fig, out)
    return drawn


def _bar_labels(ax, bars, vals) -> None:
    for b, v in zip(bars, vals):
        if not np.isnan(v):
            ax.text(b.get_x() + b.get_width() / 2, v + 1, f"{v:.1f}", ha="center", va="bottom", fontsize=7)


def plot_hetero(studies: dict, qat: list[dict], out, qmodels: list[dict] = (), qat_groups: list[dict] = ()) -> list[dict]:
    """Memory footprint (kbit) against accuracy: PTQ uniform and heterogeneous plans, QModel
    files (e.g. QAT), saved results that state their footprint and QAT run groups (mean over
    seeds, with ± std bars); Pareto front over all."""
    fig = new_figure(9.5, 5.6)
    ax = fig.add_subplot()
    pts = []
    for r in studies.get("hetero", []):
        if r["accuracy"] is not None and r["memory_bits"]:
            pts.append({"label": r["plan"], "kind": "PTQ uniform" if r["variant"] == "uniform" else "PTQ heterogeneous",
                        "memory_bits": r["memory_bits"], "accuracy": r["accuracy"]})
    # uniform single-seed QAT runs have their own figure; QModel files of a plotted group are in it
    qat_groups = [g for g in qat_groups if g["bits"] is None or g["n"] > 1]
    grouped = {g["code"] for g in qat_groups} | {g["plan"] for g in qat_groups}
    for r in qmodels:
        if r["memory_bits"] and r["accuracy"] is not None and r["plan"] not in grouped:
            pts.append({"label": r["label"], "kind": f"{r['method']} QModel", "memory_bits": r["memory_bits"],
                        "accuracy": r["accuracy"]})
    for r in qat:
        if r["memory_bits"]:
            pts.append({"label": r["label"], "kind": f"{r['method']} (saved)", "memory_bits": r["memory_bits"],
                        "accuracy": r["accuracy"]})
    for g in qat_groups:
        if g["memory_bits"]:
            pts.append({"label": f"QAT {g['code']}" + (f" ({g['n']} seeds)" if g["n"] > 1 else f" ({g['recipe']['epochs']} ep)"),
                        "kind": "QAT, mean of ≥2 seeds" if g["n"] > 1 else "QAT, 1 seed",
                        "memory_bits": g["memory_bits"], "accuracy": g["mean"], "std": g["std"]})
    st = Styler()
    for kind in dict.fromkeys(p["kind"] for p in pts):
        sel = [p for p in pts if p["kind"] == kind]
        ax.scatter([kbit(p["memory_bits"]) for p in sel], [100 * p["accuracy"] for p in sel], color=st.color(kind),
                   marker=st.marker(kind), s=45, label=kind, zorder=3)
        err = [p for p in sel if p.get("std")]
        if err:
            ax.errorbar([kbit(p["memory_bits"]) for p in err], [100 * p["accuracy"] for p in err],
                        yerr=[100 * p["std"] for p in err], fmt="none", ecolor=st.color(kind), capsize=3, zorder=2)
    front = pareto_front(pts, lambda p: p["memory_bits"], lambda p: p["accuracy"])
    if front:
        ax.step([kbit(p["memory_bits"]) for p in front], [100 * p["accuracy"] for p in front], where="post",
                color="black", alpha=0.4, linewidth=1, label="Pareto front")
    # Pareto points are numbered on the plot and named in a key (labels would overlap near 100%)
    for i, p in enumerate(front, 1):
        ax.annotate(str(i), (kbit(p["memory_bits"]), 100 * p["accuracy"]), textcoords="offset points",
                    xytext=(4, -11 if i % 2 else 4), fontsize=8, fontweight="bold")
    if front:
        key = "\n".join(f"{i}: {p['label']} ({100 * p['accuracy']:.2f}%)" for i, p in enumerate(front, 1))
        ax.text(0.98, 0.04, "Pareto front\n" + key, transform=ax.transAxes, ha="right", va="bottom", fontsize=7.5,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9, "edgecolor": "0.7"})
    for p in pts:
        p["pareto"] = p in front
    ax.set_xscale("log")
    plain_log_axis(ax.xaxis)
    ax.set_xlabel("memory footprint (kbit: parameters + zero points + state)")
    ax.set_ylabel(f"accuracy (%, {_digits(studies)} test digits)")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title("Heterogeneous precision: memory against accuracy")
    if pts:
        fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=8)
    save_png(fig, out)
    return pts


def _digits(studies: dict) -> str:
    ds = sorted({r["digits"] for rows in studies.values() for r in rows if r.get("digits")})
    if not ds:
        return "?"
    return f"{ds[0]:,}" if len(ds) == 1 else f"{ds[0]:,}–{ds[-1]:,}"


def write_quantization_report(data: dict, out_dir: str | os.PathLike, *, md_name: str = "quantization.md") -> list[Path]:
    """Write ``md_name``, ``quantization_bits.png``, ``quantization_compare.png``,
    ``quantization_hetero.png`` and ``quantization.json`` into ``out_dir``.

    ``data`` holds ``studies`` (study value → rows), ``qat`` (results from :func:`collect_results`),
    ``qat_runs`` (QAT run results from :func:`hwssm.report.quantization_qat.collect_qat_runs`; they add
    ``quantization_qat.png``, the QAT tables and the comparison with the papers),
    ``model`` (path, digest, config), ``float_accuracy`` (or None), ``notes`` (strings) and
    ``sweep`` (where the PTQ points came from).
    """
    out = Path(out_dir)
    studies = data["studies"]
    written = []
    figs = {}
    figs["quantization_bits.png"] = plot_bits(studies, out / "quantization_bits.png", data.get("float_accuracy"))
    figs["quantization_compare.png"] = plot_compare(studies, out / "quantization_compare.png")
    groups = group_qat_runs(data.get("qat_runs", []))
    figs["quantization_hetero.png"] = plot_hetero(studies, data.get("qat", []), out / "quantization_hetero.png",
                                                  data.get("qmodels", []), groups)
    if any(g["bits"] for g in groups):
        figs["quantization_qat.png"] = plot_qat_grid(groups, studies, out / "quantization_qat.png")
    written += [out / n for n in figs]
    comparison = paper_comparison(studies, groups)

    model = data.get("model", {})
    fa = data.get("float_accuracy")
    lines = ["# Quantization report", "",
             f"- model: `{model.get('path', '?')}` (digest `{str(model.get('digest', ''))[:16]}`; "
             f"H={model.get('config', {}).get('H', '?')}, N={model.get('config', {}).get('N', '?')}, L={model.get('config', {}).get('L', '?')})",
             f"- PTQ: calibration on {data.get('calib_digits', '?')} training digits ({data.get('calibration', '?')}), power-of-two scales",
             f"- accuracy: golden engine (bit-exact integer network) on {_digits(studies)} MNIST test digits"
             + ("" if fa is None else f"; float model {100 * fa:.2f}% ({data.get('float_accuracy_source') or 'float model'})"),
             f"- written {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}", ""]
    lines += ["## Sensitivity to Ā and x", "", "![bits](quantization_bits.png)", ""]
    for key, name in (("a_bits", "Ā bits"), ("x_bits", "x bits")):
        rows = sorted(studies.get(key, []), key=lambda r: r["bits"])
        lines += markdown_table((name, "plan", "accuracy", "memory (bits)"),
                                [[str(r["bits"]), f"`{r['code']}`", fmt_pct(r["accuracy"]), fmt_int(r["memory_bits"])] for r in rows]) + [""]
    lines += ["## Uniform widths, granularity, scheme", "", "![compare](quantization_compare.png)", ""]
    rows = []
    for key in ("uniform", "granularity", "scheme"):
        for r in studies.get(key, []):
            rows.append([key, str(r["bits"]), r["variant"] or "—", f"`{r['code']}`", fmt_pct(r["accuracy"]), fmt_int(r["memory_bits"])])
    lines += markdown_table(("study", "bits", "variant", "plan", "accuracy", "memory (bits)"), rows) + [""]
    lines += ["## Heterogeneous precision", "", "![hetero](quantization_hetero.png)", ""]
    het = sorted(figs["quantization_hetero.png"], key=lambda p: p["memory_bits"])
    lines += markdown_table(("plan / result", "kind", "memory (bits)", "accuracy", "Pareto"),
                            [[p["label"], p["kind"], fmt_int(p["memory_bits"]), fmt_pct(p["accuracy"]), "yes" if p["pareto"] else ""] for p in het]) + [""]
    if groups:
        lines += qat_markdown(groups, studies, comparison)
    qms = data.get("qmodels", [])
    lines += ["## QModel files (QAT)", ""]
    if qms:
        lines += markdown_table(("model", "method", "plan", "memory (bits)", "accuracy", "digits", "accuracy from"),
                                [[f"`{r['file']}`", r["method"], f"`{r['plan']}`", fmt_int(r["memory_bits"]), fmt_pct(r["accuracy"]),
                                  fmt_int(r["digits"]), r["source"]] for r in qms]) + [""]
    else:
        lines += ["None given.", ""]
    qat = data.get("qat", [])
    if qat or not groups:
        lines += ["## Saved QAT / heterogeneous results", ""]
    if qat:
        lines += markdown_table(("label", "method", "plan", "memory (bits)", "accuracy", "digits", "file"),
                                [[r["label"], r["method"], f"`{r['plan']}`", fmt_int(r["memory_bits"]), fmt_pct(r["accuracy"]),
                                  fmt_int(r["digits"]), f"`{r['file']}`"] for r in qat]) + [""]
    elif not groups:
        lines += [f"None found under `{data.get('results_dir', 'models/results')}`.", ""]
    for n in data.get("notes", []):
        lines.append(f"- note: {n}")
    write_json(out / "quantization.json", {**data, "qat_groups": groups, "comparison": comparison[0],
                                           "seed_noise": comparison[1], "figures": figs})
    written.append(out / "quantization.json")
    write_text(out / md_name, "\n".join(lines) + "\n")
    written.append(out / md_name)
    return written
