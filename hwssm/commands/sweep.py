"""``hwssm sweep``: precision plans × lanes × devices → accuracy, resources, Fmax, throughput (cached)."""

from __future__ import annotations

HELP = "sweep precision plans x lanes x devices: accuracy, LUT/FF/DSP/BRAM, Fmax, latency (cached, parallel)"


def register(parser) -> None:
    parser.add_argument("--spec", metavar="FILE", help="sweep spec JSON (model, plans, lanes, devices, limit); flags below override it")
    parser.add_argument("--model", help="float checkpoint (.json; plans applied by PTQ) or QModel (.qmodel.json)")
    parser.add_argument("--plans", metavar="LIST", help="comma-separated plans: names (uniform8, hetero), codes (A8x12-B4C4D4-W8-a6) or plan files")
    parser.add_argument("--lanes", metavar="LIST", help="comma-separated lane counts P, e.g. 1,2,4 (omit with --devices for accuracy only)")
    from ..targets import names

    parser.add_argument("--devices", metavar="LIST", help=f"comma-separated devices: {', '.join(names())}")
    parser.add_argument("--limit", type=int, help="accuracy on the first N test digits (default: all 10,000)")
    parser.add_argument("--calib-digits", type=int, help="training digits for PTQ calibration (default 256)")
    parser.add_argument("--out", default="reports/sweep.json", help="results JSON to write (default: reports/sweep.json)")
    parser.add_argument("--jobs", type=int, help="local worker processes (default: all cores; 1 runs in this process)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask distributed cluster (tcp://host:8786) instead")
    parser.add_argument("--no-dsp", action="store_true", help="synthesize multipliers in LUTs instead of hard DSPs")
    parser.add_argument("--estimate-only", action="store_true",
                        help="hardware points from the analytic estimator (about 0.1 s each, with its measured error "
                             "band; latency at each device's default clock) instead of synthesis; --lanes without "
                             "--devices then covers every device")
    parser.add_argument("--json", action="store_true", help="print the results summary as JSON")
    from .data_args import HELP as DATA_HELP, data_spec

    parser.add_argument("--data", type=data_spec, metavar="NAME|PATH",
                        help=DATA_HELP.replace("smnist (default)", "smnist (default, or the spec's 'data')"))
    parser.set_defaults(func=_run)


def _list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def build_spec(args):
    """The SweepSpec of the command line: ``--spec`` file, with flags overriding its fields."""
    import dataclasses

    from ..errors import HwssmError
    from ..explore.spec import SweepSpec, parse_plan
    from ..targets import device

    if args.spec:
        spec = SweepSpec.load(args.spec)
        changes = {}
    elif args.model:
        spec = None
        changes = {}
    else:
        raise HwssmError("give --spec FILE or --model MODEL (with --plans, and --lanes/--devices for hardware points)")
    if args.model:
        changes["model"] = args.model
    if args.plans is not None:
        changes["plans"] = tuple(parse_plan(p) for p in _list(args.plans))
    if args.lanes is not None:
        lanes = []
        for t in _list(args.lanes):
            try:
                lanes.append(int(t))
            except ValueError:
                raise HwssmError(f"--lanes must be integers, not {t!r}") from None
        changes["lanes"] = tuple(lanes)
    if args.devices is not None:
        changes["devices"] = tuple(device(t) for t in _list(args.devices))
    elif getattr(args, "estimate_only", False) and changes.get("lanes") and not (spec and spec.devices):
        from ..targets import devices

        changes["devices"] = devices()
    if args.limit is not None:
        changes["limit"] = args.limit
    if getattr(args, "data", None) is not None:
        changes["data"] = args.data
    if args.calib_digits is not None:
        changes["calib_digits"] = args.calib_digits
    if spec is None:
        return SweepSpec(**changes)
    return dataclasses.replace(spec, **changes) if changes else spec


def _run(args) -> int:
    import json
    import os
    import sys

    from ..errors import HwssmError
    from ..explore.pool import Parallelism
    from ..explore.sweep import run_sweep
    from ..progress import Progress

    spec = build_spec(args)
    par = Parallelism(jobs=args.jobs if args.jobs is not None else (os.cpu_count() or 1), scheduler=args.scheduler)
    with Progress("ptq calibration", unit="digits") as cbar, Progress("sweep", unit="records") as bar:
        res = run_sweep(spec, par, dsp=not args.no_dsp, progress=bar.update, calib_progress=cbar.update,
                        estimate_only=args.estimate_only)
    path = res.write(args.out)
    if args.json:
        print(json.dumps({"results": str(path), **res.to_json()["stats"], "errors": res.errors}))
    else:
        print(_table(res.points))
        if args.estimate_only:
            print("hardware from the analytic estimator (no synthesis): 'err' is its measured LUT4 error band, "
                  "µs/digit at the (clock) given, fits yes/no/borderline within the band")
        print(f"wrote {path}: {len(res.points)} points ({res.computed} records computed, {res.cached} cached, "
              f"{res.failed} failed) in {res.seconds:.1f} s")
    if res.errors:
        for e in res.errors:
            print(f"hwssm: {e}", file=sys.stderr)
        raise HwssmError(f"{res.failed} sweep records failed (first: {res.errors[0]}); results written to {path}; rerun to retry them")
    return 0


def _table(points: list[dict]) -> str:
    from ..report.tables import fmt_int, fmt_num, fmt_pct

    head = ["plan", "P", "device", "accuracy", "memory bits", "LUT4", "est. LUT4", "err", "DSP", "BRAM", "Fmax", "µs/digit", "fits"]
    rows = []
    for p in points:
        if p.get("hardware") == "estimate":
            est, band = p.get("estimate") or {}, p.get("error_band") or {}
            lo, hi = band.get("lut", (0.0, 0.0))
            rows.append([p["plan"], str(p["lanes"]), p["device"], fmt_pct(p.get("accuracy")), fmt_int(p["memory_bits"]),
                         "—", fmt_int(est.get("lut")), f"{100 * lo:+.0f}..{100 * hi:+.0f}%" if band else "—",
                         fmt_int(est.get("dsp")), fmt_int(est.get("bram")), f"({fmt_num(p.get('clock_mhz'), 0)})",
                         fmt_num(p.get("us_per_digit"), 0), p.get("fit", "not built" if p.get("estimate_error") else "—")])
            continue
        err = p.get("est_lut_error")
        rows.append([p["plan"], str(p.get("lanes", "—")), p.get("device") or "—", fmt_pct(p.get("accuracy")),
                     fmt_int(p["memory_bits"]), fmt_int(p.get("lut_measured", p.get("lut"))),
                     fmt_int((p.get("estimate") or {}).get("lut")), "—" if err is None else f"{100 * err:+.0f}%",
                     fmt_int(p.get("dsp")), fmt_int(p.get("bram")), fmt_num(p.get("fmax_mhz"), 1),
                     fmt_num(p.get("us_per_digit"), 0), "—" if p.get("device") is None else ("yes" if p.get("fits") else "no")])
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines += [f"not built: {e}" for e in dict.fromkeys(p["estimate_error"] for p in points if p.get("estimate_error"))]
    return "\n".join(lines)
