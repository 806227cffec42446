"""``hwssm report``: Markdown + PNG reports from sweep results, and the quantization report."""

from __future__ import annotations

HELP = ("write reports: 'report --sweep RESULTS.json --name NAME', 'report quantization' (PTQ studies + QAT results), "
        "'report s5' (the Q-S5 reproduction), "
        "or 'report profile --model M --out DIR' (per-layer value distributions against the formats)")

#: Default locations (relative to the current directory).
DEFAULT_MODEL = "models/s4d_float.json"
DEFAULT_S5_MODEL = "models/s5_float.json"
DEFAULT_RESULTS_DIR = "models/results"
DEFAULT_ROOT = "reports"


def register(parser) -> None:
    parser.add_argument("what", nargs="?", choices=["quantization", "profile", "s5"],
                        help="'quantization': PTQ studies (golden engine) + saved QAT results -> reports/quantization.md; "
                             "'s5': Q-S5's sMNIST PTQ settings as hwssm S5 plans (golden engine) + saved S5 QAT "
                             "results -> reports/s5.md; "
                             "'profile': per-layer distributions of float weights and activations against the model's "
                             "formats -> DIR/profile.md + plots")
    parser.add_argument("--sweep", metavar="RESULTS", nargs="+", help="sweep results JSON (from hwssm sweep); several are merged")
    parser.add_argument("--name", help="report name: writes <root>/<name>/report.md and its plots")
    parser.add_argument("--root", default=DEFAULT_ROOT, help="reports directory (default: reports)")
    q = parser.add_argument_group("quantization report")
    q.add_argument("--model", help=f"float checkpoint for PTQ (default: {DEFAULT_MODEL}; 's5': {DEFAULT_S5_MODEL})")
    q.add_argument("--limit", type=int, help="accuracy on the first N test digits (default: all 10,000)")
    q.add_argument("--calib-digits", type=int, default=256, help="training digits for PTQ calibration (default 256)")
    q.add_argument("--results-dir", default=DEFAULT_RESULTS_DIR, help=f"saved QAT/heterogeneous results (default: {DEFAULT_RESULTS_DIR})")
    q.add_argument("--no-float", action="store_true", help="skip the float model's accuracy (reference line)")
    q.add_argument("--qmodels", nargs="*", metavar="QMODEL",
                   help="QModel files to include (default: models/*.qmodel.json, e.g. the shipped QAT models)")
    q.add_argument("--jobs", type=int, help="local worker processes (default: all cores)")
    q.add_argument("--scheduler", metavar="ADDRESS", help="run the PTQ points on a Dask distributed cluster")
    p = parser.add_argument_group("profile")
    p.add_argument("--plan", help="with a float checkpoint as --model: the precision plan (PTQ) whose formats to profile")
    p.add_argument("--data", choices=["smnist"], default="smnist", help="calibration data for the activations (default smnist)")
    p.add_argument("--out", metavar="DIR", help="output directory of 'report profile'")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    from pathlib import Path

    from ..errors import HwssmError

    if args.model is None:
        args.model = DEFAULT_S5_MODEL if args.what == "s5" else DEFAULT_MODEL
    if args.what == "profile":
        return _profile(args)
    if args.what == "s5":
        if args.sweep:
            raise HwssmError("'report s5' computes its own PTQ points; --sweep is for sweep reports")
        from .report_s5 import run_s5_report

        return run_s5_report(args, DEFAULT_S5_MODEL, DEFAULT_RESULTS_DIR, DEFAULT_ROOT)
    if args.what == "quantization":
        if args.sweep:
            raise HwssmError("'report quantization' computes its own PTQ points; --sweep is for sweep reports")
        return _quantization(args)
    if not args.sweep or not args.name:
        raise HwssmError("give --sweep RESULTS.json --name NAME (or 'hwssm report quantization')")
    if not _safe_name(args.name):
        raise HwssmError(f"--name must be a plain directory name (letters, digits, '-', '_', '.'), not {args.name!r}")
    from ..explore.sweep import load_results, merge_results
    from ..report.sweep_report import write_sweep_report

    results = merge_results([load_results(p) for p in args.sweep])
    if not results["points"]:
        raise HwssmError(f"{', '.join(args.sweep)}: no points")
    out = Path(args.root) / args.name
    paths = write_sweep_report(results, out, name=args.name, source=", ".join(args.sweep))
    print(f"wrote {out / 'report.md'} and {len(paths) - 1} more files in {out}")
    return 0


def _safe_name(name: str) -> bool:
    import re

    return bool(re.fullmatch(r"[A-Za-z0-9_.-]+", name)) and name not in (".", "..")


