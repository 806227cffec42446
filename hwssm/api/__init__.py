"""The Python API: every stage of hwssm as a typed function (the CLI's commands sit on it).

Stages and their functions (each also at the package top level: ``hwssm.evaluate``)::

    load_model / save_model / quantize      models (QModel files, float checkpoints, shipped names; PTQ)
    import_s4d / import_s5                  a state-spaces/s4 S4D state dict, a lindermanlab/S5 flax tree
    load_dataset                            data: any dataset by name or NPZ file (SequenceDataset)
    mnist_digits / check_data               data (sMNIST / psMNIST sequences as Digits)
    evaluate                                golden engine: accuracy, integer logits, traces
    design_for / generate_rtl               design points (a device's build profile), Verilog
    estimate_cost                           analytic LUT/FF/DSP/RAM estimate
    simulate                                Verilator, bit-exact against the golden engine
    synthesize                              Yosys + nextpnr: utilization and fmax
    sweep                                   plans × lanes × devices, cached

Every function takes typed inputs (dataclasses, enums; user-facing names such as a plan
code, a device or split name are parsed once, on entry), returns a frozen dataclass, and
raises :class:`~hwssm.errors.HwssmError` with a one-line message for bad input. Heavy
dependencies (numba, Amaranth, cocotb) are imported only by the functions that need them.
"""

from ..data import DataReport, SequenceDataset, Split
from ..errors import HwssmError
from ..explore import Parallelism, SweepResult, SweepSpec
from ..hw.cost import Estimate
from ..hw.options import DesignPoint, ParamStorage, Pipeline
from ..model.checkpoint import Checkpoint
from ..quant.calibrate import Calibration
from ..quant.plan import PrecisionPlan
from ..quant.qmodel import QModel
from ..synth import DesignDoesNotFit, SynthOptions, SynthReport
from ..targets import Device
from ..verify.simulate import Digits, SimOptions, SimResult
from .data import check_data, load_dataset, mnist_digits, parse_split
from .importers import S4DImport, S5Import, import_s4d, import_s5
from .golden import EvalOptions, EvalResult, Trace, evaluate
from .hardware import Rtl, design_for, estimate_cost, generate_rtl, synthesize
from .models import PTQOptions, load_model, model_path, quantize, save_model
from .simulation import simulate
from .sweep import sweep

__all__ = [
    # functions, in stage order
    "load_model", "save_model", "model_path", "quantize", "mnist_digits", "check_data", "parse_split",
    "load_dataset", "import_s4d", "import_s5", "evaluate", "design_for", "generate_rtl", "estimate_cost", "simulate",
    "synthesize", "sweep",
    # options and results
    "PTQOptions", "EvalOptions", "EvalResult", "Trace", "Rtl", "SimOptions", "SimResult", "SynthOptions",
    "SynthReport", "SweepSpec", "SweepResult", "Parallelism", "Estimate", "DataReport", "DesignDoesNotFit",
    # the vocabulary
    "S4DImport", "S5Import", "QModel", "Checkpoint", "SequenceDataset", "PrecisionPlan", "Calibration", "Digits",
    "Split", "DesignPoint", "Pipeline", "ParamStorage", "Device", "HwssmError",
]
