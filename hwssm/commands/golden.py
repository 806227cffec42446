"""``hwssm golden``: run the bit-exact golden engine."""

from __future__ import annotations

import argparse

from .data_args import add_data_argument

HELP = "evaluate a QModel (or checkpoint + plan) with the bit-exact golden engine"


def register(parser) -> None:
    sub = parser.add_subparsers(dest="golden_command", metavar="SUBCOMMAND")
    ev = sub.add_parser("eval", help="accuracy on a dataset split, footprint, agreement with the float model")
    ev.add_argument("--model", required=True, help="QModel (.qmodel.json) or float checkpoint (.json)")
    ev.add_argument("--plan", help="precision plan, needed for a float checkpoint")
    add_data_argument(ev)
    ev.add_argument("--split", choices=["test", "val", "train"], default="test", help="which split (default test)")
    ev.add_argument("--limit", type=int, help="first N sequences only")
    ev.add_argument("--calib-digits", type=int, default=256, help="training digits for PTQ calibration")
    ev.add_argument("--float-agreement", action=argparse.BooleanOptionalAction, default=True,
                    help="also run the float model (batched FFT in float32, alongside the golden engine; cached) and report its accuracy and its agreement "
                         "with the golden engine (default: on; the output says whether it was computed, cached, "
                         "skipped or unavailable)")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=_eval)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _eval(args) -> int:
    import json

    from ..data import DataSplit, load_dataset
    from ..data.registry import mnist_split
    from ..errors import HwssmError
    from ..golden.evaluate import evaluate
    from ..quant.resolve import resolve_model
    from ..progress import Progress

    if args.limit is not None and args.limit < 1:
        raise HwssmError(f"--limit must be >= 1, not {args.limit}")
    data = load_dataset(args.data)
    data.check_inputs()
    calib = None if args.data.is_default or args.plan is None else data.split(DataSplit.TRAIN).sequences(args.calib_digits)
    with Progress("ptq calibration", unit="digits") as bar:
        res = resolve_model(args.model, args.plan, calib_digits=args.calib_digits, progress=bar.update,
                            calib_data=calib)
    data.check_model_of(res.qmodel)
    split = DataSplit(args.split)
    part = data.split(split)
    pixels, labels = part.sequences(args.limit), part.labels(args.limit)
    if data.mnist:
        warn_unverified(mnist_split(split))
    with Progress("golden engine", unit="digits") as gbar, Progress("float model", unit="digits") as fbar:
        ev = evaluate(res.qmodel, pixels, labels, res.checkpoint, gbar.update, fbar.update,
                      float_agreement=args.float_agreement)
    out = {"model": str(args.model), "plan": res.qmodel.plan.name, "data": data.name, "split": split.value,
           **ev.to_json()}
    if args.json:
        print(json.dumps(out))
    else:
        on = f"{ev.digits} digits" if args.data.is_default else f"{ev.digits} {data.name} {split.value} sequences"
        print(f"{out['plan']}: accuracy {100 * ev.accuracy:.2f}% on {on}, "
              f"footprint {ev.footprint_bits} bits ({ev.compression:.2f}x vs float32), {float_text(ev)}")
    return 0


def float_text(ev) -> str:
    """The float model's part of the text line: agreement and accuracy, and what was done."""
    from ..golden.evaluate import FloatReference

    ref = ev.float_reference
    if ref is FloatReference.SKIPPED:
        return "float agreement skipped (--no-float-agreement)"
    if ref is FloatReference.UNAVAILABLE:
        return "float agreement n/a (no float checkpoint)"
    method = "batched FFT" if ev.float_precision.value == "float32" else "float model"
    how = (f"float model computed in {ev.float_seconds:.1f} s ({method} in {ev.float_precision.value}, "
           "alongside the golden engine)" if ref is FloatReference.COMPUTED
           else f"{ev.float_precision.value} float predictions from the cache")
    return (f"float agreement {100 * ev.float_agreement:.2f}% (float accuracy {100 * ev.float_accuracy:.2f}%; "
            f"{how})")


def warn_unverified(split) -> None:
    """One warning line on stderr when ``split`` was read from raw MNIST files (no SHA-256 check)."""
    import sys

    from ..data import mnist

    if not mnist.is_verified(split):
        print(f"hwssm: warning: the MNIST {split.value} data in {mnist.data_path(split)} is unverified (raw files, "
              "no known SHA-256): accuracy is only as right as those files; use the original .gz files to verify",
              file=sys.stderr)