def _quantization(args) -> int:
    import os
    import sys
    from pathlib import Path

    from ..errors import HwssmError
    from ..explore.pool import Parallelism
    from ..explore.quantization import float_accuracy, qmodel_results, run_quantization_studies
    from ..report.quantization import collect_results, write_quantization_report
    from ..report.quantization_qat import collect_qat_runs
    from ..progress import Progress

    if args.limit is not None and args.limit < 1:
        raise HwssmError(f"--limit must be >= 1, not {args.limit}")
    model = Path(args.model)
    if not model.exists():
        raise HwssmError(f"float model {model} does not exist (train one, or give --model)")
    par = Parallelism(jobs=args.jobs if args.jobs is not None else (os.cpu_count() or 1), scheduler=args.scheduler)
    with Progress("ptq calibration", unit="digits") as cbar, Progress("ptq studies", unit="records") as bar:
        data = run_quantization_studies(model, limit=args.limit, calib_digits=args.calib_digits, parallelism=par,
                                        progress=bar.update, calib_progress=cbar.update)
    data["float_accuracy"] = data["float_accuracy_source"] = None
    if not args.no_float:
        with Progress("float model", unit="digits") as fbar:
            data["float_accuracy"], data["float_accuracy_source"] = float_accuracy(model, args.limit, fbar.update)
    runs, run_notes = collect_qat_runs(args.results_dir)
    run_files = {r["file"] for r in runs}
    qat, notes = collect_results(args.results_dir)
    qat = [r for r in qat if r["file"] not in run_files]
    data["qat"], data["qat_runs"] = qat, runs
    notes = list(dict.fromkeys(notes + run_notes))
    qpaths = args.qmodels if args.qmodels is not None else sorted(model.parent.glob("*.qmodel.json"))
    with Progress("QModel files", unit="records") as qbar:
        data["qmodels"], qerr = qmodel_results(qpaths, limit=args.limit, parallelism=par, progress=qbar.update)
    data["errors"] = data.get("errors", []) + qerr
    data["notes"] = notes + [f"record failed: {e}" for e in data.get("errors", [])]
    data["results_dir"] = args.results_dir
    paths = write_quantization_report(data, Path(args.root))
    print(f"wrote {Path(args.root) / 'quantization.md'} and {len(paths) - 1} more files; "
          f"{data['sweep']['computed']} PTQ records computed, {data['sweep']['cached']} cached, "
          f"{len(data['qmodels'])} QModel files, {len(qat)} saved results, {len(runs)} QAT runs")
    if data.get("errors"):
        for e in data["errors"]:
            print(f"hwssm: {e}", file=sys.stderr)
        raise HwssmError(f"{len(data['errors'])} records failed (first: {data['errors'][0]}); rerun to retry them")
    return 0


def _profile(args) -> int:
    from pathlib import Path

    from ..data import Split, load_mnist, sequences
    from ..errors import HwssmError
    from ..progress import Progress
    from ..quant.resolve import resolve_model
    from ..report.profile import write_profile_report
    from ..report.profile_stats import profile_model

    if not args.out:
        raise HwssmError("'report profile' needs --out DIR")
    if args.sweep:
        raise HwssmError("'report profile' takes --model, not --sweep")
    if args.calib_digits < 1:
        raise HwssmError(f"--calib-digits must be >= 1, not {args.calib_digits}")
    with Progress("ptq calibration", unit="digits") as bar:
        res = resolve_model(args.model, args.plan, calib_digits=args.calib_digits, progress=bar.update)
    if res.checkpoint is None:
        raise HwssmError(f"{args.model}: its float source checkpoint is not known or not found (the QModel's meta "
                         "names none); profile the float checkpoint with --plan instead")
    images, _ = load_mnist(Split.TRAIN)
    pixels = sequences(images[:args.calib_digits])
    with Progress("profile", unit="digits") as bar:
        profiles = profile_model(res.qmodel, res.checkpoint.config, res.checkpoint.params, pixels, progress=bar.update)
    name = Path(str(args.model)).name.removesuffix(".json").removesuffix(".qmodel")
    if args.plan:
        name += f" ({args.plan})"
    paths = write_profile_report(profiles, Path(args.out), model=name, digits=pixels.shape[0], data=args.data)
    worst = max(profiles, key=lambda p: p.clipped)
    print(f"wrote {paths[0]} and {len(paths) - 1} more files; most clipped: {worst.block}.{worst.name} "
          f"{100 * worst.clipped:.2f}%")
    return 0
