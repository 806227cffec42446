"""``hwssm train``: train models in torch (the optional ``train`` extra).

``hwssm train float --out STEM --work DIR [--family s4d|s5] [--data NAME|PATH] [--epochs E]
[--H H --N N --L L] [--P P --J J --norm batch|layer|none --glu half|full] [--seed S] [--time-budget SECONDS]
[--device cuda|cpu] ...``  (S4D: ``--norm layer [--prenorm]`` adds a LayerNorm per block, ARITHMETIC.md §7)
    Train the float S4D (default) or S5 classifier on sMNIST, or on ``--data NAME|PATH`` (the model
    gets its K classes) (:mod:`hwssm.train.float_train`); options left out take the family's defaults
    (:mod:`hwssm.train.families`: S5 is Q-S5's sMNIST model and recipe, H=96, P=64, L=4, BatchNorm,
    half GLU, SSM lr 0.004, others 0.016, batch 50). The run is
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

HELP = "train the float S4D or S5 classifier (sMNIST or --data) in torch (needs the 'train' extra)"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="train_command", metavar="WHAT")
    f = sub.add_parser("float", help="float S4D or S5 training (resumable); writes the float checkpoint")
    f.add_argument("--out", required=True, metavar="STEM", help="checkpoint stem: writes STEM.json, STEM.npz, "
                   "STEM.log.json, STEM.training.png")
    f.add_argument("--work", required=True, metavar="DIR", help="work directory for the resume state and log.json")
    f.add_argument("--family", choices=("s4d", "s5"), default="s4d", help="model family (default s4d)")
    f.add_argument("--epochs", type=int, default=None, help="epochs (default s4d 100, s5 150)")
    f.add_argument("--H", type=int, default=None, help="channels (default s4d 64, s5 96)")
    f.add_argument("--N", type=int, default=None, help="S4D: state size per channel, N/2 complex modes (default 64)")
    f.add_argument("--L", type=int, default=4, help="blocks (default 4)")
    f.add_argument("--init", choices=("lin", "inv"), default=None, help="S4D: A initialization (default lin)")
    f.add_argument("--P", type=int, default=None, help="S5: complex modes kept (state 2P; default 64)")
    f.add_argument("--J", type=int, default=None, help="S5: HiPPO blocks of the initial Lambda (default 1)")
    f.add_argument("--norm", choices=("batch", "layer", "none"), default=None,
                   help="S5: prenorm (default batch; layer has no integer form); S4D: layer or none (default)")
    f.add_argument("--prenorm", action="store_true", help="S4D --norm layer: before the S4D layer "
                   "(default: after the residual, as the state-spaces/s4 example)")
    f.add_argument("--glu", choices=("half", "full"), default=None, help="S5: GLU kind (default half)")
    f.add_argument("--discretization", choices=("zoh", "bilinear"), default="zoh", help="default zoh")
    f.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    f.add_argument("--batch-size", type=int, default=None, help="sequences per step (default s4d 128, s5 50)")
    f.add_argument("--lr", type=float, default=None, help="peak learning rate (default s4d 1e-2, s5 0.016)")
    f.add_argument("--ssm-lr", type=float, default=None,
                   help="peak learning rate of the SSM parameters (default s4d 1e-3, s5 0.004)")
    f.add_argument("--weight-decay", type=float, default=None, help="AdamW weight decay, non-SSM parameters (default 0.01)")
    f.add_argument("--dropout", type=float, default=0.1, help="dropout tied over time after GELU (and GLU, s5) (default 0.1)")
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
    from ..model.config import Family
    from ..train.families import RECIPE_DEFAULTS
    from ..train.float_train import Recipe, export, train

    data = load_dataset(args.data)
    data.check_inputs()
    family = Family(args.family)
    config = _config(args, family, data.n_classes, data.model_shape())
    given = {k: getattr(args, k) for k in RECIPE_DEFAULTS[family] if getattr(args, k) is not None}
    recipe = Recipe(**(RECIPE_DEFAULTS[family] | given), dropout=args.dropout, warmup_epochs=args.warmup_epochs,
                    seed=args.seed, amp=not args.no_amp, train_limit=args.train_limit, val_limit=args.val_limit,
                    data=None if args.data.is_default else args.data)
    outcome = train(config, recipe, args.work, device=args.device, time_budget=args.time_budget,
                    start_time=start)
    if not outcome.done:
        print(f"stopped after epoch {outcome.epoch}/{recipe.epochs}; run the same command again to resume")
        return 0
    export(outcome, args.out, numpy_test=args.numpy_test)
    return 0


def _config(args, family, n_classes: int, shape: dict | None = None):
    """The model config of ``family`` from the options (family defaults for those left out);
    ``shape`` the data's encoder (``{"C": C}`` or ``{"vocab": V}``, S4D only)."""
    from ..model.config import Discretization, Family, Init, S4DConfig
    from ..model.config import Norm as S4DNorm
    from ..model.s5_config import Glu, Norm, S5Config

    own = {Family.S4D: ("N", "init"), Family.S5: ("P", "J", "glu")}
    for other, names in own.items():
        wrong = [n for n in names if other is not family and getattr(args, n) is not None]
        if wrong:
            raise HwssmError(f"--{wrong[0]} is an option of --family {other.value}, not {family.value}")
    given = lambda **kw: {k: v for k, v in kw.items() if v is not None}  # noqa: E731
    try:
        shape = {k: v for k, v in (shape or {}).items() if k != "C" or v != 1}
        if family is Family.S5:
            if shape:
                raise HwssmError(f"S5 models read one sample per step; this data needs {shape} (S4D only)")
            return S5Config(**given(H=args.H, P=args.P, J=args.J, norm=args.norm and Norm(args.norm),
                                    glu=args.glu and Glu(args.glu)),
                            L=args.L, discretization=Discretization(args.discretization), n_classes=n_classes)
        if args.norm == "batch":
            raise HwssmError("--norm batch is an option of --family s5; an S4D model takes --norm layer or none")
        return S4DConfig(**given(H=args.H, N=args.N, init=args.init and Init(args.init),
                                 norm=args.norm and S4DNorm(args.norm)), prenorm=args.prenorm, L=args.L,
                         discretization=Discretization(args.discretization), n_classes=n_classes, **shape)
    except ValueError as exc:
        raise HwssmError(str(exc)) from None


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
