"""The sweep report: ``report.md``, its PNG plots and ``report.json`` (the data each plot and table shows).

:func:`write_sweep_report` takes the results of ``hwssm sweep`` (the JSON object) and a
directory. Everything is first written into a staging directory beside it
(:func:`hwssm.io.staged_dir`) and moved in only when all of it was written, the Markdown
last: a failure leaves no partial report.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path

from ..io import staged_dir, write_json, write_text
from .sweep_plots import (is_estimated, is_hw, lut_of, plot_cost_vs_bits, plot_fmax_latency, plot_memory,
                          plot_pareto)
from .tables import fmt_int, fmt_num, fmt_pct, markdown_table

__all__ = ["write_sweep_report", "headline", "HEADLINE_COLUMNS"]

#: Columns of the headline table (one row per device).
HEADLINE_COLUMNS = ("device", "plan", "P", "LUT4", "FF", "DSP", "BRAM", "SPRAM", "Fmax (MHz)", "cycles/digit",
                    "µs/digit", "digits/s", "accuracy", "fits")


def headline(points: list[dict]) -> list[dict]:
    """Per device, the most accurate design that fits (fewest LUTs on a tie); a device where
    nothing fits shows its smallest design."""
    out = []
    for dev in sorted({p["device"] for p in points if is_hw(p)}):
        pts = [p for p in points if is_hw(p) and p["device"] == dev and _lut_axis(p) is not None]
        if not pts:
            pts = [p for p in points if is_hw(p) and p["device"] == dev]
        fitting = [p for p in pts if p.get("fits")]
        if fitting:
            best = max(fitting, key=lambda p: (p.get("accuracy") or 0, -(_lut_axis(p) or 0)))
        else:
            best = min(pts, key=lambda p: (_lut_axis(p) or math.inf))
        out.append(best)
    return out


def _lut_axis(p: dict) -> float | None:
    """Yosys' LUT4 count, or the estimate of an estimated point."""
    return (p.get("estimate") or {}).get("lut") if is_estimated(p) else lut_of(p)


def _hw_row(p: dict) -> list[str]:
    if is_estimated(p):  # hwssm sweep --estimate-only: ≈ the estimate, latency at the stated clock
        est = p.get("estimate") or {}

        def approx(k):
            return "—" if est.get(k) is None else f"≈{fmt_int(est[k])}"
        return [p["device"], p["plan"], str(p["lanes"]), approx("lut"), approx("ff"), fmt_int(est.get("dsp")),
                fmt_int(est.get("bram")), fmt_int(est.get("spram")), f"({fmt_num(p.get('clock_mhz'), 0)} stated)",
                fmt_int(p.get("cycles_per_digit")), fmt_num(p.get("us_per_digit"), 1), fmt_num(p.get("digits_per_s"), 1),
                fmt_pct(p.get("accuracy")), p.get("fit", "not built" if p.get("estimate_error") else "—")]
    return [p["device"], p["plan"], str(p["lanes"]), fmt_int(lut_of(p)), fmt_int(p.get("ff")), fmt_int(p.get("dsp")),
            fmt_int(p.get("bram")), fmt_int(p.get("spram")), fmt_num(p.get("fmax_mhz"), 1),
            fmt_int(p.get("cycles_per_digit")), fmt_num(p.get("us_per_digit"), 1), fmt_num(p.get("digits_per_s"), 1),
            fmt_pct(p.get("accuracy")), "yes" if p.get("fits") else "no"]


