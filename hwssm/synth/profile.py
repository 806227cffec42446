"""Per-FPGA build profiles: how hwssm generates and synthesizes a core for one device.

A :class:`BuildProfile` joins the generator's options (:class:`~hwssm.hw.options.Pipeline`,
:class:`~hwssm.hw.storage.ParamStorage`, ``soft_mul_bits``) with the synthesis options
(:class:`~hwssm.synth.flow.SynthOptions`). :func:`device_profile` gives the profile that
``hwssm flow`` and ``hwssm sweep`` use for each device:

``up5k`` (iCE40 UP5K: 5,280 LUT4, 8 SB_MAC16, 30 EBR of 4 kbit, 4 SPRAM of 256 kbit)
    Coefficients and state in RAMs filled through the load port, mapped to SPRAM
    (``storage=LOAD``, ``SynthOptions(spram=True)``); multiplies with an operand of at
    most 4 bits built from LUT adders (``soft_mul_bits=4``), so that a one-lane core of the
    heterogeneous plan (B̄, C̄, D at 4 bits, W at 3) needs at most 8 hard multipliers; every
    memory read and requantization registered (``Pipeline.fast()``).
``ecp5-25k`` (LFE5U-25F: 24k LUT4, 28 MULT18X18D, 56 DP16KD)
    Parameters in ROMs (DP16KD), hard multipliers, ``Pipeline.fast()`` (memory reads
    registered twice, requantizations split): the settings that reach 100 MHz.
"""

from __future__ import annotations

import dataclasses

from ..hw.options import DesignPoint, ParamStorage, Pipeline
from .device import Device
from .flow import SynthOptions

__all__ = ["BuildProfile", "device_profile"]


@dataclasses.dataclass(frozen=True)
class BuildProfile:
    """Generator and synthesis options for one device (see the module docstring)."""

    pipeline: Pipeline
    storage: ParamStorage
    soft_mul_bits: int
    synth: SynthOptions

    def design(self, lanes: int, seq_len: int = 784) -> DesignPoint:
        """The design point this profile generates on ``lanes`` lanes for ``seq_len``-step
        sequences (the argument of :func:`hwssm.hw.emit.generate`)."""
        return DesignPoint(lanes, seq_len, self.pipeline, self.storage, self.soft_mul_bits)

    def to_dict(self) -> dict:
        """JSON form (part of sweep cache keys and of reports)."""
        return {"pipeline": dataclasses.asdict(self.pipeline), "storage": self.storage.value,
                "soft_mul_bits": self.soft_mul_bits, "synth": self.synth.to_dict()}

    def with_synth(self, synth: SynthOptions) -> "BuildProfile":
        return dataclasses.replace(self, synth=synth)


def device_profile(device: Device, *, dsp: bool = True) -> BuildProfile:
    """The profile hwssm uses for ``device``; ``dsp=False`` builds every multiplier from LUTs."""
    if device is Device.UP5K:
        return BuildProfile(Pipeline.fast(), ParamStorage.LOAD, 4, SynthOptions(dsp=dsp, spram=True))
    if device is Device.ECP5_25K:
        return BuildProfile(Pipeline.fast(), ParamStorage.ROM, 0, SynthOptions(dsp=dsp))
    raise ValueError(f"no build profile for {device}")  # pragma: no cover - every Device has one
