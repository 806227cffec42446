"""``hwssm flow``: the main job (what ``make demo`` runs)."""

from __future__ import annotations

HELP = "run the whole flow: model, golden accuracy, Verilog, bit-exact simulation, synthesis, report"


def register(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    from ..flow import run_flow

    return run_flow(json_out=args.json)
