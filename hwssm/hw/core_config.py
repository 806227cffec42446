"""The derived hardware description of a QModel: the lane's and the core's configuration.

:class:`LaneConfig` is everything one complex-MAC lane needs, :class:`CoreConfig` the whole
core (geometry, ROM tables and words, widths, per-layer constants); both are built by
:func:`hwssm.hw.derive.derive` and read by the Amaranth units of :mod:`hwssm.hw.rtl`.
Pure Python (no Amaranth).
"""

from __future__ import annotations

import dataclasses

from ..fixed import Overflow, Rounding
from ..quant.qmodel import QModel
from .options import Pipeline
from .rom_table import Table
from .storage import LoadLayout, ParamStorage

__all__ = ["MAX_ACT_BITS", "MAX_OPERAND_BITS", "LaneConfig", "CoreConfig", "S5Layout", "mix_output_row",
           "ceil_log2", "tree_stages"]

#: Widest activation: the GELU/sigmoid tables have 2^bits entries per layer.
MAX_ACT_BITS = 12
#: Widest multiplier operand (effective parameter, state) the generator accepts.
MAX_OPERAND_BITS = 24


def ceil_log2(n: int) -> int:
    """Bits of an address for ``n`` entries (0 for n <= 1)."""
    return max(0, (int(n) - 1).bit_length())


