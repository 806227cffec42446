"""Hardware: design points from a device's build profile, Verilog generation, the analytic
cost estimate, and synthesis + place-and-route (Yosys, nextpnr)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ..errors import HwssmError
from ..hw.cost import Estimate
from ..hw.options import DesignPoint
from ..quant.qmodel import QModel
from ..synth import SynthOptions, SynthReport
from ..targets import Device
from .models import require_integer_model

__all__ = ["Rtl", "design_for", "generate_rtl", "estimate_cost", "synthesize"]


def _device(device: Device | str) -> Device:
    from ..targets import device as find_device

    return find_device(device)


def _design(design) -> DesignPoint:
    if not isinstance(design, DesignPoint):
        raise HwssmError(f"design must be a DesignPoint (see hwssm.design_for), not {type(design).__name__}")
    return design


def design_for(device: Device | str, lanes: int, seq_len: int = 784) -> DesignPoint:
    """The design point of a device's build profile.

    Parameters
    ----------
    device : Device or str
        A :class:`~hwssm.targets.Device` or its name (``"up5k"``, ``"hx8k"``, ``"ecp5-25k"``,
        ``"ecp5-45k"``, ``"ecp5-85k"``).
    lanes : int
        P, complex-MAC lanes.
    seq_len : int
        T, steps per sequence (784 for sMNIST).

    Returns
    -------
    DesignPoint
        The pipeline, parameter storage and soft-multiplier width hwssm builds cores with
        for that device (the UP5K's, for instance, keeps coefficients in SPRAM: LOAD storage).
    """
    return _device(device).profile.design(lanes, seq_len)


@dataclasses.dataclass(frozen=True)
class Rtl:
    """A generated core: a directory with ``hwssm_core.v`` and ``manifest.json``.

    Attributes
    ----------
    path : Path
        The directory (give it to :func:`simulate` or :func:`synthesize`).
    design : DesignPoint
    manifest : dict
        The manifest as written: model digest, plan, design point, ports, cycle model.
    cycles_per_step, cycles_per_digit : int
        Clock cycles per input step and per whole sequence, from the cycle model (exact:
        simulation checks them).
    seconds : float
        Generation time.
    """

    path: Path
    design: DesignPoint
    manifest: dict
    cycles_per_step: int
    cycles_per_digit: int
    seconds: float

    @property
    def verilog(self) -> Path:
        """The Verilog file."""
        from ..hw.emit import VERILOG_NAME

        return self.path / VERILOG_NAME


def generate_rtl(qm: QModel, design: DesignPoint, out_dir: str | os.PathLike) -> Rtl:
    """Generate the Verilog of ``qm`` built as ``design`` (needs Amaranth; seconds for the
    shipped model).

    Parameters
    ----------
    qm : QModel
    design : DesignPoint
        A design point of your own, or :func:`design_for` a device.
    out_dir : str or PathLike
        Created if missing; its ``hwssm_core.v``, ``manifest.json`` and, with LOAD storage,
        ``params.hex`` (the load image) are written atomically.

    Returns
    -------
    Rtl
        HwssmError when the RTL cannot realise the model, or ``out_dir`` holds other Verilog.
    """
    from ..hw.emit import generate

    qm, design = require_integer_model(qm, "generate_rtl"), _design(design)
    man = generate(qm, design, out_dir)
    seconds = man.pop("seconds")
    return Rtl(Path(out_dir), design, man, int(man["cycles_per_step"]), int(man["cycles_per_digit"]),
               round(seconds, 3))


def _synth_options(device: Device, options) -> SynthOptions:
    if options is None:
        from ..synth.profile import device_profile

        return device_profile(device).synth
    if not isinstance(options, SynthOptions):
        raise HwssmError(f"options must be SynthOptions, not {type(options).__name__}")
    return options


def estimate_cost(qm: QModel, design: DesignPoint, device: Device | str,
                  options: SynthOptions | None = None) -> Estimate:
    """The analytic resource estimate of ``qm`` built as ``design`` on ``device``
    (milliseconds; no tools).

    Parameters
    ----------
    options : SynthOptions or None
        The synthesis switches priced (``dsp``: hard multipliers; ``spram``: LOAD memories
        in iCE40 SPRAM); None: the device's build profile.

    Returns
    -------
    Estimate
        ``total`` (LUT4 equivalents, flip-flops, DSPs, block RAMs, SPRAMs), per plan component
        in ``by_component``, and :meth:`~hwssm.hw.cost.Estimate.summary` for a flat record.
    """
    from ..hw.cost import estimate

    qm, design, dev = require_integer_model(qm, "estimate_cost"), _design(design), _device(device)
    opts = _synth_options(dev, options)
    return estimate(qm, design, dev, dsp=opts.dsp, spram=opts.spram)


def synthesize(rtl: Rtl | str | os.PathLike, device: Device | str, options: SynthOptions | None = None, *,
               log=None) -> SynthReport:
    """Synthesize (Yosys) and place-and-route (nextpnr) a generated core on ``device``.

    Parameters
    ----------
    rtl : Rtl, str or PathLike
        :func:`generate_rtl`'s result or an RTL directory.
    device : Device or str
    options : SynthOptions or None
        None: the device's build profile (its ``dsp`` and ``spram`` switches).
    log : callable or None
        ``log(msg)`` receives one line as each tool starts and finishes.

    Returns
    -------
    SynthReport
        Cell counts, utilization, fmax (MHz) and critical paths; cached by content, so a
        rerun returns at once. A design that does not fit raises
        :class:`~hwssm.synth.DesignDoesNotFit` (a HwssmError).
    """
    from ..synth import synthesize as run

    dev = _device(device)
    path = rtl.path if isinstance(rtl, Rtl) else rtl
    if not isinstance(path, (str, os.PathLike)):
        raise HwssmError(f"rtl must be an Rtl or an RTL directory, not {type(rtl).__name__}")
    return run(path, dev, _synth_options(dev, options), progress=log)
