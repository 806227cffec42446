"""``hwssm synth``: Yosys + nextpnr on an RTL directory; resources and fmax."""

from __future__ import annotations

HELP = "synthesize and place-and-route an RTL directory (Verilog + manifest.json) on an FPGA (hwssm.targets)"


def register(parser) -> None:
    from ..targets import devices

    listed = "; ".join(f"{d.name} ({d.part}, {d.default_freq_mhz:g} MHz)" for d in devices())
    parser.add_argument("--rtl", required=True, metavar="DIR", help="RTL directory: *.v and manifest.json")
    # no argparse choices: an unknown name is a one-line HwssmError (exit 2) listing the known ones
    parser.add_argument("--device", required=True, metavar="NAME", help=f"target FPGA, one of: {listed}")
    parser.add_argument("--no-dsp", action="store_true", help="build multipliers from LUTs instead of hard DSPs")
    parser.add_argument("--spram", action="store_true", help="devices with SPRAM (up5k): let Yosys put large memories there")
    parser.add_argument(
        "--keep-debug",
        action="store_true",
        help="keep debug ports (XOR-folded into one pin) instead of dropping them and the logic only they use",
    )
    parser.add_argument("--freq", type=float, metavar="MHZ", help="target clock for nextpnr (default: the device's, listed with --device)")
    parser.add_argument("--seed", type=int, default=1, help="nextpnr placer seed (default: 1)")
    parser.add_argument("--no-cache", action="store_true", help="rerun the tools even when a cached result exists")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    import json
    import sys

    from ..synth import DebugPolicy, SynthOptions, synthesize
    from ..targets import device

    target = device(args.device)
    options = SynthOptions(
        dsp=not args.no_dsp,
        spram=args.spram,
        debug=DebugPolicy.FOLD if args.keep_debug else DebugPolicy.DROP,
        freq_mhz=args.freq,
        seed=args.seed,
    )

    def progress(msg: str) -> None:
        print(f"hwssm: {msg}", file=sys.stderr, flush=True)

    report = synthesize(args.rtl, target, options, progress=progress, use_cache=not args.no_cache)
    summary = report.summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(_table(report, summary))
    return 0


def _table(report, s: dict) -> str:
    def of(used, available) -> str:
        return f"{used} / {available}" if available else str(used)

    pct = 100.0 * s["logic_cells"] / s["logic_cells_available"] if s["logic_cells_available"] else 0.0
    fmax = "n/a (no clocked paths)" if s["fmax_mhz"] is None else f"{s['fmax_mhz']:.2f} MHz (target {s['target_mhz']:g} MHz)"
    rows = [
        ("device", f"{s['device']} ({report.wrapper.top} around {s['top']})"),
        ("LUT4", str(s["lut"])),
        ("FF", str(s["ff"])),
        ("carry", str(s["carry"])),
        ("DSP", of(s["dsp"], s["dsp_available"]) + ("" if s["dsp_enabled"] else " (DSPs off)")),
        ("BRAM", of(s["bram"], s["bram_available"])),
    ]
    if s["spram_available"]:
        rows.append(("SPRAM", of(s["spram"], s["spram_available"])))
    rows += [
        ("logic cells", f"{of(s['logic_cells'], s['logic_cells_available'])} ({pct:.1f}%)"),
        ("fmax", fmax),
    ]
    crit = max(report.pnr.clocked_paths, key=lambda p: p.delay_ns, default=None)
    if crit is not None:
        rows.append(("critical path", f"{crit.delay_ns:.2f} ns, {crit.levels} logic levels, {crit.start} -> {crit.end}"))
    if s["wrapper_overhead_ff"]:
        rows.append(("wrapper", f"{s['wrapper_overhead_ff']} FF of input shift register included"))
    rows += [
        ("fits", "yes" if s["fits"] else "no"),
        ("time", ("cached; built in " if s["cached"] else "") + f"yosys {s['yosys_s']:.1f} s, nextpnr {s['nextpnr_s']:.1f} s"),
        ("workdir", s["workdir"]),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
