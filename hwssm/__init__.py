"""hwssm: hardware/software co-design simulator for quantized S4D state-space models.

The Python API (:mod:`hwssm.api`) is re-exported here lazily: ``hwssm.evaluate``,
``hwssm.QModel``, ... import :mod:`hwssm.api` on first use, so ``import hwssm`` stays cheap
(no numpy, numba or Amaranth until a stage needs them)::

    import hwssm
    qm = hwssm.load_model("s4d_hetero")
    res = hwssm.evaluate(qm, hwssm.mnist_digits("test", range(100)))
"""

import importlib

__version__ = "0.1.0"

#: Names of :mod:`hwssm.api` available as ``hwssm.<name>`` (kept equal to ``hwssm.api.__all__``
#: by ``tests/test_api.py``).
API = (
    "load_model", "save_model", "model_path", "quantize", "mnist_digits", "check_data", "parse_split",
    "load_dataset", "import_s4d", "import_s5", "evaluate", "design_for", "generate_rtl", "estimate_cost", "simulate",
    "synthesize", "sweep",
    "PTQOptions", "EvalOptions", "EvalResult", "Trace", "Rtl", "SimOptions", "SimResult", "SynthOptions",
    "SynthReport", "SweepSpec", "SweepResult", "Parallelism", "Estimate", "DataReport", "DesignDoesNotFit",
    "S4DImport", "S5Import", "QModel", "Checkpoint", "SequenceDataset", "PrecisionPlan", "Calibration", "Digits",
    "Split", "DesignPoint", "Pipeline", "ParamStorage", "Device", "HwssmError",
)

__all__ = ["__version__", *API]


def __getattr__(name: str):
    # The API sits on floor 5 of the layering; this package module on floor 1 reaches it only
    # when a name is asked for, by name (not an import statement that would run up the floors).
    if name in API:
        value = getattr(importlib.import_module("hwssm.api"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hwssm' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(API))
