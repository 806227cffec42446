"""Run a sweep: accuracy and hardware records for every plan × lanes × device, cached and parallel.

:func:`run_sweep` builds one QModel per plan (:mod:`hwssm.explore.models`), looks up every
record in the cache (:mod:`hwssm.explore.cache`), runs only the missing ones through a runner
(:mod:`hwssm.explore.pool`), storing each as soon as it arrives, and joins them into points.
A point holds:

* accuracy (golden engine, fraction of the test digits), the number of digits;
* memory bits (``QModel.footprint_bits``) and its per-component breakdown;
* for hardware points: LUT, FF, carry, DSP, BRAM, SPRAM (cell counts after Yosys), fmax (MHz,
  nextpnr), fits, cycles per step and per digit (the generator's cycle model), µs per digit at
  fmax and digits per second, and the analytic estimate (:mod:`hwssm.hw.cost`) with its
  LUT error against Yosys.

The estimate is recomputed every time points are assembled (it is cheap), so its error always
describes the current estimator.

With ``estimate_only`` no RTL is generated or synthesized: every hardware point takes its
resources, fit, cycles and latency from :func:`hwssm.explore.estimate_point.estimate_point`
(``"hardware": "estimate"``, latency at the device's default clock, the family's measured error
band in ``error_band``); only the accuracy records are computed and cached.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from .. import __version__
from ..errors import HwssmError
from ..io import clean_stale_temps, write_json
from ..quant.plan import PrecisionPlan
from ..quant.qmodel import QModel
from ..targets import Device
from ..synth.profile import BuildProfile, device_profile
from .cache import SWEEP_VERSION, RecordCache, RecordKind, content_key
from .models import plan_by_code, sweep_qmodels
from .pool import Parallelism, open_runner
from .spec import SweepSpec
from .sweep_results import RESULTS_FORMAT, RESULTS_VERSION, load_results, merge_results, source_tag  # noqa: F401
from .tasks import AccuracyTask, HardwareTask, accuracy_task, hardware_task

__all__ = ["SweepResult", "run_sweep", "RESULTS_FORMAT", "load_results", "merge_results"]

Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """Points of a finished sweep and how they were obtained.

    Attributes
    ----------
    spec : SweepSpec
    source : dict
        The model: kind (checkpoint / qmodel), path, digest.
    points : list[dict]
        One per plan (accuracy-only sweeps) or per plan × lanes × device, in spec order.
    computed, cached, failed : int
        Records computed by this run, found in the cache, and failed (not stored).
    errors : list[str]
        One line per failed record.
    seconds : float
        Wall time of the run.
    """

    spec: SweepSpec
    source: dict
    points: list[dict]
    computed: int
    cached: int
    failed: int
    errors: list[str]
    seconds: float

    def to_json(self) -> dict:
        return {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, "hwssm": __version__,
                "sweep_version": SWEEP_VERSION, "spec": self.spec.to_json(), "source": self.source,
                "stats": {"computed": self.computed, "cached": self.cached, "failed": self.failed,
                          "seconds": round(self.seconds, 2)},
                "errors": self.errors, "points": self.points}

    def write(self, path: str | Path) -> Path:
        """Write the results JSON atomically; returns the path."""
        write_json(path, self.to_json())
        return Path(path)


def model_digest(qm: QModel) -> str:
    """The QModel's digest with the plan's display label removed: the same integers under
    another plan name are the same model."""
    if not qm.plan.label:
        return qm.digest()
    return dataclasses.replace(qm, plan=dataclasses.replace(qm.plan, label="")).digest()


def accuracy_inputs(qm: QModel, limit: int | None, data=None) -> dict:
    """What an accuracy record depends on (``data``: a non-default SequenceDataset, by identity)."""
    return {"qmodel": model_digest(qm), "split": "test", "limit": limit,
            **({} if data is None else {"data": data.identity})}


def hardware_inputs(qm: QModel, lanes: int, device: Device, profile: BuildProfile) -> dict:
    """What a hardware record depends on: model, plan, P, device, build profile (generator and
    synthesis options), tool and generator versions."""
    from .versions import generator_version, tool_versions

    return {"qmodel": model_digest(qm), "plan": qm.plan.code, "lanes": lanes, "device": device.name,
            "profile": profile.to_dict(), "tools": tool_versions(device), "generator": generator_version()}


def run_sweep(spec: SweepSpec, parallelism: Parallelism = Parallelism(), *, dsp: bool = True,
              cache: RecordCache | None = None, progress: Progress | None = None,
              calib_progress: Progress | None = None, estimate_only: bool = False) -> SweepResult:
    """Compute (or find) every record of ``spec``; returns the joined points.

    ``estimate_only``: hardware points from the analytic estimator instead of synthesis
    (see the module docstring); about 0.1 s per point, nothing synthesized or cached for them.

    ``progress(done, total)`` counts records (cached ones are done from the start). An
    interruption (KeyboardInterrupt, SIGTERM through :mod:`hwssm.cli`, or an exception raised
    by ``progress``) cancels what is still queued and stops the workers; every record finished
    before it is already stored, so a rerun resumes. Temporary files a killed run left in the
    cache are removed at the start (:func:`hwssm.io.clean_stale_temps`).
    """
    t0 = time.monotonic()
    cache = cache or RecordCache.default()
    clean_stale_temps(cache.root)  # temporary files of a killed earlier run
    data = None
    if not spec.data.is_default:
        from ..data import load_dataset

        data = load_dataset(spec.data)
        data.check_inputs()
        if spec.lanes and data.T != 784:
            raise HwssmError(f"sweep: hardware points for sequences of T={data.T} steps are not supported yet "
                             "(the sweep builds and estimates T=784 cores); run an accuracy-only sweep")
    qmodels, source = sweep_qmodels(spec, cache, calib_progress)
    for qm in qmodels.values() if data is not None else ():
        data.check_model_of(qm)
    plans = plan_by_code(spec, qmodels)

    jobs: list[tuple[RecordKind, str, dict, Callable, object]] = []
    have: dict[tuple[RecordKind, str], dict] = {}
    keys: dict[tuple, str] = {}
    for code, qm in qmodels.items():
        inputs = accuracy_inputs(qm, spec.limit, data)
        key = content_key(RecordKind.ACCURACY, inputs)
        keys[("acc", code)] = key
        task = AccuracyTask(key, qm, spec.limit, None if data is None else spec.data)
        jobs.append((RecordKind.ACCURACY, key, inputs, accuracy_task, task))
        for P in () if estimate_only else spec.lanes:
            for dev in spec.devices:
                profile = device_profile(dev, dsp=dsp)
                inputs = hardware_inputs(qm, P, dev, profile)
                key = content_key(RecordKind.HARDWARE, inputs)
                keys[("hw", code, P, dev)] = key
                jobs.append((RecordKind.HARDWARE, key, inputs, hardware_task, HardwareTask(key, qm, P, dev, profile)))

    todo = []
    seen = set()
    for kind, key, inputs, fn, task in jobs:
        if (kind, key) in seen:
            continue
        seen.add((kind, key))
        hit = cache.get(kind, key)
        if hit is not None:
            have[(kind, key)] = hit
        else:
            todo.append((kind, key, inputs, fn, task))
    cached = len(have)
    total = cached + len(todo)
    done = cached
    errors: list[str] = []
    if progress:
        progress(done, total)

    if todo:
        runner = open_runner(parallelism)
        by_token = {}
        ok = False
        try:
            for kind, key, inputs, fn, task in todo:
                by_token[runner.submit(CacheFirst(fn, kind, key, cache.root), task)] = (kind, key, inputs, task)
            while runner.pending:
                token, value, exc = runner.next_done()
                kind, key, inputs, task = by_token.pop(token)
                if exc is not None:
                    errors.append(f"{_describe(kind, task)}: {_one_line(exc)}")
                else:
                    cache.put(kind, key, value, inputs)
                    have[(kind, key)] = value
                done += 1
                if progress:
                    progress(done, total)
            ok = True
        finally:
            runner.close(cancel=not ok)

    points = []
    for code, qm in qmodels.items():
        acc = have.get((RecordKind.ACCURACY, keys[("acc", code)]))
        if not spec.hardware:
            points.append(make_point(plans[code], qm, acc, spec))
            continue
        for P in spec.lanes:
            for dev in spec.devices:
                if estimate_only:
                    points.append(estimated_point(plans[code], qm, acc, spec, P, dev, device_profile(dev, dsp=dsp)))
                    continue
                hw = have.get((RecordKind.HARDWARE, keys[("hw", code, P, dev)]))
                points.append(make_point(plans[code], qm, acc, spec, P, dev, hw, device_profile(dev, dsp=dsp)))
    return SweepResult(spec=spec, source=source, points=points, computed=len(have) - cached, cached=cached,
                       failed=len(errors), errors=errors, seconds=time.monotonic() - t0)


@dataclasses.dataclass(frozen=True)
class CacheFirst:
    """A task that first looks for its record in the cache at ``root`` (when that directory is
    reachable where the task runs): another sweep may have stored it since this one was planned."""

    fn: Callable
    kind: RecordKind
    key: str
    root: Path

    def __call__(self, task):
        hit = RecordCache(self.root).get(self.kind, self.key)
        return hit if hit is not None else self.fn(task)


def make_point(plan: PrecisionPlan, qm: QModel, acc: dict | None, spec: SweepSpec, lanes: int | None = None,
               device: Device | None = None, hw: dict | None = None, profile: BuildProfile | None = None) -> dict:
    """One row of the results: accuracy, memory, and (with ``lanes``/``device``) hardware numbers
    for the core built with ``profile`` (default: :func:`device_profile`)."""
    from ..hw.cost import memory_breakdown

    point = {
        "plan": plan.name, "plan_code": plan.code, "plan_spec": plan.to_json(), "qmodel_digest": model_digest(qm),
        "H": qm.H, **({"M": qm.M} if isinstance(qm, QModel) else {"family": "s5", "P": qm.P}), "L": qm.L,
        "accuracy": None if acc is None else acc["accuracy"],
        "digits": spec.digits if acc is None else acc["digits"],
        "memory_bits": qm.footprint_bits, "float32_bits": qm.float32_bits,
        "compression": round(qm.compression, 4), "table_bits": qm.lut_bits,
        "memory_breakdown": memory_breakdown(qm),
        "component_bits": {c: getattr(plan, c).bits for c in plan.components()},
    }
    if lanes is None:
        point["status"] = "ok" if acc is not None else "error"
        return point
    profile = profile or device_profile(device)
    point.update(lanes=lanes, device=device.name, profile=profile.to_dict())
    point.update(hardware_fields(qm, lanes, device, hw, profile))
    if acc is None:
        point["status"] = "error"
    return point


def estimated_point(plan: PrecisionPlan, qm: QModel, acc: dict | None, spec: SweepSpec, lanes: int,
                    device: Device, profile: BuildProfile) -> dict:
    """A hardware point from the analytic estimator, no synthesis: the estimate with its error
    band, fit (``fits`` true unless it surely does not fit; ``fit`` yes / no / borderline),
    cycles (exact) and latency at the device's default clock (``clock_mhz``). A plan the RTL
    cannot build gives status ``error`` and ``estimate_error``."""
    from .estimate_point import Fit, estimate_point

    point = make_point(plan, qm, acc, spec)
    point.update(lanes=lanes, device=device.name, profile=profile.to_dict(), hardware="estimate")
    try:
        pe = estimate_point(qm, profile.design(lanes), device)
    except HwssmError as exc:
        point.update(estimate=None, estimate_error=str(exc), status="error")
        return point
    est = pe.estimate
    if (est.dsp_enabled, est.spram) != (profile.synth.dsp and device.dsp > 0, profile.synth.spram):
        from ..hw.cost import estimate

        est = estimate(qm, pe.design, device, dsp=profile.synth.dsp, spram=profile.synth.spram)
        pe = dataclasses.replace(pe, estimate=est)
    fit = pe.fit
    point.update(estimate=est.summary(), error_band=device.family.error_band.to_json(), fit=fit.value,
                 fits=fit is not Fit.NO, cycles_per_step=pe.cycles_per_step, cycles_per_digit=pe.cycles_per_sequence,
                 clock_mhz=pe.clock_mhz, us_per_digit=1e3 * pe.latency_ms, digits_per_s=1e3 / pe.latency_ms,
                 status="estimated" if acc is not None else "error")
    if pe.over():
        point["message"] = "estimate exceeds the device: " + ", ".join(pe.over())
    return point


def hardware_fields(qm: QModel, lanes: int, device: Device, hw: dict | None, profile: BuildProfile) -> dict:
    """Measured resources, timing, throughput and the estimate (of the core built with
    ``profile``) with its LUT error, for one point."""
    from ..hw.cost import estimate, lut_error

    out: dict = {}
    try:
        est = estimate(qm, profile.design(lanes), device, dsp=profile.synth.dsp, spram=profile.synth.spram)
        out["estimate"] = est.summary()
    except HwssmError as exc:  # a plan the RTL cannot build: no estimate (and no hardware record)
        est = None
        out["estimate"] = None
        out["estimate_error"] = str(exc)
    if hw is None:
        out["status"] = "error"
        return out
    out["status"] = hw["status"]
    for k in ("lut", "ff", "carry", "dsp", "bram", "spram", "lutram", "fmax_mhz", "fits", "logic_cells",
              "logic_cells_available", "dsp_available", "bram_available", "spram_available", "target_mhz",
              "critical_path_ns", "cycles_per_step", "cycles_per_digit", "utilization", "yosys_s", "nextpnr_s",
              "generator_version", "message"):
        if k in hw:
            out[k] = hw[k]
    out["fits"] = bool(hw.get("fits", False))
    out["pnr_utilization"] = hw.get("utilization")
    fmax, cyc = hw.get("fmax_mhz"), hw.get("cycles_per_digit")
    if fmax and cyc:
        out["us_per_digit"] = cyc / fmax
        out["digits_per_s"] = 1e6 * fmax / cyc
    measured = measured_lut(hw, device)
    if measured is not None and est is not None:
        out["lut_measured"] = measured
        out["est_lut_error"] = lut_error(est.total.lut, measured)
    return out


def measured_lut(hw: dict, device: Device) -> int | None:
    """LUT4s the estimator is compared with: Yosys LUT4 cells, plus the LUT4s inside carry cells
    that Yosys does not count as LUT4 cells (:attr:`hwssm.targets.Family.carry_lut4`: 2 per ECP5
    CCU2C, none on iCE40)."""
    if hw.get("lut") is None:
        return None
    return int(hw["lut"]) + device.family.carry_lut4 * int(hw.get("carry", 0))


def _describe(kind: RecordKind, task) -> str:
    plan = task.qmodel.plan.name
    if kind is RecordKind.ACCURACY:
        return f"accuracy of {plan}"
    return f"hardware {plan} P={task.lanes} {task.device.name}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}" if not isinstance(exc, HwssmError) else text[0]
