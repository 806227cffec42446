"""``hwssm bench``: performance benchmarks that print one JSON object."""

from __future__ import annotations

HELP = "benchmark the golden engine against the machine's MAC peak and a numpy baseline"


def register(parser) -> None:
    sub = parser.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")
    g = sub.add_parser("golden", help="golden engine on a 4-layer H=64 N=64 model, 784-step sequences")
    g.add_argument("--digits", type=int, default=64, help="sequences in the timed batch (default 64)")
    g.add_argument("--plan", default="uniform8", help="named plan of the random model (default uniform8)")
    g.add_argument("--json", action="store_true", help="print only the JSON object (default prints it too)")
    g.set_defaults(func=_golden)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _golden(args) -> int:
    import json

    from ..errors import HwssmError
    from ..golden.bench import run_bench
    from ..quant.plan import NAMED_PLANS

    if args.digits < 1:
        raise HwssmError(f"--digits must be >= 1, not {args.digits}")
    if args.plan not in NAMED_PLANS:
        raise HwssmError(f"--plan must be one of {', '.join(NAMED_PLANS)}")
    print(json.dumps(run_bench(digits=args.digits, plan=args.plan)))
    return 0
