"""``hwssm plan show PLAN [--layers L] [--json]``: a precision plan and its per-layer formats.

PLAN is a named plan, a short code (with per-layer overrides, e.g.
``A8x8-B4C4D4-W8-a6-L2:A6x10``) or a plan JSON file. Prints the name, the canonical code,
the default Spec of every component, each override, and the widths of every block (of ``L``
blocks; default: up to the last overridden block) when they differ.
"""

from __future__ import annotations

import argparse

HELP = "show a precision plan: its code, defaults and per-layer overrides"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="plan_command", metavar="ACTION")
    show = sub.add_parser("show", help="print a plan's code, defaults and per-layer formats")
    show.add_argument("plan", metavar="PLAN", help="named plan, short code (e.g. A8x8-B4C4D4-W8-a6-L2:A6x10) or plan JSON")
    show.add_argument("--layers", type=int, default=None, metavar="L",
                      help="number of blocks of the network (checks the overrides; default: the last overridden + 1)")
    show.add_argument("--json", action="store_true", help="print a JSON object")
    show.set_defaults(func=_show)

    def _usage(args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_usage)


def _spec_text(spec) -> str:
    extra = [v for v, default in ((spec.granularity.value, "per_tensor"), (spec.scheme.value, "symmetric")) if v != default]
    return f"{spec.bits}" + (f" ({', '.join(extra)})" if extra else "")


def _show(args) -> int:
    import json

    from ..errors import HwssmError
    from ..quant.plan import resolve_plan
    from ..report.precision import layer_widths_lines, plan_layer_widths

    plan = resolve_plan(args.plan)
    if args.layers is not None:
        if args.layers < 1:
            raise HwssmError(f"--layers must be >= 1, not {args.layers}")
        plan.check_layers(args.layers)
    L = args.layers if args.layers is not None else max((o.layer + 1 for o in plan.layers), default=1)
    rows = plan_layer_widths(plan, L)
    if args.json:
        print(json.dumps({"name": plan.name, "code": plan.code, "per_layer": plan.per_layer,
                          "plan": plan.to_json(), "layers": rows}))
        return 0
    print(f"plan {plan.name}" + (f" (code {plan.code})" if plan.name != plan.code else ""))
    print("defaults: " + ", ".join(f"{c} {_spec_text(getattr(plan, c))}" for c in plan.components())
          + f"; rounding {plan.rounding.value}, overflow {plan.overflow.value}")
    if not plan.layers:
        print("per-layer overrides: none (every block takes the defaults)")
        return 0
    print("per-layer overrides:")
    for o in plan.layers:
        print(f"  layer {o.layer}: {o.component.value} {_spec_text(o.spec)}")
    for line in layer_widths_lines(rows, f"widths of blocks 0..{L - 1} (bits)"):
        print(line)
    return 0
