"""``hwssm rtl generate``: Verilog for the parallel complex-MAC core of a model.

``hwssm rtl generate --model QMODEL|CKPT [--plan PLAN] --lanes P --out DIR [--seq-len T]``
    Writes ``DIR/hwssm_core.v`` and ``DIR/manifest.json``. A float checkpoint needs
    ``--plan`` and is quantized by PTQ (calibrated on training digits) first.
    ``--storage load`` puts the coefficients in single-port RAMs filled through a 16-bit
    load port (SPRAM-mappable) and also writes the load image ``DIR/params.hex``;
    ``--soft-mul-bits N`` builds multiplies with an operand of <= N bits from LUTs;
    ``--mix-cols 8`` lets the mixing layers use all eight multipliers of a lane.
"""

from __future__ import annotations

import argparse

HELP = "generate Verilog (hwssm_core.v + manifest.json) for a QModel or checkpoint on P lanes"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rtl_command", metavar="ACTION")
    gen = sub.add_parser("generate", help="write DIR/hwssm_core.v and DIR/manifest.json")
    gen.add_argument("--model", required=True, help="QModel (.qmodel.json) or float checkpoint (.json)")
    gen.add_argument("--plan", help="precision plan, needed for a float checkpoint (PTQ)")
    gen.add_argument("--lanes", type=int, required=True, metavar="P", help="complex-MAC lanes (>= 1)")
    gen.add_argument("--out", required=True, metavar="DIR", help="output directory")
    gen.add_argument("--seq-len", type=int, default=784, metavar="T", help="pixels per digit (default: 784, sMNIST)")
    gen.add_argument("--mul-stages", type=int, default=1, metavar="N", help="registers after each multiplier (default: 1)")
    gen.add_argument("--mem-stages", type=int, default=0, choices=(0, 1, 2),
                     help="registers after every memory read (for block RAM without output registers, e.g. ECP5; default: 0)")
    gen.add_argument("--requant-stages", type=int, default=0, choices=(0, 1),
                     help="registers inside every requantization, between shift and rounding (default: 0)")
    gen.add_argument("--acc-stages", type=int, default=0, choices=(0, 1),
                     help="registers between the lanes' mixing accumulator and the row finish (default: 0)")
    gen.add_argument("--mix-cols", type=int, default=4, choices=(4, 6, 8),
                     help="g columns a lane multiplies per mixing cycle: 4, 6 (also the B̄·u multipliers) or 8 "
                          "(also the readout multipliers); more is faster for a few multiplexers (default: 4)")
    gen.add_argument("--storage", choices=("rom", "load"), default="rom",
                     help="coefficients in ROMs (default) or in RAMs filled through a load port (iCE40 SPRAM)")
    gen.add_argument("--soft-mul-bits", type=int, default=0, metavar="N",
                     help="build multiplies with an operand of at most N bits from LUTs, not DSPs (default: 0)")
    gen.add_argument("--calib-digits", type=int, default=256, help="training digits for PTQ calibration")
    gen.add_argument("--json", action="store_true", help="print the manifest summary as JSON")
    gen.set_defaults(func=_generate)

    def _usage(args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_usage)


def _generate(args) -> int:
    import json

    from ..hw.emit import generate
    from ..hw.options import DesignPoint, ParamStorage, Pipeline
    from ..quant.resolve import resolve_model

    res = resolve_model(args.model, args.plan, calib_digits=args.calib_digits)
    pipe = Pipeline(mul_stages=args.mul_stages, mem_stages=args.mem_stages, requant_stages=args.requant_stages,
                    acc_stages=args.acc_stages, mix_cols=args.mix_cols)
    design = DesignPoint(args.lanes, args.seq_len, pipe, ParamStorage(args.storage), args.soft_mul_bits)
    man = generate(res.qmodel, design, args.out)
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
