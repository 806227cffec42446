"""The space ``hwssm search`` explores: precision plans × lanes P × mixing columns × pipeline depth.

A candidate is one (plan, design point) on one device. The space is the product of

* **plans** (:class:`PlanGrid`): Ā bits (re = im) × state x bits (re = im) × B̄/C̄/D bits (one
  width for the three) × weight bits × activation bits × granularity (per tensor / per head),
  every combination as a short code (``A10x12-B6C6D6-W6-a8-h``); biases keep their default
  width (``max(16, W)``). The default grid, 3 × 3 × 3 × 2 × 2 × 2 = 216 plans, brackets the
  PTQ plans that hold accuracy on the shipped float model (``reports/quantization.md``: Ā ≥ 10
  and x ≥ 12 bits per tensor, or per head at 8 bits) and the cheap ones a UP5K holds (its
  LOAD storage packs the state in 16-bit SPRAM words: x ≤ 8 bits; B̄/C̄/D ≤ 4 bits are built
  from LUTs, wider ones need more than its 8 DSPs).
  Explicit plans (``--plans``, or a QModel's own plan) replace the grid; a per-layer plan
  enters the same way, as one more :class:`~hwssm.quant.plan.PrecisionPlan` value;
* **hardware** (:class:`HardwareGrid`): lanes P (default 1, 2, 4) × mixing columns per lane
  cycle (``Pipeline.mix_cols``, default 4, 8) × pipeline depth (:class:`Depth`: the device's
  build-profile pipeline, or the shallow default ``Pipeline()``). Storage and soft-multiplier
  width stay the device's build profile (UP5K: LOAD storage in SPRAM, ≤ 4-bit multiplies in
  LUTs).

Default size: 216 plans × 12 designs = 2,592 candidates per device.

An **S5** model's default grid (:meth:`PlanGrid.s5`) reads the same components (Λ̄ for Ā, B̄ = C̃ = D)
plus the S5 B̄u width (``bu``: the state's, or 16 bits), 216 plans. Its designs take the device's
build profile as well; an S5 core is built with ROM storage only so far, so on a LOAD-storage
device (the UP5K) every candidate "cannot be built" and the search says so in one line.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools

from ..errors import HwssmError
from ..hw.options import MIX_COLS, DesignPoint, Pipeline
from ..model.config import Family
from ..quant.plan import PrecisionPlan, parse_code
from ..targets import Device

__all__ = ["Dataset", "Depth", "PlanGrid", "HardwareGrid", "SearchSpace", "Candidate"]


class Dataset(enum.Enum):
    """The task the accuracy is measured on (sequential MNIST: 784 steps of one pixel)."""

    SMNIST = "smnist"

    @property
    def seq_len(self) -> int:
        """T, steps per sequence."""
        return 784


class Depth(enum.Enum):
    """Pipeline depth of a candidate.

    Members
    -------
    PROFILE
        The device's build-profile pipeline (``Pipeline.fast()`` on every shipped device):
        memory reads and requantizations registered, for the clock.
    SHALLOW
        ``Pipeline()``: no extra registers; fewer cycles and flip-flops, a lower Fmax (the
        estimator gives latency at the device's stated clock, so only synthesis shows the loss).
    """

    PROFILE = "profile"
    SHALLOW = "shallow"

    def pipeline(self, device: Device, mix_cols: int) -> Pipeline:
        base = device.profile.pipeline if self is Depth.PROFILE else Pipeline()
        return dataclasses.replace(base, mix_cols=mix_cols)


def _ints(name: str, values, lo: int, hi: int) -> tuple[int, ...]:
    values = tuple(values)
    if not values:
        raise HwssmError(f"the search space needs at least one value of {name}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise HwssmError(f"{name} must be integers in [{lo}, {hi}], not {v!r}")
    if len(set(values)) != len(values):
        raise HwssmError(f"{name} lists a value twice")
    return values


@dataclasses.dataclass(frozen=True)
class PlanGrid:
    """Bit widths per component (each a tuple of choices); see the module docstring.

    Attributes
    ----------
    A, x, BCD, weight, act : tuple[int, ...]
        Bits of Ā (S5: Λ̄; re and im), the state x (re and im), B̄ = C̄ = D (S5: B̄, C̃, D), the
        weights, the activations.
    per_head : tuple[bool, ...]
        Granularity choices: False per tensor, True per head (S5: per mode or per channel).
    bu : tuple[int or None, ...]
        S5 only: bits of the B̄u format (re = im; ``-u16``); None: the state's width (no ``bu``
        component, the only choice of an S4D grid, whose plans have no B̄u).
    """

    A: tuple[int, ...] = (8, 10, 12)
    x: tuple[int, ...] = (8, 10, 12)
    BCD: tuple[int, ...] = (4, 6, 8)
    weight: tuple[int, ...] = (4, 8)
    act: tuple[int, ...] = (6, 8)
    per_head: tuple[bool, ...] = (False, True)
    bu: tuple[int | None, ...] = (None,)

    def __post_init__(self):
        for name in ("A", "x", "BCD", "weight"):
            object.__setattr__(self, name, _ints(name, getattr(self, name), 2, 32))
        object.__setattr__(self, "act", _ints("act", self.act, 2, 16))
        object.__setattr__(self, "per_head", tuple(bool(h) for h in self.per_head) or (False,))
        bu = tuple(self.bu) or (None,)
        if bu.count(None) > 1:
            raise HwssmError("bu lists a value twice")
        if any(b is not None for b in bu):
            _ints("bu", [b for b in bu if b is not None], 2, 32)
        object.__setattr__(self, "bu", bu)

    @classmethod
    def s5(cls) -> "PlanGrid":
        """The default grid of an S5 model: Λ̄ 8/10/12 × x 8/12/16 × B̄ = C̃ = D 4/6/8 × W 4/8 ×
        a 8 × per tensor/per head × B̄u at the state's width or 16 bits (216 plans). The Q-S5 study
        (:mod:`hwssm.explore.s5_study`) keeps activations at 8 bits and finds the stored state
        and B̄u need more than the activation width per tensor, hence x up to 16 and a 16-bit B̄u."""
        return cls(A=(8, 10, 12), x=(8, 12, 16), BCD=(4, 6, 8), weight=(4, 8), act=(8,), per_head=(False, True),
                   bu=(None, 16))

    def plans(self) -> tuple[PrecisionPlan, ...]:
        """Every combination, as plans (short codes), in grid order."""
        out = []
        for a, x, b, w, act, h, u in itertools.product(self.A, self.x, self.BCD, self.weight, self.act,
                                                       self.per_head, self.bu):
            out.append(parse_code(f"A{a}x{x}-B{b}C{b}D{b}-W{w}-a{act}" + ("" if u is None else f"-u{u}")
                                  + ("-h" if h else "")))
        return tuple(out)

    def to_json(self) -> dict:
        d = {k: list(v) for k, v in dataclasses.asdict(self).items()}
        if d["bu"] == [None]:
            del d["bu"]          # S4D grids: as before bu existed
        return d


@dataclasses.dataclass(frozen=True)
class HardwareGrid:
    """Design choices per plan: lanes P × mixing columns × pipeline depth (module docstring)."""

    lanes: tuple[int, ...] = (1, 2, 4)
    mix_cols: tuple[int, ...] = (4, 8)
    depths: tuple[Depth, ...] = (Depth.PROFILE, Depth.SHALLOW)

    def __post_init__(self):
        object.__setattr__(self, "lanes", _ints("lanes", self.lanes, 1, 1024))
        object.__setattr__(self, "mix_cols", tuple(self.mix_cols))
        if not self.mix_cols or any(k not in MIX_COLS for k in self.mix_cols):
            raise HwssmError(f"mix_cols must be among {MIX_COLS}, not {self.mix_cols!r}")
        object.__setattr__(self, "depths", tuple(self.depths))
        if not self.depths or not all(isinstance(d, Depth) for d in self.depths):
            raise HwssmError("depths must be Depth values")

    def designs(self, device: Device, seq_len: int) -> tuple[DesignPoint, ...]:
        """The design points on ``device`` (storage and soft multipliers of its build profile),
        lanes outermost."""
        prof = device.profile
        return tuple(DesignPoint(P, seq_len, d.pipeline(device, k), prof.storage, prof.soft_mul_bits)
                     for P in self.lanes for k in self.mix_cols for d in self.depths)

    def to_json(self) -> dict:
        return {"lanes": list(self.lanes), "mix_cols": list(self.mix_cols), "depths": [d.value for d in self.depths]}


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One point of the space: a plan built as a design point on a device."""

    plan: PrecisionPlan
    design: DesignPoint

    @property
    def depth(self) -> Depth:
        """The :class:`Depth` of the design's pipeline (SHALLOW for ``Pipeline()`` register stages)."""
        p, s = self.design.pipeline, Pipeline()
        shallow = (p.mem_stages, p.requant_stages, p.acc_stages) == (s.mem_stages, s.requant_stages, s.acc_stages)
        return Depth.SHALLOW if shallow else Depth.PROFILE


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """Plans × hardware designs on one device."""

    plans: tuple[PrecisionPlan, ...]
    hardware: HardwareGrid = HardwareGrid()
    grid: PlanGrid | None = None

    def __post_init__(self):
        object.__setattr__(self, "plans", tuple(self.plans))
        if not self.plans:
            raise HwssmError("the search space has no plans")
        codes = [p.code for p in self.plans]
        if len(set(codes)) != len(codes):
            raise HwssmError("the search space lists a plan twice")

    @classmethod
    def default(cls, hardware: HardwareGrid = HardwareGrid(), family: Family = Family.S4D) -> "SearchSpace":
        """The default plan grid of ``family`` (:meth:`PlanGrid.s5` for S5) × ``hardware``."""
        grid = PlanGrid.s5() if family is Family.S5 else PlanGrid()
        return cls(grid.plans(), hardware, grid)

    def candidates(self, device: Device, seq_len: int) -> list[Candidate]:
        designs = self.hardware.designs(device, seq_len)
        return [Candidate(p, d) for p in self.plans for d in designs]

    def size(self, device: Device, seq_len: int) -> int:
        return len(self.plans) * len(self.hardware.designs(device, seq_len))

    def to_json(self) -> dict:
        return {"plans": len(self.plans), "grid": None if self.grid is None else self.grid.to_json(),
                "plan_codes": None if self.grid is not None else [p.code for p in self.plans],
                "hardware": self.hardware.to_json()}
