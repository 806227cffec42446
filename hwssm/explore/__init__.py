"""Design-space exploration: sweeps over precision plans, lanes and devices.

Entry points (``hwssm sweep`` on the command line, and for :mod:`hwssm.flow`)::

    from hwssm.explore import SweepSpec, Parallelism, run_sweep
    res = run_sweep(SweepSpec(model=..., plans=(...), lanes=(1, 2), devices=(targets.ECP5_25K,)),
                    Parallelism(jobs=2))
    res.write("reports/sweep.json")          # then hwssm.report.sweep_report.write_sweep_report

Every record (calibration, accuracy, hardware) is cached by content under
``hwssm.config.cache_dir()/sweep/``; see :mod:`hwssm.explore.cache`.
"""

from .cache import RecordCache, RecordKind
from .pool import Parallelism
from .spec import SweepSpec
from .sweep import SweepResult, load_results, merge_results, run_sweep

__all__ = ["Parallelism", "RecordCache", "RecordKind", "SweepResult", "SweepSpec", "load_results", "merge_results", "run_sweep"]
