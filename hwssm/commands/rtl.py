"""``hwssm rtl generate``: Verilog for the parallel complex-MAC core of a model.

``hwssm rtl generate --model QMODEL|CKPT [--plan PLAN] --lanes P --out DIR [--seq-len T]``
    Writes ``DIR/hwssm_core.v`` and ``DIR/manifest.json``. A float checkpoint needs
    ``--plan`` and is quantized by PTQ (calibrated on training digits) first.
    ``--storage load`` puts the coefficients in single-port RAMs filled through a 16-bit
    load port (SPRAM-mappable) and also writes the load image ``DIR/params.hex``;
    ``--soft-mul-bits N`` builds multiplies with an operand of <= N bits from LUTs;
    ``--mix-cols 8`` lets the mixing layers use all eight multipliers of a lane;
    ``--profile DEVICE`` starts from a device's build profile (the other design options
    override it; :mod:`hwssm.commands.design_args`).
    ``--prefix NAME_`` prepends NAME_ to every module name (several cores in one design);
    ``--last`` adds the ``in_last`` input and the ``frame_error`` output
    (:class:`hwssm.hw.rtl.integration.CoreInterface`).

``hwssm rtl testbench --rtl DIR --model QMODEL|CKPT [--plan PLAN] (--indices I,J | --digits N) --out DIR [--no-dbg]``
    Writes a standalone plain-Verilog testbench ``DIR/tb_<top>.v`` and its ``.hex`` files
    (stimulus and the golden engine's expected classes, logits and debug values) for the
    core in ``--rtl``, on MNIST test digits (:mod:`hwssm.verify.testbench`); any simulator
    runs it and it prints PASS or FAIL.
"""

from __future__ import annotations

import argparse

from .design_args import add_design_arguments, design_from_args

HELP = "generate Verilog (hwssm_core.v + manifest.json) for a QModel or checkpoint on P lanes"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rtl_command", metavar="ACTION")
    gen = sub.add_parser("generate", help="write DIR/hwssm_core.v and DIR/manifest.json")
    gen.add_argument("--model", required=True, help="QModel (.qmodel.json) or float checkpoint (.json)")
    gen.add_argument("--plan", help="precision plan, needed for a float checkpoint (PTQ)")
    gen.add_argument("--lanes", type=int, required=True, metavar="P", help="complex-MAC lanes (>= 1)")
    gen.add_argument("--out", required=True, metavar="DIR", help="output directory")
    gen.add_argument("--seq-len", type=int, default=784, metavar="T", help="pixels per digit (default: 784, sMNIST)")
    add_design_arguments(gen)
    gen.add_argument("--calib-digits", type=int, default=256, help="training digits for PTQ calibration")
    gen.add_argument("--prefix", default="", metavar="NAME_", help="prefix of every module name (default: none)")
    gen.add_argument("--last", action="store_true", help="add the in_last input and the frame_error output")
    gen.add_argument("--json", action="store_true", help="print the manifest summary as JSON")
    gen.set_defaults(func=_generate)

    tb = sub.add_parser("testbench", help="write a standalone Verilog testbench of DIR's core on MNIST test digits")
    tb.add_argument("--rtl", required=True, metavar="DIR", help="generated core (hwssm_core.v + manifest.json)")
    tb.add_argument("--model", required=True, help="the core's QModel (.qmodel.json) or float checkpoint")
    tb.add_argument("--plan", help="precision plan, needed for a float checkpoint (PTQ)")
    which = tb.add_mutually_exclusive_group(required=True)
    which.add_argument("--indices", type=_indices, metavar="I,J,...", help="these MNIST test indices")
    which.add_argument("--digits", type=int, metavar="N", help="the first N MNIST test digits")
    tb.add_argument("--out", required=True, metavar="DIR", help="output directory (not the RTL directory)")
    tb.add_argument("--no-dbg", action="store_true", help="do not check the debug stream (smaller files)")
    tb.add_argument("--calib-digits", type=int, default=256, help="training digits for PTQ calibration")
    tb.set_defaults(func=_testbench)

    def _usage(args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_usage)


def _indices(text: str) -> list[int]:
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--indices must be comma-separated integers, not {text!r}") from None
    if not out:
        raise argparse.ArgumentTypeError("--indices needs at least one index")
    return out


def _testbench(args) -> int:
    from pathlib import Path

    from ..errors import HwssmError
    from ..quant.resolve import resolve_model
    from ..verify.simulate import Digits
    from ..verify.testbench import TestbenchOptions, write_testbench

    if args.digits is not None and args.digits < 1:
        raise HwssmError(f"--digits must be >= 1, not {args.digits}")
    if Path(args.out).resolve() == Path(args.rtl).resolve():
        raise HwssmError("--out must not be the RTL directory (it must hold only the generator's Verilog)")
    digits = Digits.mnist_test(args.indices if args.indices is not None else range(args.digits))
    qm = resolve_model(args.model, args.plan, calib_digits=args.calib_digits, hardware="hwssm rtl").qmodel
    files = write_testbench(args.rtl, qm, digits.pixels, args.out, TestbenchOptions(dbg=not args.no_dbg))
    print(f"{files.testbench}: {len(digits.indices)} digits; run it in {files.directory} with the core's "
          f"{', '.join(str(p) for p in files.rtl_sources)}; it prints PASS or FAIL")
    return 0


def _generate(args) -> int:
    import json

    from ..hw.emit import generate
    from ..hw.rtl.integration import CoreInterface
    from ..quant.resolve import resolve_model

    design = design_from_args(args, args.lanes, args.seq_len)
    interface = CoreInterface(args.prefix, args.last)
    res = resolve_model(args.model, args.plan, calib_digits=args.calib_digits, hardware="hwssm rtl")
    man = generate(res.qmodel, design, args.out, interface)
    keys = ("top", "lanes", "seq_len", "cycles_per_step", "cycles_per_digit", "utilization", "act_width",
            "logit_width", "generator_version", "storage", "seconds")
    summary = {k: man[k] for k in keys}
    summary["plan"] = man["plan"]["name"]
    summary["out"] = str(args.out)
    if "load" in man:
        summary["load_words"] = man["load"]["words"]
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{args.out}: {man['top']} for plan {summary['plan']} on {man['lanes']} lanes, T={man['seq_len']}: "
              f"{man['cycles_per_step']} cycles/step, {man['cycles_per_digit']} cycles/digit, "
              f"utilization {100 * man['utilization']:.2f}% ({man['seconds']:.1f} s)"
              + (f"; load image {man['load']['image']}: {man['load']['words']} words" if "load" in man else ""))
    return 0
