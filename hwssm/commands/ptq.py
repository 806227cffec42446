"""``hwssm ptq``: post-training quantization of a float checkpoint into a QModel file
(:func:`hwssm.api.quantize` and :func:`hwssm.api.save_model`)."""

from __future__ import annotations

from .data_args import add_data_argument

HELP = "quantize a float checkpoint with a precision plan (PTQ) and write a QModel"


def register(parser) -> None:
    parser.add_argument("--model", required=True, help="float checkpoint (.json or stem)")
    parser.add_argument("--plan", required=True, help="named plan (uniform16/8/6/4, hetero), short code (A8x12-B4C4D4-W8-a6) or plan JSON")
    parser.add_argument("--out", required=True, help="output stem or .qmodel.json path")
    parser.add_argument("--calib-digits", type=int, default=256, help="training sequences for calibration (default 256)")
    add_data_argument(parser)
    parser.add_argument("--calibration", choices=["minmax", "percentile"], default="minmax")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    import json
    import sys

    from ..api import PTQOptions, quantize, save_model
    from ..progress import Progress

    calib = None
    if not args.data.is_default:  # calibrate on the dataset's training split (smnist: the MNIST default)
        import numpy as np

        from ..api import Checkpoint, load_model
        from ..data import DataSplit, load_dataset
        from ..verify.simulate import Digits

        data = load_dataset(args.data)
        data.check_inputs()
        ckpt = load_model(args.model)
        if isinstance(ckpt, Checkpoint):
            data.check_model_of(ckpt.config, "the checkpoint")
        train = data.split(DataSplit.TRAIN)
        n = min(args.calib_digits, train.n)
        calib = Digits(train.sequences(n), np.arange(n), train.labels(n))
    options = PTQOptions(calib_digits=args.calib_digits, calibration=args.calibration, data=calib)
    with Progress("calibrating", unit="digits") as bar:
        qm = quantize(args.model, args.plan, options, progress=bar.update)
    path = save_model(qm, args.out)
    summary = {"qmodel": str(path), "plan": qm.plan.name, "footprint_bits": qm.footprint_bits,
               "float32_bits": qm.float32_bits, "compression": round(qm.compression, 3), "digest": qm.digest()}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {path}: plan {qm.plan.name}, {qm.footprint_bits} bits "
              f"({qm.compression:.2f}x smaller than float32)", file=sys.stdout)
        from ..report.precision import layer_widths_lines, qmodel_layer_widths

        for line in layer_widths_lines(qmodel_layer_widths(qm)):  # only for a per-layer plan
            print(line)
    return 0
