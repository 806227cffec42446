"""The records an FPGA target is described by: family, device, build profile, cost coefficients.

Pure data (frozen dataclasses, hashable): :mod:`hwssm.synth` reads the tool arguments and cell
names from them, :mod:`hwssm.hw.cost` the coefficients, :mod:`hwssm.synth.profile` and the
sweep the build profile. One module per family (:mod:`.ice40`, :mod:`.ecp5`) fills them in;
:mod:`.registry` lists the devices by name.
"""

from __future__ import annotations

import dataclasses
import enum

from ..hw.options import DesignPoint, ParamStorage, Pipeline

__all__ = ["Bitstream", "CellTypes", "Coefficients", "ConstraintFormat", "Device", "ErrorBand", "Family", "Profile"]


@dataclasses.dataclass(frozen=True)
class Coefficients:
    """Per-family cost coefficients of the estimator (LUT4 per unit; see :func:`hwssm.hw.cost.cost`).

    Attributes
    ----------
    add : float
        LUT4 per result bit per extra operand of an adder.
    mux : float
        LUT4 per bit per extra input of a multiplexer.
    shift : float
        LUT4 per data bit per bit of a variable shift amount.
    requant : float
        Scale on a round-and-saturate of a w-bit accumulator to an a-bit code, counted as
        w (rounding adder) + (w - a)/3 (overflow test) + a (clamp mux) LUT4.
    compare : float
        LUT4 per bit of a magnitude comparison.
    soft_mul : float
        LUT4 per partial-product bit (a·b) of a multiplier built from LUTs.
    rom_logic : float
        LUT4 per stored bit of a ROM left in logic.
    ram_logic : float
        LUT4 per stored bit of a small RAM left in flip-flops (read mux).
    control : float
        LUT4 of glue logic per lane not in any block.
    control_fixed : float
        LUT4 of glue logic independent of P (FSM decoding, enables, address arithmetic).
    ff_scale : float
        Scale on counted flip-flops (registers removed or duplicated by the mapper).
    ff_fixed : float
        Flip-flops not in any block (FSM state, valid bits, wrapper).
    dsp_a, dsp_b, dsp_min_y : int
        Hard multiplier operand widths (bits) and the smallest product width mapped to it.
    bram_cost, lutram_cost : float
        ``memory_libmap`` cost of one block RAM / one LUT-RAM cell (0: none).
    bram_configs : tuple[tuple[int, int], ...]
        (width, depth) configurations of one block RAM.
    lutram_shape : tuple[int, int]
        (width, depth) of one LUT-RAM cell, (0, 0) when the family has none.
    lutram_lut : float
        LUT4 equivalents used by one LUT-RAM cell (it occupies slice LUTs).
    soft_add : float
        LUT4 per adder bit of a multiplier that the generator builds from LUT adders
        (``soft_mul_bits``; the AND of each partial product and the carry logic included).
    split_lut : float
        LUT4 per flip-flop inside a split requantization (``requant_stages``): the register
        between the variable right shift and the rounding/saturation keeps the mapper from
        merging the two (ECP5: mostly optimization lost across the register in the flattened core).
    merge : float
        LUT4 per merge unit (``hwssm.hw.cost.blocks.merge_units``: variable shift bits × code
        bits above 6) of a requantization, more when unsplit (the mapper merges the shift with
        the rounding and the clamp) and as many less when split (``requant_stages``); 0: absorbed
        in ``shift`` and ``requant``.
    csa : float
        LUT4 per bit per carry-save layer of a sum of more than two operands written as one
        expression (``mul_stages`` 1; the lanes sum pairs with ``mul_stages`` >= 2; 0: absorbed
        in ``add``).
    spram_shape : tuple[int, int]
        (width, depth) of one single-port RAM block (iCE40 SPRAM 16 × 16384), (0, 0) when
        the family has none.
    """

    add: float
    mux: float
    shift: float
    requant: float
    compare: float
    soft_mul: float
    rom_logic: float
    ram_logic: float
    control: float
    control_fixed: float
    ff_scale: float
    ff_fixed: float
    dsp_a: int
    dsp_b: int
    dsp_min_y: int
    bram_cost: float
    lutram_cost: float
    bram_configs: tuple
    lutram_shape: tuple
    lutram_lut: float
    soft_add: float = 1.0
    split_lut: float = 0.0
    spram_shape: tuple = (0, 0)
    merge: float = 0.0
    csa: float = 0.0


