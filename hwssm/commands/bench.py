"""``hwssm bench``: performance benchmarks that print one JSON object."""

from __future__ import annotations

HELP = ("benchmarks: the golden engine (vs the MAC peak and numpy), the cocotb+Verilator simulation (vs the previous "
        "build recipe), the resource estimator (points/s), the float model (batched FFT vs reference)")


def register(parser) -> None:
    sub = parser.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")
    g = sub.add_parser("golden", help="golden engine on a 4-layer H=64 N=64 model, 784-step sequences")
    g.add_argument("--digits", type=int, default=64, help="sequences in the timed batch (default 64)")
    g.add_argument("--plan", default="uniform8", help="named plan of the random model (default uniform8)")
    g.add_argument("--model", help="benchmark this QModel (.qmodel.json, S4D or S5) instead of the random S4D model")
    g.add_argument("--json", action="store_true", help="print only the JSON object (default prints it too)")
    g.set_defaults(func=_golden)
    s = sub.add_parser("sim", help="cocotb + Verilator simulation of the hetero reference design, against the previous "
                                   "build recipe measured in the same run")
    s.add_argument("--lanes", type=int, default=16, metavar="P", help="lanes of the reference design (default 16)")
    s.add_argument("--digits", type=int, default=2, help="digits per simulation process (default 2)")
    s.add_argument("--repeats", type=int, default=2, help="timed runs per build, alternated (default 2)")
    s.add_argument("--rtl", metavar="DIR", help="benchmark this RTL directory instead of the reference design")
    s.add_argument("--against", metavar="DIR",
                   help="baseline: the fast build of this RTL directory of the same model (e.g. the previous "
                        "generator's Verilog) instead of the previous build recipe on the same Verilog")
    s.add_argument("--json", action="store_true", help="print only the JSON object (default prints it too)")
    s.set_defaults(func=_sim)
    e = sub.add_parser("estimate", help="hwssm estimate's library call (resources, fit, cycles) on a QModel "
                                        "(default the shipped heterogeneous model): points/s over every device x lanes")
    e.add_argument("--model", default="s4d_hetero", metavar="PATH",
                   help="QModel to estimate (.qmodel.json, S4D or S5, or a shipped name; default s4d_hetero)")
    e.add_argument("--lanes", default="1,2,4,8,16", metavar="P[,P...]", help="lanes of the points (default 1,2,4,8,16)")
    e.add_argument("--json", action="store_true", help="print only the JSON object (default prints it too)")
    e.set_defaults(func=_estimate)
    f = sub.add_parser("float", help="the float model's batched FFT inference (golden eval's float-agreement pass) "
                                     "against the reference classifier, on MNIST test digits")
    f.add_argument("--model", default="s4d_float", help="float checkpoint (default: the shipped s4d_float)")
    f.add_argument("--digits", type=int, default=500, help="test digits (default 500)")
    f.add_argument("--threads", type=int, help="threads of the fast path (default: HWSSM_THREADS or the CPU count)")
    f.add_argument("--json", action="store_true", help="print only the JSON object (default prints it too)")
    f.set_defaults(func=_float)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _float(args) -> int:
    import json
    from pathlib import Path

    from ..config import shipped_model, threads
    from ..errors import HwssmError
    from ..golden.evaluate import test_pixels
    from ..model.checkpoint import load_checkpoint
    from ..model.fast_bench import run_bench

    if args.digits < 1:
        raise HwssmError(f"--digits must be >= 1, not {args.digits}")
    if args.threads is not None and args.threads < 1:
        raise HwssmError(f"--threads must be >= 1, not {args.threads}")
    path = Path(args.model)
    if not path.exists():
        path = shipped_model(args.model) or path
    pixels, _ = test_pixels(limit=args.digits)
    print(json.dumps(run_bench(load_checkpoint(path), pixels, threads=args.threads or threads())))
    return 0


def _estimate(args) -> int:
    import json

    from ..api.models import load_model, model_path, require_integer_model
    from ..explore.estimate_bench import run_bench
    from .estimate import parse_int_list

    lanes = parse_int_list(args.lanes, "--lanes")
    qm = require_integer_model(load_model(args.model), "hwssm bench estimate --model")
    print(json.dumps({"path": str(model_path(args.model)), **run_bench(qm, lanes=lanes)}))
    return 0


def _golden(args) -> int:
    import json

    from ..errors import HwssmError
    from ..golden.bench import run_bench
    from ..quant.plan import NAMED_PLANS

    if args.digits < 1:
        raise HwssmError(f"--digits must be >= 1, not {args.digits}")
    if args.model is not None:
        from ..api.models import load_model, require_integer_model
        from ..golden.bench_model import run_model_bench

        qm = require_integer_model(load_model(args.model), "hwssm bench golden --model")
        print(json.dumps(run_model_bench(qm, digits=args.digits)))
        return 0
    if args.plan not in NAMED_PLANS:
        raise HwssmError(f"--plan must be one of {', '.join(NAMED_PLANS)}")
    print(json.dumps(run_bench(digits=args.digits, plan=args.plan)))
    return 0


def _sim(args) -> int:
    import json
    import sys

    from ..errors import HwssmError
    from ..verify.bench import run_bench

    if args.lanes < 1:
        raise HwssmError(f"--lanes must be >= 1, not {args.lanes}")
    if args.digits < 1:
        raise HwssmError(f"--digits must be >= 1, not {args.digits}")
    if args.repeats < 1:
        raise HwssmError(f"--repeats must be >= 1, not {args.repeats}")
    log = None if args.json else (lambda msg: print(f"hwssm bench sim: {msg}", file=sys.stderr, flush=True))
    print(json.dumps(run_bench(lanes=args.lanes, digits=args.digits, repeats=args.repeats, rtl=args.rtl,
                                against=args.against, log=log)))
    return 0
