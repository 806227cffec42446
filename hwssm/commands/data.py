"""``hwssm data``: check the MNIST files or a dataset, or draw one input sequence.

``hwssm data check [--data NAME|PATH] [--json]``
    Without ``--data``: find, decode and verify the four MNIST files; print where they are.
    With it: load every split of the dataset (an NPZ file is validated against
    :mod:`hwssm.data.npz_format`) and print its K, T, C, input format or vocabulary, identity,
    split shapes, and whether the models can read it.
``hwssm data show --index I [--split test] [--data NAME|PATH] [--permuted-seed S] --out FILE.png``
    Draw sequence ``I`` of a split: an MNIST digit (smnist, psmnist) beside its 784-step
    sequence, any other dataset's sequence over time (channels as lines, or an image when
    there are many; tokens by name for listops).
"""

from __future__ import annotations

import argparse

from .data_args import data_spec

HELP = "check the MNIST files or a dataset, or plot one input sequence (a digit beside its sMNIST sequence)"

_SPLITS = ("train", "val", "test", "train-full")


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")

    check = sub.add_parser("check", help="find, decode and SHA-256-verify the four MNIST files")
    check.add_argument("--json", action="store_true", help="print a JSON object instead of a sentence")
    check.add_argument("--data", type=data_spec, default=None, metavar="NAME|PATH",
                       help="check this dataset instead (every split; an NPZ file against its format)")
    check.set_defaults(func=_check)

    show = sub.add_parser("show", help="plot one digit beside its 784-step input sequence (PNG)")
    show.add_argument("--index", type=int, required=True, metavar="I", help="index of the digit within the split")
    show.add_argument("--split", choices=_SPLITS, default="test", help="which split (default: test)")
    show.add_argument(
        "--permuted-seed", type=int, default=None, metavar="S",
        help="show the psMNIST sequence for this permutation seed (default: sMNIST, row-major)",
    )
    show.add_argument("--data", type=data_spec, default=None, metavar="NAME|PATH",
                      help="the dataset (default smnist; psmnist:S is --permuted-seed S)")
    show.add_argument("--out", required=True, metavar="FILE.png", help="PNG to write")
    show.set_defaults(func=_show)

    def _usage(args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_usage)


def _check(args) -> int:
    import json

    from ..api import check_data

    if args.data is not None:
        return _check_dataset(args.data, args.json)
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

    from ..data import Builtin

    seed = args.permuted_seed
    if args.data is not None and args.data.builtin is Builtin.PSMNIST:
        if seed is not None and seed != (args.data.seed or 0):
            raise HwssmError(f"--data {args.data.text()} and --permuted-seed {seed} name different permutations")
        seed = args.data.seed or 0
    elif args.data is not None and not args.data.is_default:
        if seed is not None:
            raise HwssmError("--permuted-seed applies to MNIST data only (smnist, psmnist)")
        return _show_sequence(args)
    args.permuted_seed = seed
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


def _check_dataset(spec, as_json: bool) -> int:
    import json

    import numpy as np

    from ..api import check_data, load_dataset
    from ..data import DataSplit, Encoding
    from ..errors import HwssmError

    ds = load_dataset(spec)
    splits = {s.value: ds.split(s) for s in DataSplit}
    try:
        ds.check_inputs("a model")
        readable = None
    except HwssmError as exc:
        readable = str(exc)
    tokens = ds.encoding is Encoding.TOKENS
    doc = {"data": ds.name, "identity": ds.identity, "classes": ds.n_classes, "T": ds.T, "C": ds.C,
           "encoding": ds.encoding.value, "vocab": ds.vocab, "input_format": None if tokens else ds.input_format.name,
           "splits": {k: {"n": d.n, "x": list(d.x.shape), "x_dtype": str(d.x.dtype), "y": list(d.y.shape),
                          "classes_present": int(np.unique(d.y).size)} for k, d in splits.items()},
           "models_read_it": readable is None, **({} if readable is None else {"why_not": readable})}
    if ds.mnist:
        doc["mnist"] = check_data().as_dict()
    if as_json:
        print(json.dumps(doc))
        return 0
    print(f"{ds.describe()} (identity {ds.identity})")
    for k, d in splits.items():
        print(f"  {k}: x {tuple(d.x.shape)} {d.x.dtype}, y {tuple(d.y.shape)}, {doc['splits'][k]['classes_present']} "
              f"of {ds.n_classes} classes present")
    print("  the models read it" if readable is None else f"  the models cannot read it: {readable}")
    return 0


def _show_sequence(args) -> int:
    import numpy as np

    from ..api import load_dataset
    from ..data import Builtin, Encoding, parse_data_split
    from ..errors import HwssmError
    from ..report.sequence import plot_sequence

    if args.split == "train-full":
        raise HwssmError("--split train-full is MNIST's; this dataset has train, val and test")
    ds = load_dataset(args.data)
    part = ds.split(parse_data_split(args.split))
    if not 0 <= args.index < part.n:
        raise HwssmError(f"--index {args.index} is out of range for the {args.split} split of {ds.name} "
                         f"(0..{part.n - 1})")
    names = None
    if ds.encoding is Encoding.TOKENS and args.data.builtin is Builtin.LISTOPS:
        from ..data.listops import TOKENS

        names = TOKENS
    ylabel = "token id" if ds.encoding is Encoding.TOKENS else f"{ds.input_format.name} code"
    plot_sequence(np.asarray(part.x[args.index]), args.out, ylabel=ylabel, token_names=names,
                  title=f"{ds.name} {args.split}[{args.index}]: label {int(part.y[args.index])}")
    print(f"wrote {args.out}")
    return 0