def tree_stages(P: int, levels_per_stage: int) -> int:
    """Register stages of the cross-lane adder tree for P inputs."""
    levels = ceil_log2(P)
    return 0 if levels == 0 else -(-levels // levels_per_stage)


@dataclasses.dataclass(frozen=True, eq=False)
class LaneConfig:
    """Everything one complex-MAC lane needs (see :class:`hwssm.hw.rtl.lane.Lane`).

    ``f_widths`` are the ``mix_cols`` coefficient fields (complex mode: Ār, Āi, B̄r, B̄i
    in fields 0-3, the others unused; real mode: the weights of the chunk's columns, column
    j in field :func:`mix_field`). ``shifts`` maps each shift name to its :class:`Shift`: ar, ai, br,
    ax, ia, bi (state update term alignment), re, im (state requant), cr, ci (readout
    alignment), w, v (real-mode alignment and requant), and only with per-layer state widths
    xdr, xdi (how many bits narrower than ``xr_width``/``xi_width`` the row's state is).

    ``b_widths`` (optional): the widths of B̄r, B̄i when narrower than f2, f3; the B̄·u
    multipliers then take only those low bits of f2, f3 (exact: in complex mode f2, f3 hold
    B̄ sign-extended). ``soft_mul_bits``: multiplies whose narrower operand has at most this
    many bits are built from LUT adders (:func:`hwssm.hw.ops.mul`), not hard DSPs (0: none).
    ``requant_stages``: registers inside each requantization (``Pipeline.requant_stages``);
    ``acc_stages``: registers before the real-mode row finish (``Pipeline.acc_stages``);
    ``align_stages``: registers between its alignment shift and bias add (``Pipeline.align_stages``);
    ``operand_regs``: the multiplier operands registered inside the lane, after their
    multiplexers (``Pipeline.operand_regs``: the stage-0 inputs then come one cycle early).
    ``unit_u`` (S5): u is the constant 1 (f2, f3 carry bu itself), so with ``mix_cols`` 4 the
    B̄·u products are f2, f3 and no multiplier is built.
    """

    mul_stages: int
    f_widths: tuple[int, ...]
    xr_width: int
    xi_width: int
    u_width: int
    g_width: int
    cr_width: int
    ci_width: int
    shifts: dict
    acc_re_width: int
    acc_im_width: int
    part_width: int
    xr_rounding: Rounding
    xr_overflow: Overflow
    xi_rounding: Rounding
    xi_overflow: Overflow
    racc_width: int
    bias_width: int
    fin_width: int
    v_width: int
    v_rounding: Rounding
    v_overflow: Overflow
    b_widths: tuple | None = None
    soft_mul_bits: int = 0
    requant_stages: int = 0
    acc_stages: int = 0
    mix_cols: int = 4
    align_stages: int = 0
    operand_regs: int = 0
    unit_u: bool = False


@dataclasses.dataclass(frozen=True, eq=False)
class S5Layout:
    """What an S5 core adds to :class:`CoreConfig` (:func:`hwssm.hw.derive_s5.derive_s5`).

    Slots per block (the issue order of :mod:`hwssm.hw.cycle_s5`): ``2·Cs`` B̄u passes and
    ``glu_passes`` GLU passes of Q real-mode chunks each, ``Cs`` state updates and ``H·Cs``
    readouts (complex mode), with Cs = ceil(Pm / P) mode chunks.

    Attributes
    ----------
    Pm : int
        Complex modes of the model's state (the paper's P; ``CoreConfig.P`` is the lane count).
    half : bool
        Half GLU (g·σ(Wg + b): ``glu_passes = KP`` gate passes) or full GLU (``2·KP``).
    upd_tables : tuple of Table
        Per lane: the update's shifts (ar..im, xdr/xdi), rows l·Cs + c; row L·Cs is the readout
        slots' identity (x' = 1·x, shift 0).
    bu_widths : (int, int)
        Widest BU_re, BU_im codes (each lane's bu buffers).
    delta : bool
        Some y bias δ is not 0 (the row finish adds the ``dl`` field of the row table).
    """

    Pm: int
    half: bool
    glu_passes: int
    upd_tables: tuple
    bu_widths: tuple
    delta: bool

    def passes(self, Cs: int) -> int:
        """Real-mode passes per block: B̄u (2·Cs) and GLU."""
        return 2 * Cs + self.glu_passes

    def coef_words(self, Cs: int, Q: int, readouts: int = 1) -> int:
        """Coefficient words per block: B̄u and GLU chunks, the updates and the words of the
        readout slots: ``readouts`` = 1, the identity word they all read (ROM storage), or
        H·Cs, one C̃ word each (LOAD storage, :mod:`hwssm.hw.storage`)."""
        return self.passes(Cs) * Q + Cs + readouts


@dataclasses.dataclass(frozen=True, eq=False)
class CoreConfig:
    """The derived hardware description of one QModel on P lanes for sequences of T steps.

    Geometry
    --------
    Cs = ceil(M/P) mode chunks per channel (lane p holds modes m ≡ p mod P);
    KP = ceil(H/P) mixing outputs per lane and half (value rows h, gate rows H+h);
    Q = ceil(H/k) k-column chunks of a mixing row (real mode: k = ``Pipeline.mix_cols``
    MACs per lane-cycle).

    Generation options
    ------------------
    storage : ParamStorage
        ROM (parameters in memory init) or LOAD (single-port RAMs filled through the load
        port; ``load`` then holds the words and the image, see :mod:`hwssm.hw.storage`).
    soft_mul_bits : int
        Multiplies with an operand of at most this many bits use LUT adders (0: none).

    Activations
    -----------
    ``a`` is the widest activation format (:func:`hwssm.hw.derive.act_width`); with per-layer
    activation widths a narrower block's codes are sign-extended to a bits and fitted to its own
    width by the deficits ``yd`` (``ssm_table``), ``vd`` (``mix_tables``), ``zd``, ``rd``
    (``glu``) and ``enc["width"]`` (R_0), each present only when some deficit is not 0;
    ``gelu_words`` and ``sig_words`` hold 2^a words per block.
    """

    qm: QModel
    P: int
    T: int
    pipe: Pipeline
    a: int
    Cs: int
    KP: int
    Q: int
    lane: LaneConfig
    ssm_table: Table          # rows l*H + h
    mix_tables: tuple         # one Table per lane, rows l*2KP + kk
    enc_table: Table          # rows h
    dec_table: Table          # rows k
    coef_words: tuple         # per lane: list of ints, depth L*(H*Cs + 2*KP*Q)
    coef_field_widths: tuple
    c_words: tuple            # per lane: L*H*Cs words of {Cr, Ci}
    xr_width: int
    xi_width: int
    du_width: int             # D·u product
    d_width: int
    rowsum_width: int
    fin_width: int
    y_rounding: Rounding
    y_overflow: Overflow
    gelu_words: list
    sig_words: list
    sig_width: int
    glu: dict                 # per-layer constants of GLU and residual
    enc: dict
    dec: dict
    pool_width: int
    logit_width: int
    logit_frac: int
    storage: ParamStorage = ParamStorage.ROM
    soft_mul_bits: int = 0
    load: LoadLayout | None = None
    #: a token model's embedding ROM (:func:`hwssm.hw.derive.token_rom`: word token·2^hb + h
    #: holds r0[token, h], a bits); None for the linear encoder
    enc_rom: tuple | None = None
    #: the S5 family's layout (:class:`S5Layout`); None for S4D
    s5: S5Layout | None = None
    #: the LayerNorm unit (:class:`~hwssm.hw.norm_config.NormConfig`); None without LayerNorm
    norm: object | None = None

    # -- geometry helpers --------------------------------------------------------------
    @property
    def C(self) -> int:
        """Samples per step of the input stream (1 for a token model)."""
        return getattr(self.qm, "C", 1)

    @property
    def in_width(self) -> int:
        """Bits of the input stream's word: C samples of 8 bits, sample c in bits [8c, 8c+8)."""
        return 8 * self.C

    @property
    def H(self) -> int:
        return self.qm.H

    @property
    def M(self) -> int:
        return self.qm.M

    @property
    def L(self) -> int:
        return self.qm.L

    @property
    def n_classes(self) -> int:
        return self.qm.n_classes

    @property
    def ssm_items(self) -> int:
        """SSM issue slots per layer: H·Cs."""
        return self.H * self.Cs

    @property
    def mix_items(self) -> int:
        """Mixing issue slots per layer: 2·KP·Q."""
        return 2 * self.KP * self.Q

    @property
    def coef_depth(self) -> int:
        if self.s5 is not None:
            rd = self.H * self.Cs if self.storage is ParamStorage.LOAD else 1
            return self.L * self.s5.coef_words(self.Cs, self.Q, rd)
        return self.L * (self.ssm_items + self.mix_items)

    @property
    def tree_stages(self) -> int:
        return tree_stages(self.P, self.pipe.tree_levels_per_stage)

    def mix_row(self, p: int, kk: int) -> int | None:
        """Mixing output row computed by lane p in pass kk (None: idle lane)."""
        return mix_output_row(self.H, self.P, p, kk)


def mix_output_row(H: int, P: int, p: int, kk: int) -> int | None:
    """Row of the mixing layer that lane p computes in pass kk: value rows (kk even) h, gate
    rows (kk odd) H + h, with h = (kk div 2)·P + p; None when h >= H (the lane idles)."""
    k, gate = divmod(kk, 2)
    h = k * P + p
    return None if h >= H else h + (H if gate else 0)
