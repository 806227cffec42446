"""Pruning the search space by the analytic estimator: what does not fit is never evaluated.

Every candidate (plan × design point) is estimated (:func:`hwssm.explore.estimate_point.estimate_point`,
about 0.1 s; cached by QModel digest, design point, device and estimator version) and compared
with a :class:`Capacity`: the device's, optionally capped by a LUT4 / DSP budget. With the
family's measured error band (:class:`hwssm.targets.ErrorBand`) a candidate

* fits (``yes``) when every count at the top of its band is within the capacity;
* does not fit (``no``) when a hard block (DSP, block RAM, SPRAM: exact on every measured
  point) or LUT4/FF at the bottom of its band exceeds it: pruned;
* is ``borderline`` otherwise: kept (only synthesis can tell), and marked.

Lanes shortcut: hard blocks never shrink with more lanes (every lane has its own multipliers
and memories), so once a plan × mixing × depth fails on a hard block at P lanes, its larger P
are pruned without an estimate (reported as ``pruned_by_lanes``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..errors import HwssmError
from ..hw.cost import ESTIMATOR_VERSION
from ..quant.qmodel import QModel
from ..targets import Device
from .cache import RecordCache, RecordKind, content_key
from .estimate_point import RESOURCES, Fit, estimate_point
from .search_space import Candidate

__all__ = ["Capacity", "Estimated", "estimate_candidates"]

HARD = ("dsp", "bram", "spram")


@dataclasses.dataclass(frozen=True)
class Capacity:
    """What a candidate may use: LUT4 (and FF: logic cells), DSP, block RAM, SPRAM (counts).

    :meth:`of` takes the device's and caps LUT4/FF and DSP by the budgets given (a part of the
    FPGA left to the core)."""

    lut: int
    ff: int
    dsp: int
    bram: int
    spram: int

    @classmethod
    def of(cls, device: Device, lut_budget: int | None = None, dsp_budget: int | None = None) -> "Capacity":
        for name, v in (("--lut-budget", lut_budget), ("--dsp-budget", dsp_budget)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise HwssmError(f"{name} must be a non-negative integer, not {v!r}")
        lut = device.lut4 if lut_budget is None else min(device.lut4, lut_budget)
        dsp = device.dsp if dsp_budget is None else min(device.dsp, dsp_budget)
        return cls(lut=lut, ff=lut if lut_budget is not None else device.lut4, dsp=dsp, bram=device.bram,
                   spram=device.spram)

    def fit(self, bounds: dict[str, list]) -> Fit:
        """:class:`Fit` of the per-resource (low, high) Yosys counts the error band allows."""
        avail = dataclasses.asdict(self)
        if any(bounds[r][0] > avail[r] for r in RESOURCES):
            return Fit.NO
        if any(bounds[r][1] > avail[r] for r in RESOURCES):
            return Fit.BORDERLINE
        return Fit.YES

    def over(self, bounds: dict[str, list]) -> list[str]:
        """Resources whose estimate (low end of the band) exceeds the capacity, as ``"dsp 11/8"``."""
        avail = dataclasses.asdict(self)
        return [f"{r} {bounds[r][0]}/{avail[r]}" for r in RESOURCES if bounds[r][0] > avail[r]]

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Estimated:
    """A candidate with its estimate.

    Attributes
    ----------
    candidate : Candidate
    record : dict or None
        :meth:`~hwssm.explore.estimate_point.PointEstimate.to_json` (None: not estimated).
    fit : Fit or None
        Against the search's :class:`Capacity` (None: not estimated).
    reason : str
        Why it was pruned (empty when it fits or is borderline).
    """

    candidate: Candidate
    record: dict | None
    fit: Fit | None
    reason: str = ""

    @property
    def kept(self) -> bool:
        return self.fit in (Fit.YES, Fit.BORDERLINE)

    @property
    def lut(self) -> int:
        """Estimated LUT4 (ECP5: carry cells included)."""
        return self.record["resources"]["lut"]["estimate"]

    @property
    def latency_ms(self) -> float:
        """One sequence at the device's stated clock, ms."""
        return self.record["latency_ms"]


def _estimate_record(qm: QModel, digest: str, cand: Candidate, device: Device, cache: RecordCache) -> dict:
    inputs = {"qmodel": digest, "design": cand.design.to_json(), "device": device.name,
              "estimator": ESTIMATOR_VERSION}
    key = content_key(RecordKind.ESTIMATE, inputs)
    hit = cache.get(RecordKind.ESTIMATE, key)
    if hit is not None:
        return hit
    try:
        value = estimate_point(qm, cand.design, device).to_json()
    except HwssmError as exc:  # a plan the generator cannot build: a result, stored
        value = {"error": str(exc)}
    cache.put(RecordKind.ESTIMATE, key, value, inputs)
    return value


def _bounds(record: dict) -> dict[str, list]:
    return {r: [v["low"], v["high"]] for r, v in record["resources"].items()}


def estimate_candidates(candidates: list[Candidate], qmodels: dict[str, QModel], digests: dict[str, str],
                        device: Device, capacity: Capacity, cache: RecordCache,
                        progress: Callable[[int, int], None] | None = None) -> list[Estimated]:
    """Estimate every candidate (cached) and judge its fit; returns one :class:`Estimated` each,
    in the order given. ``qmodels``/``digests``: by plan code. See the module docstring."""
    out: list[Estimated] = []
    failed_hard: set[tuple] = set()  # (plan, mix_cols, depth) that failed a hard block at some P
    total = len(candidates)
    for i, cand in enumerate(candidates):
        code = cand.plan.code
        shape = (code, cand.design.pipeline, cand.design.storage, cand.design.soft_mul_bits)
        smaller = [P for (c, P) in failed_hard if c == shape and P < cand.design.lanes]
        if smaller:
            out.append(Estimated(cand, None, Fit.NO, f"a hard block already overflows at P={min(smaller)}"))
        else:
            rec = _estimate_record(qmodels[code], digests[code], cand, device, cache)
            if "error" in rec:
                out.append(Estimated(cand, None, Fit.NO, f"cannot be built: {rec['error']}"))
            else:
                b = _bounds(rec)
                fit = capacity.fit(b)
                reason = ", ".join(capacity.over(b)) if fit is Fit.NO else ""
                out.append(Estimated(cand, rec, fit, reason))
                if any(b[r][0] > getattr(capacity, r) for r in HARD):
                    failed_hard.add((shape, cand.design.lanes))
        if progress:
            progress(i + 1, total)
    return out
