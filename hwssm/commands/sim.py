"""``hwssm sim``: prove the generated RTL bit-exact on real sMNIST digits (cocotb + Verilator).

``hwssm sim --model M [--plan PLAN] (--lanes P | --rtl DIR) (--digits N [--seed S] | --indices a,b,c) [--jobs J] [--waves] [--json]``

Generates the RTL of the model on P lanes (cached by model digest, P and generator
version), or takes an existing RTL directory (``--rtl``, e.g. the committed
``rtl/hetero_P16``: no Amaranth needed; its manifest must name the model's digest),
builds the Verilator simulation once (cached by a hash of the Verilog and the
wrapper), runs the chosen MNIST test digits across J processes and compares every
per-layer output of every step, every logit and every class with the golden engine.
The RTL's cycle counts must equal the manifest's cycle model. Exit status 0 when all
agree, 1 on any mismatch, 2 on bad input.
"""

from __future__ import annotations

import argparse

HELP = "simulate the generated RTL on MNIST test digits (cocotb + Verilator) and check it bit-exact"


def _indices(text: str) -> list[int]:
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--indices must be comma-separated integers, not {text!r}") from None
    if not out:
        raise argparse.ArgumentTypeError("--indices needs at least one index")
    return out


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="QModel (.qmodel.json) or float checkpoint (.json)")
    parser.add_argument("--plan", help="precision plan, needed for a float checkpoint (PTQ)")
    parser.add_argument("--lanes", type=int, metavar="P", help="complex-MAC lanes (required without --rtl)")
    parser.add_argument("--mix-cols", type=int, choices=(4, 6, 8),
                        help="without --rtl: g columns per lane and mixing cycle of the generated RTL "
                             "(hwssm rtl generate --mix-cols; default: 4)")
    parser.add_argument("--rtl", metavar="DIR",
                        help="simulate this RTL directory (Verilog + manifest.json, e.g. rtl/hetero_P16) instead of "
                             "generating it; its manifest must name the model's digest")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--digits", type=int, metavar="N", help="N test digits: the first N, or a random N with --seed")
    which.add_argument("--indices", type=_indices, metavar="I,J,...", help="these MNIST test indices")
    parser.add_argument("--seed", type=int, help="with --digits: draw the N digits at random with this seed")
    parser.add_argument("--start", type=int, default=0, metavar="K",
                        help="with --digits: test digits K..K+N-1 (default 0), to split the test set over several runs")
    parser.add_argument("--jobs", type=int, metavar="J", help="simulation processes at once (default: CPU count)")
    parser.add_argument("--waves", action="store_true", help="write waveforms (FST, or VCD without lz4) per run; implies --keep")
    parser.add_argument("--keep", action="store_true", help="keep every run directory (default: failing ones only)")
    parser.add_argument("--in-gap", type=int, default=0, metavar="G",
                        help="withhold the next pixel with probability G/256 per cycle (handshake stress; 0..255)")
    parser.add_argument("--out-stall", type=int, default=0, metavar="S",
                        help="hold out_ready low with probability S/256 per cycle (handshake stress; 0..255)")
    parser.add_argument("--calib-digits", type=int, default=256, help="training digits for PTQ calibration")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
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
    if getattr(args, "mix_cols", None) not in (None, 4) and not getattr(args, "rtl", None):
        cmd += ["--mix-cols", str(args.mix_cols)]
    cmd += ["--indices", str(digit)]
    if args.in_gap or args.out_stall:
        cmd += ["--in-gap", str(args.in_gap), "--out-stall", str(args.out_stall)]
    return shlex.join(cmd)