def _estimator_rows(points: list[dict]) -> tuple[list[list[str]], dict]:
    rows, errs = [], []
    for p in points:
        if not is_hw(p) or not p.get("estimate"):
            continue
        err = p.get("est_lut_error")
        if err is not None:
            errs.append(err)
        rows.append([p["device"], p["plan"], str(p["lanes"]), fmt_int(lut_of(p)), fmt_int(p["estimate"]["lut"]),
                     "—" if err is None else f"{100 * err:+.1f}%", fmt_int(p.get("ff")), fmt_int(p["estimate"]["ff"]),
                     fmt_int(p.get("dsp")), fmt_int(p["estimate"]["dsp"]), fmt_int(p.get("bram")),
                     fmt_int(p["estimate"]["bram"])])
    stats = {}
    if errs:
        stats = {"points": len(errs), "mean_abs_error": sum(abs(e) for e in errs) / len(errs),
                 "max_abs_error": max(abs(e) for e in errs), "within_15pct": sum(abs(e) <= 0.15 for e in errs)}
    return rows, stats


def write_sweep_report(results: dict, out_dir: str | Path, *, name: str, source: str = "") -> list[Path]:
    """Write ``out_dir/report.md``, ``pareto.png``, ``cost_vs_bits.png``, ``memory.png``,
    ``fmax_latency.png`` (hardware sweeps) and ``report.json``; returns the paths written.

    All or nothing: the files are built in a staging directory and moved in at the end."""
    with staged_dir(out_dir) as (staging, commit):
        written = _write_report(results, staging, name=name, source=source)
        return commit([p.name for p in written])


