"""Result records of synthesis (Yosys) and place-and-route (nextpnr).

Plain frozen dataclasses with ``to_dict``/``from_dict`` so that a result can be
cached as JSON and read back unchanged. The parsers that fill them live in
:mod:`hwssm.synth.yosys` and :mod:`hwssm.synth.nextpnr`.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class SynthResult:
    """Cell counts of a synthesized netlist, after Yosys technology mapping.

    All counts are numbers of primitive cells (dimensionless).

    Attributes
    ----------
    family : str
        ``"ice40"`` or ``"ecp5"``.
    lut : int
        4-input LUTs (``SB_LUT4`` / ``LUT4``). ECP5 carry cells are not included
        (each ``CCU2C`` holds two more LUT4s); see ``carry``.
    ff : int
        Flip-flops (``SB_DFF*`` / ``TRELLIS_FF``).
    carry : int
        Carry cells: ``SB_CARRY`` (1 bit each) or ``CCU2C`` (2 bits, 2 LUT4s each).
    dsp : int
        Hard multipliers: ``SB_MAC16`` (16x16) or ``MULT18X18D`` (18x18).
    bram : int
        Block RAMs: ``SB_RAM40_4K*`` (4 kbit EBR) or ``DP16KD``/``PDPW16KD`` (18 kbit EBR).
    spram : int
        ``SB_SPRAM256KA`` (256 kbit single-port RAM, UP5K only; 0 on ECP5).
    lutram : int
        Distributed RAM cells (``TRELLIS_DPR16X4``, 16x4 bit; 0 on iCE40).
    cells : dict[str, int]
        Every cell type of the flattened netlist and its count.
    raw : dict
        The ``design`` section of Yosys ``stat -json`` (wire and port counts as well).
    """

    family: str
    lut: int
    ff: int
    carry: int
    dsp: int
    bram: int
    spram: int
    lutram: int
    cells: dict[str, int]
    raw: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SynthResult:
        return cls(**d)


@dataclasses.dataclass(frozen=True)
class Utilization:
    """Use of one kind of placement site (a nextpnr bel type, e.g. ``ICESTORM_LC``).

    Attributes
    ----------
    used, available : int
        Sites used by the design and sites on the device (counts).
    """

    used: int
    available: int

    @property
    def overflow(self) -> int:
        """Sites missing for the design to fit (0 when it fits)."""
        return max(0, self.used - self.available)

    @property
    def fraction(self) -> float:
        """``used / available`` (0 when the device has none of these sites)."""
        return self.used / self.available if self.available else 0.0


@dataclasses.dataclass(frozen=True)
class CriticalPath:
    """Summary of one critical path from nextpnr's timing report.

    Attributes
    ----------
    from_clock, to_clock : str
        Launch and capture clock edges as nextpnr names them (``"posedge clk"``).
    delay_ns : float
        Total path delay in ns (clock-to-q + logic + routing + setup).
    logic_ns, routing_ns : float
        The parts of ``delay_ns`` spent in cells (incl. clock-to-q and setup) and in routing, ns.
    levels : int
        Number of combinational cells on the path (segments of type ``logic``).
    start, end : str
        ``cell.port`` where the path starts and ends.
    """

    from_clock: str
    to_clock: str
    delay_ns: float
    logic_ns: float
    routing_ns: float
    levels: int
    start: str
    end: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class PnrResult:
    """Outcome of nextpnr place-and-route on one device.

    Attributes
    ----------
    device : str
        Device name (:attr:`hwssm.targets.Device.name`: ``"up5k"``, ``"ecp5-25k"``, ...).
    utilization : dict[str, Utilization]
        Per nextpnr bel type (``ICESTORM_LC``, ``ICESTORM_DSP``, ``ICESTORM_RAM``, ``SB_IO``,
        ``TRELLIS_COMB``, ``TRELLIS_FF``, ``MULT18X18D``, ``DP16KD``, ...): used and available sites.
    fmax_mhz : dict[str, float]
        Achieved maximum frequency per clock net, MHz, after routing.
    target_mhz : dict[str, float]
        The frequency constraint per clock that nextpnr was given, MHz.
    critical_paths : list[CriticalPath]
        One per clock pair nextpnr reports, in its order.
    fits : bool
        True when every resource is within the device and routing succeeded.
    """

    device: str
    utilization: dict[str, Utilization]
    fmax_mhz: dict[str, float]
    target_mhz: dict[str, float]
    critical_paths: list[CriticalPath]
    fits: bool

    @property
    def clocked_paths(self) -> list[CriticalPath]:
        """Register-to-register critical paths (those from or to IO, ``<async>``, left out)."""
        return [p for p in self.critical_paths if "<async>" not in (p.from_clock, p.to_clock)]

    @property
    def min_fmax_mhz(self) -> float | None:
        """The slowest clock's fmax in MHz (None for a design without clocked paths)."""
        return min(self.fmax_mhz.values()) if self.fmax_mhz else None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PnrResult:
        return cls(
            device=d["device"],
            utilization={k: Utilization(**v) for k, v in d["utilization"].items()},
            fmax_mhz=dict(d["fmax_mhz"]),
            target_mhz=dict(d["target_mhz"]),
            critical_paths=[CriticalPath(**p) for p in d["critical_paths"]],
            fits=bool(d["fits"]),
        )
