"""``hwssm search``: the Pareto front of accuracy × LUT4 × latency for one model on one device.

:func:`run_search` runs the stages, each cached by content and so resumable (an interrupted
search reruns to the same point at once):

1. **space** (:mod:`.search_space`): plans × lanes × mixing columns × pipeline depth; one
   QModel per plan by PTQ of the float checkpoint (calibration cached, as in the sweep), or
   the given QModel's own plan;
2. **pruning** (:mod:`.search_prune`): every candidate estimated; what does not fit the
   device (or the LUT4/DSP budget) is never evaluated;
3. **accuracy** (:mod:`.search_halving`): successive halving of the plans that have a fitting
   design, golden engine on validation digits, the survivors on the test split;
4. **front**: the candidates whose plan reached the test rung and whose accuracy is at least
   the floor, reduced to those no other candidate beats in accuracy, LUT4 and latency at once
   (latency at the device's stated clock);
5. **confirmation** (:mod:`.search_confirm`, ``confirm`` > 0): Yosys + nextpnr of the first
   points of the front (of the front below the floor when nothing reaches it);
6. **QAT** (:mod:`.search_qat`, ``qat.top`` > 0): the most accurate plans of the front (of the
   front below the floor when PTQ reaches nothing: where QAT is needed) trained from the float
   model.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from pathlib import Path

from .. import __version__
from ..errors import HwssmError
from ..io import write_json
from ..quant.qmodel_io import is_qmodel_path
from ..targets import Device
from .cache import RecordCache
from .search_halving import Rungs, dominates, run_rungs
from .search_prune import Capacity, Estimated, estimate_candidates
from .search_qat import QatSettings
from .search_space import Dataset, SearchSpace

__all__ = ["SearchSpec", "SearchResult", "run_search", "SEARCH_FORMAT"]

SEARCH_FORMAT = "hwssm-search"

#: ``progress(stage, done, total)``.
Progress = Callable[[str, int, int], None]


@dataclasses.dataclass(frozen=True)
class SearchSpec:
    """One search.

    Attributes
    ----------
    model : Path
        Float checkpoint (plans applied by PTQ) or QModel file (its plan only).
    device : Device
    floor : float
        Accuracy floor, a fraction in [0, 1].
    space : SearchSpace
    lut_budget, dsp_budget : int or None
        Caps below the device's LUT4 / DSP count.
    dataset : Dataset
    budget_points : int or None
        Most plans the first accuracy rung evaluates (a seeded random choice among those that
        fit when more do); None: all.
    rungs : Rungs
    confirm : int
        Front points to synthesize and place (0: none).
    qat : QatSettings
    calib_digits : int
        Training digits for PTQ calibration.
    seed : int
        Seed of the ``budget_points`` choice.
    """

    model: Path
    device: Device
    floor: float
    space: SearchSpace
    lut_budget: int | None = None
    dsp_budget: int | None = None
    dataset: Dataset = Dataset.SMNIST
    budget_points: int | None = None
    rungs: Rungs = Rungs()
    confirm: int = 0
    qat: QatSettings = QatSettings()
    calib_digits: int = 256
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "model", Path(self.model))
        if isinstance(self.floor, bool) or not isinstance(self.floor, (int, float)) or not 0 <= self.floor <= 1:
            raise HwssmError(f"the accuracy floor must be a fraction in [0, 1] (--floor 0.98 or 98%), not {self.floor!r}")
        if self.budget_points is not None and (isinstance(self.budget_points, bool) or self.budget_points < 1):
            raise HwssmError(f"--budget-points must be >= 1, not {self.budget_points!r}")
        if isinstance(self.confirm, bool) or not isinstance(self.confirm, int) or self.confirm < 0:
            raise HwssmError(f"--confirm must be a non-negative integer, not {self.confirm!r}")
        if self.qat.top and is_qmodel_path(self.model):
            raise HwssmError("--qat-top trains from a float checkpoint; give --model a float checkpoint")
        Capacity.of(self.device, self.lut_budget, self.dsp_budget)

    @property
    def capacity(self) -> Capacity:
        return Capacity.of(self.device, self.lut_budget, self.dsp_budget)

    def to_json(self) -> dict:
        return {"model": str(self.model), "device": self.device.name, "floor": self.floor,
                "lut_budget": self.lut_budget, "dsp_budget": self.dsp_budget, "dataset": self.dataset.value,
                "budget_points": self.budget_points, "rungs": self.rungs.to_json(), "confirm": self.confirm,
                "qat": self.qat.to_json(), "calib_digits": self.calib_digits, "seed": self.seed,
                "space": self.space.to_json(), "capacity": self.capacity.to_json()}


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """Everything a search found (:meth:`to_json` is the results file, ``search.json``).

    ``front``: the Pareto front of the candidates at or above the floor (numbered by LUT4);
    ``front_below_floor``: when that is empty, the front of every candidate measured on the
    test split (what the floor rules out); ``best``: the most accurate candidate measured."""

    spec: SearchSpec
    source: dict
    counts: dict
    points: list[dict]
    front: list[dict]
    best: dict | None
    plans: dict
    seconds: dict
    front_below_floor: list[dict] = dataclasses.field(default_factory=list)

    @property
    def floor_reached(self) -> bool:
        return bool(self.front)

    def to_json(self) -> dict:
        return {"format": SEARCH_FORMAT, "version": 1, "hwssm": __version__, "spec": self.spec.to_json(),
                "source": self.source, "counts": self.counts, "seconds": self.seconds, "best": self.best,
                "front": self.front, "front_below_floor": self.front_below_floor, "points": self.points,
                "plans": self.plans}

    def write(self, path: str | Path) -> Path:
        write_json(path, self.to_json())
        return Path(path)


def _qmodels(spec: SearchSpec, cache: RecordCache, progress: Progress | None):
    from .models import sweep_qmodels
    from .spec import SweepSpec
    from .sweep import model_digest

    sweep = SweepSpec(model=spec.model, plans=() if is_qmodel_path(spec.model) else spec.space.plans,
                      calib_digits=spec.calib_digits)
    calib = (lambda d, t: progress("ptq calibration", d, t)) if progress else None
    qmodels, source = sweep_qmodels(sweep, cache, calib)
    return qmodels, {c: model_digest(q) for c, q in qmodels.items()}, source


def point_of(e: Estimated, acc: dict | None) -> dict:
    """One candidate as a results row."""
    d, rec = e.candidate.design, e.record
    row = {"plan": e.candidate.plan.code, "lanes": d.lanes, "mix_cols": d.pipeline.mix_cols,
           "depth": e.candidate.depth.value, "design_key": d.key(), "fit": e.fit.value if e.fit else None}
    if rec is not None:
        r = rec["resources"]
        row.update({k: r[k]["estimate"] for k in ("lut", "ff", "dsp", "bram", "spram")},
                   lut_low=r["lut"]["low"], lut_high=r["lut"]["high"], cycles_per_sequence=rec["cycles_per_sequence"],
                   clock_mhz=rec["clock_mhz"], latency_ms=rec["latency_ms"])
    if e.reason:
        row["pruned"] = e.reason
    if acc is not None:
        row.update(accuracy=acc["accuracy"], digits=acc["digits"], split=acc["split"])
    return row


def pareto_front(rows: list[dict]) -> list[dict]:
    """Rows no other row beats in accuracy (↑), LUT4 (↓) and latency (↓) at once, by LUT4."""
    key = lambda r: (r["accuracy"], r["lut"], r["latency_ms"])  # noqa: E731
    front = [r for r in rows if not any(dominates(key(o), key(r)) for o in rows)]
    uniq = {}
    for r in front:  # equal on all three: keep the first (fewest FF)
        uniq.setdefault(key(r), r)
    return sorted(uniq.values(), key=lambda r: (r["lut"], -r["accuracy"], r["latency_ms"]))


def run_search(spec: SearchSpec, *, cache: RecordCache | None = None, work: Path | None = None,
               progress: Progress | None = None, say: Callable[[str], None] | None = None) -> SearchResult:
    """Run the stages of the module docstring; returns the result (front empty when nothing
    reaches the floor: ``best`` then names the most accurate point found).

    ``work``: directory of the QAT runs (``work/qat/<plan>``), needed when ``spec.qat.top``.
    HwssmError (one line) when no candidate fits the device at all.
    """
    cache = cache or RecordCache.default()
    secs: dict[str, float] = {}
    t = time.monotonic()
    qmodels, digests, source = _qmodels(spec, cache, progress)
    plans = {p.code: p for p in spec.space.plans} if not is_qmodel_path(spec.model) else \
        {q.plan.code: q.plan for q in qmodels.values()}
    space = dataclasses.replace(spec.space, plans=tuple(plans.values()), grid=spec.space.grid
                                if not is_qmodel_path(spec.model) else None)
    spec = dataclasses.replace(spec, space=space)  # a QModel's: its own plan
    secs["ptq"] = time.monotonic() - t

    t = time.monotonic()
    cands = space.candidates(spec.device, spec.dataset.seq_len)
    est = estimate_candidates(cands, qmodels, digests, spec.device, spec.capacity, cache,
                              (lambda d, n: progress("estimate", d, n)) if progress else None)
    secs["estimate"] = time.monotonic() - t
    kept = [e for e in est if e.kept]
    if not kept:
        smallest = min((e for e in est if e.record), key=lambda e: e.lut, default=None)
        why = "" if smallest is None else (f"; the smallest, {smallest.candidate.plan.code} "
                                           f"{smallest.candidate.design.key()}, needs {smallest.reason}")
        if smallest is None and est:   # none could be estimated: why the first one cannot be built
            why = f"; {est[0].candidate.plan.code} {est[0].candidate.design.key()}: {est[0].reason}"
        raise HwssmError(f"no candidate of the {len(cands)} fits {spec.device.name} "
                         f"(capacity {spec.capacity.to_json()}){why}")
    designs: dict[str, list[tuple[float, float]]] = {}
    for e in kept:
        designs.setdefault(e.candidate.plan.code, []).append((e.lut, e.latency_ms))
    fitting = sorted(designs)
    chosen = fitting
    if spec.budget_points is not None and len(fitting) > spec.budget_points:
        chosen = sorted(random.Random(spec.seed).sample(fitting, spec.budget_points))

    t = time.monotonic()
    halving = run_rungs({c: qmodels[c] for c in chosen}, digests, designs, spec.floor, spec.rungs, cache,
                        (lambda d, n, label: progress(label, d, n)) if progress else None)
    secs["accuracy"] = time.monotonic() - t
    final = {c: h["rungs"][-1] for c, h in halving["plans"].items() if h["stopped"] == "final"}
    points = [point_of(e, final.get(e.candidate.plan.code)) for e in est]
    on_test = [p for p in points if p.get("split") == "test" and p["fit"] in ("yes", "borderline")]
    above = [p for p in on_test if p["accuracy"] >= spec.floor]
    front = pareto_front(above)
    for i, p in enumerate(front, 1):
        p["front"] = i
    below = [] if front else pareto_front(on_test)  # nothing reaches the floor: the front of what was measured
    for i, p in enumerate(below, 1):
        p["front"] = i
    best = max(on_test, key=lambda p: (p["accuracy"], -p["lut"]), default=None) or _best_measured(halving, points)

    if spec.confirm and (front or below):
        t = time.monotonic()
        _confirm((front or below)[:spec.confirm], qmodels, est, spec.device, cache, progress, say)
        secs["confirm"] = time.monotonic() - t
    if spec.qat.top and (front or below):  # below the floor by PTQ is where QAT is wanted most
        t = time.monotonic()
        _qat(front or below, spec, qmodels, work, progress, say)
        secs["qat"] = time.monotonic() - t
    counts = {"space": len(cands), "plans": len(plans), "designs_per_plan": len(cands) // max(1, len(plans)),
              "estimated": sum(e.record is not None for e in est), "fit_yes": sum(e.fit and e.fit.value == "yes" for e in est),
              "fit_borderline": sum(e.fit and e.fit.value == "borderline" for e in est),
              "pruned": sum(not e.kept for e in est),
              "pruned_by_lanes": sum(e.record is None and e.reason.startswith("a hard block") for e in est),
              "plans_fitting": len(fitting), "plans_rung1": len(chosen), "plans_on_test": len(final),
              "evaluations_computed": halving["computed"], "evaluations_cached": halving["cached"],
              "points_on_test": len(on_test), "points_above_floor": len(above), "front": len(front)}
    return SearchResult(spec, source, counts, points, front, best, halving["plans"],
                        {k: round(v, 2) for k, v in secs.items()}, below)


def _best_measured(halving: dict, points: list[dict]) -> dict | None:
    """When no plan reached the test split: the cheapest fitting design of the plan with the
    best accuracy at its last rung (that rung's split and digits)."""
    last = {c: h["rungs"][-1] for c, h in halving["plans"].items() if h["rungs"]}
    if not last:
        return None
    code = max(last, key=lambda c: (last[c]["accuracy"], c))
    rows = [p for p in points if p["plan"] == code and p["fit"] in ("yes", "borderline")]
    row = min(rows, key=lambda p: (p["lut"], p["latency_ms"]))
    return {**row, "accuracy": last[code]["accuracy"], "digits": last[code]["digits"], "split": last[code]["split"]}


def _confirm(rows, qmodels, est, device: Device, cache, progress, say) -> None:
    from .search_confirm import confirm_point

    by_key = {(e.candidate.plan.code, e.candidate.design.key()): e for e in est}
    for i, row in enumerate(rows):
        e = by_key[(row["plan"], row["design_key"])]
        row["confirmed"] = confirm_point(qmodels[row["plan"]], e.candidate.design, device, e.record, cache, say)
        if progress:
            progress("synthesis + place-and-route", i + 1, len(rows))


def _qat(front, spec: SearchSpec, qmodels, work: Path | None, progress, say) -> None:
    from .search_qat import qat_plan

    if work is None:
        raise HwssmError("QAT of the front needs a work directory (--out)")
    plans = []
    for row in sorted(front, key=lambda r: -r["accuracy"]):
        if row["plan"] not in plans:
            plans.append(row["plan"])
    plans = plans[:spec.qat.top]
    results = {}
    for i, code in enumerate(plans):
        results[code] = qat_plan(spec.model, qmodels[code].plan, spec.qat, work / "qat" / code, spec.calib_digits,
                                 say or (lambda s: None))
        if progress:
            progress("qat", i + 1, len(plans))
    for row in front:
        if row["plan"] in results:
            row["qat"] = results[row["plan"]]
