"""The hardware stages of ``hwssm flow`` (:mod:`hwssm.flow`): the designs it builds, the
``rtl`` stage (Verilog per design, copied to ``OUT/rtl/``; starts the FPGA syntheses in the
background) and the ``synth`` stage (waits for them), and what every stage shares
(:class:`NotBuilt`, the progress line).

Split out of :mod:`hwssm.flow` (which re-exports these names).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import HwssmError

# ``FlowOptions`` (hwssm.flow) in the annotations below is only a name: flow imports this
# module, so importing it back would make the two import each other.

#: Lane counts of the designs the flow builds: one to simulate fast, one per FPGA
#: (the UP5K has 8 SB_MAC16 and a one-lane core of the heterogeneous plan uses 7 with soft
#: 4-bit multipliers; the ECP5-25k has 28 MULT18X18D and two lanes use 20).
DESIGNS = {"sim": 16, "up5k": 1, "ecp5": 2}


def _synth_devices() -> dict:
    from .targets import device

    return {"up5k": device("up5k"), "ecp5": device("ecp5-25k")}


#: The FPGA of each synthesized design role (the "sim" design is only simulated).
SYNTH_DEVICES = _synth_devices()


class NotBuilt(Exception):
    """A stage whose capability does not exist yet."""


def _say(msg: str) -> None:
    print(f"    {msg}", file=sys.stderr, flush=True)


def _designs(opts: FlowOptions) -> dict:
    """role -> DesignPoint: the simulated design, and with ``opts.synth`` one per FPGA."""
    from .hw.options import DesignPoint
    from .synth.profile import device_profile

    T = _seq_len(opts)
    designs = {"sim": DesignPoint(opts.sim_lanes) if T is None else DesignPoint(opts.sim_lanes, seq_len=T)}
    if opts.synth:
        for role, device in SYNTH_DEVICES.items():
            designs[role] = device_profile(device).design(DESIGNS[role], *(() if T is None else (T,)))
    return designs


def _seq_len(opts: FlowOptions) -> int | None:
    """T of the flow's dataset; None for smnist (the designs' default, 784)."""
    if opts.data.is_default:
        return None
    from .data import load_dataset

    return load_dataset(opts.data).T


def _copy_rtl(src: Path, dst: Path) -> None:
    """Copy the files of RTL directory ``src`` over ``dst`` as a set (:func:`hwssm.io.staged_dir`,
    the manifest renamed last); files of an earlier design that ``src`` lacks are removed first
    (a reader refuses files its manifest does not name)."""
    from .hw.manifest import MANIFEST_NAME
    from .io import staged_dir, write_bytes

    names = sorted(f.name for f in src.iterdir() if f.is_file() and f.name != MANIFEST_NAME) + [MANIFEST_NAME]
    if dst.is_dir():
        for f in dst.iterdir():
            if f.is_file() and f.name not in names:
                f.unlink()
    with staged_dir(dst) as (staging, commit):
        for name in names:
            write_bytes(staging / name, (src / name).read_bytes())
        commit(names)


def _stage_rtl(ctx: dict) -> str:
    """Verilog for the simulation design and for each FPGA (with that device's build profile);
    starts both syntheses in the background (they are the long pole), so that the golden and
    simulation stages overlap them."""
    from .synth.rtl import load_rtl
    from .verify.rtlgen import rtl_dir

    if "resolved" not in ctx:
        raise NotBuilt("needs a model")
    opts, qm = ctx["options"], ctx["resolved"].qmodel
    ctx["rtl"] = {}
    parts = []
    for role, design in _designs(opts).items():
        try:
            where = rtl_dir(qm, design, log=_say)
        except HwssmError as exc:
            if role not in SYNTH_DEVICES:
                raise
            # an FPGA design the generator cannot build (an S5 model under a LOAD storage profile):
            # a result of that design, as a synthesis that does not fit; the other designs go on
            ctx.setdefault("rtl_errors", {})[role] = str(exc)
            parts.append(f"{role} {design.key()}: not built: {exc}")
            continue
        man = load_rtl(where).manifest
        ctx["rtl"][role] = (where, man, design)
        if opts.copy_rtl:
            _copy_rtl(where, opts.out / "rtl" / f"{role}_P{design.lanes}")
        parts.append(f"{role} {design.key()}: {man['cycles_per_digit']} cycles/digit, utilization "
                     f"{100 * man['utilization']:.1f}%")
        if role in SYNTH_DEVICES:
            _start_synth(ctx, role, SYNTH_DEVICES[role], where)
    tail = " -> rtl/" if opts.copy_rtl else ""
    return "; ".join(parts) + tail + ("; synthesis started in the background" if "synth_jobs" in ctx else "")


def _start_synth(ctx: dict, role: str, device, rtl_dir: Path) -> None:
    import concurrent.futures

    from .synth.flow import synthesize
    from .synth.profile import device_profile

    pool = ctx.setdefault("synth_pool", concurrent.futures.ThreadPoolExecutor(max_workers=len(SYNTH_DEVICES)))
    say = lambda msg: print(f"    {device.name}: {msg}", file=sys.stderr, flush=True)  # noqa: E731
    ctx.setdefault("synth_jobs", {})[role] = pool.submit(synthesize, rtl_dir, device, device_profile(device).synth, progress=say)


def _stop_synth(ctx: dict) -> None:
    """On an error or interruption: stop the background syntheses' tools (:func:`hwssm.procs.stopping`)
    and join their threads, so that no tool outlives the flow (finished results stay cached)."""
    pool = ctx.pop("synth_pool", None)
    if pool is not None:
        from . import procs

        with procs.stopping():
            pool.shutdown(wait=True, cancel_futures=True)


def _stage_synth(ctx: dict) -> str:
    """Wait for the background syntheses; a design that does not fit is a result, not a crash."""
    from .synth.profile import device_profile

    if not ctx["options"].synth:
        raise NotBuilt("skipped (not asked for)")
    errors = ctx.get("rtl_errors", {})
    if "synth_jobs" not in ctx and not errors:
        raise NotBuilt("needs the RTL")
    ctx["synth"] = {}
    parts = []
    for role, msg in errors.items():
        device = SYNTH_DEVICES[role]
        ctx["synth"][device.name] = {"lanes": DESIGNS[role], "profile": device_profile(device).to_dict(),
                                     "error": f"RTL not built: {msg}"}
        parts.append(f"{device.name} P={DESIGNS[role]}: RTL not built: {msg}")
    try:
        for role, job in ctx.get("synth_jobs", {}).items():
            device = SYNTH_DEVICES[role]
            _, man, _ = ctx["rtl"][role]
            base = {"lanes": man["lanes"], "cycles_per_digit": man["cycles_per_digit"],
                    "profile": device_profile(device).to_dict()}
            try:
                d = job.result().summary()
            except HwssmError as exc:
                ctx["synth"][device.name] = {**base, "error": str(exc)}
                parts.append(f"{device.name} P={man['lanes']}: {exc}")
                continue
            if d.get("workdir"):
                d["workdir"] = Path(d["workdir"]).name  # its name in the cache, not a machine path
            ctx["synth"][device.name] = {**base, **d}
            us = man["cycles_per_digit"] / d["fmax_mhz"] if d.get("fmax_mhz") else None
            parts.append(f"{device.name} P={man['lanes']}: {d.get('lut')} LUT, {d.get('dsp')} DSP, "
                         f"{d.get('bram')} BRAM, {d.get('spram')} SPRAM, {d.get('fmax_mhz')} MHz, fits={d.get('fits')}"
                         + (f", {us / 1000:.1f} ms/digit" if us else ""))
    finally:
        _stop_synth(ctx)  # all done on success; on an interruption the tools are stopped, not awaited
    return "; ".join(parts)
