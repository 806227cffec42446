"""The design point: every choice that shapes a generated core, as one typed object.

:class:`DesignPoint` joins the lane count P, the sequence length T, the
:class:`Pipeline` (register stages and mixing columns), the :class:`ParamStorage` and the
soft-multiplier width. Generation (:func:`hwssm.hw.emit.generate`), the cycle model, the
estimator, the simulation cache, the manifest and the sweep all take it; :meth:`DesignPoint.key`
names it in caches and directory names. Pure Python: importable without Amaranth.
"""

from __future__ import annotations

import dataclasses
import enum
import operator

from ..errors import HwssmError

__all__ = ["DesignPoint", "Pipeline", "ParamStorage", "MIX_COLS", "MIX_FIELD", "mix_field", "MAX_LANES",
           "MAX_SOFT_MUL_BITS", "MAX_SEQ_LEN"]

#: Most lanes.
MAX_LANES = 1024
#: Widest narrow operand that ``soft_mul_bits`` may ask to build from LUT adders.
MAX_SOFT_MUL_BITS = 8
#: Longest sequence (steps) a core is generated for.
MAX_SEQ_LEN = 1 << 20


class ParamStorage(enum.Enum):
    """Where the lanes' coefficient memories live (a generation option).

    Members
    -------
    ROM
        Parameters baked into the memory init from the QModel (block RAM ROMs); the state
        RAM is read and written in the same cycle (simple dual port). The default.
    LOAD
        Coefficients (Ā, B̄, C̄, mixing weights) in single-port 16-bit RAMs without init,
        filled through a 16-bit load stream before inference (see :class:`LoadLayout`); the
        state in two single-port banks ping-ponged by step parity. Every large memory is
        then mappable to iCE40 SPRAM (``synth_ice40 -spram``). Small tables (row constants,
        GELU, sigmoid, encoder, decoder) stay ROMs (EBR). Same arithmetic, same results.
    """

    ROM = "rom"
    LOAD = "load"

    @classmethod
    def parse(cls, value) -> "ParamStorage":
        """A member from a member or its value; ValueError otherwise."""
        if isinstance(value, cls):
            return value
        for s in cls:
            if s.value == value:
                return s
        raise ValueError(f"unknown parameter storage {value!r}; expected one of: {', '.join(s.value for s in cls)}")


#: Allowed ``Pipeline.mix_cols``: real-mode columns per lane-cycle.
MIX_COLS = (4, 6, 8)
#: Coefficient field of the real-mode weight of chunk column j (multiplier j), for
#: ``mix_cols >= 6``: multipliers 4 and 5 (B̄·u) read fields 2 and 3 in both modes, so
#: they need no operand multiplexer; multipliers 2 and 3 take their weights from 4 and 5.
MIX_FIELD = (0, 1, 4, 5, 2, 3, 6, 7)