@dataclasses.dataclass(frozen=True)
class ErrorBand:
    """The estimator's measured error on a family: relative error (estimate - Yosys) / Yosys.

    Measured on the points the estimator was checked against (placed designs whose Yosys cell
    counts are recorded in ``tests/hw/cost/test_estimate.py`` and ``reports/reference/``); the
    test ``tests/hw/cost/test_error_band.py`` recomputes every recorded point and checks that
    it lies inside the band. An estimate E of a resource therefore stands for a Yosys count in
    ``[E / (1 + hi), E / (1 + lo)]``.

    Attributes
    ----------
    lut, ff : tuple[float, float]
        (lo, hi) relative error of LUT4 (ECP5: LUT4 + 2 per CCU2C) and of flip-flops, e.g.
        (-0.088, 0.052) for -8.8 % .. +5.2 %.
    points : int
        Distinct designs (model, design point, device) the band was measured on.
    source : str
        Where those points are recorded.

    DSP, block RAM and SPRAM counts matched Yosys exactly on every point: they carry no band.
    """

    lut: tuple[float, float]
    ff: tuple[float, float]
    points: int
    source: str

    def __post_init__(self):
        for name in ("lut", "ff"):
            lo, hi = getattr(self, name)
            if not -1.0 < lo <= hi:
                raise ValueError(f"ErrorBand.{name} must be (lo, hi) with -1 < lo <= hi, not {(lo, hi)}")

    def range(self, resource: str, estimate: float) -> tuple[float, float]:
        """The Yosys counts the band allows for ``estimate`` of ``resource`` (``"lut"`` or
        ``"ff"``): ``(estimate / (1 + hi), estimate / (1 + lo))``."""
        lo, hi = getattr(self, resource)
        return estimate / (1.0 + hi), estimate / (1.0 + lo)

    def to_json(self) -> dict:
        """``{"lut": [lo, hi], "ff": [lo, hi], "dsp": 0, "bram": 0, "spram": 0, "points", "source"}``
        (relative errors; 0: exact)."""
        return {"lut": list(self.lut), "ff": list(self.ff), "dsp": 0, "bram": 0, "spram": 0,
                "points": self.points, "source": self.source}


@dataclasses.dataclass(frozen=True)
class CellTypes:
    """Yosys cell types of a family's netlist, per resource (for :func:`hwssm.synth.yosys.parse_stat`).

    Each field is a tuple of cell type names; a name ending in ``*`` matches every type that
    starts with the rest (``"SB_DFF*"``). An empty tuple: the family has no such cell.
    """

    lut: tuple[str, ...]
    ff: tuple[str, ...]
    carry: tuple[str, ...]
    dsp: tuple[str, ...] = ()
    bram: tuple[str, ...] = ()
    spram: tuple[str, ...] = ()
    lutram: tuple[str, ...] = ()

    def count(self, resource: str, cells: dict[str, int]) -> int:
        """Cells of ``resource`` (a field name) in ``cells`` (cell type -> count)."""
        pats = getattr(self, resource)
        return sum(n for name, n in cells.items()
                   if any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in pats))


class ConstraintFormat(enum.Enum):
    """The pin-constraint file format nextpnr reads for a family (:mod:`hwssm.targets.constraints`)."""

    PCF = "pcf"  #: iCE40 physical constraints: ``set_io PORT PIN``
    LPF = "lpf"  #: ECP5 logical preference file: ``LOCATE COMP "PORT" SITE "PIN";``
    CST = "cst"  #: Gowin physical constraints: ``IO_LOC "PORT" PIN;``


