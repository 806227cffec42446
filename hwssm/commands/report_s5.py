"""``hwssm report s5``: the Q-S5 reproduction (static power-of-two PTQ of S5, golden engine) -> ``ROOT/s5.md``."""

from __future__ import annotations


def _command_line(args, default_model: str, default_results: str, default_root: str) -> str:
    """The command that regenerates the report with these options (defaults left out)."""
    from ..explore.s5_study import shown_path

    parts = ["hwssm report s5"]
    if str(args.model) != default_model:
        parts += ["--model", shown_path(args.model)]
    if args.limit is not None:
        parts += ["--limit", str(args.limit)]
    if args.calib_digits != 256:
        parts += ["--calib-digits", str(args.calib_digits)]
    if str(args.results_dir) != default_results:
        parts += ["--results-dir", shown_path(args.results_dir)]
    if str(args.root) != default_root:
        parts += ["--root", shown_path(args.root)]
    return " ".join(parts)


def run_s5_report(args, default_model: str, default_results: str, default_root: str) -> int:
    """Run the study, read the saved S5 QAT results, write the report; exit status 0 (HwssmError on bad
    input, or after writing when some record failed)."""
    import os
    import sys
    from pathlib import Path

    from ..errors import HwssmError
    from ..explore.pool import Parallelism
    from ..explore.s5_study import run_s5_study, s5_checkpoint, s5_float_accuracy, shown_path
    from ..explore.s5_study_qat import group_runs, s5_qat_runs
    from ..progress import Progress
    from ..report.s5 import MD_NAME, write_s5_report

    if args.limit is not None and not 1 <= args.limit <= 10_000:
        raise HwssmError(f"--limit must be in [1, 10000], not {args.limit}")
    if args.calib_digits < 1:
        raise HwssmError(f"--calib-digits must be >= 1, not {args.calib_digits}")
    model = Path(args.model)
    ckpt = s5_checkpoint(model)          # one line for a missing file, a QModel, an S4D or LayerNorm model
    par = Parallelism(jobs=args.jobs if args.jobs is not None else (os.cpu_count() or 1), scheduler=args.scheduler)
    with Progress("PTQ + golden engine", unit="plans") as bar:
        data = run_s5_study(model, limit=args.limit, calib_digits=args.calib_digits, parallelism=par,
                            progress=bar.update)
    data["float_accuracy"] = data["float_accuracy_source"] = None
    if not args.no_float:
        with Progress("float model", unit="digits") as fbar:
            data["float_accuracy"], data["float_accuracy_source"] = s5_float_accuracy(ckpt, args.limit, fbar.update)
    qpaths = args.qmodels if args.qmodels is not None else sorted(model.parent.glob("*.qmodel.json"))
    with Progress("S5 QModel files", unit="files") as qbar:
        runs, notes = s5_qat_runs(args.results_dir, qpaths, limit=args.limit, parallelism=par, progress=qbar.update)
    data["qat_runs"], data["qat_groups"] = runs, group_runs(runs)
    data["results_dir"] = shown_path(args.results_dir)
    data["notes"] = notes + [f"record failed: {e}" for e in data["errors"]]
    out = Path(args.root)
    write_s5_report(data, out, command=_command_line(args, default_model, default_results, default_root))
    st = data["stats"]
    print(f"wrote {out / MD_NAME}, {out / 's5.png'}, {out / 's5.json'}; {st['computed']} plans computed, "
          f"{st['cached']} cached, {len(data['qat_groups'])} saved S5 QAT groups")
    if data["errors"]:
        for e in data["errors"]:
            print(f"hwssm: {e}", file=sys.stderr)
        raise HwssmError(f"{len(data['errors'])} records failed (first: {data['errors'][0]}); rerun to retry them")
    return 0
