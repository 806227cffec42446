"""``hwssm sim``: prove the generated RTL bit-exact on real sMNIST digits (cocotb + Verilator).

``hwssm sim --model M [--plan PLAN] (--lanes P [design options] | --rtl DIR) (--digits N [--seed S] | --indices a,b,c) [--jobs J] [--waves [--waves-steps A:B] [--waves-force]] [--json]``

Generates the RTL of the model on P lanes with the design options of ``hwssm rtl generate``
or a device's ``--profile`` (cached by model digest, design point and generator version:
:mod:`hwssm.commands.design_args`), or takes an existing RTL directory (``--rtl``, e.g. the committed
``rtl/hetero_P16``: no Amaranth needed; its manifest must name the model's digest),
builds the Verilator simulation once (cached by a hash of the Verilog and the
wrapper), runs the chosen MNIST test digits across J processes and compares every
per-layer output of every step, every logit and every class with the golden engine.
The RTL's cycle counts must equal the manifest's cycle model. A LOAD-storage design (``--storage
load``, the ``--profile up5k`` default) first gets its ``params.hex`` streamed through the load
port after reset; the load time is printed apart from the cycles per digit. Exit status 0 when all
agree, 1 on any mismatch, 2 on bad input. The work is :func:`hwssm.verify.simulate.simulate`;
this module only parses options and prints.
"""

from __future__ import annotations

import argparse

from .data_args import add_data_argument
from .design_args import add_design_arguments, design_from_args, given_design_options
from .indices import parse_indices
from .wave_args import add_wave_arguments, wave_files, wave_limits_from_args