@dataclasses.dataclass(frozen=True)
class Bitstream:
    """How a family's whole-chip design becomes a bitstream: nextpnr's pin and output flags, the packer.

    The board flow (:mod:`hwssm.synth.pack`, ``hwssm board build``) places with
    ``constraints_flag <pins file>`` (Gowin: ``--vopt cst=<pins file>``, ``constraints_value``)
    and writes the textual configuration with ``config_flag <config_name>``; ``packer``
    (``icepack`` / ``ecppack``, native or yowasp; ``gowin_pack`` of Apycula) turns it into
    ``bitstream_name`` with the arguments ``packer_args`` (``{config}`` and ``{bitstream}``
    replaced by the file names).

    Attributes
    ----------
    constraints : ConstraintFormat
        Format of the pin file (``pins_name``).
    pins_name : str
        File name of the pin constraints (``pins.pcf``).
    constraints_flag : str
        nextpnr option that reads it (``--pcf``).
    config_flag : str
        nextpnr option that writes the textual configuration (``--asc``).
    config_name : str
        File name of that configuration (``top.asc``).
    packer : str
        Packer program (``icepack``; the yowasp build is ``yowasp-icepack``).
    packer_args : tuple[str, ...]
        Its arguments, with ``{config}`` / ``{bitstream}`` placeholders.
    bitstream_name : str
        File name of the bitstream (``top.bin``).
    constraints_value : str
        The value of ``constraints_flag``, with ``{pins}`` replaced by the pin file's name
        (``"{pins}"``; Gowin ``"cst={pins}"``).
    """

    constraints: ConstraintFormat
    pins_name: str
    constraints_flag: str
    config_flag: str
    config_name: str
    packer: str
    packer_args: tuple[str, ...]
    bitstream_name: str
    constraints_value: str = "{pins}"

    def pnr_args(self, pins: str) -> list[str]:
        """nextpnr's arguments that read the pin file ``pins`` and write the configuration
        (``["--pcf", "pins.pcf", "--asc", "top.asc"]``)."""
        return [self.constraints_flag, self.constraints_value.replace("{pins}", pins), self.config_flag, self.config_name]


@dataclasses.dataclass(frozen=True)
class Family:
    """An FPGA family as the open tools see it.

    Attributes
    ----------
    name : str
        nextpnr/Yosys family name (``"ice40"``, ``"ecp5"``, ``"gowin"``): the tool is
        ``nextpnr-<name>`` (Gowin: ``nextpnr-himbaechel``, :func:`hwssm.config.find_nextpnr`).
    yosys_synth : str
        The Yosys synthesis command (``synth_ice40``).
    dsp_on, dsp_off : tuple[str, ...]
        Arguments of that command with hard multipliers on / off (``("-dsp",)`` / ``()`` on
        iCE40, ``()`` / ``("-nodsp",)`` on ECP5); used only on a device with hard multipliers.
    spram_on : tuple[str, ...]
        Arguments that let Yosys infer single-port RAM blocks; used only on a device with them.
    cells : CellTypes
        Cell types of the mapped netlist.
    carry_lut4 : int
        LUT4s inside one carry cell that Yosys does not count as LUT4 cells (ECP5 ``CCU2C``: 2).
    logic_bel, dsp_bel, bram_bel, spram_bel : str
        nextpnr bel types of logic cells, hard multipliers, block RAM and SPRAM ("" when none).
    coefficients : Coefficients or None
        The estimator's cost coefficients for the family; None: the estimator has no price
        model of the family (:func:`hwssm.hw.cost.estimate` refuses its devices).
    error_band : ErrorBand or None
        The estimator's measured error with those coefficients (None with them).
    bitstream : Bitstream or None
        How a pinned whole-chip design becomes a bitstream (None: the family has no board flow).
    pack_dsp_registers : bool
        After Yosys, move plain flip-flops in front of and behind each hard multiplier into its
        own input and output registers (:mod:`hwssm.synth.dsp_regs`), for a family whose
        Yosys flow does not (ECP5 ``MULT18X18D``; iCE40's ``synth_ice40`` already does).
    pack_bram_registers : bool
        After Yosys, move the plain flip-flops right after each block RAM read into the block's
        own output register (:mod:`hwssm.synth.bram_regs`; ECP5 ``DP16KD`` ``REGMODE = OUTREG``:
        a short clock-to-out, and no seed-dependent route from the block to a far flip-flop).
    """

    name: str
    yosys_synth: str
    dsp_on: tuple[str, ...]
    dsp_off: tuple[str, ...]
    spram_on: tuple[str, ...]
    cells: CellTypes
    carry_lut4: int
    logic_bel: str
    dsp_bel: str
    bram_bel: str
    spram_bel: str
    coefficients: Coefficients | None
    error_band: ErrorBand | None
    bitstream: Bitstream | None = None
    pack_dsp_registers: bool = False
    pack_bram_registers: bool = False

    @property
    def priced(self) -> bool:
        """Whether the estimator has a price model (coefficients and a measured error band) of the family."""
        return self.coefficients is not None and self.error_band is not None

    @property
    def bels(self) -> dict[str, str]:
        """nextpnr bel type of each resource the family has: keys ``logic``, ``dsp``, ``bram``, ``spram``."""
        bels = {"logic": self.logic_bel, "dsp": self.dsp_bel, "bram": self.bram_bel, "spram": self.spram_bel}
        return {k: v for k, v in bels.items() if v}


