"""``hwssm estimate``: resources, fit, cycles and latency of a model on devices, without synthesis.

``hwssm estimate --model QMODEL|CKPT [--plan PLAN] --device NAME[,NAME...] [--lanes P[,P...]]
[--seq-len T] [--clock-mhz F] [design options] [--json]``
    One point per device × lanes: LUT4/FF (with the family's measured error band), DSP,
    block RAM, SPRAM against the device, whether it fits, cycles per step and per sequence
    (exact) and the latency at ``--clock-mhz`` (default: each device's default clock). The
    design point starts from each device's build profile unless ``--profile`` names another;
    the design options override it (:mod:`hwssm.commands.design_args`).
"""

from __future__ import annotations

import argparse

from .design_args import add_design_arguments

HELP = "estimate LUT/FF/DSP/BRAM/SPRAM (with the estimator's error band), fit, cycles and latency, without synthesis"


def register(parser: argparse.ArgumentParser) -> None:
    from ..targets import names

    parser.add_argument("--model", required=True, help="QModel (.qmodel.json), shipped model name, or float checkpoint (.json)")
    parser.add_argument("--plan", help="precision plan, needed for a float checkpoint (PTQ)")
    # no argparse choices: an unknown name is a one-line HwssmError (exit 2) listing the known ones
    parser.add_argument("--device", required=True, metavar="NAME[,NAME...]",
                        help=f"target FPGA(s), comma-separated or 'all': {', '.join(names())}")
    parser.add_argument("--lanes", default="1", metavar="P[,P...]", help="complex-MAC lanes, comma-separated (default: 1)")
    parser.add_argument("--seq-len", type=int, default=784, metavar="T", help="steps per sequence (default: 784, sMNIST)")
    parser.add_argument("--clock-mhz", type=float, metavar="MHZ",
                        help="clock of the latency figures (default: each device's default clock)")
    add_design_arguments(parser)
    parser.add_argument("--calib-digits", type=int, default=256, help="training digits for PTQ calibration")
    parser.add_argument("--json", action="store_true", help="print one JSON object (format hwssm-estimate)")
    parser.set_defaults(func=_run)


def parse_int_list(text: str, what: str) -> tuple[int, ...]:
    """``"1,2,4"`` -> (1, 2, 4); HwssmError (one line) for anything else."""
    from ..errors import HwssmError

    try:
        values = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        raise HwssmError(f"{what} must be comma-separated integers, not {text!r}") from None
    return values


def parse_devices(text: str):
    """``"up5k,ecp5-25k"`` or ``"all"`` -> Devices; HwssmError naming the known devices."""
    from ..targets import device, devices

    if text.strip() == "all":
        return devices()
    return tuple(device(n.strip()) for n in text.split(","))


def _run(args) -> int:
    import json
    import time

    from ..errors import HwssmError
    from ..explore.estimate_point import ESTIMATE_FORMAT, estimate_point
    from ..quant.resolve import resolve_model
    from .design_args import design_from_args

    targets = parse_devices(args.device)
    lanes = parse_int_list(args.lanes, "--lanes")
    if args.clock_mhz is not None and not args.clock_mhz > 0:
        raise HwssmError(f"--clock-mhz must be > 0, not {args.clock_mhz}")
    designs = {}
    for dev in targets:
        dargs = argparse.Namespace(**vars(args))
        if dargs.profile is None:
            dargs.profile = dev.name
        for p in lanes:
            designs[dev.name, p] = design_from_args(dargs, p, args.seq_len)
    res = resolve_model(args.model, args.plan, calib_digits=args.calib_digits, hardware="hwssm estimate")
    qm = res.qmodel
    points, seconds = [], []
    for dev in targets:
        for p in lanes:
            t0 = time.perf_counter()
            points.append(estimate_point(qm, designs[dev.name, p], dev, args.clock_mhz))
            seconds.append(time.perf_counter() - t0)
    doc = {"format": ESTIMATE_FORMAT, "version": 1,
           "model": {"path": str(args.model), "plan": qm.plan.name, "plan_code": qm.plan.code,
                     "digest": qm.digest(), "H": qm.H,
                     **({"N": 2 * qm.M} if hasattr(qm, "M") else {"family": "s5", "P": qm.P}), "L": qm.L},
           "points": [{**pt.to_json(), "seconds": round(s, 4)} for pt, s in zip(points, seconds)]}
    if args.json:
        print(json.dumps(doc))
    else:
        print(format_points(doc))
    return 0


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def format_points(doc: dict) -> str:
    """The text form of an ``hwssm-estimate`` document: one block per point."""
    m = doc["model"]
    lines = [f"model {m['path']} (plan {m['plan']}, H={m['H']} {'N' if 'N' in m else 'P'}={m.get('N', m.get('P'))} "
             f"L={m['L']}); "
             "analytic estimate, no synthesis: LUT4/FF carry the estimator's measured error band, "
             "DSP/BRAM/SPRAM were exact on every measured point"]
    for pt in doc["points"]:
        r, band, d = pt["resources"], pt["error_band"], pt["design"]
        pipe = d["pipeline"]
        lines.append("")
        lines.append(f"{pt['device']} ({pt['part']}), P={d['lanes']}, T={d['seq_len']}, {d['storage']} storage, "
                     f"soft_mul_bits {d['soft_mul_bits']}, mix_cols {pipe['mix_cols']}, mem/requant/acc stages "
                     f"{pipe['mem_stages']}/{pipe['requant_stages']}/{pipe['acc_stages']}"
                     f"{'' if pt['synth']['dsp'] else ', no DSP'}{', SPRAM' if pt['synth']['spram'] else ''}")
        rows = []
        for name, key in (("LUT4", "lut"), ("FF", "ff")):
            lo, hi = band[key]
            rows.append((name, f"{r[key]['estimate']:,} / {r[key]['available']:,}",
                         f"error band {_pct(lo)} .. {_pct(hi)} over {band['points']} points: "
                         f"Yosys {r[key]['low']:,} .. {r[key]['high']:,}"))
        for name, key in (("DSP", "dsp"), ("BRAM", "bram"), ("SPRAM", "spram")):
            if r[key]["available"] or r[key]["estimate"]:
                rows.append((name, f"{r[key]['estimate']:,} / {r[key]['available']:,}", "exact on the measured points"))
        fits = pt["fits"] + (f" ({', '.join(pt['over'])})" if pt["over"] else "")
        rows.append(("fits", fits, ""))
        rows.append(("cycles", f"{pt['cycles_per_step']:,} per step, {pt['cycles_per_sequence']:,} per sequence", "exact"))
        rows.append(("latency", f"{pt['latency_ms']:,.2f} ms per sequence ({pt['sequences_per_s']:,.2f}/s)",
                     f"at {pt['clock_mhz']:g} MHz (stated clock, not a timing estimate)"))
        width = max(len(k) for k, _, _ in rows)
        vwidth = max(len(v) for _, v, _ in rows)
        lines += [f"  {k:<{width}}  {v:<{vwidth}}  {c}".rstrip() for k, v, c in rows]
    return "\n".join(lines)
