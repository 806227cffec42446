"""The work items of a sweep, as plain functions of picklable inputs (they run in pool workers).

:func:`accuracy_task`
    golden-engine accuracy of one QModel on the first ``limit`` test digits.
:func:`hardware_task`
    Verilog for one QModel at P lanes (:mod:`hwssm.hw.emit`), then Yosys + nextpnr on one
    device (:func:`hwssm.synth.synthesize`, itself cached by content).

Each returns a JSON-able dict (the record value). They write nothing to the sweep cache:
the parent does, as results arrive, so that a remote (Dask) worker needs no shared disk.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from ..data.registry import DataSpec
from ..quant.qmodel import QModel
from ..targets import Device
from ..synth.profile import BuildProfile

__all__ = ["AccuracyTask", "HardwareTask", "accuracy_task", "hardware_task", "init_worker"]


@dataclasses.dataclass(frozen=True)
class AccuracyTask:
    """Accuracy of ``qmodel`` on the first ``limit`` test digits (None: all 10,000)."""

    key: str
    qmodel: QModel
    limit: int | None
    data: DataSpec | None = None  # None: smnist


@dataclasses.dataclass(frozen=True)
class HardwareTask:
    """RTL for ``qmodel`` at ``lanes`` lanes, generated and synthesized for ``device`` as
    ``profile`` says (:func:`hwssm.synth.profile.device_profile`)."""

    key: str
    qmodel: QModel
    lanes: int
    device: Device
    profile: BuildProfile


def init_worker(threads: int | None) -> None:
    """Pool initializer: give each worker's numba ``threads`` threads (None: leave numba's default)."""
    if threads is None:
        return
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))


def accuracy_task(task: AccuracyTask) -> dict:
    """Run the golden engine; returns accuracy (fraction), digits, footprint and seconds."""
    from ..data import Split, load_dataset
    from ..golden.evaluate import evaluate, test_pixels

    if task.data is None or task.data.is_default:
        pixels, labels = test_pixels(Split.TEST, task.limit)
    else:
        test = load_dataset(task.data).split("test")
        pixels, labels = test.sequences(task.limit), test.labels(task.limit)
    ev = evaluate(task.qmodel, pixels, labels)
    return {"accuracy": ev.accuracy, "digits": ev.digits, "correct": int((ev.pred == labels).sum()),
            "footprint_bits": ev.footprint_bits, "float32_bits": ev.float32_bits, "seconds": ev.seconds}


def hardware_task(task: HardwareTask) -> dict:
    """Generate the core, synthesize and place it; returns the synthesis summary and the cycle model.

    A design that does not fit the device is a result (``fits: false`` with nextpnr's
    utilization), not an error.
    """
    from ..synth import DesignDoesNotFit, synthesize

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hwssm-sweep-rtl-") as tmp:
        rtl = Path(tmp) / "rtl"
        manifest = generate_rtl(task.qmodel, task.lanes, rtl, task.profile)
        cycles = cycle_fields(manifest)
        try:
            report = synthesize(rtl, task.device, task.profile.synth)
        except DesignDoesNotFit as exc:
            util = {k: {"used": u.used, "available": u.available} for k, u in exc.utilization.items()}
            out = {"status": "does-not-fit", "fits": False, "message": str(exc), "utilization": util,
                   **cycles, "seconds": round(time.monotonic() - t0, 2)}
            synth = getattr(exc, "synth", None)  # Yosys cell counts, when the synth flow attaches them
            if synth is not None:
                out.update({k: getattr(synth, k) for k in ("lut", "ff", "carry", "dsp", "bram", "spram", "lutram")})
            return out
    s = report.summary()
    keep = ("lut", "ff", "carry", "dsp", "bram", "spram", "fmax_mhz", "fits", "logic_cells",
            "logic_cells_available", "dsp_available", "bram_available", "spram_available", "target_mhz",
            "critical_path_ns", "yosys_s", "nextpnr_s")
    util = {k: {"used": u.used, "available": u.available} for k, u in report.pnr.utilization.items()}
    return {"status": "ok", **{k: s[k] for k in keep}, "lutram": report.synth.lutram, "utilization": util,
            "tools": report.tools, **cycles, "seconds": round(time.monotonic() - t0, 2)}


def generate_rtl(qm: QModel, lanes: int, out: Path, profile: BuildProfile) -> dict:
    """Write the core's Verilog and ``manifest.json`` into ``out``, built as ``profile``'s
    design point on ``lanes`` lanes (:meth:`~hwssm.synth.profile.BuildProfile.design`);
    returns the manifest."""
    from ..hw.emit import generate

    return generate(qm, profile.design(lanes), out)


def cycle_fields(manifest: dict) -> dict:
    """From a manifest: the cycle model's numbers (cycles per step and per digit, lane
    utilization) and the generator version."""
    out = {}
    for k in ("cycles_per_step", "cycles_per_digit", "utilization", "generator_version"):
        v = manifest.get(k)
        if v is not None:
            out[k] = v
    return out
