"""Run the PTQ studies of the quantization report through the cached sweep machinery."""

from __future__ import annotations

from pathlib import Path

from ..errors import HwssmError
from .cache import RecordCache
from .pool import Parallelism
from .spec import SweepSpec
from .studies import all_plans, study_plans, study_rows
from .sweep import run_sweep

__all__ = ["run_quantization_studies", "float_accuracy", "qmodel_results"]


def run_quantization_studies(model: str | Path, *, limit: int | None = None, calib_digits: int = 256,
                             parallelism: Parallelism = Parallelism(), cache: RecordCache | None = None,
                             progress=None, calib_progress=None) -> dict:
    """PTQ accuracy of every study plan (accuracy-only sweep points); returns the report's data.

    ``model`` must be a float checkpoint. Returns ``studies`` (rows per study), ``model``
    (path, digest, config), the calibration settings, the sweep's stats and errors.
    """
    studies = study_plans()
    spec = SweepSpec(model=Path(model), plans=tuple(all_plans(studies)), limit=limit, calib_digits=calib_digits)
    if spec.is_qmodel:
        raise HwssmError(f"{model} is a QModel; the PTQ studies need the float checkpoint")
    res = run_sweep(spec, parallelism, cache=cache, progress=progress, calib_progress=calib_progress)
    by_code = {p["plan_code"]: p for p in res.points}
    stats = res.to_json()["stats"]
    return {"studies": study_rows(studies, by_code), "model": res.source, "calib_digits": spec.calib_digits,
            "calibration": spec.calibration.value, "limit": limit, "sweep": stats, "errors": res.errors}


def float_accuracy(model: str | Path, limit: int | None = None, progress=None) -> tuple[float, str]:
    """Accuracy of the float checkpoint on the first ``limit`` test digits, and where it came from.

    On the full test set, the checkpoint's own ``meta["test_accuracy"]`` is used when its
    ``test_accuracy_source`` says it is the numpy float reference (:mod:`hwssm.model.network`);
    otherwise the float model runs (predictions cached on disk).
    """
    import numpy as np

    from ..data import Split
    from ..golden.evaluate import float_predictions, test_pixels
    from ..model.checkpoint import load_checkpoint

    ckpt = load_checkpoint(model)
    meta_acc = ckpt.meta.get("test_accuracy")
    if limit is None and isinstance(meta_acc, float) and "numpy" in str(ckpt.meta.get("test_accuracy_source", "")):
        return meta_acc, "checkpoint meta (numpy float reference, 10,000 test digits)"
    pixels, labels = test_pixels(Split.TEST, limit)
    pred = float_predictions(ckpt, pixels, progress)
    return float(np.mean(pred == labels)), f"float model (numpy) on {len(labels):,} test digits"


def qmodel_results(paths, *, limit: int | None = None, parallelism: Parallelism = Parallelism(),
                   cache: RecordCache | None = None, progress=None) -> tuple[list[dict], list[str]]:
    """Golden-engine accuracy of QModel files (e.g. the QAT models shipped in ``models/``).

    On the full test set, a QModel whose meta records ``golden_test_accuracy`` over
    ``golden_digits == 10000`` (written by QAT export, from the golden engine) is taken as it
    is; otherwise it is evaluated through the sweep (cached). Returns result rows (label, plan,
    accuracy, memory_bits, method, digits, file, source) and errors.
    """
    from ..quant.qmodel_io import load_qmodel

    rows, errors = [], []
    for path in paths:
        path = Path(path)
        try:
            qm = load_qmodel(path)
        except HwssmError as exc:
            errors.append(str(exc))
            continue
        meta = qm.meta
        method = str(meta.get("quantization", "qmodel"))
        if meta.get("parameterization"):
            method += f" ({meta['parameterization']})"
        row = {"label": path.name.removesuffix(".qmodel.json"), "plan": qm.plan.name, "memory_bits": qm.footprint_bits,
               "method": method, "file": str(path)}
        meta_acc = meta.get("golden_test_accuracy")
        if limit is None and isinstance(meta_acc, float) and meta.get("golden_digits") == 10_000:
            rows.append({**row, "accuracy": meta_acc, "digits": 10_000, "source": "QModel meta (golden engine)"})
            continue
        res = run_sweep(SweepSpec(model=path, limit=limit), parallelism, cache=cache, progress=progress)
        errors += res.errors
        p = res.points[0]
        rows.append({**row, "accuracy": p["accuracy"], "digits": p["digits"], "source": "golden engine (this run)"})
    return rows, errors
