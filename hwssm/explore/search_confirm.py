"""Confirming front points by real synthesis and place-and-route.

For each of the top ``K`` points of the front: the core is generated as the point's design
point and synthesized with Yosys + nextpnr on the device (:func:`hwssm.explore.tasks.hardware_task`,
the sweep's own task; records cached under the sweep's hardware key, so a sweep of the same
point finds them). Per point the report gives the estimator's LUT4 error against Yosys
(ECP5: LUT4 + 2 per CCU2C), whether DSP, block RAM and SPRAM matched the estimate exactly,
Fmax and the latency at Fmax.
"""

from __future__ import annotations

from collections.abc import Callable

from ..hw.cost import lut_error
from ..hw.options import DesignPoint
from ..quant.qmodel import QModel
from ..synth.flow import SynthOptions
from ..synth.profile import BuildProfile
from ..targets import Device, Profile
from .cache import RecordCache, RecordKind, content_key
from .sweep import hardware_inputs, measured_lut
from .tasks import HardwareTask, hardware_task

__all__ = ["confirm_point", "confirmation_summary", "design_profile"]


def design_profile(device: Device, design: DesignPoint) -> BuildProfile:
    """The build profile that generates ``design`` on ``device`` with the device's synthesis switches."""
    prof = device.profile
    target = Profile(design.pipeline, design.storage, design.soft_mul_bits, dsp=prof.dsp, spram=prof.spram)
    return BuildProfile(target, SynthOptions(dsp=prof.dsp and device.dsp > 0, spram=prof.spram))


def confirm_point(qm: QModel, design: DesignPoint, device: Device, estimate: dict, cache: RecordCache,
                  say: Callable[[str], None] | None = None) -> dict:
    """Synthesize and place one point (cached); returns the measured counts beside the estimate.

    ``estimate``: the point's :meth:`~hwssm.explore.estimate_point.PointEstimate.to_json`.
    Returns ``status`` (ok / does-not-fit / error), the Yosys counts, ``lut_measured``,
    ``est_lut_error`` (relative), ``exact`` (per hard block: estimate == Yosys), ``fmax_mhz``,
    ``latency_ms_at_fmax``, ``cached``.
    """
    profile = design_profile(device, design)
    inputs = hardware_inputs(qm, design.lanes, device, profile)
    key = content_key(RecordKind.HARDWARE, inputs)
    hw = cache.get(RecordKind.HARDWARE, key)
    hit = hw is not None
    if hw is None:
        if say:
            say(f"synthesizing {qm.plan.code} {design.key()} on {device.name} (Yosys + nextpnr)")
        try:
            hw = hardware_task(HardwareTask(key, qm, design.lanes, device, profile))
        except Exception as exc:  # noqa: BLE001 - a tool failure is reported per point
            return {"status": "error", "message": str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    "cached": False}
        cache.put(RecordKind.HARDWARE, key, hw, inputs)
    res = estimate["resources"]
    out = {"status": hw.get("status", "error"), "cached": hit}
    for k in ("lut", "ff", "carry", "dsp", "bram", "spram", "fmax_mhz", "logic_cells", "logic_cells_available",
              "cycles_per_digit", "yosys_s", "nextpnr_s", "message"):
        if k in hw:
            out[k] = hw[k]
    measured = measured_lut(hw, device)
    if measured is not None:
        out["lut_measured"] = measured
        out["est_lut_error"] = lut_error(res["lut"]["estimate"], measured)
        out["est_ff_error"] = lut_error(res["ff"]["estimate"], hw["ff"]) if hw.get("ff") else None
        out["exact"] = {r: hw.get(r) == res[r]["estimate"] for r in ("dsp", "bram", "spram") if hw.get(r) is not None}
    fmax, cyc = hw.get("fmax_mhz"), hw.get("cycles_per_digit")
    if fmax and cyc:
        out["latency_ms_at_fmax"] = cyc / (fmax * 1e3)
    return out


def confirmation_summary(rows: list[dict]) -> dict:
    """Max |LUT4 error| and exactness of the hard blocks over the confirmed points."""
    errs = [r["est_lut_error"] for r in rows if r.get("est_lut_error") is not None]
    exact = [all(r["exact"].values()) for r in rows if r.get("exact")]
    return {"points": len(rows), "measured": len(errs),
            "max_abs_lut_error": max((abs(e) for e in errs), default=None),
            "hard_blocks_exact": sum(exact), "hard_blocks_checked": len(exact)}

