"""Synthesis (Yosys) and place-and-route (nextpnr) of generated RTL, with report parsers.

Entry point: :func:`hwssm.synth.flow.synthesize` (``hwssm synth`` on the command line).
"""

from .flow import SynthOptions, SynthReport, synthesize
from .nextpnr import DesignDoesNotFit
from .results import CriticalPath, PnrResult, SynthResult, Utilization
from .wrapper import DebugPolicy

__all__ = [
    "CriticalPath",
    "DebugPolicy",
    "DesignDoesNotFit",
    "PnrResult",
    "SynthOptions",
    "SynthReport",
    "SynthResult",
    "Utilization",
    "synthesize",
]