HELP = "simulate the generated RTL on MNIST test digits (cocotb + Verilator) and check it bit-exact"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="QModel (.qmodel.json) or float checkpoint (.json)")
    parser.add_argument("--plan", help="precision plan, needed for a float checkpoint (PTQ)")
    parser.add_argument("--lanes", type=int, metavar="P", help="complex-MAC lanes (required without --rtl)")
    parser.add_argument("--rtl", metavar="DIR",
                        help="simulate this RTL directory (Verilog + manifest.json, e.g. rtl/hetero_P16) instead of "
                             "generating it; its manifest must name the model's digest")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--digits", type=int, metavar="N", help="N test digits: the first N, or a random N with --seed")
    which.add_argument("--indices", type=parse_indices, metavar="I,J,...", help="these MNIST test indices")
    parser.add_argument("--seed", type=int, help="with --digits: draw the N digits at random with this seed")
    parser.add_argument("--start", type=int, default=0, metavar="K",
                        help="with --digits: test digits K..K+N-1 (default 0), to split the test set over several runs")
    parser.add_argument("--jobs", type=int, metavar="J", help="simulation processes at once (default: CPU count)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="spread the digits over a Dask cluster (tcp://host:8786; the 'cluster' extra)")
    add_wave_arguments(parser)
    parser.add_argument("--keep", action="store_true", help="keep every run directory (default: failing ones only)")
    parser.add_argument("--in-gap", type=int, default=0, metavar="G",
                        help="withhold the next pixel with probability G/256 per cycle (handshake stress; 0..255)")
    parser.add_argument("--out-stall", type=int, default=0, metavar="S",
                        help="hold out_ready low with probability S/256 per cycle (handshake stress; 0..255)")
    parser.add_argument("--calib-digits", type=int, default=256, help="training digits for PTQ calibration")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_data_argument(parser)  # --indices/--digits then select test sequences of that dataset
    add_design_arguments(parser)
    parser.set_defaults(func=_sim)


def _select(args, n_test: int):
    import numpy as np

    from ..errors import HwssmError

    start = getattr(args, "start", 0)
    if args.indices is not None:
        if args.seed is not None or start:
            raise HwssmError("--seed and --start apply to --digits, not --indices")
        idx = np.asarray(args.indices, dtype=np.int64)
        bad = idx[(idx < 0) | (idx >= n_test)]
        if bad.size:
            raise HwssmError(f"test index {int(bad[0])} is out of range [0, {n_test})")
        return idx
    if not 1 <= args.digits <= n_test:
        raise HwssmError(f"--digits must be in [1, {n_test}], not {args.digits}")
    if args.seed is None:
        if not 0 <= start <= n_test - args.digits:
            raise HwssmError(f"--start {start} --digits {args.digits} goes past the {n_test} test digits")
        return np.arange(start, start + args.digits, dtype=np.int64)
    if start:
        raise HwssmError("--start selects a range; --seed draws at random: give one of them")
    return np.sort(np.random.default_rng(args.seed).choice(n_test, size=args.digits, replace=False)).astype(np.int64)


def reproduce_command(args, digit: int) -> str:
    """The one-line command that simulates only ``digit`` with the same model and lanes."""
    import shlex

    cmd = ["hwssm", "sim", "--model", str(args.model)]
    if args.plan:
        cmd += ["--plan", args.plan]
        if getattr(args, "calib_digits", 256) != 256:
            cmd += ["--calib-digits", str(args.calib_digits)]
    if getattr(args, "rtl", None):
        cmd += ["--rtl", str(args.rtl)]
    if args.lanes is not None:
        cmd += ["--lanes", str(args.lanes)]
    if not getattr(args, "rtl", None):
        for name in given_design_options(args):
            value = getattr(args, name[2:].replace("-", "_"))
            if not (name == "--mix-cols" and value == 4):
                cmd += [name, str(value)]
    if getattr(args, "data", None) is not None and not args.data.is_default:
        cmd += ["--data", args.data.text()]
    cmd += ["--indices", str(digit)]
    if args.in_gap or args.out_stall:
        cmd += ["--in-gap", str(args.in_gap), "--out-stall", str(args.out_stall)]
    return shlex.join(cmd)


def _check(args) -> None:
    """HwssmError for option combinations that cannot work (before any slow step)."""
    from ..errors import HwssmError

    if args.jobs is not None and args.jobs < 1:
        raise HwssmError(f"--jobs must be >= 1, not {args.jobs}")
    if args.lanes is None and not args.rtl:
        raise HwssmError("--lanes is required (or --rtl DIR)")
    if args.rtl and given_design_options(args):
        raise HwssmError(f"{', '.join(given_design_options(args))} shape(s) generated RTL; an --rtl directory has "
                         "its own (see its manifest)")
    if args.lanes is not None and args.lanes < 1:
        raise HwssmError(f"--lanes must be >= 1, not {args.lanes}")


def _print(out: dict, first, args) -> None:
    status = "bit-exact" if out["ok"] else "FAILED"
    print(f"{status}: {out['digits']} digits, {out['mismatches']} mismatching, {out['correct']} classified correctly; "
          f"{out['cycles_per_digit']} cycles/digit (model {out['model_cycles_per_digit']}), "
          f"{out['digits_per_s']} digits/s on {out['jobs']} process(es), {out['seconds']} s")
    if out["load_words"] is not None:
        print(f"load image: {out['load_words']} words in {out['load_cycles']} cycles after reset "
              "(not counted in the cycles/digit)")
    if first is not None:
        print(f"first mismatch: {first.describe()}")
    for e in out["errors"]:
        print(f"error: {e}")
    if out["reproduce"]:
        print(f"reproduce: {out['reproduce']}")
    for p in out["failed_runs"]:
        print(f"kept: {p}")
    if (args.keep or args.waves) and out["run_dir"]:
        print(f"run directories: {out['run_dir']}")
    for p in wave_files(out["run_dir"]):
        print(f"waves: {p}")


def _sim(args) -> int:
    import json
    import sys

    from ..data import DataSplit, load_dataset
    from ..errors import HwssmError
    from ..progress import Progress
    from ..quant.resolve import resolve_model
    from ..verify.contract import load_contract
    from ..verify.simulate import Digits, SimOptions, simulate
    from ..verify.wrapper import Traffic

    _check(args)
    waves, wave_limits = wave_limits_from_args(args)
    args.waves = waves
    if args.rtl:
        contract = load_contract(args.rtl)
        if args.lanes is not None and contract.lanes is not None and contract.lanes != args.lanes:
            raise HwssmError(f"--lanes {args.lanes} differs from the {contract.lanes} lanes of the RTL in {args.rtl}")
    try:
        traffic = Traffic(args.in_gap, args.out_stall)
    except ValueError as exc:
        raise HwssmError(str(exc).replace("Traffic.in_gap", "--in-gap").replace("Traffic.out_stall", "--out-stall")) from None
    data = load_dataset(args.data)
    data.check_inputs()
    design = None if args.rtl else design_from_args(args, args.lanes, data.T)
    log = lambda msg: print(f"hwssm sim: {msg}", file=sys.stderr, flush=True)  # noqa: E731

    with Progress("ptq calibration", unit="digits") as bar:
        calib = None if args.data.is_default or not args.plan else data.split(DataSplit.TRAIN).sequences(args.calib_digits)
        qm = resolve_model(args.model, args.plan, calib_digits=args.calib_digits, progress=bar.update, hardware="hwssm sim",
                           calib_data=calib).qmodel
    data.check_model_of(qm)
    test = data.split(DataSplit.TEST)
    idx = _select(args, test.n)
    digits = Digits.mnist_test(idx) if args.data.is_default else Digits(test.sequences()[idx], idx, test.y[idx])
    options = SimOptions(jobs=args.jobs, traffic=traffic, waves=waves, keep=args.keep, wave_limits=wave_limits)
    with Progress("simulation", unit="digits") as bar:
        if args.scheduler:
            from ..explore.sim_cluster import simulate_on_cluster

            res = simulate_on_cluster(qm, args.rtl or design, digits, options, args.scheduler, log=log,
                                      progress=bar.update)
        else:
            res = simulate(qm, args.rtl or design, digits, options, log=log, progress=bar.update)
    out = res.to_json()
    out["reproduce"] = reproduce_command(args, res.first_bad_digit) if res.first_bad_digit is not None else None
    if args.json:
        print(json.dumps(out))
    else:
        _print(out, res.first_mismatch, args)
    return 0 if res.ok else 1
