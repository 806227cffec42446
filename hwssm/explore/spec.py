"""SweepSpec: what a design-space sweep covers (model × plans × lanes × devices, test digits).

A spec is built from command-line flags or read from a JSON file::

    {"model": "../models/s4d_float.json",
     "plans": ["uniform8", "hetero", "A8x12-B4C4D4-W8-a6", {... plan JSON ...}],
     "lanes": [1, 2, 4],
     "devices": ["up5k", "ecp5-25k"],
     "limit": 1000,
     "calib_digits": 256,
     "calibration": "minmax"}

``model`` is relative to the JSON file's directory. With no ``lanes`` and no ``devices``
the sweep is accuracy-only (PTQ studies): no RTL, no synthesis.

This is the published schema of the file (:meth:`SweepSpec.from_json` enforces it): only the
fields above (and ``"format": "hwssm-sweep-spec"``) are allowed; ``model`` is required (a
non-empty string); ``plans`` a list of names, codes, plan-file paths or plan objects
(:data:`hwssm.quant.plan.PLAN_SCHEMA`); ``lanes`` a list of integers in [1, MAX_LANES];
``devices`` a list of device names; ``limit`` an integer in [1, 10000] or null;
``calib_digits`` a positive integer; ``calibration`` a :class:`Calibration` value; ``data``
(optional, default ``"smnist"``) a dataset name or NPZ path (:mod:`hwssm.data.registry`): accuracy
on its test split, calibration on its training split; written only when it is not smnist, so
older specs and cache keys are unchanged.
Unlike a file's companion files, ``model`` may point outside the spec's directory (the
reference specs in ``sweeps/`` name ``../models/...``): it is a reference the user chose.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..data.registry import Builtin, DataSpec, parse_data
from ..errors import HwssmError
from ..io import read_json
from ..quant.calibrate import Calibration
from ..quant.plan import PrecisionPlan, resolve_plan
from ..quant.qmodel_io import is_qmodel_path
from ..targets import Device
from ..targets import device as find_device

__all__ = ["SweepSpec", "MAX_LANES"]

SPEC_FORMAT = "hwssm-sweep-spec"
#: Largest lane count a spec accepts (a sanity bound, not a hardware limit).
MAX_LANES = 4096
#: Digits of the MNIST test split.
TEST_DIGITS = 10_000


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A sweep over precision plans × lanes P × devices.

    Attributes
    ----------
    model : Path
        A float checkpoint (``.json``; each plan is applied by PTQ) or a QModel file
        (``.qmodel.json``; ``plans`` must be empty or its own plan).
    plans : tuple[PrecisionPlan, ...]
        Precision plans, in the order points are listed.
    lanes : tuple[int, ...]
        Complex-MAC lane counts P. Empty for an accuracy-only sweep.
    devices : tuple[Device, ...]
        Synthesis targets. Empty for an accuracy-only sweep.
    limit : int or None
        Evaluate accuracy on the first ``limit`` test digits; None for all 10,000.
    calib_digits : int
        Training digits used for PTQ calibration.
    calibration : Calibration
        PTQ range calibration method.
    data : DataSpec
        The dataset (default smnist): accuracy on its test split, PTQ calibration on its
        training split (JSON field ``data``: a built-in name or an NPZ path; absent: smnist).
    """

    model: Path
    plans: tuple[PrecisionPlan, ...] = ()
    lanes: tuple[int, ...] = ()
    devices: tuple[Device, ...] = ()
    limit: int | None = None
    calib_digits: int = 256
    calibration: Calibration = Calibration.MINMAX
    data: DataSpec = DataSpec(Builtin.SMNIST)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", parse_data(self.data))
        object.__setattr__(self, "model", Path(self.model))
        object.__setattr__(self, "plans", tuple(self.plans))
        object.__setattr__(self, "lanes", tuple(self.lanes))
        object.__setattr__(self, "devices", tuple(self.devices))
        for p in self.plans:
            if not isinstance(p, PrecisionPlan):
                raise HwssmError(f"sweep plans must be PrecisionPlans, not {p!r}")
        codes = [p.code for p in self.plans]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise HwssmError(f"sweep lists plan {dup[0]} twice")
        for P in self.lanes:
            if isinstance(P, bool) or not isinstance(P, int) or not 1 <= P <= MAX_LANES:
                raise HwssmError(f"lanes must be integers in [1, {MAX_LANES}], not {P!r}")
        if len(set(self.lanes)) != len(self.lanes):
            raise HwssmError("sweep lists a lane count twice")
        for d in self.devices:
            if not isinstance(d, Device):
                raise HwssmError(f"sweep devices must be Devices, not {d!r}")
        if len(set(self.devices)) != len(self.devices):
            raise HwssmError("sweep lists a device twice")
        if bool(self.lanes) != bool(self.devices):
            raise HwssmError("give both lanes and devices for hardware points, or neither for an accuracy-only sweep")
        if self.limit is not None:
            if isinstance(self.limit, bool) or not isinstance(self.limit, int) or not 1 <= self.limit <= TEST_DIGITS:
                raise HwssmError(f"limit must be an integer in [1, {TEST_DIGITS}], not {self.limit!r}")
        if isinstance(self.calib_digits, bool) or not isinstance(self.calib_digits, int) or self.calib_digits < 1:
            raise HwssmError(f"calib_digits must be a positive integer, not {self.calib_digits!r}")
        if not isinstance(self.calibration, Calibration):
            raise HwssmError(f"calibration must be a Calibration, not {self.calibration!r}")
        if self.is_qmodel:
            if len(self.plans) > 1:
                raise HwssmError(f"{self.model} is a QModel: it has one plan, the sweep lists {len(self.plans)}")
        elif not self.plans:
            raise HwssmError(f"{self.model} is a float checkpoint: give at least one plan")

    @property
    def is_qmodel(self) -> bool:
        """True when ``model`` is a QModel file rather than a float checkpoint."""
        return is_qmodel_path(self.model)

    @property
    def hardware(self) -> bool:
        """True when the sweep builds and synthesizes RTL (lanes and devices given)."""
        return bool(self.lanes)

    @property
    def digits(self) -> int:
        """Test digits each accuracy is measured on."""
        return TEST_DIGITS if self.limit is None else self.limit

    # -- JSON ----------------------------------------------------------------
    def to_json(self, relative_to: Path | None = None) -> dict:
        """JSON object; ``model`` relative to ``relative_to`` when given (and possible)."""
        model = self.model
        if relative_to is not None:
            try:
                model = Path(_relpath(self.model, relative_to))
            except ValueError:
                pass
        return {
            "format": SPEC_FORMAT,
            "model": str(model),
            "plans": [p.to_json() for p in self.plans],
            "lanes": list(self.lanes),
            "devices": [d.name for d in self.devices],
            "limit": self.limit,
            "calib_digits": self.calib_digits,
            "calibration": self.calibration.value,
            **({} if self.data.is_default else {"data": self.data.text()}),
        }

    @classmethod
    def from_json(cls, d: dict, base: Path | None = None) -> "SweepSpec":
        """A spec from its JSON object; a relative ``model`` is taken relative to ``base``."""
        if not isinstance(d, dict):
            raise HwssmError("a sweep spec must be a JSON object")
        if d.get("format", SPEC_FORMAT) != SPEC_FORMAT:
            raise HwssmError(f"not a sweep spec (format {d.get('format')!r})")
        known = {"format", "model", "plans", "lanes", "devices", "limit", "calib_digits", "calibration", "data"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise HwssmError(f"unknown sweep spec field {unknown[0]!r} (known: {', '.join(sorted(known - {'format'}))})")
        if not isinstance(d.get("model"), str) or not d["model"].strip() or "\0" in d["model"]:
            raise HwssmError("sweep spec needs 'model': a path to a float checkpoint or a QModel")
        model = Path(d["model"])
        if base is not None and not model.is_absolute():
            model = base / model
        plans = d.get("plans", [])
        lanes = d.get("lanes", [])
        devices = d.get("devices", [])
        for name, v in (("plans", plans), ("lanes", lanes), ("devices", devices)):
            if not isinstance(v, list):
                raise HwssmError(f"sweep spec field {name!r} must be a list")
        try:
            calibration = d.get("calibration", Calibration.MINMAX.value)
            if not isinstance(calibration, str):
                raise ValueError(calibration)
            calibration = Calibration(calibration)
        except ValueError:
            raise HwssmError(f"sweep spec calibration must be one of {[c.value for c in Calibration]}") from None
        if not isinstance(d.get("data", ""), str):
            raise HwssmError("sweep spec field 'data' must be a dataset name or an NPZ path (a string)")
        return cls(
            data=d.get("data"),
            model=model,
            plans=tuple(parse_plan(p) for p in plans),
            lanes=tuple(lanes),
            devices=tuple(find_device(x) if isinstance(x, str) else x for x in devices),
            limit=d.get("limit"),
            calib_digits=d.get("calib_digits", 256),
            calibration=calibration,
        )

    @classmethod
    def load(cls, path: str | Path) -> "SweepSpec":
        """Read a spec JSON file; HwssmError (one line) on any problem."""
        path = Path(path)
        d = read_json(path, "sweep spec")
        try:
            return cls.from_json(d, base=path.parent)
        except HwssmError as exc:
            raise HwssmError(f"{path}: {exc}") from None


def parse_plan(p) -> PrecisionPlan:
    """A plan from a name / short code / plan-file path (str), a plan JSON object, or a PrecisionPlan."""
    if isinstance(p, PrecisionPlan):
        return p
    if isinstance(p, str):
        return resolve_plan(p)
    if isinstance(p, dict):
        try:
            return PrecisionPlan.from_json(p)
        except (ValueError, KeyError) as exc:
            raise HwssmError(f"bad plan object: {exc}") from None
    raise HwssmError(f"a plan must be a name, a short code or a plan object, not {p!r}")


def _relpath(path: Path, base: Path) -> str:
    import os

    return os.path.relpath(Path(path).resolve(), Path(base).resolve())
