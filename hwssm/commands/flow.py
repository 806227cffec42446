"""``hwssm flow``: the main job (what ``make demo`` runs).

``hwssm flow [--out DIR] [--model M [--plan PLAN]] [--data NAME|PATH] [--sim-digits N] [--limit N] [--no-synth] [--report-only] [--json]``

Writes ``DIR/report.md``, ``DIR/flow.json``, ``DIR/utilization.png`` and ``DIR/rtl/`` (default
DIR: ``build/flow``); see :mod:`hwssm.flow`.
"""

from __future__ import annotations

from pathlib import Path

from .data_args import add_data_argument

HELP = "run the whole flow: model, golden accuracy, Verilog, bit-exact simulation, synthesis, report"


def register(parser) -> None:
    from ..flow import DEFAULT_OUT, SIM_DIGITS

    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"output directory: report.md, flow.json, utilization.png, rtl/ (default: {DEFAULT_OUT})")
    parser.add_argument("--model", type=Path, help="QModel (.qmodel.json) or float checkpoint with --plan "
                                                   "(default: the shipped heterogeneous QAT model)")
    parser.add_argument("--plan", help="precision plan, for a float checkpoint (PTQ)")
    parser.add_argument("--sim-digits", type=int, default=SIM_DIGITS, metavar="N",
                        help=f"test digits to simulate in Verilator (default: {SIM_DIGITS})")
    parser.add_argument("--limit", type=int, metavar="N", help="test digits for the golden accuracy (default: all)")
    parser.add_argument("--no-synth", action="store_true", help="skip the FPGA designs and their synthesis")
    parser.add_argument("--report-only", action="store_true",
                        help="write only report.md, flow.json and utilization.png into DIR (the Verilog stays in the cache)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    add_data_argument(parser)
    parser.set_defaults(func=_run)


def _run(args) -> int:
    from ..errors import HwssmError
    from ..flow import FlowOptions, run_flow

    if args.plan is not None and args.model is None:
        raise HwssmError("--plan applies to a float checkpoint given with --model")
    if not args.data.is_default:  # refuse data the models cannot read before any stage runs
        from ..data import load_dataset

        load_dataset(args.data).check_inputs()
    opts = FlowOptions(out=args.out, model=args.model, plan=args.plan, sim_digits=args.sim_digits,
                       golden_limit=args.limit, synth=not args.no_synth, copy_rtl=not args.report_only,
                       data=args.data)
    return run_flow(opts, json_out=args.json)
