"""``hwssm data``: check the MNIST files, or draw one digit and its input sequence.

``hwssm data check [--json]``
    Find, decode and verify the four MNIST files; print where they are.
``hwssm data show --index I [--split test] [--permuted-seed S] --out FILE.png``
    Draw digit ``I`` of a split beside its 784-step sMNIST (or psMNIST) sequence.
"""

from __future__ import annotations

import argparse

HELP = "check the MNIST files, or plot a digit beside its sMNIST/psMNIST sequence"

_SPLITS = ("train", "val", "test", "train-full")


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")

    check = sub.add_parser("check", help="find, decode and SHA-256-verify the four MNIST files")
    check.add_argument("--json", action="store_true", help="print a JSON object instead of a sentence")
    check.set_defaults(func=_check)

    show = sub.add_parser("show", help="plot one digit beside its 784-step input sequence (PNG)")
    show.add_argument("--index", type=int, required=True, metavar="I", help="index of the digit within the split")
    show.add_argument("--split", choices=_SPLITS, default="test", help="which split (default: test)")
    show.add_argument(
        "--permuted-seed", type=int, default=None, metavar="S",
        help="show the psMNIST sequence for this permutation seed (default: sMNIST, row-major)",
    )
    show.add_argument("--out", required=True, metavar="FILE.png", help="PNG to write")
    show.set_defaults(func=_show)

    def _usage(args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_usage)


def _check(args) -> int:
    import json

    from ..api import check_data

    report = check_data()
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        status = "SHA-256 verified" if report.verified else "raw IDX files, not checksum-verified"
        print(f"MNIST: {report.train} train + {report.test} test images in {report.path} ({status})")
    return 0


def _show(args) -> int:
    from ..api import mnist_digits, parse_split
    from ..data import split_indices
    from ..data.mnist import COLS, ROWS
    from ..errors import HwssmError
    from ..report.digit import plot_digit

    split = parse_split(args.split)
    n = len(split_indices(split))
    if not 0 <= args.index < n:
        raise HwssmError(f"--index {args.index} is out of range for the {split.value} split (0..{n - 1})")
    digit = mnist_digits(split, [args.index])  # sMNIST: the image in raster order
    seq = digit.pixels[0]
    if args.permuted_seed is not None:
        seq = mnist_digits(split, [args.index], permutation_seed=args.permuted_seed).pixels[0]
    image = digit.pixels[0].reshape(ROWS, COLS)
    kind = "sMNIST, row-major" if args.permuted_seed is None else f"psMNIST, permutation seed {args.permuted_seed}"
    title = f"{split.value}[{args.index}]: label {int(digit.labels[0])} ({kind})"
    plot_digit(image, seq, args.out, title=title)
    print(f"wrote {args.out}")
    return 0
