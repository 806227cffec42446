"""Per-FPGA build profiles: how hwssm generates and synthesizes a core for one device.

A :class:`BuildProfile` joins the generator's options (:class:`~hwssm.hw.options.Pipeline`,
:class:`~hwssm.hw.options.ParamStorage`, ``soft_mul_bits``) with the synthesis options
(:class:`~hwssm.synth.flow.SynthOptions`). :func:`device_profile` builds the profile that
``hwssm flow`` and ``hwssm sweep`` use for a device from the device's own data
(:attr:`hwssm.targets.Device.profile`; each family module says why its devices use theirs).
"""

from __future__ import annotations

import dataclasses

from ..targets import Device, Profile
from .flow import SynthOptions

__all__ = ["BuildProfile", "device_profile"]


@dataclasses.dataclass(frozen=True)
class BuildProfile:
    """Generator and synthesis options for one device (see the module docstring).

    Attributes
    ----------
    target : Profile
        The device's design knobs (:attr:`pipeline`, :attr:`storage`, :attr:`soft_mul_bits`
        read through to it; its own ``dsp``/``spram`` defaults are already in ``synth``).
    synth : SynthOptions
        The synthesis options of the runs (these rule: ``synth.dsp`` may be off where the
        target's default is on).
    """

    target: Profile
    synth: SynthOptions

    @property
    def pipeline(self):
        """The :class:`~hwssm.hw.options.Pipeline` of the generated core."""
        return self.target.pipeline

    @property
    def storage(self):
        """The :class:`~hwssm.hw.options.ParamStorage` of the generated core."""
        return self.target.storage

    @property
    def soft_mul_bits(self) -> int:
        """Multiplies with an operand of at most this many bits are built from LUT adders."""
        return self.target.soft_mul_bits

    def design(self, lanes: int, seq_len: int = 784):
        """The :class:`~hwssm.hw.options.DesignPoint` this profile builds for P = ``lanes`` and
        T = ``seq_len`` steps."""
        return self.target.design(lanes, seq_len)


    def to_dict(self) -> dict:
        """JSON form (part of sweep cache keys and of reports)."""
        return {"pipeline": dataclasses.asdict(self.pipeline), "storage": self.storage.value,
                "soft_mul_bits": self.soft_mul_bits, "synth": self.synth.to_dict()}

    def with_synth(self, synth: SynthOptions) -> "BuildProfile":
        return dataclasses.replace(self, synth=synth)


def device_profile(device: Device, *, dsp: bool = True) -> BuildProfile:
    """The profile hwssm uses for ``device``; ``dsp=False`` builds every multiplier from LUTs
    (as does a device whose profile or silicon has no hard multipliers)."""
    p = device.profile
    return BuildProfile(p, SynthOptions(dsp=dsp and p.dsp and device.dsp > 0, spram=p.spram))
