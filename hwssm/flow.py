"""``hwssm flow``: the main job, from a shipped model to a report.

Stages, each printed as it runs (progress on stderr, one summary line per stage on stdout):

1. data      find and verify MNIST;
2. model     the shipped model (models/), as a QModel;
3. rtl       Verilog for the core: P=16 to simulate, and one design per FPGA with that
             device's build profile (:mod:`hwssm.synth.profile`); starts Yosys + nextpnr for
             the iCE40 UP5K and the ECP5-25k in the background;
4. golden    golden-engine accuracy on the test set;
5. sim       cocotb + Verilator, bit-exact against the golden engine on a few digits;
6. synth     waits for the two syntheses (results are cached by content: reruns are fast);
7. report    tables and plots under reports/demo/.

A stage whose capability is not built yet says so and the flow goes on.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

from .errors import HwssmError

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
#: Shipped models, in order of preference for the demo.
PREFERRED = ("s4d_hetero.qmodel.json", "s4d_qat8.qmodel.json")
FLOAT_MODEL = "s4d_float.json"
DEMO_PLAN = "hetero"
BUILD = ROOT / "build" / "flow"
#: Lane counts of the designs the flow builds: one to simulate fast, one per FPGA
#: (the UP5K has 8 SB_MAC16 and a one-lane core of the heterogeneous plan uses 7 with soft
#: 4-bit multipliers; the ECP5-25k has 28 MULT18X18D and two lanes use 20).
DESIGNS = {"sim": 16, "up5k": 1, "ecp5": 2}
#: Test digits the flow simulates in Verilator (784 steps each).
SIM_DIGITS = 4
REPORT = ROOT / "reports" / "demo"


def _synth_devices() -> dict:
    from .synth.device import Device

    return {"up5k": Device.UP5K, "ecp5": Device.ECP5_25K}


#: The FPGA of each synthesized design role (the "sim" design is only simulated).
SYNTH_DEVICES = _synth_devices()


class NotBuilt(Exception):
    """A stage whose capability does not exist yet."""


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _stage_data(ctx: dict) -> str:
    from .data import check

    rep = check()
    ctx["data"] = rep
    return f"{rep.train} train / {rep.test} test digits, verified={rep.verified}, at {rep.path}"


def _stage_model(ctx: dict) -> str:
    from .quant.resolve import resolve_model

    for name in PREFERRED:
        if (MODELS / name).exists():
            res = resolve_model(MODELS / name)
            ctx["resolved"] = res
            ctx["model_path"] = MODELS / name
            return f"{name}: plan {res.qmodel.plan.name}, {res.qmodel.footprint_bits} bits ({res.qmodel.compression:.2f}x vs float32)"
    if (MODELS / FLOAT_MODEL).exists():
        res = resolve_model(MODELS / FLOAT_MODEL, DEMO_PLAN)
        ctx["resolved"] = res
        ctx["model_path"] = MODELS / FLOAT_MODEL
        ctx["model_plan_arg"] = DEMO_PLAN
        return f"{FLOAT_MODEL} + PTQ {DEMO_PLAN}: {res.qmodel.footprint_bits} bits"
    raise NotBuilt("no trained model in models/ yet (the training issue ships one)")


def _stage_golden(ctx: dict) -> str:
    from .commands.progress import Progress
    from .golden.evaluate import evaluate, test_pixels

    if "resolved" not in ctx:
        raise NotBuilt("needs a model")
    pixels, labels = test_pixels()
    res = ctx["resolved"]
    # Float agreement is left to `hwssm golden eval`: the numpy float model needs minutes for 10k digits.
    with Progress("golden engine", unit="digits") as bar:
        ev = evaluate(res.qmodel, pixels, labels, None, bar.update)
    ctx["golden"] = ev
    agree = "" if ev.float_agreement is None else f", float agreement {100 * ev.float_agreement:.2f}%"
    return f"accuracy {100 * ev.accuracy:.2f}% on {ev.digits} test digits in {ev.seconds:.1f} s{agree}"


def _stage_rtl(ctx: dict) -> str:
    """Verilog for the simulation design and for each FPGA (with that device's build profile);
    starts both syntheses in the background (they are the long pole), so that the golden and
    simulation stages overlap them."""
    from .hw.emit import generate
    from .hw.options import DesignPoint
    from .synth.profile import device_profile

    if "resolved" not in ctx:
        raise NotBuilt("needs a model")
    qm = ctx["resolved"].qmodel
    ctx["rtl"] = {}
    parts = []
    for role, lanes in DESIGNS.items():
        device = SYNTH_DEVICES.get(role)
        design = device_profile(device).design(lanes) if device is not None else DesignPoint(lanes)
        out = BUILD / f"rtl_{role}_P{lanes}"
        man = generate(qm, design, out)
        ctx["rtl"][role] = (out, man)
        parts.append(f"{role} P={lanes}: {man['cycles_per_digit']} cycles/digit, utilization "
                     f"{100 * man['utilization']:.1f}% ({man['seconds']:.0f} s)")
        if device is not None:
            _start_synth(ctx, role, device, out)
    return "; ".join(parts) + f" -> {BUILD}; synthesis started in the background"


def _start_synth(ctx: dict, role: str, device, rtl_dir: Path) -> None:
    import concurrent.futures

    from .synth.flow import synthesize
    from .synth.profile import device_profile

    pool = ctx.setdefault("synth_pool", concurrent.futures.ThreadPoolExecutor(max_workers=len(SYNTH_DEVICES)))
    say = lambda msg: print(f"    {device.value}: {msg}", file=sys.stderr, flush=True)  # noqa: E731
    ctx.setdefault("synth_jobs", {})[role] = pool.submit(synthesize, rtl_dir, device, device_profile(device).synth, progress=say)


def _stage_sim(ctx: dict) -> str:
    import contextlib
    import io

    from .cli import main

    if "model_path" not in ctx:
        raise NotBuilt("needs a model")
    rtl = ctx.get("rtl", {}).get("sim")
    where = ["--rtl", str(rtl[0])] if rtl else ["--lanes", str(DESIGNS["sim"])]  # the rtl stage's design, as generated
    argv = ["sim", "--model", str(ctx["model_path"]), *where, "--digits", str(SIM_DIGITS), "--json"]
    if "model_plan_arg" in ctx:
        argv += ["--plan", ctx["model_plan_arg"]]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(argv)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.startswith("{")]
    if rc == 2 or not lines:
        raise HwssmError(f"flow: simulation failed ({buf.getvalue().strip()[-200:]})")
    res = json.loads(lines[-1])
    ctx["sim"] = res
    if res["mismatches"] or not res.get("ok", True):
        raise HwssmError(f"flow: RTL and golden engine disagree: {res.get('first_mismatch')}; reproduce: {res.get('reproduce')}")
    return (f"{res['digits']} digits bit-exact at P={DESIGNS['sim']}, {res['cycles_per_digit']} cycles/digit "
            f"(model {res['model_cycles_per_digit']}), {res['digits_per_s']} digits/s")


def _stage_synth(ctx: dict) -> str:
    """Wait for the background syntheses; a design that does not fit is a result, not a crash."""
    from .synth.profile import device_profile

    if "synth_jobs" not in ctx:
        raise NotBuilt("needs the RTL")
    ctx["synth"] = {}
    parts = []
    try:
        for role, job in ctx["synth_jobs"].items():
            device = SYNTH_DEVICES[role]
            _, man = ctx["rtl"][role]
            base = {"lanes": man["lanes"], "cycles_per_digit": man["cycles_per_digit"],
                    "profile": device_profile(device).to_dict()}
            try:
                d = job.result().summary()
            except HwssmError as exc:
                ctx["synth"][device.value] = {**base, "error": str(exc)}
                parts.append(f"{device.value} P={man['lanes']}: {exc}")
                continue
            ctx["synth"][device.value] = {**base, **d}
            us = man["cycles_per_digit"] / d["fmax_mhz"] if d.get("fmax_mhz") else None
            parts.append(f"{device.value} P={man['lanes']}: {d.get('lut')} LUT, {d.get('dsp')} DSP, "
                         f"{d.get('bram')} BRAM, {d.get('spram')} SPRAM, {d.get('fmax_mhz')} MHz, fits={d.get('fits')}"
                         + (f", {us / 1000:.1f} ms/digit" if us else ""))
    finally:
        ctx.pop("synth_pool").shutdown(wait=True)
    return "; ".join(parts)


def _stage_report(ctx: dict) -> str:
    from .report.flow_report import write_flow_report

    if "resolved" not in ctx:
        raise NotBuilt("needs a model")
    data = {"model": str(ctx["model_path"].name), "plan": ctx["resolved"].qmodel.plan.name, "stages": ctx["stages"]}
    if "golden" in ctx:
        data["golden"] = ctx["golden"].to_json()
    if "sim" in ctx:
        data["sim"] = ctx["sim"]
    if "synth" in ctx:
        data["synth"] = ctx["synth"]
    path = write_flow_report(REPORT, data)
    return f"wrote {path}"


STAGES = (
    ("data", _stage_data),
    ("model", _stage_model),
    ("rtl", _stage_rtl),
    ("golden", _stage_golden),
    ("sim", _stage_sim),
    ("synth", _stage_synth),
    ("report", _stage_report),
)


def run_flow(json_out: bool = False) -> int:
    """Run every stage; returns 0, or raises HwssmError when a built stage fails."""
    summary: list[dict] = []
    ctx: dict = {"stages": summary}
    t0 = time.monotonic()
    for i, (name, fn) in enumerate(STAGES, 1):
        ts = time.monotonic()
        print(f"[{i}/{len(STAGES)}] {name} ...", file=sys.stderr, flush=True)
        try:
            text = fn(ctx)
            status = "done"
        except NotBuilt as exc:
            text, status = str(exc), "not built"
        dt = time.monotonic() - ts
        print(f"[{i}/{len(STAGES)}] {name}: {status}: {text} ({dt:.1f} s)", flush=True)
        summary.append({"stage": name, "status": status, "detail": text, "seconds": round(dt, 2)})
    total = time.monotonic() - t0
    print(f"flow finished in {total:.1f} s", flush=True)
    if json_out:
        print(json.dumps({"stages": summary, "seconds": round(total, 2)}))
    if not summary[0]["status"] == "done":
        raise HwssmError("flow: MNIST data not available")
    return 0
