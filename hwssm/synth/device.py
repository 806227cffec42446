"""The FPGA targets that ``hwssm synth`` knows, and their tool arguments."""

from __future__ import annotations

import enum

from ..errors import HwssmError


class Device(enum.Enum):
    """A synthesis target.

    Members
    -------
    UP5K
        Lattice iCE40 UltraPlus UP5K in the SG48 package (5,280 LUT4, 8 SB_MAC16, 30 EBR,
        4 SPRAM, 39 user IO). Placed and routed as a complete chip: the core is wrapped
        in a narrow top (see :mod:`hwssm.synth.wrapper`).
    ECP5_25K
        Lattice ECP5 LFE5U-25F, CABGA256, speed grade 6 (24,288 LUT4, 28 MULT18X18D,
        56 EBR). Placed and routed out of context: no IO buffers, no pins.
    """

    UP5K = "up5k"
    ECP5_25K = "ecp5-25k"

    @property
    def family(self) -> str:
        """nextpnr/Yosys family: ``"ice40"`` or ``"ecp5"``."""
        return "ice40" if self is Device.UP5K else "ecp5"

    @property
    def io_pins(self) -> int | None:
        """User IO pins that the top level may use, or None when placed out of context."""
        return 39 if self is Device.UP5K else None

    @property
    def default_freq_mhz(self) -> float:
        """Target frequency given to nextpnr when none is asked for, MHz.

        It steers timing-driven placement; the achieved fmax is reported either way.
        48 MHz is the UP5K's internal oscillator; 100 MHz a common ECP5 system clock.
        """
        return 48.0 if self is Device.UP5K else 100.0

    @property
    def bels(self) -> dict[str, str]:
        """nextpnr bel type that holds each resource: keys ``logic``, ``dsp``, ``bram``, ``spram``."""
        if self is Device.UP5K:
            return {"logic": "ICESTORM_LC", "dsp": "ICESTORM_DSP", "bram": "ICESTORM_RAM", "spram": "ICESTORM_SPRAM"}
        return {"logic": "TRELLIS_COMB", "dsp": "MULT18X18D", "bram": "DP16KD"}

    def nextpnr_args(self) -> list[str]:
        """Device selection arguments for nextpnr."""
        if self is Device.UP5K:
            return ["--up5k", "--package", "sg48", "--pcf-allow-unconstrained"]
        return ["--25k", "--package", "CABGA256", "--speed", "6", "--out-of-context"]

    @classmethod
    def parse(cls, text: str) -> Device:
        """The device named ``text`` (a member value); HwssmError otherwise."""
        for d in cls:
            if d.value == text:
                return d
        raise HwssmError(f"unknown device {text!r}; expected one of: {', '.join(d.value for d in cls)}")
