"""The report of ``hwssm flow``: a Markdown summary, one plot and the JSON they come from."""

from __future__ import annotations

import json
from pathlib import Path

from ..io import atomic_path, write_json, write_text
from .precision import layer_widths_lines


def _plot(synth: dict, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.6), dpi=110)
    FigureCanvasAgg(fig)
    names = [n for n, d in synth.items() if "error" not in d]
    kinds = [("logic_cells", "logic_cells_available", "logic cells"), ("dsp", "dsp_available", "DSP"),
             ("bram", "bram_available", "BRAM"), ("spram", "spram_available", "SPRAM")]
    for i, name in enumerate(names):
        ax = fig.add_subplot(1, max(len(names), 1), i + 1)
        d = synth[name]
        labels, used, counts = [], [], []
        for key, avail, label in kinds:
            a = d.get(avail) or 0
            if a:
                labels.append(label)
                used.append(100.0 * (d.get(key) or 0) / a)
                counts.append(f"{d.get(key) or 0}/{a}")
        bars = ax.barh(labels, used, color="tab:blue")
        ax.bar_label(bars, counts, padding=3, fontsize=8)
        ax.axvline(100, color="tab:red", lw=1)
        ax.set_xlim(0, max(125, max(used, default=0) * 1.25))
        ax.set_xlabel("% of device used")
        fmax = d.get("fmax_mhz")
        ax.set_title(f"{name}, P={d.get('lanes')}, fmax {fmax} MHz", fontsize=9)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")


def _profile_text(p: dict) -> str:
    """One line for a build profile (:meth:`hwssm.synth.profile.BuildProfile.to_dict`)."""
    pipe = p.get("pipeline", {})
    soft = p.get("soft_mul_bits", 0)
    return (f"parameters in {'RAMs loaded at start-up' if p.get('storage') == 'load' else 'ROMs'}"
            f"{' (SPRAM)' if p.get('synth', {}).get('spram') else ''}, "
            f"{f'multipliers with an operand of <= {soft} bits in LUTs, ' if soft else ''}"
            f"pipeline mem_stages={pipe.get('mem_stages')}, requant_stages={pipe.get('requant_stages')}, "
            f"acc_stages={pipe.get('acc_stages', 0)}, "
            f"mul_stages={pipe.get('mul_stages')}, mix_cols={pipe.get('mix_cols', 4)}")


def write_flow_report(out_dir: Path, data: dict) -> Path:
    """Write ``out_dir/report.md``, ``utilization.png`` and ``flow.json``; returns the report path.

    ``data`` is what :mod:`hwssm.flow` records: paths in it are relative to ``out_dir`` or
    names, never absolute paths of the machine."""
    out_dir = Path(out_dir)
    write_json(out_dir / "flow.json", data)
    synth = data.get("synth", {})
    if synth:
        _plot(synth, out_dir / "utilization.png")
    lines = [f"# hwssm flow report: {data.get('model', '?')}", ""]
    g = data.get("golden")
    if g:
        agree = "n/a" if g.get("float_agreement") is None else f"{100 * g['float_agreement']:.2f}%"
        lines += [f"Plan `{data.get('plan')}`. Golden-engine accuracy **{100 * g['accuracy']:.2f}%** on "
                  f"{g['digits']} sMNIST test digits; float agreement {agree}; memory {g['footprint_bits']} bits "
                  f"({g['compression']:.2f}x less than float32).", ""]
    lines += layer_widths_lines(data.get("layer_widths", []))
    s = data.get("sim")
    if s:
        lines += [f"RTL vs golden (cocotb + Verilator, P={s.get('lanes')}): {s.get('digits')} full digits, "
                  f"{s.get('mismatches')} mismatches; {s.get('cycles_per_digit')} cycles/digit measured, "
                  f"{s.get('model_cycles_per_digit')} predicted by the cycle model.", ""]
    if synth:
        lines += ["| device | P | LUT | FF | DSP | BRAM | SPRAM | Fmax (MHz) | cycles/digit | µs/digit | digits/s | fits |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, d in synth.items():
            if "error" in d:
                lines.append(f"| {name} | {d.get('lanes')} | {d['error']} ||||||||||")
                continue
            cyc = d.get("cycles_per_digit")
            us = cyc / d["fmax_mhz"] if cyc and d.get("fmax_mhz") else None
            lines.append(f"| {name} | {d.get('lanes')} | {d.get('lut')} | {d.get('ff')} | {d.get('dsp')} | {d.get('bram')} | "
                         f"{d.get('spram')} | {d.get('fmax_mhz')} | {cyc} | {'–' if us is None else f'{us:.0f}'} | "
                         f"{'–' if us is None else f'{1e6 / us:.2f}'} | {d.get('fits')} |")
        lines += [""] + [f"- {name}: {_profile_text(d['profile'])}" for name, d in synth.items() if d.get("profile")]
        lines += ["", "![utilization](utilization.png)", ""]
    designs = data.get("designs", {})
    if designs:
        lines += ["Designs (`hwssm.hw.options.DesignPoint.key`; Verilog relative to this report where copied):", ""]
        lines += [f"- {role}: `{d.get('key')}`, {d.get('cycles_per_digit')} cycles/digit"
                  + (f", `{d['rtl']}/`" if d.get("rtl") else "") for role, d in designs.items()]
        lines += [""]
    lines += ["Stages:", ""] + [f"- {st['stage']}: {st['status']}: {st['detail']} ({st['seconds']} s)"
                                for st in data.get("stages", [])]
    path = out_dir / "report.md"
    write_text(path, "\n".join(lines) + "\n")
    return path