def _write_report(results: dict, out: Path, *, name: str, source: str) -> list[Path]:
    points = list(results["points"])
    hw = [p for p in points if is_hw(p)]
    written: list[Path] = []
    data: dict = {"name": name, "source": source, "spec": results.get("spec"), "model": results.get("source"),
                  "figures": {}}

    def fig(fname: str, fn) -> None:
        data["figures"][fname] = fn(points, out / fname)
        written.append(out / fname)

    fig("pareto.png", plot_pareto)
    fig("cost_vs_bits.png", plot_cost_vs_bits)
    fig("memory.png", plot_memory)
    if hw:
        fig("fmax_latency.png", plot_fmax_latency)

    digits = sorted({p.get("digits") for p in points if p.get("digits")})
    lines = [f"# Sweep report: {name}", ""]
    spec = results.get("spec") or {}
    sources = results.get("sources") or [results.get("source") or {}]
    specs = results.get("merged_specs") or [spec]
    lanes = sorted({P for sp in specs for P in (sp or {}).get("lanes") or ()})
    devices = sorted({d for sp in specs for d in (sp or {}).get("devices") or ()})
    lines += [f"- model{'s' if len(sources) > 1 else ''}: "
              + "; ".join(f"`{m.get('path', spec.get('model', '?'))}` ({m.get('kind', '?')}, digest `{str(m.get('digest', ''))[:16]}`)"
                          for m in sources),
              *(["- plan labels end in [PTQ] (post-training quantization of the float checkpoint) or "
                 "[<QModel file>] (a shipped QAT model)"] if len(sources) > 1 else []),
              f"- plans: {len({p['plan'] for p in points})}; lanes P: {lanes or '—'}; devices: {devices or '—'}",
              f"- accuracy: golden engine (bit-exact integer network) on {', '.join(f'{d:,}' for d in digits) or '?'} MNIST test digits",
              f"- results: `{source}`" if source else "- results: (in memory)",
              *([f"- RTL generator: {', '.join(sorted(gens))}"] if (gens := {p['generator_version'] for p in hw if p.get('generator_version')}) else []),
              f"- written {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by hwssm {results.get('hwssm', '?')}",
              ""]
    if hw:
        head = headline(points)
        data["headline"] = [{c: v for c, v in zip(HEADLINE_COLUMNS, _hw_row(p))} for p in head]
        lines += ["## Headline", "",
                  "Per device, the most accurate design that fits (fewest LUTs on a tie). µs/digit and digits/s "
                  "are at Fmax for one 784-step digit (cycles/digit from the generator's cycle model)"
                  + ("; ≈: the analytic estimate, at the stated clock (no synthesis)." if any(is_estimated(p) for p in hw)
                     else "."), ""]
        lines += markdown_table(HEADLINE_COLUMNS, [_hw_row(p) for p in head]) + [""]
    lines += ["## Accuracy against cost", "", "![Pareto front](pareto.png)", ""]
    if hw and any(is_estimated(p) for p in hw):
        bands = {p["device"]: p.get("error_band") for p in hw if is_estimated(p) and p.get("error_band")}
        lines += ["Hardware from the analytic estimator, no synthesis (`hwssm sweep --estimate-only`): ≈ marks "
                  "estimated LUT4/FF; the bars are its measured LUT4 error band against Yosys ("
                  + "; ".join(f"{d}: {100 * b['lut'][0]:+.1f}% .. {100 * b['lut'][1]:+.1f}% over {b['points']} points"
                              for d, b in sorted(bands.items()))
                  + "); DSP/BRAM/SPRAM were exact on every measured point. Latency at each device's stated clock, "
                    "not a timing result; fits: yes / no / borderline within the band. Hollow markers do not fit.", ""]
    elif hw:
        lines += ["Hollow markers do not fit the device. LUT4 counts are after Yosys technology mapping "
                  "(ECP5: LUT4 cells plus two per CCU2C carry cell).", ""]
    lines += ["## Memory", "", "![Memory breakdown](memory.png)", "",
              "## Cost against bit-width per component", "", "![Cost vs bits](cost_vs_bits.png)", "",
              "Top: stored bits of the component (activations: the GELU and sigmoid tables). "
              + ("Bottom: LUT4 the analytic estimator attributes to the component (its datapath and, "
                 "for ROMs left in logic, its storage)." if hw else ""), ""]
    if hw:
        lines += ["## Clock and latency against lanes", "", "![Fmax and latency](fmax_latency.png)", "",
                  "## All hardware points", ""]
        lines += markdown_table(HEADLINE_COLUMNS, [_hw_row(p) for p in sorted(hw, key=lambda p: (p["device"], p["plan"], p["lanes"]))]) + [""]
        measured = [p for p in hw if not is_estimated(p)]
        rows, stats = _estimator_rows(measured)
        data["estimator"] = stats
        if measured:
            lines += ["## Analytic estimator against Yosys", ""]
            if stats:
                lines += [f"LUT4 error over {stats['points']} points: mean |error| {100 * stats['mean_abs_error']:.1f}%, "
                          f"max |error| {100 * stats['max_abs_error']:.1f}%, {stats['within_15pct']} of {stats['points']} within ±15%.", ""]
            lines += markdown_table(("device", "plan", "P", "LUT4 Yosys", "LUT4 est.", "error", "FF Yosys", "FF est.",
                                     "DSP Yosys", "DSP est.", "BRAM Yosys", "BRAM est."), rows) + [""]
        nofit = [p for p in hw if p.get("status") == "does-not-fit" or (is_estimated(p) and p.get("fit") == "no")]
        if nofit:
            lines += ["## Designs that do not fit", ""]
            lines += [f"- {p['plan']} P={p['lanes']} on {p['device']}: {p.get('message', 'does not fit')}" for p in nofit] + [""]
        bad = [p for p in hw if p.get("status") not in ("ok", "does-not-fit", "estimated")]
        if bad:
            lines += ["## Points without hardware results", ""] + [f"- {p['plan']} P={p['lanes']} {p['device']}: {p.get('estimate_error') or p.get('status')}" for p in bad] + [""]
    else:
        lines += ["## All points", ""]
        rows = [[p["plan"], p["plan_code"], fmt_int(p["memory_bits"]), f"{p['compression']:.2f}×", fmt_pct(p.get("accuracy"))]
                for p in sorted(points, key=lambda p: p["memory_bits"])]
        lines += markdown_table(("plan", "code", "memory (bits)", "vs fp32", "accuracy"), rows) + [""]
    data["points"] = points
    write_json(out / "report.json", data)
    written.append(out / "report.json")
    write_text(out / "report.md", "\n".join(lines))
    written.append(out / "report.md")
    return written
