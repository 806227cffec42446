"""The QModels of a sweep: one per plan, by PTQ from a float checkpoint, or a given QModel (S4D or S5).

PTQ is calibration (float model on training digits; independent of the plan) followed by
quantization (fast). The calibrated ranges (S4D: :class:`~hwssm.quant.calibrate.Ranges`; S5:
:class:`~hwssm.quant.s5_ptq.S5Ranges`) are computed once per checkpoint and cached as a record,
so every plan of a sweep, and every later sweep, reuses them. The QModels are
the same as :func:`hwssm.quant.resolve.resolve_model` builds (same digits, same method).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..errors import HwssmError
from ..model.checkpoint import Checkpoint, load_checkpoint
from ..model.config import Family
from ..quant.calibrate import Calibration, Ranges, calibrate
from ..quant.plan import PrecisionPlan
from ..quant.ptq import quantize_model
from ..quant.qmodel import QModel
from ..quant.qmodel_io import load_qmodel
from ..quant.s5_qmodel import S5QModel
from .cache import RecordCache, RecordKind, content_key
from .spec import SweepSpec

__all__ = ["checkpoint_digest", "sweep_qmodels", "ranges_to_json", "ranges_from_json"]

#: Percentile used by PERCENTILE calibration (the PTQ default).
PERCENTILE = 99.99


def checkpoint_digest(ckpt: Checkpoint) -> str:
    """SHA-256 of a float checkpoint's config and arrays (as float32): the float model's identity."""
    h = hashlib.sha256(repr(sorted(ckpt.config.to_json().items())).encode())
    for k in sorted(ckpt.params):
        a = np.ascontiguousarray(ckpt.params[k], dtype=np.float32)
        h.update(k.encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def ranges_to_json(r: Ranges) -> dict:
    """JSON form of calibrated ranges (floats round-trip exactly through JSON)."""
    return {"r": list(r.r), "y": list(r.y), "g": list(r.g), "v": list(r.v), "z": list(r.z),
            "x_re": r.x_re.tolist(), "x_im": r.x_im.tolist(), "digits": r.digits,
            **({"n": list(r.n)} if r.n else {})}   # the LayerNorm point, only with a LayerNorm


def ranges_from_json(d: dict) -> Ranges:
    return Ranges(r=[float(x) for x in d["r"]], y=[float(x) for x in d["y"]], g=[float(x) for x in d["g"]],
                  v=[float(x) for x in d["v"]], z=[float(x) for x in d["z"]],
                  x_re=np.asarray(d["x_re"], dtype=np.float64), x_im=np.asarray(d["x_im"], dtype=np.float64),
                  digits=int(d["digits"]), n=[float(x) for x in d.get("n", [])])


def _calib_inputs(digest: str, spec: SweepSpec) -> tuple[dict, object]:
    """What calibration depends on (checkpoint, digits, method, data), and the non-default dataset or None."""
    inputs = {"checkpoint": digest, "calib_digits": spec.calib_digits, "calibration": spec.calibration.value,
              "percentile": PERCENTILE if spec.calibration is Calibration.PERCENTILE else None}
    data = None
    if not spec.data.is_default:
        from ..data import load_dataset

        data = load_dataset(spec.data)
        inputs["data"] = data.identity
    return inputs, data


def _calib_pixels(spec: SweepSpec, data) -> np.ndarray:
    """The first ``spec.calib_digits`` training sequences (uint8 (n, T)) of ``data`` (None: MNIST)."""
    from ..data import Split, load_mnist, sequences

    if data is None:
        images, _ = load_mnist(Split.TRAIN)
        return sequences(images[:spec.calib_digits])
    return data.split("train").sequences(spec.calib_digits)


def _ranges(ckpt: Checkpoint, digest: str, spec: SweepSpec, cache: RecordCache, progress) -> Ranges:
    inputs, data = _calib_inputs(digest, spec)
    key = content_key(RecordKind.CALIBRATION, inputs)
    hit = cache.get(RecordKind.CALIBRATION, key)
    if hit is not None:
        try:
            return ranges_from_json(hit)
        except (KeyError, TypeError, ValueError):
            pass
    calib = _calib_pixels(spec, data)
    ranges = calibrate(ckpt.config, ckpt.params, calib, spec.calibration, PERCENTILE, progress=progress)
    cache.put(RecordKind.CALIBRATION, key, ranges_to_json(ranges), inputs)
    return ranges


def _s5_ranges(ckpt: Checkpoint, digest: str, spec: SweepSpec, cache: RecordCache):
    """The calibrated S5 ranges (:class:`~hwssm.quant.s5_ptq.S5Ranges`), from the cache or from one
    float trace of the calibration digits (then cached). The key holds what S4D calibration's does,
    the family, and :func:`~hwssm.explore.versions.s5_calibration_version` (the code of the float
    forward and of the range computation)."""
    from ..model.s5_network import forward
    from ..quant.s5_ptq import S5Ranges, s5_ranges
    from .versions import s5_calibration_version

    inputs, data = _calib_inputs(digest, spec)
    inputs.update(family=Family.S5.value, implementation=s5_calibration_version())
    key = content_key(RecordKind.CALIBRATION, inputs)
    hit = cache.get(RecordKind.CALIBRATION, key)
    if hit is not None:
        try:
            return S5Ranges.from_json(hit)
        except (KeyError, TypeError, ValueError):
            pass
    calib = _calib_pixels(spec, data)
    trace = forward(ckpt.params, ckpt.config, calib, trace=True, folded=True)[1]
    ranges = s5_ranges(trace, len(calib), spec.calibration, PERCENTILE)
    cache.put(RecordKind.CALIBRATION, key, ranges.to_json(), inputs)
    return ranges


def _s5_qmodels(ckpt: Checkpoint, digest: str, spec: SweepSpec, cache: RecordCache) -> dict[str, S5QModel]:
    """PTQ of a float S5 checkpoint per plan: the same QModels as :func:`hwssm.quant.s5_ptq.ptq_s5`
    and :func:`hwssm.quant.resolve.resolve_model` give (same digits, same method), from ranges
    calibrated once for every plan and cached (:func:`_s5_ranges`)."""
    from ..quant.s5_ptq import quantize_s5

    if not spec.plans:
        return {}
    ranges = _s5_ranges(ckpt, digest, spec, cache)
    meta = {"source_checkpoint": str(spec.model)}   # quantize_s5 records the calibration itself
    return {plan.code: quantize_s5(ckpt.config, ckpt.params, plan, ranges, meta) for plan in spec.plans}


def sweep_qmodels(spec: SweepSpec, cache: RecordCache, progress=None) -> tuple[dict[str, QModel | S5QModel], dict]:
    """One QModel per plan of ``spec`` (by plan code, in spec order), and source info for the results.

    Both families: an S5 checkpoint gives :class:`~hwssm.quant.s5_qmodel.S5QModel` s (PTQ per plan).
    ``progress(done, total)`` reports S4D calibration (only when the ranges are not cached;
    S5 calibration is one float trace, not reported).
    """
    if spec.is_qmodel:
        qm = load_qmodel(spec.model)
        if spec.plans and spec.plans[0].code != qm.plan.code:
            raise HwssmError(f"{spec.model} was quantized with plan {qm.plan.name}; the sweep asks for {spec.plans[0].name}")
        return {qm.plan.code: qm}, {"kind": "qmodel", "path": str(spec.model), "digest": qm.digest()}
    ckpt = load_checkpoint(spec.model)
    digest = checkpoint_digest(ckpt)
    info = {"kind": "checkpoint", "path": str(spec.model), "digest": digest, "config": ckpt.config.to_json()}
    if ckpt.config.family is Family.S5:
        return _s5_qmodels(ckpt, digest, spec, cache), info
    ranges = _ranges(ckpt, digest, spec, cache, progress)
    meta = {"quantization": "ptq", "calibration": spec.calibration.value, "calibration_digits": ranges.digits,
            "source_checkpoint": str(spec.model)}
    if spec.calibration is Calibration.PERCENTILE:
        meta["percentile"] = PERCENTILE
    out = {}
    for plan in spec.plans:
        out[plan.code] = quantize_model(ckpt.config, ckpt.params, plan, ranges, meta)
    return out, info


def plan_by_code(spec: SweepSpec, qmodels: dict[str, QModel]) -> dict[str, PrecisionPlan]:
    """The plan object (with its label) for each code: the spec's, or the QModel's own."""
    plans = {p.code: p for p in spec.plans}
    for code, qm in qmodels.items():
        plans.setdefault(code, qm.plan)
    return plans
