"""``hwssm synth``: Yosys + nextpnr on an RTL directory; resources and fmax."""

from __future__ import annotations

HELP = "synthesize and place-and-route an RTL directory (Verilog + manifest.json) on an FPGA (hwssm.targets)"


def register(parser) -> None:
    from ..targets import all_names, device

    listed = "; ".join(f"{d.name} ({d.part}, {d.default_freq_mhz:g} MHz)" for d in map(device, all_names()))
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
    parser.add_argument("--seeds", metavar="N,N,...",
                        help="place and route once per placer seed (e.g. 1,2,3) and report fmax min/median over them")
    parser.add_argument("--no-cache", action="store_true", help="rerun the tools even when a cached result exists")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    import dataclasses
    import json
    import sys

    from ..synth import DebugPolicy, SynthOptions, synthesize
    from ..targets import device

    target = device(args.device)
    seeds = [args.seed] if args.seeds is None else _parse_seeds(args.seeds)
    options = SynthOptions(
        dsp=not args.no_dsp,
        spram=args.spram,
        debug=DebugPolicy.FOLD if args.keep_debug else DebugPolicy.DROP,
        freq_mhz=args.freq,
        seed=seeds[0],
    )

    def progress(msg: str) -> None:
        print(f"hwssm: {msg}", file=sys.stderr, flush=True)

    reports = []
    for seed in seeds:
        if len(seeds) > 1:
            progress(f"placer seed {seed}")
        reports.append(synthesize(args.rtl, target, dataclasses.replace(options, seed=seed), progress=progress,
                                  use_cache=not args.no_cache))
    report = reports[0]
    summary = report.summary()
    spread = _seed_spread(seeds, reports) if args.seeds is not None else None
    if args.json:
        print(json.dumps(summary if spread is None else {**summary, "seeds": spread}, indent=2))
        return 0
    print(_table(report, summary))
    if spread is not None:
        per = ", ".join(f"{k}: {v}" for k, v in spread["fmax_mhz_by_seed"].items())
        print(f"fmax over seeds  {per} MHz; min {spread['fmax_mhz_min']} MHz, median {spread['fmax_mhz_median']} MHz")
    return 0


def _parse_seeds(text: str) -> list[int]:
    """``"1,2,3"`` -> ``[1, 2, 3]`` (distinct integers, in order); HwssmError otherwise."""
    from ..errors import HwssmError

    try:
        seeds = [int(w) for w in text.split(",")]
    except ValueError:
        raise HwssmError(f"--seeds must be comma-separated integers like 1,2,3, not {text!r}") from None
    if len(set(seeds)) != len(seeds):
        raise HwssmError(f"--seeds lists a seed twice: {text!r}")
    return seeds


def _seed_spread(seeds: list[int], reports) -> dict:
    """fmax (MHz) per placer seed, and its minimum and median (None where a run has no clocked path)."""
    import statistics

    by_seed = {str(s): (None if r.fmax_mhz is None else round(r.fmax_mhz, 2)) for s, r in zip(seeds, reports)}
    known = [v for v in by_seed.values() if v is not None]
    return {"fmax_mhz_by_seed": by_seed, "fmax_mhz_min": min(known, default=None),
            "fmax_mhz_median": round(statistics.median(known), 2) if known else None}


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
