"""The search report: ``report.md``, ``front.png`` and ``search.json`` (the results of ``hwssm search``).

:func:`write_search_report` takes the results object (:meth:`hwssm.explore.search.SearchResult.to_json`)
and a directory; everything is staged beside it and moved in at the end (all or nothing).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from ..io import staged_dir, write_json, write_text
from .search_plots import fmt_ms, plot_search_front
from .tables import fmt_int, fmt_num, markdown_table

__all__ = ["write_search_report"]


def write_search_report(results: dict, out_dir: str | Path, *, wall_s: float | None = None,
                        command: str | None = None) -> list[Path]:
    """Write ``out_dir/report.md``, ``front.png`` and ``search.json``; returns the paths.

    ``search.json`` is the results object with ``points`` reduced to the candidates that fit
    (or are borderline) and ``pruned`` counting the others by the resource they exceed (every
    estimate stays in the cache)."""
    with staged_dir(out_dir) as (staging, commit):
        written = _write(results, staging, wall_s, command)
        return commit([p.name for p in written])


def pruned_summary(points: list[dict]) -> dict[str, int]:
    """How many pruned candidates exceed each resource (``"dsp"``, ``"spram"``, ...), were skipped
    by the lanes shortcut, or cannot be built."""
    out: dict[str, int] = {"candidates": 0}
    for p in points:
        why = p.get("pruned")
        if p.get("fit") != "no" or why is None:
            continue
        out["candidates"] += 1
        if why.startswith("a hard block"):
            key = ["lanes shortcut"]
        elif why.startswith("cannot be built"):
            key = ["cannot be built"]
        else:
            key = [part.strip().split(" ")[0] for part in why.split(",")]
        for k in key:
            out[k] = out.get(k, 0) + 1
    return out


def stopped_points(results: dict) -> list[dict]:
    """Plans that stopped on a validation rung: the cheapest fitting design of each, with the
    accuracy and digits of its last rung."""
    out = []
    for code, h in results["plans"].items():
        if h["stopped"] == "final" or not h["rungs"]:
            continue
        fits = [p for p in results["points"] if p["plan"] == code and p.get("fit") in ("yes", "borderline")]
        if fits:
            best = min(fits, key=lambda p: (p["lut"], p["latency_ms"]))
            out.append({**best, "accuracy": h["rungs"][-1]["accuracy"], "digits": h["rungs"][-1]["digits"]})
    return out


def _digits(limit) -> str:
    return "all 10,000" if limit is None else f"{limit:,}"


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def _write(results: dict, out: Path, wall_s: float | None, command: str | None) -> list[Path]:
    spec, c, secs = results["spec"], results["counts"], results["seconds"]
    front, points = results["front"], results["points"]
    written = []
    shown = front or results.get("front_below_floor") or []
    fig_rows = plot_search_front(points, shown, spec["floor"], out / "front.png", spec["device"],
                                 below_floor=not front, stopped=stopped_points(results))
    written.append(out / "front.png")
    cap = spec["capacity"]
    hw = spec["space"]["hardware"]
    grid = spec["space"]["grid"]
    rungs = spec["rungs"]
    lines = [f"# Search: {spec['model']} on {spec['device']}", "",
             f"- accuracy floor {_pct(spec['floor'])}; capacity {cap['lut']:,} LUT4, {cap['dsp']} DSP, {cap['bram']} "
             f"block RAM, {cap['spram']} SPRAM" + (" (budget)" if spec["lut_budget"] or spec["dsp_budget"] else ""),
             f"- space: {c['space']:,} candidates = {c['plans']} plans × {c['designs_per_plan']} designs "
             f"(lanes {hw['lanes']}, mixing columns {hw['mix_cols']}, pipeline {hw['depths']})"
             + (f"; plan grid Ā {grid['A']}, x {grid['x']}, B̄=C̄=D {grid['BCD']}, W {grid['weight']}, "
                f"a {grid['act']}, per head {grid['per_head']}"
                + (f", S5 B̄u {['x' if b is None else b for b in grid['bu']]} (x: the state's width)"
                   if grid.get("bu") else "") if grid else ""),
             f"- pruned by the estimator: {c['pruned']:,} (of which {c['pruned_by_lanes']:,} by the lanes shortcut); "
             f"kept {c['fit_yes']:,} fitting + {c['fit_borderline']:,} borderline; {c['plans_fitting']} plans have a "
             f"fitting design",
             f"- successive halving: {c['plans_rung1']} plans on {rungs['val'][0]:,} validation digits, rungs "
             f"{rungs['val']} (keep 1/{rungs['eta']}), then {c['plans_on_test']} on "
             f"{_digits(rungs['test_limit'])} test digits; "
             f"{c['evaluations_computed']} evaluations computed, {c['evaluations_cached']} cached",
             f"- front: {c['front']} points of {c['points_above_floor']:,} above the floor "
             f"({c['points_on_test']:,} candidates on the test split)",
             "- time: " + ", ".join(f"{k} {v:,.0f} s" for k, v in secs.items())
             + ("" if wall_s is None else f"; wall {wall_s:,.0f} s"),
             *([f"- command: `{command}` (everything cached by content: a rerun resumes)"] if command else []),
             f"- written {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by hwssm "
             f"{results.get('hwssm', '?')}", "",
             "LUT4/FF are the analytic estimate (with the family's measured error band), DSP/BRAM/SPRAM its "
             "counts (exact on every measured point), latency one 784-step sequence at the device's stated "
             "clock (not a timing result; `--confirm` places the points and gives Fmax).", "",
             "![front](front.png)", "", "## Front", ""]
    head = ("#", "plan", "P", "mix", "pipeline", "fit", "LUT4", "FF", "DSP", "BRAM", "SPRAM", "accuracy", "ms/seq.")
    rows = [[str(p["front"]), f"`{p['plan']}`", str(p["lanes"]), str(p["mix_cols"]), p["depth"], p["fit"],
             fmt_int(p["lut"]), fmt_int(p["ff"]), fmt_int(p["dsp"]), fmt_int(p["bram"]), fmt_int(p["spram"]),
             _pct(p["accuracy"]), fmt_ms(p["latency_ms"])] for p in front]
    if rows:
        lines += markdown_table(head, rows) + [""]
    else:
        lines += [f"Nothing reaches the floor {_pct(spec['floor'])}. The front of every candidate measured on the "
                  "test split (what the floor rules out):", ""]
        lines += markdown_table(head, [[str(p["front"]), f"`{p['plan']}`", str(p["lanes"]), str(p["mix_cols"]),
                                        p["depth"], p["fit"], fmt_int(p["lut"]), fmt_int(p["ff"]), fmt_int(p["dsp"]),
                                        fmt_int(p["bram"]), fmt_int(p["spram"]), _pct(p["accuracy"]),
                                        fmt_ms(p["latency_ms"])] for p in shown]) + [""]
    best = results.get("best")
    if best:
        lines += [f"Most accurate candidate: `{best['plan']}` P={best['lanes']} at {_pct(best['accuracy'])} on "
                  f"{best['digits']:,} {'test' if best['split'] == 'test' else 'validation'} digits.", ""]
    conf = [p for p in shown if p.get("confirmed")]
    if conf:
        lines += ["## Confirmed by synthesis and place-and-route", "",
                  "Yosys + nextpnr of the first front points (the device's synthesis switches); LUT4 error = "
                  "(estimate − Yosys) / Yosys; exact: DSP, block RAM and SPRAM equal to the estimate.", ""]
        crow = []
        for p in conf:
            k = p["confirmed"]
            exact = k.get("exact") or {}
            crow.append([str(p["front"]), f"`{p['plan']}`", str(p["lanes"]), k.get("status", "?"), fmt_int(p["lut"]),
                         fmt_int(k.get("lut_measured")),
                         "—" if k.get("est_lut_error") is None else f"{100 * k['est_lut_error']:+.1f}%",
                         ", ".join(f"{r} {'=' if v else '≠'}" for r, v in exact.items()) or "—",
                         fmt_num(k.get("fmax_mhz"), 1),
                         "—" if k.get("latency_ms_at_fmax") is None else fmt_ms(k["latency_ms_at_fmax"])])
        lines += markdown_table(("#", "plan", "P", "status", "LUT4 est.", "LUT4 Yosys", "error", "hard blocks",
                                 "Fmax (MHz)", "ms/seq. at Fmax"), crow) + [""]
    qat = [p for p in shown if p.get("qat")]
    if qat:
        lines += ["## QAT of the best plans", ""]
        lines += markdown_table(("plan", "status", "PTQ accuracy", "QAT golden accuracy", "digits"),
                                [[f"`{p['plan']}`", p["qat"]["status"], _pct(p["accuracy"]),
                                  _pct(p["qat"].get("golden_test_accuracy")), fmt_int(p["qat"].get("golden_digits"))]
                                 for p in qat]) + [""]
    stops = {}
    for h in results["plans"].values():
        s = h["stopped"] or "?"
        key = s.split(":")[0] + (": below the floor" if "below the floor" in s else "")
        stops[key] = stops.get(key, 0) + 1
    lines += ["## Where the plans stopped", ""] + [f"- {k}: {v}" for k, v in sorted(stops.items())] + [""]
    kept = [p for p in points if p.get("fit") in ("yes", "borderline")]
    pruned = pruned_summary(points)
    lines += ["## Pruned by the estimator", "",
              "Candidates per resource the estimate exceeds (a candidate may exceed several; the lanes shortcut "
              "skips a larger P once a hard block overflows at a smaller one):", ""]
    lines += [f"- {k}: {v:,}" for k, v in pruned.items()] + [""]
    write_json(out / "search.json", {**results, "points": kept, "pruned": pruned,
                                     "figures": {"front.png": fig_rows}, "wall_s": wall_s,
                                     "command": command})
    written.append(out / "search.json")
    write_text(out / "report.md", "\n".join(lines))
    written.append(out / "report.md")
    return written
