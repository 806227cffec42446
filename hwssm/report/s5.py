"""The Q-S5 reproduction report: ``s5.md`` + ``s5.png`` + ``s5.json`` from the study's data.

Input is plain data (:func:`write_s5_report`): the rows of :func:`hwssm.explore.s5_study.run_s5_study`
(Q-S5's sMNIST PTQ settings mapped to hwssm S5 plans, each at two state widths, scored by the golden
engine), the float accuracy, and the saved S5 QAT groups of :mod:`hwssm.explore.s5_study_qat`.
Every sentence of the comparison section is generated from those numbers. Nothing here runs a model.
"""

from __future__ import annotations

import datetime
import math
import os
from pathlib import Path

import numpy as np

from ..io import write_json, write_text
from .figures import new_figure, save_png
from .tables import fmt_int, fmt_pct, markdown_table

__all__ = ["write_s5_report", "comparison_lines", "plot_s5", "AGREE_POINTS", "MD_NAME"]

#: Name of the Markdown file the report writes (its PNG and JSON share the stem).
MD_NAME = "s5.md"
#: Accuracy difference (percentage points) within which hwssm and Q-S5 are said to agree.
AGREE_POINTS = 2.0
#: Chance accuracy of 10 classes (%).
CHANCE = 10.0


def _pp(v) -> float | None:
    return None if v is None else 100.0 * v


def _settings(rows: list[dict]) -> list[dict]:
    """One entry per Q-S5 setting, in table order: label, reported, and the hwssm row of each state width."""
    out: dict[str, dict] = {}
    for r in rows:
        s = out.setdefault(r["label"], {"label": r["label"], "reported": r["reported"],
                                        "reported_text": r["reported_text"], "rows": {}})
        s["rows"][r["state"]] = r
    return list(out.values())


def _x_bits(code: str) -> str:
    return code.split("x", 1)[1].split("-", 1)[0]