def _sim(args) -> int:
    import json
    import os
    import sys
    import time

    import numpy as np

    from ..data import Split, load_mnist, sequences
    from ..errors import HwssmError
    from ..quant.resolve import resolve_model
    from ..verify.build import BuildOptions, build
    from ..verify.contract import load_contract
    from ..verify.runner import RunOptions, check_model, golden_reference, run_digits
    from ..verify.wrapper import Traffic
    from .progress import Progress

    t0 = time.monotonic()
    jobs = args.jobs if args.jobs is not None else max(1, len(os.sched_getaffinity(0)))
    if jobs < 1:
        raise HwssmError(f"--jobs must be >= 1, not {jobs}")
    if args.lanes is None and not args.rtl:
        raise HwssmError("--lanes is required (or --rtl DIR)")
    if args.rtl and args.mix_cols is not None:
        raise HwssmError("--mix-cols shapes generated RTL; an --rtl directory has its own (see its manifest)")
    if args.lanes is not None and args.lanes < 1:
        raise HwssmError(f"--lanes must be >= 1, not {args.lanes}")
    contract = None
    if args.rtl:
        contract = load_contract(args.rtl)
        if args.lanes is not None and contract.lanes is not None and contract.lanes != args.lanes:
            raise HwssmError(f"--lanes {args.lanes} differs from the {contract.lanes} lanes of the RTL in {args.rtl}")
    try:
        traffic = Traffic(args.in_gap, args.out_stall)
    except ValueError as exc:
        raise HwssmError(str(exc).replace("Traffic.in_gap", "--in-gap").replace("Traffic.out_stall", "--out-stall")) from None
    log = lambda msg: print(f"hwssm sim: {msg}", file=sys.stderr, flush=True)  # noqa: E731

    with Progress("ptq calibration", unit="digits") as bar:
        qm = resolve_model(args.model, args.plan, calib_digits=args.calib_digits, progress=bar.update).qmodel
    if contract is not None:
        check_model(contract, qm)
    images, labels = load_mnist(Split.TEST)
    idx = _select(args, images.shape[0])
    pixels = sequences(images[idx])
    if contract is None:
        from ..hw.options import DesignPoint, Pipeline
        from ..verify.rtlgen import rtl_dir

        design = DesignPoint(args.lanes, pixels.shape[1], Pipeline(mix_cols=args.mix_cols or 4))
        contract = load_contract(rtl_dir(qm, design, log=log))
        check_model(contract, qm)
    b = build(contract, BuildOptions(waves=args.waves), log=log)
    log(f"simulating {idx.size} digits on {jobs} process(es)")
    with Progress("simulation", unit="digits") as bar:
        rep = run_digits(b, pixels, golden_reference(qm), idx,
                         RunOptions(jobs=jobs, traffic=traffic, waves=args.waves, keep=args.keep or args.waves),
                         progress=bar.update)

    digit_vals = rep.cycles.digit_values()
    step_vals = rep.cycles.step_values()
    cycle_errors = []
    if traffic.full_speed:
        for name, vals, model in (("cycles_per_digit", digit_vals, contract.cycles_per_digit),
                                  ("cycles_per_step", step_vals, contract.cycles_per_step)):
            if model is not None and vals and vals != [model]:
                cycle_errors.append(f"{name} measured in RTL {vals} differs from the cycle model {model}")
    one = lambda v: (v[0] if len(v) == 1 else v) if v else None  # noqa: E731
    ok = rep.ok and not cycle_errors
    first = rep.first
    repro = reproduce_command(args, first.digit) if first is not None else None
    if first is None and rep.errors:
        bad = rep.indices[rep.bad]
        repro = reproduce_command(args, int(bad[0])) if bad.size else None
    checked = rep.checked
    out = {
        "digits": rep.digits,
        "mismatches": rep.mismatches,
        "cycles_per_digit": one(digit_vals) if traffic.full_speed else None,
        "model_cycles_per_digit": contract.cycles_per_digit,
        "cycles_per_step": one(step_vals) if traffic.full_speed else None,
        "model_cycles_per_step": contract.cycles_per_step,
        "digits_per_s": round(rep.digits / rep.wall_seconds, 4) if rep.wall_seconds > 0 else None,
        "digits_per_s_per_process": round(rep.digits / rep.sim_seconds, 4) if rep.sim_seconds > 0 else None,
        # the same without process start-up: test start to done, as the testbench measured it
        "simulator_digits_per_s": round(rep.digits / rep.tb_seconds, 4) if rep.tb_seconds else None,
        "seconds": round(time.monotonic() - t0, 2),
        "simulation_seconds": round(rep.wall_seconds, 2),
        "build_seconds": round(b.seconds, 2),
        "build_cached": b.cached,
        "jobs": jobs,
        "lanes": contract.lanes if contract.lanes is not None else args.lanes,
        "correct": int(np.sum(rep.classes[checked] == labels[idx][checked])),
        "ok": ok,
        "first_mismatch": first.to_json() if first is not None else None,
        "reproduce": repro,
        "errors": rep.errors + cycle_errors,
        "failed_runs": [str(p) for p in rep.failed_dirs],
        "run_dir": str(rep.workdir) if rep.workdir is not None else None,
        "rtl": str(contract.rtl.path),
    }
    if args.json:
        print(json.dumps(out))
    else:
        status = "bit-exact" if ok else "FAILED"
        print(f"{status}: {out['digits']} digits, {out['mismatches']} mismatching, {out['correct']} classified correctly; "
              f"{out['cycles_per_digit']} cycles/digit (model {out['model_cycles_per_digit']}), "
              f"{out['digits_per_s']} digits/s on {jobs} process(es), {out['seconds']} s")
        if first is not None:
            print(f"first mismatch: {first.describe()}")
        for e in out["errors"]:
            print(f"error: {e}")
        if repro:
            print(f"reproduce: {repro}")
        for p in out["failed_runs"]:
            print(f"kept: {p}")
        if (args.keep or args.waves) and out["run_dir"]:
            print(f"run directories: {out['run_dir']}")
    return 0 if ok else 1
