"""Sweeps: accuracy and hardware cost over precision plans × lanes × devices (cached by content)."""

from __future__ import annotations

import dataclasses

from ..errors import HwssmError
from ..explore import Parallelism, SweepResult, SweepSpec
from .models import Progress, model_path

__all__ = ["sweep"]


def sweep(spec: SweepSpec, parallelism: Parallelism = Parallelism(), *,
          progress: Progress | None = None) -> SweepResult:
    """Compute (or find in the cache) every point of ``spec``.

    Parameters
    ----------
    spec : SweepSpec
        The model (a float checkpoint with ``plans``, or a QModel; a shipped model's name
        is looked up), the plans, lanes P and devices (none of either: accuracy only), the
        test digits (``limit``) and the calibration.
    parallelism : Parallelism
        Local worker processes or a Dask scheduler.
    progress : callable or None
        ``progress(done, total)`` in records (cached records count as done at once).

    Returns
    -------
    SweepResult
        ``points``: one record per plan (× lanes × device) with accuracy, footprint and,
        for hardware points, the estimate and the Yosys/nextpnr figures; ``write(path)``
        saves the JSON that :mod:`hwssm.report` draws from.
    """
    from ..explore import run_sweep

    if not isinstance(spec, SweepSpec):
        raise HwssmError(f"spec must be a SweepSpec, not {type(spec).__name__}")
    if not isinstance(parallelism, Parallelism):
        raise HwssmError(f"parallelism must be a Parallelism, not {type(parallelism).__name__}")
    if not spec.model.exists():
        spec = dataclasses.replace(spec, model=model_path(spec.model))
    return run_sweep(spec, parallelism, progress=progress)