def plot_s5(data: dict, out: str | os.PathLike) -> dict:
    """Grouped bars per Q-S5 setting: Q-S5 (dynamic; the range as an error bar), hwssm PTQ with the
    state at the activation width, and with the wide state. Returns what was drawn."""
    settings = _settings(data["rows"])
    labels = ["float"] + [s["label"].replace(", ", ",\n") for s in settings]
    qs5 = [data.get("qs5_float")] + [float(np.mean(s["reported"])) for s in settings]
    err = [0.0] + [(s["reported"][1] - s["reported"][0]) / 2 for s in settings]
    fa = _pp(data.get("float_accuracy"))
    act = [fa] + [_pp(s["rows"].get("activation", {}).get("accuracy")) for s in settings]
    wide = [fa] + [_pp(s["rows"].get("wide", {}).get("accuracy")) for s in settings]
    fig = new_figure(11, 4.6)
    ax = fig.subplots()
    x = np.arange(len(labels))
    w = 0.27
    series = (("Q-S5 (dynamic float scales)", qs5, "tab:gray", -w),
              ("hwssm PTQ, x and B̄u at the activation width", act, "tab:blue", 0.0),
              (f"hwssm PTQ, x and B̄u at {data.get('wide_state_bits', 16)} bits", wide, "tab:orange", w))
    for i, (name, vals, color, dx) in enumerate(series):
        v = [np.nan if a is None else a for a in vals]
        if i == 2:   # the float bar is drawn once, in the hwssm series
            v[0] = np.nan
        bars = ax.bar(x + dx, v, width=w, color=color, label=name, yerr=err if i == 0 else None, capsize=3)
        for b, val in zip(bars, v):
            if not np.isnan(val):
                ax.annotate(f"{val:.1f}", (b.get_x() + b.get_width() / 2, val), ha="center", va="bottom",
                            fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.axhline(CHANCE, color="k", lw=0.8, ls=":", label="chance (10 classes)")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_ylabel(f"sMNIST test accuracy (%), {_digits_text(data)}")
    ax.set_title("Q-S5's PTQ settings: Q-S5 (dynamic) against hwssm (static power-of-two, golden engine)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=4, fontsize=8, frameon=False)
    save_png(fig, out)
    return {"labels": labels, "qs5": qs5, "hwssm_activation_state": act, "hwssm_wide_state": wide}


def _digits_text(data: dict) -> str:
    n = data.get("limit")
    return "all 10,000 test digits" if n is None else f"first {n:,} test digits"


def _noise_pp(acc: float | None, digits: int | None) -> float | None:
    """One binomial standard deviation of an accuracy measured on ``digits`` digits (points)."""
    if acc is None or not digits:
        return None
    return 100.0 * math.sqrt(max(acc * (1 - acc), 1e-12) / digits)


def comparison_lines(data: dict) -> list[str]:
    """The "agree and differ" section, every claim computed from ``data``'s numbers."""
    settings = _settings(data["rows"])
    lines: list[str] = []
    verdicts = []
    for s in settings:
        lo, hi = s["reported"]
        best = max((r for r in s["rows"].values() if r.get("accuracy") is not None),
                   key=lambda r: r["accuracy"], default=None)
        if best is None:
            lines.append(f"- **{s['label']}**: no hwssm result (the record failed; see the notes).")
            continue
        a = 100 * best["accuracy"]
        delta = a - hi if a > hi else (a - lo if a < lo else 0.0)
        verdict = "agrees with" if abs(delta) <= AGREE_POINTS else ("is above" if delta > 0 else "is below")
        verdicts.append((s["label"], verdict, delta, a))
        lines.append(f"- **{s['label']}**: hwssm's best static plan (`{best['plan']}`, {a:.2f}%) {verdict} Q-S5's "
                     f"{s['reported_text']}%" + ("." if verdict == "agrees with" else f" by {abs(delta):.1f} points."))
    agree = [v for v in verdicts if v[1] == "agrees with"]
    lines.append("")
    lines.append(f"Agreement means within {AGREE_POINTS:g} points of Q-S5's figure (or range): {len(agree)} of "
                 f"{len(verdicts)} settings agree, {sum(v[1] == 'is above' for v in verdicts)} above Q-S5, "
                 f"{sum(v[1] == 'is below' for v in verdicts)} below.")
    order_q = [s["label"] for s in sorted(settings, key=lambda s: -float(np.mean(s["reported"])))]
    order_h = [v[0] for v in sorted(verdicts, key=lambda v: -v[3])]
    if len(order_h) == len(order_q):
        same = order_h == order_q
        lines.append(f"Ranking of the settings by accuracy: Q-S5 {' > '.join(order_q)}; hwssm "
                     f"{' > '.join(order_h)} ({'the same order' if same else 'a different order'}).")
    gaps = []
    for s in settings:
        a, w = (s["rows"].get(k, {}).get("accuracy") for k in ("activation", "wide"))
        if a is not None and w is not None:
            gaps.append((s["label"], 100 * (w - a)))
    if gaps:
        mean_gap = float(np.mean([g for _, g in gaps]))
        big = max(gaps, key=lambda g: abs(g[1]))
        lines.append(f"State width: with x and B̄u at {data.get('wide_state_bits', 16)} bits instead of the activation "
                     f"width, accuracy changes by {mean_gap:+.2f} points on average over the settings "
                     f"(largest: {big[0]}, {big[1]:+.2f} points).")
    by = {s["label"]: s for s in settings}

    def best_acc(label):
        rows = [r["accuracy"] for r in by.get(label, {}).get("rows", {}).values() if r.get("accuracy") is not None]
        return 100 * max(rows) if rows else None

    pairs = (("W4A8, SSM weights at 8", "W4A8, Λ̄ at 8", "B̄, C̃, D from 8 to 4 bits (Λ̄ and the dense weights fixed)"),
             ("W4A8, Λ̄ at 8", "W4A8", "Λ̄ from 8 to 4 bits"),
             ("W2A8, SSM weights at 8", "W2A8", "the SSM weights (Λ̄, B̄, C̃, D) from 8 to 2 bits"))
    for hi_label, lo_label, what in pairs:
        hh, hl = best_acc(hi_label), best_acc(lo_label)
        if hh is None or hl is None or hi_label not in by or lo_label not in by:
            continue
        qh, ql = float(np.mean(by[hi_label]["reported"])), float(np.mean(by[lo_label]["reported"]))
        lines.append(f"Lowering {what}: Q-S5 {qh:.1f}% → {ql:.1f}% ({ql - qh:+.1f} points), hwssm {hh:.2f}% → "
                     f"{hl:.2f}% ({hl - hh:+.2f} points).")
    fa, qf = data.get("float_accuracy"), data.get("qs5_float")
    if fa is not None and qf is not None:
        lines.append(f"Float models: hwssm's {100 * fa:.2f}% ({data.get('float_accuracy_source', '?')}) against Q-S5's "
                     f"{qf:.2f}%; they are different trained networks (below), so a difference of the quantized "
                     "accuracies partly reflects the float models.")
    accs = [r for r in data["rows"] if r.get("accuracy") is not None]
    if accs and data.get("limit") is not None:
        noise = max(_noise_pp(r["accuracy"], r["digits"]) or 0 for r in accs)
        lines.append(f"These accuracies come from the first {data['limit']:,} test digits only: one binomial standard "
                     f"deviation is up to {noise:.1f} points, so smaller differences are not resolved.")
    lines += ["", "What differs in the method (facts of the two implementations, not measured here):", "",
              "- Scales: Q-S5 computes each operand's scale from its own values on every call (aqt, per tensor, "
              "float; the SSM's products are vmapped over time), so the state and B̄u terms of a time step get a "
              "scale fitted to that step; hwssm fixes every scale once, from calibration, as a power of two, so one "
              "format covers every step of every digit and the power-of-two rounding can leave up to one bit of "
              "the range unused.",
              "- What is quantized: Q-S5 quantizes only the operands of products (weights and their inputs) and "
              "accumulates in float; the GLU product, the residual stream and the mean-pool stay in float, and "
              "GELU, sigmoid and LayerNorm are float or approximations (qgelu, hard sigmoid, qLayerNorm: the "
              "variants behind the W8A8 range). hwssm's network is integer end to end: every activation has a "
              "stored format (residual stream, y, GELU and sigmoid by tables of 2^a entries, the GLU product), the "
              "state is stored and clipped to its format every step, B̄u is requantized every step, biases are "
              "16-bit codes.",
              "- Models: Q-S5's sMNIST evaluation script uses H=96, ssm_size_base=128 (P=64 complex modes kept), "
              "L=4 and a prenorm LayerNorm (the W8A8 figures: LayerNorm without bias); hwssm refuses LayerNorm on "
              "the integer path, so its S5 uses BatchNorm folded into B̄ and D at export "
              "(or no norm).", ""]
    return lines


def _mapping_lines(data: dict) -> list[str]:
    rows = []
    for s in _settings(data["rows"]):
        r0 = next(iter(s["rows"].values()))
        q = r0["qs5_config"]
        plans = " / ".join(f"`{s['rows'][k]['plan']}`" for k in ("activation", "wide") if k in s["rows"])
        rows.append([s["label"], *(str(q[k]) for k in ("a_precision", "b_precision", "c_precision", "d_precision",
                                                       "non_ssm_precision", "ssm_act_precision",
                                                       "non_ssm_act_precision")), plans])
    head = ("Q-S5 setting", "Λ̄ (a)", "B̄ (b)", "C̃ (c)", "D (d)", "dense W (non_ssm)", "SSM act", "non-SSM act",
            "hwssm plans (x, B̄u at act width / wide)")
    return markdown_table(head, rows)


def _qat_lines(data: dict) -> list[str]:
    groups = data.get("qat_groups", [])
    if not groups:
        return [f"No saved S5 QAT results were found (result JSON of an S5 model in `{data.get('results_dir', '?')}`, "
                "or S5 QModel files such as `models/s5_*.qmodel.json`).", ""]
    rows = []
    for g in groups:
        acc = fmt_pct(g["mean"]) + ("" if g["std"] is None else f" ± {100 * g['std']:.2f}")
        seeds = ", ".join("?" if s is None else str(s) for s in g["seeds"])
        comp = "—" if g.get("compression") is None else f"{g['compression']:.2f}×"
        rows.append([f"`{g['code']}`", g["method"], g["parameterization"], f"{g['n']} ({seeds})", acc,
                     fmt_int(g["digits"]), fmt_int(g.get("memory_bits")), comp, "; ".join(g["sources"])])
    return markdown_table(("plan", "method", "Ā parameterization", "runs (seeds)", "test accuracy (mean ± std)",
                           "digits", "memory (bits)", "vs float32", "accuracy from"), rows) + [""]


def write_s5_report(data: dict, out_dir: str | os.PathLike, *, command: str = "hwssm report s5") -> list[Path]:
    """Write ``s5.png``, ``s5.json`` and ``s5.md`` (last) into ``out_dir``, each atomically; returns their paths.

    ``data``: ``rows`` and the settings of :func:`~hwssm.explore.s5_study.run_s5_study`, plus
    ``float_accuracy`` (fraction or None) and ``float_accuracy_source``, ``qat_groups``
    (:func:`~hwssm.explore.s5_study_qat.group_runs`), ``results_dir`` and ``notes``.
    ``command`` is the command line that regenerates the report (shown in it).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png, js, md = out / "s5.png", out / "s5.json", out / MD_NAME
    drawn = plot_s5(data, png)
    model = data.get("model", {})
    cfg = model.get("config", {})
    fa = data.get("float_accuracy")
    f32 = next((r["float32_bits"] for r in data["rows"] if r.get("float32_bits")), None)
    lines = ["# Q-S5 reproduction: static power-of-two PTQ of S5 on sMNIST", "",
             f"Regenerate: `{command}`", "",
             f"- model: `{model.get('path', '?')}` (digest `{str(model.get('digest', ''))[:16]}`; H={cfg.get('H', '?')}, "
             f"P={cfg.get('P', '?')}, L={cfg.get('L', '?')}, norm {cfg.get('norm', '?')}, {cfg.get('glu', '?')} GLU)",
             f"- hwssm PTQ: min-max calibration on {data.get('calib_digits', '?')} training digits, per tensor, symmetric, "
             "every scale a static power of two; biases at 16 bits",
             f"- accuracy: golden engine (the bit-exact integer network) on the {_digits_text(data)}"
             + ("" if fa is None else f"; float model {100 * fa:.2f}% ({data.get('float_accuracy_source', '?')})"),
             "- Q-S5: Abreu, Pedersen, Heckel, Pierro, \"Q-S5: Towards Quantized State Space Models\" (2024), sMNIST "
             "PTQ, their released results (aqt: per-tensor symmetric, float scales recomputed on every call)",
             f"- written {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}", "",
             "## Results", "", "![Q-S5 settings](s5.png)", ""]
    rows = [["float", f"{data.get('qs5_float', 0):.2f}", fmt_pct(fa), "—", fmt_int(f32), "1.00×"]]
    for r in data["rows"]:
        state = "x, B̄u at act width" if r["state"] == "activation" else f"x, B̄u at {_x_bits(r['plan'])} bits"
        comp = "—" if r.get("compression") is None else f"{r['compression']:.2f}×"
        rows.append([f"{r['label']} ({state})", r["reported_text"], fmt_pct(r.get("accuracy")), f"`{r['plan']}`",
                     fmt_int(r.get("memory_bits")), comp])
    lines += markdown_table(("row", "Q-S5, dynamic (%)", "hwssm, static PoT PTQ", "hwssm plan", "memory (bits)",
                             "vs float32"), rows) + [""]
    lines += ["Memory: every stored integer code at its width plus one sequence's state (`QModel.footprint_bits`); "
              "float32: every parameter and the state at 32 bits.", ""]
    lines += ["## Q-S5's settings as hwssm plans", "",
              "Q-S5's `QuantizationConfig` (`s5/qssm_aqt.py`) has seven widths; their sMNIST run scripts "
              "(`bin/run_smnist_all.sh`) name the settings "
              "(`W4A8Wssm8`: a=b=c=d=8, non_ssm=4; `W4A8Wa8`: a=8, the rest 4). hwssm's plan letters map one to one: "
              "`A`=a, `B`/`C`/`D`=b/c/d, `W`=non_ssm (encoder, GLU, decoder), `a`=the activation width (hwssm has "
              "one for every activation; both of Q-S5's are 8). Q-S5 has no stored state: x and the B̄u terms are "
              "quantized at the SSM activation width when they enter a product. hwssm stores x and requantizes B̄u "
              "every step, so each setting runs with both at the activation width (`x8`, `-u8`, the literal "
              f"reading) and at {data.get('wide_state_bits', 16)} bits (what a static per-tensor state needs in "
              "the S4D studies; it adds P·2·8 bits of state per block).", ""]
    lines += _mapping_lines(data) + [""]
    lines += ["## QAT (saved S5 results)", ""] + _qat_lines(data)
    lines += ["## Where hwssm and Q-S5 agree and differ, and why", ""] + comparison_lines(data)
    notes = data.get("notes", [])
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    st = data.get("stats", {})
    lines += [f"PTQ points: {st.get('computed', 0)} computed, {st.get('cached', 0)} cached, {st.get('failed', 0)} failed.", ""]
    doc = {k: v for k, v in data.items()}
    doc["figure"] = drawn
    write_json(js, doc)
    write_text(md, "\n".join(lines))
    return [md, png, js]
