"""``hwssm search``: the Pareto front of accuracy × LUT4 × latency of a model on a device.

``hwssm search --model M --device NAME [--lut-budget N] [--dsp-budget N] --floor ACC [--data smnist]
--out DIR [--budget-points N] [--confirm K] [--qat-top K] ...``

Generates plans × lanes × mixing columns × pipeline depths (:mod:`hwssm.explore.search_space`),
prunes what the estimator says does not fit, ranks the plans by golden-engine PTQ accuracy with
successive halving (validation digits, then the test split), and writes ``DIR/report.md``,
``DIR/search.json`` and ``DIR/front.png``. Everything is cached; a rerun resumes. Exit 2 with
one line when nothing fits or nothing reaches the floor (the report is written first).
"""

from __future__ import annotations

HELP = "search plans x lanes x mixing x pipeline for the Pareto front of accuracy, LUT4 and latency on a device"


def register(parser) -> None:
    from ..targets import names

    p = parser
    p.add_argument("--model", required=True, help="float checkpoint (.json; plans by PTQ), shipped model name, or QModel")
    p.add_argument("--device", default="up5k", help=f"target FPGA (default up5k): {', '.join(names())}")
    p.add_argument("--lut-budget", type=int, metavar="N", help="LUT4 the core may use (default: the device's)")
    p.add_argument("--dsp-budget", type=int, metavar="N", help="hard multipliers the core may use (default: the device's)")
    p.add_argument("--floor", required=True, metavar="ACC", help="accuracy floor: a fraction (0.98) or a percentage (98%%)")
    p.add_argument("--data", default="smnist", choices=("smnist",), help="task (default smnist)")
    p.add_argument("--out", required=True, metavar="DIR", help="report directory: report.md, search.json, front.png")
    p.add_argument("--plans", metavar="LIST", help="comma-separated plans replacing the default grid (a plan to start from)")
    p.add_argument("--lanes", default="1,2,4", metavar="LIST", help="lane counts P (default 1,2,4)")
    p.add_argument("--mix-cols", default="4,8", metavar="LIST", help="mixing columns per lane cycle (default 4,8)")
    p.add_argument("--depths", default="profile,shallow", metavar="LIST",
                   help="pipeline depths: profile (the device's build profile), shallow (Pipeline()) (default both)")
    p.add_argument("--budget-points", type=int, metavar="N", help="most plans the first accuracy rung evaluates (default all that fit)")
    p.add_argument("--rungs", default="256,1024", metavar="LIST", help="validation digits per halving rung (default 256,1024)")
    p.add_argument("--eta", type=int, default=3, help="keep 1/eta of the plans after each validation rung (default 3)")
    p.add_argument("--test-limit", type=int, metavar="N", help="test digits of the final rung (default all 10,000)")
    p.add_argument("--confirm", type=int, default=0, metavar="K", help="synthesize and place the first K front points (default 0)")
    p.add_argument("--qat-top", type=int, default=0, metavar="K", help="QAT the K most accurate front plans (GPU; default 0)")
    p.add_argument("--qat-epochs", type=int, default=8, help="QAT epochs (default 8)")
    p.add_argument("--qat-device", choices=("cuda", "cpu"), help="QAT device (default: cuda when available)")
    p.add_argument("--calib-digits", type=int, default=256, help="training digits for PTQ calibration (default 256)")
    p.add_argument("--seed", type=int, default=0, help="seed of the --budget-points choice (default 0)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=_run)


def parse_floor(text: str) -> float:
    """``"0.98"`` or ``"98%"`` -> 0.98; HwssmError otherwise."""
    from ..errors import HwssmError

    t = str(text).strip()
    try:
        v = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise HwssmError(f"--floor must be a fraction (0.98) or a percentage (98%), not {text!r}") from None
    if not 0 <= v <= 1:
        raise HwssmError(f"--floor must lie in [0, 1] (or 0%..100%), not {text!r}")
    return v


#: Options written back into the report's command line, in order, with their defaults.
OPTIONS = (("model", None), ("device", "up5k"), ("lut_budget", None), ("dsp_budget", None), ("floor", None),
           ("data", "smnist"), ("out", None), ("plans", None), ("lanes", "1,2,4"), ("mix_cols", "4,8"),
           ("depths", "profile,shallow"), ("budget_points", None), ("rungs", "256,1024"), ("eta", 3),
           ("test_limit", None), ("confirm", 0), ("qat_top", 0), ("qat_epochs", 8), ("qat_device", None),
           ("calib_digits", 256), ("seed", 0))


def command_line(args) -> str:
    """The ``hwssm search`` command of ``args``: the options that differ from their defaults."""
    import shlex

    words = ["hwssm", "search"]
    for name, default in OPTIONS:
        v = getattr(args, name, None)
        if v is not None and v != default:
            words += [f"--{name.replace('_', '-')}", str(v)]
    return shlex.join(words)


def build_spec(args):
    """The SearchSpec of the command line."""
    from pathlib import Path

    from ..config import shipped_model
    from ..errors import HwssmError
    from ..explore.search import SearchSpec
    from ..explore.search_halving import Rungs
    from ..explore.search_qat import QatSettings
    from ..explore.search_space import Dataset, Depth, HardwareGrid, SearchSpace
    from ..explore.spec import parse_plan
    from ..targets import device
    from .estimate import parse_int_list

    model = Path(args.model)
    if not model.exists():
        model = shipped_model(str(args.model)) or model
    if not model.exists() and not Path(f"{model}.json").exists():
        raise HwssmError(f"model {args.model} does not exist (a float checkpoint, a QModel or a shipped model name)")
    try:
        depths = tuple(Depth(d.strip()) for d in args.depths.split(","))
    except ValueError:
        raise HwssmError(f"--depths must be among {[d.value for d in Depth]}, not {args.depths!r}") from None
    hw = HardwareGrid(parse_int_list(args.lanes, "--lanes"), parse_int_list(args.mix_cols, "--mix-cols"), depths)
    if args.plans:
        space = SearchSpace(tuple(parse_plan(t.strip()) for t in args.plans.split(",") if t.strip()), hw)
    else:
        from ..model.checkpoint import load_checkpoint
        from ..model.config import Family
        from ..quant.qmodel_io import is_qmodel_path

        family = Family.S4D if is_qmodel_path(model) else load_checkpoint(model).config.family
        space = SearchSpace.default(hw, family)   # a QModel replaces the grid by its own plan
    qat = QatSettings(top=args.qat_top, epochs=args.qat_epochs, device=args.qat_device)
    return SearchSpec(model=model, device=device(args.device), floor=parse_floor(args.floor), space=space,
                      lut_budget=args.lut_budget, dsp_budget=args.dsp_budget, dataset=Dataset(args.data),
                      budget_points=args.budget_points,
                      rungs=Rungs(parse_int_list(args.rungs, "--rungs"), args.eta, args.test_limit),
                      confirm=args.confirm, qat=qat, calib_digits=args.calib_digits, seed=args.seed)


def _run(args) -> int:
    import json
    import time
    from pathlib import Path

    from ..errors import HwssmError
    from ..explore.search import run_search
    from ..progress import Progress
    from ..report.search_plots import fmt_ms
    from ..report.search_report import write_search_report

    spec = build_spec(args)
    out = Path(args.out)
    bars: dict[str, Progress] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for b in bars.values():
                b.__exit__(None, None, None)
            bars.clear()
            bars[stage] = Progress(stage).__enter__()
        bars[stage].update(done, total)

    t0 = time.monotonic()
    try:
        res = run_search(spec, work=out, progress=progress, say=lambda s: print(s, flush=True))
    finally:
        for b in bars.values():
            b.__exit__(None, None, None)
    wall = time.monotonic() - t0
    written = write_search_report(res.to_json(), out, wall_s=wall, command=command_line(args))
    c = res.counts
    if args.json:
        print(json.dumps({"out": str(out), "counts": c, "seconds": res.seconds, "wall_s": round(wall, 1),
                          "front": res.front, "best": res.best}))
    else:
        print(f"space {c['space']:,} candidates ({c['plans']} plans x {c['designs_per_plan']} designs); "
              f"{c['pruned']:,} pruned by the estimator; {c['plans_fitting']} plans fit, {c['plans_rung1']} ranked, "
              f"{c['plans_on_test']} on the test split; front {c['front']} points; {wall:.0f} s")
        for p in res.front:
            conf = p.get("confirmed") or {}
            extra = f", Yosys {conf['lut_measured']:,} LUT4 ({100 * conf['est_lut_error']:+.1f}%)" if conf.get("lut_measured") else ""
            print(f"  {p['front']:>2}. {p['plan']} P={p['lanes']} mix {p['mix_cols']} {p['depth']}: "
                  f"{100 * p['accuracy']:.2f}%, ≈{p['lut']:,} LUT4, {fmt_ms(p['latency_ms'])} ms{extra}")
        print(f"wrote {', '.join(str(w) for w in written)}")
    if not res.front:
        b = res.best
        best = "nothing reached the test split" if b is None else (
            f"best found: {b['plan']} P={b['lanes']} at {100 * b['accuracy']:.2f}% on {b['digits']:,} "
            f"{'test' if b['split'] == 'test' else 'validation'} digits")
        raise HwssmError(f"no candidate reaches the floor {100 * spec.floor:.2f}% on {spec.device.name}; {best} "
                         f"(report in {out})")
    return 0
