"""``hwssm train``: train models in torch (the optional ``train`` extra).

``hwssm train float --out STEM --work DIR [--epochs E] [--H H --N N --L L] [--seed S]
[--time-budget SECONDS] [--device cuda|cpu] ...``
    Train the float S4D classifier on sMNIST, or on ``--data NAME|PATH`` (the model gets its K
    classes) (:mod:`hwssm.train.float_train`). The run is
    resumable: every epoch it saves its state in DIR, and a later call with the same options
    continues from there. With ``--time-budget`` it stops before an epoch that would not end
    in time (run the same command again to continue). When all epochs are done it writes
    ``STEM.json`` + ``STEM.npz`` (the float checkpoint), ``STEM.log.json`` and ``STEM.training.png``.

Also runnable without the rest of the CLI (e.g. where hwssm's hardware dependencies are absent):
``python -m hwssm.commands.train float ...``.
"""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import HwssmError
from .data_args import add_data_argument

HELP = "train the float S4D classifier on sMNIST in torch (needs the 'train' extra)"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="train_command", metavar="WHAT")
    f = sub.add_parser("float", help="float S4D training (resumable); writes the float checkpoint")
    f.add_argument("--out", required=True, metavar="STEM", help="checkpoint stem: writes STEM.json, STEM.npz, "
                   "STEM.log.json, STEM.training.png")
    f.add_argument("--work", required=True, metavar="DIR", help="work directory for the resume state and log.json")
    f.add_argument("--epochs", type=int, default=100, help="epochs (default 100)")
    f.add_argument("--H", type=int, default=64, help="channels (default 64)")
    f.add_argument("--N", type=int, default=64, help="state size per channel, N/2 complex modes (default 64)")
    f.add_argument("--L", type=int, default=4, help="S4D blocks (default 4)")
    f.add_argument("--init", choices=("lin", "inv"), default="lin", help="A initialization (default lin)")
    f.add_argument("--discretization", choices=("zoh", "bilinear"), default="zoh", help="default zoh")
    f.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    f.add_argument("--batch-size", type=int, default=128, help="sequences per step (default 128)")
    f.add_argument("--lr", type=float, default=1e-2, help="peak learning rate (default 1e-2)")
    f.add_argument("--ssm-lr", type=float, default=1e-3, help="peak learning rate of the SSM parameters (default 1e-3)")
    f.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay, non-SSM parameters (default 0.01)")
    f.add_argument("--dropout", type=float, default=0.1, help="channel dropout after GELU (default 0.1)")
    f.add_argument("--warmup-epochs", type=float, default=1.0, help="linear warm-up length (default 1)")
    f.add_argument("--no-amp", action="store_true", help="no bf16 autocast (CUDA); float32 throughout")
    f.add_argument("--train-limit", type=int, default=None, metavar="N", help="train on the first N sequences only")
    f.add_argument("--val-limit", type=int, default=None, metavar="N", help="validate on the first N sequences only")
    f.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                   help="stop (resumably) before an epoch that would end after this many seconds")
    f.add_argument("--device", choices=("cuda", "cpu"), default=None, help="default: cuda when available")
    f.add_argument("--numpy-test", action="store_true",
                   help="also measure test accuracy with the float64 numpy reference model (slow)")
    add_data_argument(f)  # the model gets the dataset's K classes
    f.set_defaults(func=_float)

    def _usage(args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_usage)


def _float(args) -> int:
    start = time.monotonic()
    try:
        import torch  # noqa: F401
    except ImportError:
        raise HwssmError("torch is not installed: pip install -e '.[train]'") from None
    from ..data import load_dataset
    from ..model.config import Discretization, Init, S4DConfig
    from ..train.float_train import Recipe, export, train

    data = load_dataset(args.data)
    data.check_inputs()
    try:
        config = S4DConfig(H=args.H, N=args.N, L=args.L, init=Init(args.init),
                           discretization=Discretization(args.discretization), n_classes=data.n_classes)
    except ValueError as exc:
        raise HwssmError(str(exc)) from None
    recipe = Recipe(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, ssm_lr=args.ssm_lr,
                    weight_decay=args.weight_decay, dropout=args.dropout, warmup_epochs=args.warmup_epochs,
                    seed=args.seed, amp=not args.no_amp, train_limit=args.train_limit, val_limit=args.val_limit,
                    data=None if args.data.is_default else args.data)
    outcome = train(config, recipe, args.work, device=args.device, time_budget=args.time_budget,
                    start_time=start)
    if not outcome.done:
        print(f"stopped after epoch {outcome.epoch}/{recipe.epochs}; run the same command again to resume")
        return 0
    export(outcome, args.out, numpy_test=args.numpy_test)
    return 0


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hwssm train", description=HELP)
    register(parser)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HwssmError as exc:
        print(f"hwssm: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_main())
