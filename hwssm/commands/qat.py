"""``hwssm qat``: quantization-aware training of a float checkpoint into a QModel (needs torch).

``hwssm qat --model CKPT --plan PLAN --param discrete|continuous|frozen --out STEM --work DIR
[--epochs E] [--lr LR] [--ssm-lr LR] [--seed S] [--time-budget SECONDS] [--device cuda|cpu] ...``

The forward pass is the golden engine's integer arithmetic (:mod:`hwssm.train.qat_model`);
the recurrence runs as a fused Triton kernel on CUDA. The run is resumable: every epoch it
saves its state in DIR, and the same command continues from there (with ``--time-budget`` it
stops before an epoch that would not end in time). When all epochs are done it writes
``STEM.qmodel.json/.npz`` (the integer codes the forward used, with the golden test accuracy
and the golden-vs-QAT agreement in its meta), ``STEM.log.json``, ``STEM.training.png`` and a
result JSON (``--result``, default ``STEM.result.json``).

Also runnable as ``python -m hwssm.commands.qat ...``.
"""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import HwssmError
from .data_args import add_data_argument

HELP = "quantization-aware training (integer forward, STE backward) into a QModel (needs the 'train' extra)"


def register(parser: argparse.ArgumentParser) -> None:
    p = parser
    p.add_argument("--model", required=True, metavar="CKPT", help="float checkpoint (.json or stem) to start from")
    p.add_argument("--plan", required=True, help="named plan (uniform8, hetero, ...), short code or plan JSON")
    p.add_argument("--param", choices=("discrete", "continuous", "frozen"), default="continuous",
                   help="Ā parameterization: train Ā directly, train (log_dt, A) and re-discretize every step, "
                        "or keep the PTQ Ā codes (default continuous)")
    p.add_argument("--out", required=True, metavar="STEM", help="output stem: STEM.qmodel.json/.npz, STEM.log.json, "
                   "STEM.training.png, STEM.result.json")
    p.add_argument("--work", required=True, metavar="DIR", help="work directory (resume state, log, frame)")
    p.add_argument("--result", default=None, metavar="PATH", help="result JSON (default STEM.result.json)")
    p.add_argument("--epochs", type=int, default=8, help="epochs (default 8)")
    p.add_argument("--batch-size", type=int, default=128, help="sequences per step (default 128)")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    p.add_argument("--ssm-lr", type=float, default=1e-4, help="peak learning rate of Ā/B̄ or (log_dt, A, B) (default 1e-4)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay (default 0)")
    p.add_argument("--warmup-epochs", type=float, default=0.1, help="linear warm-up (default 0.1 epoch)")
    p.add_argument("--seed", type=int, default=0, help="data-order seed (default 0)")
    p.add_argument("--calib-digits", type=int, default=256, help="training digits calibrating the frame (default 256)")
    p.add_argument("--calibration", choices=("minmax", "percentile"), default="minmax")
    p.add_argument("--state-headroom", type=int, default=0, metavar="K",
                   help="state fracs = calibrated + K: finer state steps, values beyond the 2**K smaller range "
                        "saturate (default 0: the PTQ formats)")
    p.add_argument("--train-limit", type=int, default=None, metavar="N", help="train on the first N digits only")
    p.add_argument("--val-limit", type=int, default=None, metavar="N", help="validate on the first N digits only")
    p.add_argument("--test-limit", type=int, default=None, metavar="N", help="test on the first N digits only")
    p.add_argument("--window", type=int, default=None, metavar="T", help="use the middle T pixels only (smoke runs)")
    p.add_argument("--golden-digits", type=int, default=None, metavar="N",
                   help="run the golden check on the first N test digits (default all; 0 skips it)")
    p.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                   help="stop (resumably) before an epoch that would not end, with the export, in time")
    p.add_argument("--export-reserve", type=float, default=120.0, metavar="SECONDS",
                   help="seconds the time budget keeps for the export and golden check (default 120)")
    p.add_argument("--device", choices=("cuda", "cpu"), default=None, help="default: cuda when available")
    add_data_argument(p)
    p.add_argument("--prepare-only", action="store_true",
                   help="only calibrate the frame into DIR (CPU work that a later GPU run then skips)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    start = time.monotonic()
    try:
        import torch  # noqa: F401
    except ImportError:
        raise HwssmError("torch is not installed: pip install -e '.[train]'") from None
    from ..quant.calibrate import Calibration
    from ..quant.plan import resolve_plan
    from ..train.qat_model import AParam
    from ..train.qat_export import export_qat
    from ..train.qat_train import QATRecipe, prepare_frame, train_qat

    from ..data import load_dataset
    from ..model.checkpoint import load_checkpoint
    from ..model.config import Family

    if not args.data.is_default:
        data = load_dataset(args.data)
        data.check_inputs()
        data.check_model_of(load_checkpoint(args.model).config, "the checkpoint")
    plan = resolve_plan(args.plan)
    recipe = QATRecipe(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, ssm_lr=args.ssm_lr,
                       weight_decay=args.weight_decay, warmup_epochs=args.warmup_epochs, seed=args.seed,
                       calib_digits=args.calib_digits, calibration=Calibration(args.calibration),
                       train_limit=args.train_limit, val_limit=args.val_limit, test_limit=args.test_limit,
                       window=args.window, state_headroom=args.state_headroom,
                       data=None if args.data.is_default else args.data)
    if args.golden_digits is not None and args.golden_digits < 0:
        raise HwssmError(f"--golden-digits must be >= 0, not {args.golden_digits}")
    say = lambda line: print(line, flush=True)  # noqa: E731
    if load_checkpoint(args.model).family is Family.S5:   # the S5 family's loop (train/qat_s5_train.py)
        from ..train.qat_s5_train import prepare_frame_s5 as prepare_frame, train_qat_s5 as train_qat
    if args.prepare_only:
        from pathlib import Path

        Path(args.work).mkdir(parents=True, exist_ok=True)
        qm = prepare_frame(args.model, plan, recipe, args.work, say=say)
        say(f"frame ready in {args.work}: plan {qm.plan.name}, {qm.footprint_bits} bits ({qm.compression:.2f}x)")
        return 0
    outcome = train_qat(args.model, plan, AParam(args.param), recipe, args.work, device=args.device,
                        time_budget=args.time_budget, start_time=start, export_reserve=args.export_reserve, say=say)
    if not outcome.done:
        print(f"stopped after epoch {outcome.epoch}/{recipe.epochs}; run the same command again to resume")
        return 0
    export_qat(outcome, args.out, result=args.result, golden_digits=args.golden_digits, say=say)
    return 0


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hwssm qat", description=HELP)
    register(parser)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HwssmError as exc:
        print(f"hwssm: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_main())
