"""``hwssm board``: the model on a development board.

``hwssm board build --board icebreaker|ulx3s|tangnano9k|tangnano20k --model M --lanes P [design options] --out DIR [--allow-slow] [--seed N]``
    Generates the board top (the S4D or S5 core behind the UART protocol engine; with LOAD storage
    the SPI-flash loader), synthesizes, places it with the board's pins, packs the bitstream and
    writes DIR/{top.bin|top.bit, flash.bin (LOAD storage), pins.pcf|pins.lpf, report.json,
    report.md, README.md} as one set (:mod:`hwssm.board.build`).

``hwssm board run --port PORT --model M --data smnist [--indices I,J | --digits N] [--baud B] [--timeout S] [--logits]``
    Talks to the programmed board (:mod:`hwssm.board.host`): checks the model it holds,
    classifies the digits, checks each class (and logit, with ``--logits``) against the golden
    engine, prints accuracy and sequences/s. Exit 0 when all agree, 1 on a mismatch, 2 on bad
    input or a port that does not answer.
"""

from __future__ import annotations

import argparse
import dataclasses

from .design_args import add_design_arguments
from .indices import parse_indices

HELP = "build a bitstream of the model for a development board, or run MNIST digits on a programmed board"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="board_command", metavar="ACTION", required=True)
    b = sub.add_parser("build", help="bitstream, flash image, pins, report and README for a board",
                       description="build the model for a board: bitstream, flash image, pins, report, README")
    b.add_argument("--board", required=True, metavar="NAME", help="icebreaker, ulx3s, tangnano9k or tangnano20k")
    b.add_argument("--model", required=True, help="QModel (.qmodel.json), shipped model name, or float checkpoint")
    b.add_argument("--plan", help="precision plan, needed for a float checkpoint (PTQ)")
    b.add_argument("--lanes", type=int, required=True, metavar="P", help="complex-MAC lanes")
    b.add_argument("--out", required=True, metavar="DIR", help="output directory (its build files are replaced as a set)")
    b.add_argument("--allow-slow", action="store_true",
                   help="write the build even when nextpnr's fmax is below the board clock (it may not work)")
    b.add_argument("--seed", type=int, default=1, help="nextpnr placer seed (default: 1)")
    b.add_argument("--baud", type=int, help="UART rate (default: the board's, 115200)")
    add_design_arguments(b)
    b.set_defaults(func=_build)

    r = sub.add_parser("run", help="classify MNIST test digits on a programmed board over its UART",
                       description="classify MNIST test digits on a programmed board and check them against the golden engine")
    r.add_argument("--port", required=True, help="serial port of the board's UART (/dev/ttyUSB1, /dev/ttyACM0)")
    r.add_argument("--model", required=True, help="the QModel the board was built for (.qmodel.json or shipped name)")
    r.add_argument("--data", choices=("smnist",), default="smnist", help="data set (sequential MNIST test split)")
    which = r.add_mutually_exclusive_group()
    which.add_argument("--indices", type=parse_indices, metavar="I,J,...", help="these MNIST test indices")
    which.add_argument("--digits", type=int, metavar="N", help="the first N test digits (default: 100)")
    r.add_argument("--baud", type=int, default=115_200, help="UART rate, bit/s (default: 115200)")
    r.add_argument("--timeout", type=float, default=2.0, metavar="S", help="seconds to wait for each answer (default: 2)")
    r.add_argument("--logits", action="store_true", help="also fetch and check the logits")
    r.add_argument("--json", action="store_true", help="print the result as one JSON object")
    r.set_defaults(func=_run)


def _build(args) -> int:
    import sys

    from ..board.build import BuildRequest, build_board
    from ..quant.resolve import resolve_model
    from ..targets.boards import board
    from .design_args import design_from_args

    target = board(args.board)  # unknown board: one line listing the known ones, before anything slow
    if args.lanes < 1:
        from ..errors import HwssmError

        raise HwssmError(f"--lanes must be >= 1, not {args.lanes}")
    design = design_from_args(_with_profile(args, target), args.lanes, 784)
    if args.profile is None and target.pipeline is not None:  # the board's own default pipeline, stage options on top
        given = {n: getattr(args, n) for n in ("mul_stages", "mem_stages", "requant_stages", "acc_stages", "mix_cols")
                 if getattr(args, n, None) is not None}
        design = design.replace(pipeline=dataclasses.replace(target.pipeline, **given))
    qm = resolve_model(args.model, args.plan, hardware="hwssm board").qmodel

    def progress(msg: str) -> None:
        print(f"hwssm: {msg}", file=sys.stderr, flush=True)

    result = build_board(BuildRequest(qm, design, target, args.out, allow_slow=args.allow_slow, seed=args.seed,
                                      baud=args.baud), progress=progress)
    print(result.summary())
    return 0


def _with_profile(args, target):
    """The board's device profile is the default ``--profile`` of a board build."""
    if args.profile is None:
        args = argparse.Namespace(**{**vars(args), "profile": target.device.name})
    return args


def _run(args) -> int:
    import json

    import numpy as np

    from ..board.host import run_on_board
    from ..board.serial import SerialPort
    from ..data import Split, load_mnist, sequences
    from ..errors import HwssmError
    from ..quant.resolve import resolve_model

    qm = resolve_model(args.model, hardware="hwssm board").qmodel
    images, labels = load_mnist(Split.TEST)
    if args.indices is not None:
        idx = np.asarray(args.indices, dtype=np.int64)
        bad = idx[idx >= len(images)]
        if bad.size:
            raise HwssmError(f"test index {int(bad[0])} is out of range [0, {len(images)})")
    else:
        n = 100 if args.digits is None else args.digits
        if not 1 <= n <= len(images):
            raise HwssmError(f"--digits must be in [1, {len(images)}], not {n}")
        idx = np.arange(n, dtype=np.int64)
    with SerialPort(args.port, args.baud, args.timeout) as port:
        run = run_on_board(port, qm, sequences(images[idx]), labels[idx], idx, logits=args.logits)
    if args.json:
        print(json.dumps(run.to_json(), indent=2))
    else:
        agree = run.sequences - len(run.mismatches)
        print(f"{run.sequences} sequences: accuracy {100 * run.accuracy:.2f}% ({run.correct} correct), "
              f"{agree}/{run.sequences} agree with the golden engine ({'classes and logits' if run.logits_checked else 'classes'}), "
              f"{run.sequences_per_s:.2f} sequences/s over the UART")
        for m in run.mismatches[:10]:
            print(f"mismatch: {m.describe()}")
    return 0 if run.ok else 1
