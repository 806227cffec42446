"""Ranking accuracy by golden PTQ with successive halving.

A plan's accuracy does not depend on the hardware (lanes, mixing columns, pipeline: the RTL is
bit-exact with the golden engine), so accuracies are per plan and cached by the QModel's
digest, split and digit count (:class:`~hwssm.explore.cache.RecordKind` ``ACCURACY``; a
full-test record is the same record ``hwssm sweep`` stores).

Rungs (:class:`Rungs`): every plan that has a fitting design starts on the first ``val[0]``
validation sequences (the VAL split, 5,000 digits held out of training); after each validation
rung the best ``ceil(n / eta)`` plans go on to the next, larger rung; the survivors of the last
validation rung are measured on the test split (all 10,000 digits, or ``test_limit``), and
only those numbers make the front.

Who survives a rung (:func:`select`): a plan whose accuracy, plus two binomial standard errors
(and 1/n), is still below the floor is dropped (unless every plan is: then the ranking below
picks among all, so that the best found is still measured on the test split). The rest are ranked by Pareto layer over the
points (accuracy ↑, LUT4 ↓, latency ↓) of their fitting designs (the layer of a plan: the best
of its designs'), then by accuracy; the first ``ceil(n / eta)`` go on.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from ..data import Split
from ..errors import HwssmError
from ..quant.qmodel import QModel
from .cache import RecordCache, RecordKind, content_key

__all__ = ["Rungs", "accuracy_of", "select", "pareto_layers"]

#: Digits of the validation split (hwssm.data: 5,000 held out of the 60,000 training images).
VAL_DIGITS = 5000


@dataclasses.dataclass(frozen=True)
class Rungs:
    """Successive-halving schedule.

    Attributes
    ----------
    val : tuple[int, ...]
        Validation sequences of each validation rung, increasing (at most 5,000).
    eta : int
        Keep ``ceil(n / eta)`` plans after each validation rung (>= 2).
    test_limit : int or None
        Test digits of the final rung (None: all 10,000).
    """

    val: tuple[int, ...] = (256, 1024)
    eta: int = 3
    test_limit: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "val", tuple(self.val))
        if not self.val or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= VAL_DIGITS
                               for v in self.val):
            raise HwssmError(f"validation rungs must be integers in [1, {VAL_DIGITS}], not {self.val!r}")
        if list(self.val) != sorted(set(self.val)):
            raise HwssmError(f"validation rungs must increase, not {self.val!r}")
        if isinstance(self.eta, bool) or not isinstance(self.eta, int) or self.eta < 2:
            raise HwssmError(f"--eta must be an integer >= 2, not {self.eta!r}")
        if self.test_limit is not None and (isinstance(self.test_limit, bool) or not 1 <= self.test_limit <= 10_000):
            raise HwssmError(f"--test-limit must be in [1, 10000], not {self.test_limit!r}")

    def stages(self) -> list[tuple[Split, int | None]]:
        """(split, digits) of every rung, the final test rung last."""
        return [(Split.VAL, n) for n in self.val] + [(Split.TEST, self.test_limit)]

    def to_json(self) -> dict:
        return {"val": list(self.val), "eta": self.eta, "test_limit": self.test_limit}


def accuracy_inputs(digest: str, split: Split, limit: int | None) -> dict:
    """What an accuracy record depends on (the sweep's own for the test split)."""
    return {"qmodel": digest, "split": split.value, "limit": limit}


def accuracy_of(qm: QModel, digest: str, split: Split, limit: int | None, cache: RecordCache) -> tuple[dict, bool]:
    """Golden-engine accuracy of ``qm`` on the first ``limit`` digits of ``split`` (cached);
    returns (record, whether it came from the cache). The record: accuracy (fraction), digits,
    correct, seconds."""
    inputs = accuracy_inputs(digest, split, limit)
    key = content_key(RecordKind.ACCURACY, inputs)
    hit = cache.get(RecordKind.ACCURACY, key)
    if hit is not None:
        return hit, True
    from ..golden.evaluate import evaluate, test_pixels

    pixels, labels = test_pixels(split, limit)
    ev = evaluate(qm, pixels, labels)
    value = {"accuracy": ev.accuracy, "digits": ev.digits, "correct": int((ev.pred == labels).sum()),
             "footprint_bits": ev.footprint_bits, "float32_bits": ev.float32_bits, "seconds": ev.seconds}
    cache.put(RecordKind.ACCURACY, key, value, inputs)
    return value, False


def pareto_layers(points: list[tuple[float, float, float]]) -> list[int]:
    """Non-dominated sorting of (accuracy ↑, lut ↓, latency ↓) points: the layer of each
    (0: the Pareto front, 1: the front once layer 0 is removed, ...)."""
    n = len(points)
    layer = [-1] * n
    left = set(range(n))
    k = 0
    while left:
        front = {i for i in left if not any(dominates(points[j], points[i]) for j in left if j != i)}
        for i in front:
            layer[i] = k
        left -= front
        k += 1
    return layer


def dominates(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool:
    """``a`` is at least as good as ``b`` in accuracy (↑), LUT4 (↓) and latency (↓), better in one."""
    return a[0] >= b[0] and a[1] <= b[1] and a[2] <= b[2] and a != b


def cheapest(designs: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (LUT4, latency) pairs no other pair of the list beats in both (one plan's designs
    share its accuracy, so only these can place it on a front)."""
    out, best = [], math.inf
    for lut, lat in sorted(set(designs)):
        if lat < best:
            out.append((lut, lat))
            best = lat
    return out


def reachable(acc: float, n: int, floor: float) -> bool:
    """Whether a plan measured at ``acc`` on ``n`` digits may still reach ``floor``: within two
    binomial standard errors (plus one digit)."""
    se = math.sqrt(max(acc * (1 - acc), 1.0 / n) / n)
    return acc + 2 * se + 1.0 / n >= floor


def select(acc: dict[str, float], n: int, designs: dict[str, list[tuple[float, float]]], floor: float,
           keep: int) -> tuple[list[str], dict[str, str]]:
    """Survivors of a rung (see the module docstring) and, for the others, why they stop.

    ``acc``: plan code -> accuracy on ``n`` digits; ``designs``: plan code -> (LUT4, latency ms)
    of its fitting designs; ``keep``: how many may go on."""
    dropped: dict[str, str] = {}
    alive = []
    for code, a in acc.items():
        if reachable(a, n, floor):
            alive.append(code)
        else:
            dropped[code] = f"{100 * a:.2f}% on {n} digits: below the floor"
    if not alive:  # nothing can reach the floor: go on with the best, to report the best found
        alive = list(acc)
        dropped.clear()
    pts, owner = [], []
    for code in alive:
        for lut, lat in cheapest(designs[code]):
            pts.append((acc[code], lut, lat))
            owner.append(code)
    layers = pareto_layers(pts)
    best: dict[str, int] = {}
    for code, lay in zip(owner, layers):
        best[code] = min(best.get(code, lay), lay)
    ranked = sorted(alive, key=lambda c: (best.get(c, 1 << 30), -acc[c], c))
    for c in ranked[keep:]:
        dropped[c] = f"{100 * acc[c]:.2f}% on {n} digits, Pareto layer {best.get(c)}: not among the best {keep}"
    return ranked[:keep], dropped


def run_rungs(qmodels: dict[str, QModel], digests: dict[str, str], designs: dict[str, list[tuple[float, float]]],
              floor: float, rungs: Rungs, cache: RecordCache,
              progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Successive halving over the plans of ``qmodels``; returns per plan its measured accuracies
    by rung and where it stopped, and counts of evaluations computed / cached.

    ``progress(done, total, label)`` after each evaluation of a rung."""
    alive = list(qmodels)
    history: dict[str, dict] = {c: {"rungs": [], "stopped": None} for c in qmodels}
    computed = cached = 0
    stages = rungs.stages()
    for r, (split, limit) in enumerate(stages):
        label = f"rung {r + 1}/{len(stages)}: {len(alive)} plans on {split.value} " + \
                (f"{limit:,} digits" if limit else "all digits")
        acc = {}
        for i, code in enumerate(alive):
            rec, hit = accuracy_of(qmodels[code], digests[code], split, limit, cache)
            cached += hit
            computed += not hit
            acc[code] = rec["accuracy"]
            history[code]["rungs"].append({"split": split.value, "digits": rec["digits"], "accuracy": rec["accuracy"],
                                           "seconds": rec.get("seconds")})
            if progress:
                progress(i + 1, len(alive), label)
        if split is Split.TEST:
            for code in alive:
                history[code]["stopped"] = "final"
            break
        keep = max(1, math.ceil(len(alive) / rungs.eta))
        n = next(iter(history[c]["rungs"][-1]["digits"] for c in alive)) if alive else 1
        alive, dropped = select(acc, n, designs, floor, keep)
        for code, why in dropped.items():
            history[code]["stopped"] = f"rung {r + 1}: {why}"
        if not alive:
            break
    return {"plans": history, "computed": computed, "cached": cached}