def mix_field(mix_cols: int, j: int) -> int:
    """Coefficient field holding the weight of chunk column j in a real-mode word."""
    return j if mix_cols == 4 else MIX_FIELD[j]


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """Pipeline depth and datapath-shape knobs.

    Parameters
    ----------
    mul_stages : int
        Registers after each multiplier (>= 1); 1 suits iCE40 SB_MAC16 / ECP5 MULT18X18D
        output registers. With 2 or more, the lanes' alignment shifts and the first level of
        their sums (state update, real-mode dot product, readout) sit between the first and
        the second register, so that the sums at stage ``mul_stages`` are single adds; with 3
        or more the aligned terms are registered too (stage 2) before the first level of the
        sums, so that no variable shift shares a cycle with an adder.
    tree_levels_per_stage : int
        Adder levels of the cross-lane reduction tree between two registers (>= 1).
    mem_stages : int
        Registers directly after every memory read whose data feeds a multiplier or an
        adder (0 to 3). Block RAM without its output register is slow (ECP5 DP16KD: about
        5.6 ns clock-to-out, and Yosys does not use the output register), so 1 keeps memory
        outputs off the arithmetic paths and 2 also gives the depth multiplexer of a large
        memory (spread over many blocks) and its routing a cycle of their own; 3 (with
        ``bank_words``) gives the registers of each bank two cycles before the bank
        selection, so the first can sit at the block RAM; each costs one
        more cycle of latency in the lanes, the encoder, the GLU and the decoder (see
        :mod:`hwssm.hw.cycle_model`).
    requant_stages : int
        Registers inside every requantization, between its (variable) right shift and its
        rounding and saturation (0 or 1): one more cycle of latency per requantization (the
        lanes' state and mixing outputs, the readout y, the GLU's z and residual, the encoder).
    acc_stages : int
        Registers between a lane's real-mode (mixing) accumulator and the row finish, its
        alignment shift and bias add (0 or 1): with 1 the finish starts from the registered
        row sum instead of the accumulator's adder output, which takes the adder and its
        first/accumulate multiplexer off that path; one more cycle from a mixing pass to its
        value/gate rows.
    align_stages : int
        Registers between the alignment shift of a row finish and its add (0 or 1): the
        lanes' real-mode finish ``align(row sum) + bias`` and the S4D readout finish
        ``align(row sum) + align(D·u)``, each a variable shift then a wide adder. One more
        cycle from a mixing pass to its value/gate rows and from an S4D row to its g (as
        ``acc_stages``).
    encdec_stages : int
        Registers in the encoder and the decoder (0 or 1): in the encoder between the finish
        (alignment shift, bias add) and the requantization, in the decoder between the
        accumulator and the logit finish and between the argmax comparison and the update of
        the running best. One more cycle from a step start to r0 (:mod:`hwssm.hw.cycle_model`)
        and two more per digit (the class leaves later).
    mix_cols : int
        g columns one lane multiplies per real-mode (mixing) cycle: 4 (the four multipliers
        of the complex product Ā·x), 6 (also the two B̄·u multipliers) or 8 (also the two
        readout multipliers C̄·x'). A mixing row then takes ``ceil(H / mix_cols)`` cycles;
        the multipliers are there either way, so 8 runs the mixing layers twice as fast as
        4 for a few operand multiplexers. With 8, a layer's first mixing slot waits until
        the readout multipliers are done with its last S4D slot (``2 + mul_stages +
        requant_stages`` idle cycles per layer; :mod:`hwssm.hw.cycle_model`).
    operand_regs : int
        Where the last memory-read register sits (0 or 1; 1 needs ``mem_stages >= 1``): with
        1 the operand multiplexers in front of the lanes' multipliers (complex/real mode,
        state bank, first step, the layer's u source) come before that register instead of
        after it, so that every multiplier, hard or soft, starts from a flip-flop (on the
        ECP5 the MULT18X18D's own registers are not used by Yosys). Same registers on every
        path, so no extra cycle.
    issue_regs : int
        The sequencer's issue decision from flip-flops (0 or 1): with 1 the end tests of its
        counters (last mode chunk, channel, column chunk, pass, layer, step) are kept as
        registers updated with the counters, and its step timer is cleared (not set) at a
        step start, so that no comparator and no set flip-flop precede the issue decision.
        No extra cycle.
    bank_words : int
        ROM storage: coefficient ROMs (Ā, B̄, weights; C̄) and state RAMs deeper than this
        many words are split into banks of this depth (0: not split; else a power of two from 16; needs
        ``mem_stages >= 1``): each bank's read data registered (the first memory register),
        the bank selected after that register, so that the multiplexer over the blocks of a
        deep memory does not follow the block RAM's clock-to-out. No extra cycle. On the ECP5,
        2048 keeps every bank of width up to 9 bits per block in one DP16KD depth.

    :meth:`fast` gives the settings that reached 100 MHz on the ECP5-25k (speed grade 6) for the
    reference network (H=64, N=64, L=4, hetero plan) on P=2 lanes.
    """

    mul_stages: int = 1
    tree_levels_per_stage: int = 2
    mem_stages: int = 0
    requant_stages: int = 0
    acc_stages: int = 0
    mix_cols: int = 4
    encdec_stages: int = 0
    align_stages: int = 0
    operand_regs: int = 0
    issue_regs: int = 0
    bank_words: int = 0

    @classmethod
    def fast(cls) -> "Pipeline":
        """Every memory read registered twice, every requantization split in two, the
        mixing row finish registered (``mem_stages = 2``, ``requant_stages = 1``,
        ``acc_stages = 1``): a few cycles per step more than ``Pipeline()``."""
        return cls(mem_stages=2, requant_stages=1, acc_stages=1)

    @classmethod
    def closure(cls) -> "Pipeline":
        """:meth:`fast` and also: the lanes' products, aligned terms and partial sums registered
        apart (``mul_stages = 3``), every row finish's aligned terms registered before their sum
        (``align_stages = 1``), the encoder and decoder registered (``encdec_stages = 1``), the
        multipliers' operands registered behind their multiplexers (``operand_regs = 1``) and
        the sequencer's issue decision from flip-flops (``issue_regs = 1``): the shortest paths
        hwssm generates, for timing closure (on the reference shape 20 / 24 more cycles per
        step than ``Pipeline()`` at P = 1 / 2, 0.1 / 0.3 %, against 3 for :meth:`fast`; two more
        per digit). The UP5K build profile; the ECP5 one adds ``bank_words = 2048``."""
        return cls(mul_stages=3, mem_stages=2, requant_stages=1, acc_stages=1, encdec_stages=1, align_stages=1,
                   operand_regs=1, issue_regs=1)

    def __post_init__(self):
        for name, lo, hi in (("mul_stages", 1, 8), ("tree_levels_per_stage", 1, 8), ("mem_stages", 0, 3),
                             ("requant_stages", 0, 1), ("acc_stages", 0, 1), ("encdec_stages", 0, 1),
                             ("align_stages", 0, 1), ("operand_regs", 0, 1), ("issue_regs", 0, 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise HwssmError(f"Pipeline {name} must be an integer in [{lo}, {hi}], not {v!r}")
        if isinstance(self.mix_cols, bool) or self.mix_cols not in MIX_COLS:
            raise HwssmError(f"Pipeline mix_cols must be one of {', '.join(map(str, MIX_COLS))}, not {self.mix_cols!r}")
        bw = self.bank_words
        if isinstance(bw, bool) or not isinstance(bw, int) or not (bw == 0 or (16 <= bw <= 1 << 20 and bw & (bw - 1) == 0)):
            raise HwssmError(f"Pipeline bank_words must be 0 or a power of two from 16, not {bw!r}")
        if bw and not self.mem_stages:
            raise HwssmError("Pipeline bank_words needs mem_stages >= 1 (the banks' read data are registered)")
        if self.operand_regs > self.mem_stages:
            raise HwssmError("Pipeline operand_regs = 1 needs mem_stages >= 1 (it moves the last memory-read register)")


def _index(name: str, v, lo: int, hi: int) -> int:
    if isinstance(v, bool):
        raise HwssmError(f"{name} must be an integer, not {v!r}")
    try:
        v = operator.index(v)
    except TypeError:
        raise HwssmError(f"{name} must be an integer, not {v!r}") from None
    if not lo <= v <= hi:
        raise HwssmError(f"{name} must be in [{lo}, {hi}], not {v}")
    return v


_PIPELINE_FIELDS = tuple(f.name for f in dataclasses.fields(Pipeline))


@dataclasses.dataclass(frozen=True)
class DesignPoint:
    """One generated core's shape, apart from the model it runs.

    Parameters
    ----------
    lanes : int
        P, complex-MAC lanes (1 .. :data:`MAX_LANES`).
    seq_len : int
        T, steps per sequence (784 for sMNIST); sizes the decoder's pooled sum.
    pipeline : Pipeline
        Register stages and mixing columns.
    storage : ParamStorage
        Coefficients in ROMs or in RAMs filled through the load port.
    soft_mul_bits : int
        Multiplies whose narrower operand has at most this many bits are built from LUT
        adders, not hard multipliers (0: none; at most :data:`MAX_SOFT_MUL_BITS`).
    """

    lanes: int
    seq_len: int = 784
    pipeline: Pipeline = Pipeline()
    storage: ParamStorage = ParamStorage.ROM
    soft_mul_bits: int = 0

    def __post_init__(self):
        object.__setattr__(self, "lanes", _index("lanes P", self.lanes, 1, MAX_LANES))
        object.__setattr__(self, "seq_len", _index("sequence length T", self.seq_len, 1, MAX_SEQ_LEN))
        if not isinstance(self.pipeline, Pipeline):
            raise HwssmError(f"pipeline must be a Pipeline, not {type(self.pipeline).__name__}")
        try:
            object.__setattr__(self, "storage", ParamStorage.parse(self.storage))
        except ValueError as exc:
            raise HwssmError(str(exc)) from None
        object.__setattr__(self, "soft_mul_bits", _index("soft_mul_bits", self.soft_mul_bits, 0, MAX_SOFT_MUL_BITS))

    def to_json(self) -> dict:
        """JSON form: ``{"lanes", "seq_len", "pipeline": {...}, "storage", "soft_mul_bits"}``."""
        return {"lanes": self.lanes, "seq_len": self.seq_len, "pipeline": dataclasses.asdict(self.pipeline),
                "storage": self.storage.value, "soft_mul_bits": self.soft_mul_bits}

    @classmethod
    def from_json(cls, obj) -> "DesignPoint":
        """The inverse of :meth:`to_json`; HwssmError (one line) for anything else."""
        if not isinstance(obj, dict):
            raise HwssmError(f"a design point must be a JSON object, not {type(obj).__name__}")
        extra = set(obj) - {"lanes", "seq_len", "pipeline", "storage", "soft_mul_bits"}
        if extra:
            raise HwssmError(f"unknown design point field(s): {', '.join(sorted(extra))}")
        if "lanes" not in obj:
            raise HwssmError("a design point needs 'lanes'")
        pipe = obj.get("pipeline", {})
        if not isinstance(pipe, dict):
            raise HwssmError("design point 'pipeline' must be a JSON object")
        extra = set(pipe) - set(_PIPELINE_FIELDS)
        if extra:
            raise HwssmError(f"unknown pipeline field(s): {', '.join(sorted(extra))}")
        return cls(lanes=obj["lanes"], seq_len=obj.get("seq_len", 784), pipeline=Pipeline(**pipe),
                   storage=obj.get("storage", ParamStorage.ROM.value), soft_mul_bits=obj.get("soft_mul_bits", 0))

    def key(self) -> str:
        """A short, stable, file-name-safe name, e.g. ``P16-T784-k8-rom`` plus every
        non-default knob (``-m2`` mul_stages, ``-t3`` tree levels, ``-ms2`` mem_stages,
        ``-rq1`` requant_stages, ``-ac1`` acc_stages, ``-ed1`` encdec_stages, ``-al1`` align_stages,
        ``-op1`` operand_regs, ``-ir1`` issue_regs, ``-bk2048`` bank_words, ``-soft4``)."""
        p, d = self.pipeline, Pipeline()
        parts = [f"P{self.lanes}", f"T{self.seq_len}", f"k{p.mix_cols}", self.storage.value]
        for tag, name in (("m", "mul_stages"), ("t", "tree_levels_per_stage"), ("ms", "mem_stages"),
                          ("rq", "requant_stages"), ("ac", "acc_stages"), ("ed", "encdec_stages"),
                          ("al", "align_stages"), ("op", "operand_regs"), ("ir", "issue_regs"), ("bk", "bank_words")):
            if getattr(p, name) != getattr(d, name):
                parts.append(f"{tag}{getattr(p, name)}")
        if self.soft_mul_bits:
            parts.append(f"soft{self.soft_mul_bits}")
        return "-".join(parts)

    def replace(self, **changes) -> "DesignPoint":
        """A copy with ``changes`` (same field names as the constructor)."""
        return dataclasses.replace(self, **changes)
