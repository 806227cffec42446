"""One hardware point without synthesis: resources with their error band, fit, cycles, latency.

:func:`estimate_point` joins the analytic resource estimate (:func:`hwssm.hw.cost.estimate`),
the family's measured error band (:attr:`hwssm.targets.Family.error_band`), the device's
capacity and the exact cycle model (:mod:`hwssm.hw.cycle_model`) for one QModel × design
point × device. It takes well under a second per point (the generator's derivation of the
core dominates); ``hwssm estimate`` and ``hwssm bench estimate`` call it.
"""

from __future__ import annotations

import dataclasses
import enum

from ..errors import HwssmError
from ..hw.cost import ESTIMATOR_VERSION, Estimate, estimate
from ..hw.cycle_model import cycles_per_digit, cycles_per_step
from ..hw.options import DesignPoint
from ..quant.qmodel import QModel
from ..targets import Device

__all__ = ["Fit", "PointEstimate", "estimate_point", "ESTIMATE_FORMAT"]

#: ``format`` of the JSON document ``hwssm estimate --json`` prints.
ESTIMATE_FORMAT = "hwssm-estimate"

#: Resources in the order tables list them; the first two carry the family's error band.
RESOURCES = ("lut", "ff", "dsp", "bram", "spram")


class Fit(enum.Enum):
    """Whether a point fits its device, given the estimator's error band.

    Members
    -------
    YES
        Every count, at the top of its band, is within the device.
    NO
        A hard block (DSP, block RAM, SPRAM, exact) or LUT4/FF at the bottom of its band
        exceeds the device.
    BORDERLINE
        Fits at the estimate's low end but not at its high end: only synthesis can tell.
    """

    YES = "yes"
    NO = "no"
    BORDERLINE = "borderline"


@dataclasses.dataclass(frozen=True)
class PointEstimate:
    """The estimate of one (QModel, design point, device).

    Attributes
    ----------
    device : Device
    design : DesignPoint
    estimate : Estimate
        The resource estimate (synthesis switches of the device's build profile).
    clock_mhz : float
        Clock the latency is given at, MHz.
    cycles_per_step : int
        Cycles between consecutive step starts (exact, :func:`~hwssm.hw.cycle_model.cycles_per_step`).
    cycles_per_sequence : int
        Cycles per T-step sequence (the digit period, exact,
        :func:`~hwssm.hw.cycle_model.cycles_per_digit`).
    """

    device: Device
    design: DesignPoint
    estimate: Estimate
    clock_mhz: float
    cycles_per_step: int
    cycles_per_sequence: int

    @property
    def latency_ms(self) -> float:
        """One sequence at :attr:`clock_mhz`, milliseconds."""
        return self.cycles_per_sequence / (self.clock_mhz * 1e3)

    @property
    def step_us(self) -> float:
        """One step at :attr:`clock_mhz`, microseconds."""
        return self.cycles_per_step / self.clock_mhz

    def counts(self) -> dict[str, int]:
        """Rounded estimate per resource (:data:`RESOURCES`)."""
        t = self.estimate.total.rounded()
        return {r: int(t[r]) for r in RESOURCES}

    def available(self) -> dict[str, int]:
        """The device's capacity per resource (LUT4 and FF: its logic cells)."""
        d = self.device
        return {"lut": d.lut4, "ff": d.lut4, "dsp": d.dsp, "bram": d.bram, "spram": d.spram}

    def bounds(self) -> dict[str, tuple[int, int]]:
        """Per resource, the Yosys counts the error band allows (hard blocks: the estimate)."""
        band = self.device.family.error_band
        out = {}
        for r, v in self.counts().items():
            if r in ("lut", "ff"):
                lo, hi = band.range(r, getattr(self.estimate.total, r))
                out[r] = (int(round(lo)), int(round(hi)))
            else:
                out[r] = (v, v)
        return out

    @property
    def fit(self) -> Fit:
        """:class:`Fit` of the counts, with their error band, against :meth:`available`.

        LUT4 and FF are each compared with the device's logic cells; an iCE40 logic cell
        holds one LUT4 and one flip-flop, and those that do not pack need more cells than
        either count (synthesis reports the cells).
        """
        avail, bounds = self.available(), self.bounds()
        if any(bounds[r][0] > avail[r] for r in RESOURCES):
            return Fit.NO
        if any(bounds[r][1] > avail[r] for r in RESOURCES):
            return Fit.BORDERLINE
        return Fit.YES

    def over(self) -> list[str]:
        """Resources whose estimate exceeds the device, as ``"dsp 11/8"``."""
        avail, counts = self.available(), self.counts()
        return [f"{r} {counts[r]}/{avail[r]}" for r in RESOURCES if counts[r] > avail[r]]

    def to_json(self) -> dict:
        """JSON record: device, design point, resources ``{estimate, low, high, available}``,
        error band, fit, cycles, clock and latency."""
        counts, bounds, avail = self.counts(), self.bounds(), self.available()
        e = self.estimate
        return {
            "device": self.device.name,
            "part": self.device.part,
            "design": self.design.to_json(),
            "design_key": self.design.key(),
            "synth": {"dsp": e.dsp_enabled, "spram": e.spram},
            "resources": {r: {"estimate": counts[r], "low": bounds[r][0], "high": bounds[r][1],
                              "available": avail[r]} for r in RESOURCES},
            "error_band": self.device.family.error_band.to_json(),
            "fits": self.fit.value,
            "over": self.over(),
            "cycles_per_step": self.cycles_per_step,
            "cycles_per_sequence": self.cycles_per_sequence,
            "clock_mhz": self.clock_mhz,
            "step_us": self.step_us,
            "latency_ms": self.latency_ms,
            "sequences_per_s": 1e3 / self.latency_ms,
            "lut_by_component": e.summary()["lut_by_component"],
            "estimator_version": ESTIMATOR_VERSION,
        }


def estimate_point(qm: QModel, design: DesignPoint, device: Device, clock_mhz: float | None = None) -> PointEstimate:
    """Estimate ``qm`` built as ``design`` on ``device``, with the synthesis switches of the
    device's build profile (:attr:`~hwssm.targets.Device.profile`: hard DSPs, SPRAM).

    ``clock_mhz`` (default: the device's :attr:`~hwssm.targets.Device.default_freq_mhz`)
    gives the latency; it is a stated clock, not a timing estimate. Raises HwssmError (one
    line) for a clock <= 0 or a model/design the generator cannot build.
    """
    clock = device.default_freq_mhz if clock_mhz is None else float(clock_mhz)
    if not clock > 0:
        raise HwssmError(f"the clock must be > 0 MHz, not {clock_mhz}")
    prof = device.profile
    e = estimate(qm, design, device, dsp=prof.dsp, spram=prof.spram)
    return PointEstimate(device, design, e, clock, cycles_per_step(qm, design), cycles_per_digit(qm, design))