@dataclasses.dataclass(frozen=True)
class Profile:
    """How hwssm builds a core for a device: the design knobs and the synthesis switches.

    Attributes
    ----------
    pipeline : Pipeline
    storage : ParamStorage
    soft_mul_bits : int
        See :class:`hwssm.hw.options.DesignPoint`.
    dsp : bool
        Map multipliers to hard DSPs (ignored on a device without them).
    spram : bool
        Force the LOAD storage's single-port RAMs into SPRAM (iCE40 UltraPlus).
    """

    pipeline: Pipeline
    storage: ParamStorage
    soft_mul_bits: int
    dsp: bool = True
    spram: bool = False

    def design(self, lanes: int, seq_len: int = 784) -> DesignPoint:
        """The design point of this profile for P = ``lanes`` and T = ``seq_len`` steps."""
        return DesignPoint(lanes, seq_len, self.pipeline, self.storage, self.soft_mul_bits)


@dataclasses.dataclass(frozen=True)
class Device:
    """One FPGA (part and package) that hwssm synthesizes for.

    Attributes
    ----------
    name : str
        The name users give (``hwssm synth --device NAME``) and results, caches and reports
        record (``"up5k"``).
    family : Family
    part : str
        The vendor's part and package (``"iCE40UP5K-SG48"``), for documentation.
    lut4, dsp, bram, spram : int
        LUT4 logic cells, hard multipliers (``SB_MAC16`` / ``MULT18X18D``), block RAMs and
        SPRAM blocks of the device (counts, as nextpnr reports them).
    bram_bits, spram_bits : int
        Bits per block RAM / per SPRAM block (0 when the device has none).
    io_pins : int or None
        User IO the top level may use (whole-chip placement; the wrapper folds the core's
        ports onto them), or None when placed out of context (no pins).
    yosys_args : tuple[str, ...]
        Device arguments of the Yosys synthesis command (``("-device", "u")``).
    nextpnr_args : tuple[str, ...]
        Device selection arguments of nextpnr (``("--up5k", "--package", "sg48", ...)``).
    default_freq_mhz : float
        Target clock given to nextpnr when none is asked for, MHz (it steers timing-driven
        placement; the achieved fmax is reported either way).
    profile : Profile
        The generator and synthesis options hwssm uses for this device.
    pin_sites : tuple[str, ...]
        For a whole-chip device whose nextpnr places no unconstrained IO (Gowin): the package
        pins a device run puts the top's port bits on, in order (the first carries the clock;
        :mod:`hwssm.synth.free_pins`); empty when nextpnr places the pins itself or the run is
        out of context.
    """

    name: str
    family: Family
    part: str
    lut4: int
    dsp: int
    bram: int
    bram_bits: int
    io_pins: int | None
    yosys_args: tuple[str, ...]
    nextpnr_args: tuple[str, ...]
    default_freq_mhz: float
    profile: Profile
    spram: int = 0
    spram_bits: int = 0
    pin_sites: tuple[str, ...] = ()

    @property
    def bels(self) -> dict[str, str]:
        """The family's nextpnr bel types (see :attr:`Family.bels`)."""
        return self.family.bels

    def __str__(self) -> str:
        return self.name
