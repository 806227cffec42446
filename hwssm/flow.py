"""``hwssm flow``: the main job, from a shipped model to a report.

Stages, each printed as it runs (progress on stderr, one summary line per stage on stdout):

1. data      find and verify MNIST (or load ``FlowOptions.data``: :mod:`hwssm.data.registry`);
2. model     the shipped model (:func:`hwssm.config.models_dir`) or ``FlowOptions.model``, as a QModel;
3. rtl       Verilog for the core: P=16 to simulate, and one design per FPGA with that
             device's build profile (:mod:`hwssm.synth.profile`), each generated once into the
             cache (:func:`hwssm.verify.rtlgen.rtl_dir`) and copied to ``OUT/rtl/``; starts
             Yosys + nextpnr for the iCE40 UP5K and the ECP5-25k in the background;
4. golden    golden-engine accuracy on the test set;
5. sim       cocotb + Verilator, bit-exact against the golden engine on a few digits
             (:func:`hwssm.verify.simulate.simulate`);
6. synth     waits for the two syntheses (results are cached by content: reruns are fast);
7. report    ``OUT/report.md``, ``OUT/flow.json``, ``OUT/utilization.png``.

Everything the flow writes goes under ``FlowOptions.out`` (default ``build/flow``) or the
cache (:func:`hwssm.config.cache_dir`); what it records names files relative to ``out``
or by name only, never by an absolute path of the machine. A stage whose capability is not
built yet says so and the flow goes on.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

from .data.registry import Builtin, DataSpec, parse_data
from .errors import HwssmError
from .flow_hw import (DESIGNS, SYNTH_DEVICES, NotBuilt, _copy_rtl, _designs, _say, _stage_rtl,  # noqa: F401
                      _stage_synth, _start_synth, _stop_synth)

#: Shipped models, in order of preference for the demo.
PREFERRED = ("s4d_hetero.qmodel.json", "s4d_qat8.qmodel.json")
FLOAT_MODEL = "s4d_float.json"
DEMO_PLAN = "hetero"
#: Where ``hwssm flow`` writes by default (relative to the working directory).
DEFAULT_OUT = Path("build") / "flow"
#: Test digits the flow simulates in Verilator (784 steps each).
SIM_DIGITS = 4


@dataclasses.dataclass(frozen=True)
class FlowOptions:
    """What ``hwssm flow`` runs and where it writes.

    Parameters
    ----------
    out : Path
        Output directory: ``report.md``, ``flow.json``, ``utilization.png`` and, with
        ``copy_rtl``, ``rtl/<role>_P<lanes>/`` (the Verilog of each design).
    model : Path or None
        A QModel file, or a float checkpoint with ``plan`` (PTQ); None: the shipped model.
    plan : str or None
        Precision plan for a float checkpoint.
    sim_lanes : int
        P of the design simulated in Verilator.
    sim_digits : int
        sMNIST test digits simulated (the first ones).
    golden_limit : int or None
        Test digits for the golden accuracy (None: all 10,000).
    synth : bool
        Generate and synthesize the FPGA designs (UP5K, ECP5-25k).
    copy_rtl : bool
        Copy each design's Verilog into ``out/rtl/`` (else it stays in the cache only).
    data : DataSpec
        The dataset (default smnist): its test split feeds the golden and simulation stages,
        its training split the PTQ calibration, its T the designs' sequence length.
    """

    out: Path = DEFAULT_OUT
    model: Path | None = None
    plan: str | None = None
    sim_lanes: int = DESIGNS["sim"]
    sim_digits: int = SIM_DIGITS
    golden_limit: int | None = None
    synth: bool = True
    copy_rtl: bool = True
    data: DataSpec = DataSpec(Builtin.SMNIST)

    def __post_init__(self):
        object.__setattr__(self, "data", parse_data(self.data))
        object.__setattr__(self, "out", Path(self.out))
        if self.model is not None:
            object.__setattr__(self, "model", Path(self.model))
        if self.sim_digits < 1:
            raise HwssmError(f"the flow simulates at least one digit, not {self.sim_digits}")
        if self.golden_limit is not None and self.golden_limit < 1:
            raise HwssmError(f"the golden stage needs at least one digit, not {self.golden_limit}")


def _stage_data(ctx: dict) -> str:
    from .data import check, load_dataset

    spec = ctx["options"].data
    if not spec.is_default:
        ds = load_dataset(spec)
        ds.check_inputs()
        ctx["dataset"] = ds
        _say(f"data {ds.describe()}")
        return ds.describe()
    rep = check()
    ctx["data"] = rep
    _say(f"MNIST at {rep.path}")
    if not rep.verified:
        _say("warning: the MNIST files are unverified (raw files, no known SHA-256): every accuracy below is "
             "only as right as those files; use the original .gz files to verify")
    return f"{rep.train} train / {rep.test} test digits, verified={rep.verified}"


def _model_source(opts: FlowOptions) -> tuple[Path, str | None]:
    """(model file, plan for PTQ or None): ``opts.model``, else the preferred shipped model."""
    if opts.model is not None:
        if not opts.model.is_file():
            raise HwssmError(f"flow: model {opts.model} not found")
        return opts.model, opts.plan
    from .config import models_dir

    d = models_dir()
    for name in PREFERRED:
        if (d / name).is_file():
            return d / name, None
    if (d / FLOAT_MODEL).is_file():
        return d / FLOAT_MODEL, DEMO_PLAN
    raise HwssmError(f"flow: none of the shipped models ({', '.join(PREFERRED + (FLOAT_MODEL,))}) is in {d}; "
                     "give one with --model")


def _stage_model(ctx: dict) -> str:
    from .quant.resolve import resolve_model

    path, plan = _model_source(ctx["options"])
    ds = ctx.get("dataset")
    calib = None if ds is None or plan is None else ds.split("train").sequences(256)
    res = resolve_model(path, plan, calib_data=calib, hardware="hwssm flow")
    if ds is not None:
        ds.check_model_of(res.qmodel)
    ctx["resolved"], ctx["model_name"] = res, path.name
    ctx["model_args"] = f"--model {path}" + (f" --plan {plan}" if plan else "")
    if ds is not None:
        ctx["model_args"] += f" --data {ctx['options'].data.text()}"
    _say(f"model {path}")
    ptq = f" + PTQ {plan}" if plan else ""
    return (f"{path.name}{ptq}: plan {res.qmodel.plan.name}, {res.qmodel.footprint_bits} bits "
            f"({res.qmodel.compression:.2f}x vs float32)")


def _stage_golden(ctx: dict) -> str:
    from .golden.evaluate import evaluate, test_pixels
    from .progress import Progress

    if "resolved" not in ctx:
        raise NotBuilt("needs a model")
    limit = ctx["options"].golden_limit
    if "dataset" in ctx:
        test = ctx["dataset"].split("test")
        pixels, labels = test.sequences(limit), test.labels(limit)
    else:
        pixels, labels = test_pixels(limit=limit)
    res = ctx["resolved"]
    # Float agreement is left to `hwssm golden eval`: the numpy float model needs minutes for 10k digits.
    with Progress("golden engine", unit="digits") as bar:
        ev = evaluate(res.qmodel, pixels, labels, None, bar.update)
    ctx["golden"] = ev
    agree = "" if ev.float_agreement is None else f", float agreement {100 * ev.float_agreement:.2f}%"
    what = "test digits" if "dataset" not in ctx else f"{ctx['dataset'].name} test sequences"
    return f"accuracy {100 * ev.accuracy:.2f}% on {ev.digits} {what} in {ev.seconds:.1f} s{agree}"


#: Keys of :meth:`hwssm.verify.simulate.SimResult.to_json` that hold machine paths (not recorded).
_SIM_PATHS = ("rtl", "run_dir", "failed_runs")


def _stage_sim(ctx: dict) -> str:
    import numpy as np

    from .progress import Progress
    from .verify.simulate import Digits, SimOptions, simulate

    if "resolved" not in ctx:
        raise NotBuilt("needs a model")
    opts = ctx["options"]
    rtl = ctx.get("rtl", {}).get("sim")
    target = rtl[0] if rtl else _designs(opts)["sim"]  # the rtl stage's design, as generated
    with Progress("simulation", unit="digits") as bar:
        if "dataset" in ctx:
            test = ctx["dataset"].split("test")
            n = min(opts.sim_digits, test.n)
            digits = Digits(test.sequences(n), np.arange(n), test.labels(n))
        else:
            digits = Digits.mnist_test(np.arange(opts.sim_digits))
        res = simulate(ctx["resolved"].qmodel, target, digits, SimOptions(),
                       log=_say, progress=bar.update)
    rec = {k: v for k, v in res.to_json().items() if k not in _SIM_PATHS}
    rec["design"] = _designs(opts)["sim"].key()
    ctx["sim"] = rec
    if not res.ok:
        first = res.first_mismatch.describe() if res.first_mismatch is not None else "; ".join(res.errors)
        raise HwssmError(f"flow: RTL and golden engine disagree: {first}; reproduce: hwssm sim "
                         f"{ctx['model_args']} --rtl {res.rtl} --indices {res.first_bad_digit}")
    return (f"{res.digits} digits bit-exact at P={res.lanes}, {res.cycles_per_digit} cycles/digit "
            f"(model {res.model_cycles_per_digit}), {res.digits_per_s} digits/s")


def _stage_report(ctx: dict) -> str:
    from .report.flow_report import write_flow_report

    if "resolved" not in ctx:
        raise NotBuilt("needs a model")
    opts = ctx["options"]
    data = {"model": ctx["model_name"], "plan": ctx["resolved"].qmodel.plan.name, "stages": ctx["stages"]}
    if "dataset" in ctx:
        data["data"] = ctx["dataset"].name
    from .report.precision import layer_widths_lines, qmodel_layer_widths

    widths = qmodel_layer_widths(ctx["resolved"].qmodel)
    if layer_widths_lines(widths):  # a per-layer precision model: its blocks' widths (else nothing new)
        data["layer_widths"] = widths
    if "rtl" in ctx:
        data["designs"] = {role: {"design": design.to_json(), "key": design.key(),
                                  "rtl": f"rtl/{role}_P{design.lanes}" if opts.copy_rtl else None,
                                  "cycles_per_digit": man["cycles_per_digit"]}
                           for role, (_, man, design) in ctx["rtl"].items()}
    if "golden" in ctx:
        data["golden"] = ctx["golden"].to_json()
    if "sim" in ctx:
        data["sim"] = ctx["sim"]
    if "synth" in ctx:
        data["synth"] = ctx["synth"]
    path = write_flow_report(opts.out, data)
    return f"wrote {path.name}, flow.json" + (", utilization.png" if "synth" in data else "")


STAGES = (
    ("data", _stage_data),
    ("model", _stage_model),
    ("rtl", _stage_rtl),
    ("golden", _stage_golden),
    ("sim", _stage_sim),
    ("synth", _stage_synth),
    ("report", _stage_report),
)


def run_flow(options: FlowOptions = FlowOptions(), json_out: bool = False) -> int:
    """Run every stage, writing under ``options.out``; returns 0, or raises HwssmError when a
    built stage fails. ``json_out`` prints a JSON summary at the end."""
    summary: list[dict] = []
    ctx: dict = {"stages": summary, "options": options}
    options.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    for i, (name, fn) in enumerate(STAGES, 1):
        ts = time.monotonic()
        print(f"[{i}/{len(STAGES)}] {name} ...", file=sys.stderr, flush=True)
        try:
            text = fn(ctx)
            status = "done"
        except NotBuilt as exc:
            text, status = str(exc), "not built"
        except BaseException:
            _stop_synth(ctx)
            raise
        dt = time.monotonic() - ts
        print(f"[{i}/{len(STAGES)}] {name}: {status}: {text} ({dt:.1f} s)", flush=True)
        summary.append({"stage": name, "status": status, "detail": text, "seconds": round(dt, 2)})
    total = time.monotonic() - t0
    print(f"flow finished in {total:.1f} s; report: {options.out / 'report.md'}", flush=True)
    if json_out:
        print(json.dumps({"stages": summary, "seconds": round(total, 2)}))
    if not summary[0]["status"] == "done":
        raise HwssmError("flow: MNIST data not available")
    return 0
