"""What the RTL is made of, derived from a QModel: widths, per-row shift tables, ROM contents.

This is the software half of the hardware (the ``.compute()`` beside the Components'
``.create()``): every number the Amaranth code bakes in comes from here, and here only.

Arithmetic choices (all exact rewrites of ``hwssm/golden/ARITHMETIC.md``):

- **Effective parameters are pre-subtracted.** ROMs hold ``w = code - zero`` as signed
  two's complement, ``bits`` wide for symmetric tensors and ``bits + 1`` for asymmetric
  ones. No zero point reaches the hardware.
- **Accumulator frac.** Each row accumulates at ``F' = max(F, out.frac)`` where ``F`` is
  the contract's frac (the largest term frac). Shifting every term further left by
  ``F' - F`` is exact and makes every rounding shift ``s = F' - out.frac >= 0``, so
  ``rshift(acc·2^e, s + e) = rshift(acc, s)`` gives the contract's integers.
- **Readout.** A lane aligns its two readout products to ``Gc = max(fCr+fxr, fCi+fxi)``;
  the row finish multiplies the mode sum by ``2^(1 + G' - Gc)`` (the 2 of 2·Re(C̄x) and
  the remaining alignment) and adds ``D·u`` aligned to ``G'``.
- **Biases** are stored pre-aligned (``b · 2^(F' - fb)``) in the row ROMs.
- **Widths** come from :func:`hwssm.fixed.accumulator_format` (the one worst-case width
  function) plus ``F' - F`` plus one guard bit (a subtracted term's range is its mirror
  image, one LSB outside the function's range). Every width is also checked against an
  exact bound at generation time.
- **Shift amounts** vary by row (per-head fracs) and by layer. A shift whose value is the
  same for every row is a constant (no hardware); otherwise the ROM stores ``value - lo``.

A plan the RTL cannot realise raises :class:`~hwssm.errors.HwssmError` here (one line).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import HwssmError
from ..fixed import Overflow, QFormat, Rounding, Term, accumulator_format, signed_width
from ..quant.qmodel import U0_FORMAT, QModel, QParam
from .options import MAX_LANES, MAX_SOFT_MUL_BITS, MIX_COLS, MIX_FIELD, DesignPoint, Pipeline, mix_field
from .storage import LoadLayout, ParamStorage

__all__ = [
    "MAX_ACT_BITS", "MAX_OPERAND_BITS", "MAX_LANES", "Pipeline", "Shift", "Table", "LaneConfig",
    "SsmRow", "MixRow", "CoreConfig", "derive", "mix_output_row", "ceil_log2", "tree_stages",
    "ParamStorage", "MAX_SOFT_MUL_BITS", "MIX_COLS", "mix_field",
]

#: Widest activation: the GELU/sigmoid tables have 2^bits entries per layer.
MAX_ACT_BITS = 12
#: Widest multiplier operand (effective parameter, state) the generator accepts.
MAX_OPERAND_BITS = 24
#: Extra accumulator bit on top of accumulator_format (see module docstring).
GUARD = 1


def ceil_log2(n: int) -> int:
    """Bits of an address for ``n`` entries (0 for n <= 1)."""
    return max(0, (int(n) - 1).bit_length())


def tree_stages(P: int, levels_per_stage: int) -> int:
    """Register stages of the cross-lane adder tree for P inputs."""
    levels = ceil_log2(P)
    return 0 if levels == 0 else -(-levels // levels_per_stage)


@dataclasses.dataclass(frozen=True)
class Shift:
    """A shift amount that varies over rows in ``[lo, hi]``; ROMs store ``value - lo``."""

    lo: int
    hi: int

    @property
    def width(self) -> int:
        """Bits of the variable part (0: constant shift)."""
        return (self.hi - self.lo).bit_length()

    @property
    def const(self) -> bool:
        return self.lo == self.hi

    @classmethod
    def of(cls, values) -> "Shift":
        v = np.asarray(values, dtype=np.int64).ravel()
        return cls(int(v.min()), int(v.max()))


class Table:
    """Per-row constants packed into ROM words (fields that never vary become constants).

    ``shift(name, values)`` adds a shift amount, ``value(name, values)`` a signed integer.
    ``words()`` gives the ROM contents; :meth:`unpack` (hardware side) turns a ROM data
    word into :class:`~hwssm.hw.ops.ShiftAmt` / signed values.
    """

    def __init__(self, rows: int):
        self.rows = int(rows)
        self._fields: list[tuple[str, str, int, int, np.ndarray | None]] = []
        self.shifts: dict[str, Shift] = {}
        self.value_widths: dict[str, int] = {}
        self.consts: dict[str, int] = {}

    def _check(self, name, values):
        v = np.asarray(values, dtype=object).ravel()
        if v.shape != (self.rows,):
            raise ValueError(f"table field {name}: {v.shape} values for {self.rows} rows")
        return [int(x) for x in v]

    def shift(self, name: str, values, rng: Shift | None = None) -> Shift:
        """Add a shift field; ``rng`` forces a common range (identical layouts across lanes)."""
        vals = self._check(name, values)
        sh = rng if rng is not None else Shift(min(vals), max(vals))
        if min(vals) < sh.lo or max(vals) > sh.hi:
            raise ValueError(f"table field {name}: values outside {sh}")
        self.shifts[name] = sh
        if sh.width:
            self._fields.append((name, "shift", sh.width, sh.lo, np.array([x - sh.lo for x in vals], dtype=object)))
        return sh

    def value(self, name: str, values, width: int | None = None, stored: bool = False) -> int:
        """Add a signed value field; ``stored`` keeps it in the ROM even when constant."""
        vals = self._check(name, values)
        w = width if width is not None else max(2, signed_width(min(vals), max(vals)))
        self.value_widths[name] = w
        if len(set(vals)) == 1 and not stored:
            self.consts[name] = vals[0]
        else:
            self._fields.append((name, "value", w, 0, np.array(vals, dtype=object)))
        return w

    @property
    def width(self) -> int:
        return sum(f[2] for f in self._fields)

    def words(self) -> list[int]:
        out = [0] * self.rows
        pos = 0
        for _, _, w, _, vals in self._fields:
            mask = (1 << w) - 1
            for i, x in enumerate(vals):
                out[i] |= (int(x) & mask) << pos
            pos += w
        return out

    def unpack(self, data) -> dict:
        """Hardware: ``{name: ShiftAmt | signed Value}`` from a ROM data word (or None if width 0)."""
        from amaranth.hdl import Const, signed

        from .rtl.ops import ShiftAmt

        out = {}
        pos = 0
        stored = {}
        for name, kind, w, lo, _ in self._fields:
            stored[name] = (kind, data[pos:pos + w], lo)
            pos += w
        for name, sh in self.shifts.items():
            if name in stored:
                out[name] = ShiftAmt(sh.lo, stored[name][1])
            else:
                out[name] = ShiftAmt(sh.lo, None)
        for name, w in self.value_widths.items():
            if name in stored:
                out[name] = stored[name][1].as_signed()
            else:
                out[name] = Const(self.consts[name], signed(w))
        return out


# -- exact sizing ---------------------------------------------------------------------

def _sum_width(terms: list[tuple[int, Term]], target_frac: int, round_shift: int, rounding: Rounding) -> int:
    """Width of ``Σ sign·term·2^(target_frac - term.frac)`` (+ the HALF_UP constant of a
    ``round_shift`` rshift), from accumulator_format + alignment + GUARD, checked exactly."""
    F = max(t.frac for _, t in terms)
    e = target_frac - F
    if e < 0:
        raise AssertionError("target frac below the natural accumulator frac")
    af = accumulator_format([t for _, t in terms], max(0, round_shift - e))
    width = af.width + e + GUARD
    lo = hi = 0
    for sign, t in terms:
        tlo, thi = t.code_range()
        if sign < 0:
            tlo, thi = -thi, -tlo
        sh = target_frac - t.frac
        lo += tlo << sh
        hi += thi << sh
    if rounding is Rounding.HALF_UP and round_shift > 0:
        hi += 1 << (round_shift - 1)
    if signed_width(lo, hi) > width:  # pragma: no cover - a bug in the sizing rule
        raise AssertionError(f"accumulator of width {width} cannot hold [{lo}, {hi}]")
    return width


def _eff(p: QParam, row: int) -> QFormat:
    return p.effective_format(row)


def _eff_width(p: QParam) -> int:
    return p.bits if p.signed else p.bits + 1


@dataclasses.dataclass(frozen=True)
class SsmRow:
    """Formats of one S4D row (layer l, channel h): effective parameters, state, input, output."""

    Ar: QFormat
    Ai: QFormat
    Br: QFormat
    Bi: QFormat
    Cr: QFormat
    Ci: QFormat
    D: QFormat
    Xr: QFormat
    Xi: QFormat
    U: QFormat
    Y: QFormat
    M: int


@dataclasses.dataclass(frozen=True)
class MixRow:
    """Formats of one mixing output row j: effective weight and bias, input g, output v."""

    W: QFormat
    b: QFormat
    G: QFormat
    V: QFormat
    K: int  # number of inputs (H)


def ssm_row_constants(rows: list[SsmRow]) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Per-row shifts and worst-case widths of the state update, readout and row finish.

    Returns ``(shifts, widths)``: shifts name -> per-row values (ar, ai, br: the three re
    terms; ax, ia, bi: the im terms; re, im: the requant shifts; cr, ci: readout alignment
    to Gc; es, ed, sy: row finish), widths name -> bits (acc_re, acc_im, part, rowsum, fin).
    """
    sh: dict[str, list[int]] = {k: [] for k in ("ar", "ai", "br", "ax", "ia", "bi", "re", "im", "cr", "ci", "es", "ed", "sy")}
    wd = {"acc_re": 0, "acc_im": 0, "part": 0, "rowsum": 0, "fin": 0}
    for r in rows:
        rnd_r, rnd_i, rnd_y = r.Xr.rounding, r.Xi.rounding, r.Y.rounding
        # real part of Ā·x + B̄·u
        t_ar, t_ai, t_br = Term(r.Ar, r.Xr), Term(r.Ai, r.Xi), Term(r.Br, r.U)
        F = max(t_ar.frac, t_ai.frac, t_br.frac, r.Xr.frac)
        sh["ar"].append(F - t_ar.frac)
        sh["ai"].append(F - t_ai.frac)
        sh["br"].append(F - t_br.frac)
        sh["re"].append(F - r.Xr.frac)
        wd["acc_re"] = max(wd["acc_re"], _sum_width([(1, t_ar), (-1, t_ai), (1, t_br)], F, F - r.Xr.frac, rnd_r))
        # imaginary part
        t_ax, t_ia, t_bi = Term(r.Ar, r.Xi), Term(r.Ai, r.Xr), Term(r.Bi, r.U)
        F = max(t_ax.frac, t_ia.frac, t_bi.frac, r.Xi.frac)
        sh["ax"].append(F - t_ax.frac)
        sh["ia"].append(F - t_ia.frac)
        sh["bi"].append(F - t_bi.frac)
        sh["im"].append(F - r.Xi.frac)
        wd["acc_im"] = max(wd["acc_im"], _sum_width([(1, t_ax), (1, t_ia), (1, t_bi)], F, F - r.Xi.frac, rnd_i))
        # readout: lane partial at Gc, row sum over M modes, finish at G'
        t_cr, t_ci = Term(r.Cr, r.Xr), Term(r.Ci, r.Xi)
        Gc = max(t_cr.frac, t_ci.frac)
        sh["cr"].append(Gc - t_cr.frac)
        sh["ci"].append(Gc - t_ci.frac)
        wd["part"] = max(wd["part"], _sum_width([(1, t_cr), (-1, t_ci)], Gc, 0, rnd_y))
        wd["rowsum"] = max(wd["rowsum"], _sum_width([(1, Term(r.Cr, r.Xr, r.M)), (-1, Term(r.Ci, r.Xi, r.M))], Gc, 0, rnd_y))
        t_d = Term(r.D, r.U)
        G = max(Gc, t_d.frac, r.Y.frac)
        sh["es"].append(1 + G - Gc)
        sh["ed"].append(G - t_d.frac)
        sh["sy"].append(G - r.Y.frac)
        wd["fin"] = max(wd["fin"], _sum_width(
            [(1, Term(r.Cr, r.Xr, r.M, 1)), (-1, Term(r.Ci, r.Xi, r.M, 1)), (1, t_d)], G, G - r.Y.frac, rnd_y))
    return sh, wd


def mix_row_constants(rows: list[MixRow]) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Per-row shifts of a linear layer output (w: product-sum alignment, bshift: bias
    alignment, v: requant shift) and widths (racc: raw Σ W·g, fin: aligned sum + bias)."""
    sh: dict[str, list[int]] = {"w": [], "bshift": [], "v": []}
    wd = {"racc": 0, "fin": 0}
    for r in rows:
        t_w, t_b = Term(r.W, r.G, r.K), Term(r.b)
        F = max(t_w.frac, t_b.frac, r.V.frac)
        sh["w"].append(F - t_w.frac)
        sh["bshift"].append(F - t_b.frac)
        sh["v"].append(F - r.V.frac)
        wd["racc"] = max(wd["racc"], _sum_width([(1, t_w)], t_w.frac, 0, r.V.rounding))
        wd["fin"] = max(wd["fin"], _sum_width([(1, t_w), (1, t_b)], F, F - r.V.frac, r.V.rounding))
    return sh, wd


@dataclasses.dataclass(frozen=True, eq=False)
class LaneConfig:
    """Everything one complex-MAC lane needs (see :class:`hwssm.hw.lane.Lane`).

    ``f_widths`` are the ``mix_cols`` coefficient fields (complex mode: Ār, Āi, B̄r, B̄i
    in fields 0-3, the others unused; real mode: the weights of the chunk's columns, column
    j in field :func:`mix_field`). ``shifts`` maps each shift name to its :class:`Shift`: ar, ai, br,
    ax, ia, bi (state update term alignment), re, im (state requant), cr, ci (readout
    alignment), w, v (real-mode alignment and requant).

    ``b_widths`` (optional): the widths of B̄r, B̄i when narrower than f2, f3; the B̄·u
    multipliers then take only those low bits of f2, f3 (exact: in complex mode f2, f3 hold
    B̄ sign-extended). ``soft_mul_bits``: multiplies whose narrower operand has at most this
    many bits are built from LUT adders (:func:`hwssm.hw.ops.mul`), not hard DSPs (0: none).
    ``requant_stages``: registers inside each requantization (``Pipeline.requant_stages``);
    ``acc_stages``: registers before the real-mode row finish (``Pipeline.acc_stages``).
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


def _uniform(fmts, what: str) -> tuple[Rounding, Overflow]:
    kinds = {(f.rounding, f.overflow) for f in fmts}
    if len(kinds) != 1:
        raise HwssmError(f"the RTL needs one rounding/overflow per operation; {what} formats mix {sorted((r.value, o.value) for r, o in kinds)}")
    return kinds.pop()


def _pack(values, widths) -> int:
    word, pos = 0, 0
    for v, w in zip(values, widths):
        word |= (int(v) & ((1 << w) - 1)) << pos
        pos += w
    return word


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

    # -- geometry helpers --------------------------------------------------------------
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


def derive(qm: QModel, design: DesignPoint) -> CoreConfig:
    """Check that the RTL can realise ``qm`` built as ``design`` and derive its :class:`CoreConfig`.

    ``design`` (:class:`~hwssm.hw.options.DesignPoint`, already validated) gives P, T, the
    pipeline and the generation options ``storage`` and ``soft_mul_bits``.
    Raises HwssmError (one line) for a model or lane count the generator does not support.
    """
    if not isinstance(design, DesignPoint):
        raise HwssmError(f"derive needs a DesignPoint, not {type(design).__name__}")
    P, T, pipe = design.lanes, design.seq_len, design.pipeline
    storage, soft_mul_bits = design.storage, design.soft_mul_bits
    H, M, L, nc = qm.H, qm.M, qm.L, qm.n_classes
    if nc < 2 or nc > 16:
        raise HwssmError(f"the RTL supports 2..16 classes (out_class is 4 bits), not {nc}")
    a = qm.r0.width
    if a > MAX_ACT_BITS:
        raise HwssmError(f"plan {qm.plan.name}: activations of {a} bits need GELU/sigmoid tables of 2^{a} "
                         f"entries per layer; the RTL supports at most {MAX_ACT_BITS} bits")
    acts = [qm.r0] + [f for ly in qm.layers for f in (ly.y, ly.g, ly.v, ly.z, ly.r_out)]
    if any(f.width != a or not f.signed for f in acts):
        raise HwssmError("the RTL needs every activation format (r, y, g, v, z) signed and of one width")
    for ly in qm.layers:
        if ly.sig.signed or ly.sig.width > 16:
            raise HwssmError("the RTL needs unsigned sigmoid codes of at most 16 bits")
    for name, p in qm.params():
        if name.endswith((".b", "enc_b", "dec_b")):
            continue
        if _eff_width(p) > MAX_OPERAND_BITS:
            raise HwssmError(f"{name}: {_eff_width(p)}-bit effective parameters exceed the RTL's {MAX_OPERAND_BITS}-bit multipliers")
    for ly in qm.layers:
        for f in ly.x_re + ly.x_im:
            if f.width > MAX_OPERAND_BITS:
                raise HwssmError(f"{f.width}-bit state exceeds the RTL's {MAX_OPERAND_BITS}-bit multipliers")

    k = pipe.mix_cols
    Cs, KP, Q = -(-M // P), -(-H // P), -(-H // k)
    xr_width = max(f.width for ly in qm.layers for f in ly.x_re)
    xi_width = max(f.width for ly in qm.layers for f in ly.x_im)
    if any(f.width != xr_width for ly in qm.layers for f in ly.x_re) or any(f.width != xi_width for ly in qm.layers for f in ly.x_im):
        raise HwssmError("the RTL needs one state width per part (re, im) across layers and heads")
    xr_rnd = _uniform([f for ly in qm.layers for f in ly.x_re], "state (re)")
    xi_rnd = _uniform([f for ly in qm.layers for f in ly.x_im], "state (im)")
    y_rnd = _uniform([ly.y for ly in qm.layers], "readout y")
    v_rnd = _uniform([ly.v for ly in qm.layers], "mixing v")
    z_rnd = _uniform([ly.z for ly in qm.layers], "GLU z")
    r_rnd = _uniform([ly.r_out for ly in qm.layers], "residual r")

    # -- S4D rows ------------------------------------------------------------------------
    srows = []
    for l, ly in enumerate(qm.layers):
        U = qm.r_in(l)
        for h in range(H):
            srows.append(SsmRow(_eff(ly.A_re, h), _eff(ly.A_im, h), _eff(ly.B_re, h), _eff(ly.B_im, h),
                                _eff(ly.C_re, h), _eff(ly.C_im, h), _eff(ly.D, h), ly.x_re[h], ly.x_im[h],
                                U, ly.y, M))
    s_sh, s_wd = ssm_row_constants(srows)
    ssm_table = Table(L * H)
    for name, vals in s_sh.items():
        ssm_table.shift(name, vals)
    Dvals = [int(ly.D.effective()[h]) for ly in qm.layers for h in range(H)]
    d_width = max(_eff_width(ly.D) for ly in qm.layers)
    ssm_table.value("D", Dvals, d_width)

    # -- mixing rows (per lane tables) ---------------------------------------------------
    mrows = []
    for l, ly in enumerate(qm.layers):
        for j in range(2 * H):
            mrows.append(MixRow(_eff(ly.W, j), _eff(ly.b, j), ly.g, ly.v, H))
    m_sh, m_wd = mix_row_constants(mrows)
    bias_pre = []
    for l, ly in enumerate(qm.layers):
        beff = ly.b.effective()
        for j in range(2 * H):
            bias_pre.append(int(beff[j]) << m_sh["bshift"][l * 2 * H + j])
    sh_w_all, sh_v_all = Shift.of(m_sh["w"]), Shift.of(m_sh["v"])
    bias_width = max(2, signed_width(min(bias_pre + [0]), max(bias_pre + [0])))
    mix_tables = []
    for p in range(P):
        t = Table(L * 2 * KP)
        ws, vs, bs = [], [], []
        for l in range(L):
            for kk in range(2 * KP):
                j = mix_output_row(H, P, p, kk)
                i = None if j is None else l * 2 * H + j
                ws.append(sh_w_all.lo if i is None else m_sh["w"][i])
                vs.append(sh_v_all.lo if i is None else m_sh["v"][i])
                bs.append(0 if i is None else bias_pre[i])
        t.shift("w", ws, sh_w_all)
        t.shift("v", vs, sh_v_all)
        t.value("bias", bs, bias_width, stored=True)
        mix_tables.append(t)
    mix_tables = tuple(mix_tables)

    # -- coefficient and C̄ ROMs --------------------------------------------------------
    def w_of(p: QParam) -> int:
        return _eff_width(p)

    wW = max(w_of(ly.W) for ly in qm.layers)
    f_widths = (
        max(max(w_of(ly.A_re) for ly in qm.layers), wW),
        max(max(w_of(ly.A_im) for ly in qm.layers), wW),
        max(max(w_of(ly.B_re) for ly in qm.layers), wW),
        max(max(w_of(ly.B_im) for ly in qm.layers), wW),
    ) + (wW,) * (k - 4)
    cr_width = max(w_of(ly.C_re) for ly in qm.layers)
    ci_width = max(w_of(ly.C_im) for ly in qm.layers)
    coef_words, c_words = [], []
    load_s4d, load_mix = [], []  # per lane: {address: field values} (LOAD storage)
    effs = [{n: getattr(ly, n).effective() for n in ("A_re", "A_im", "B_re", "B_im", "C_re", "C_im", "W")} for ly in qm.layers]
    for p in range(P):
        cw, ccw = [], []
        ls, lm = {}, {}
        for l in range(L):
            e = effs[l]
            for h in range(H):
                for c in range(Cs):
                    m = c * P + p
                    if m < M:
                        ls[len(cw)] = tuple(int(e[n][h, m]) for n in ("A_re", "A_im", "B_re", "B_im", "C_re", "C_im"))
                        cw.append(_pack((e["A_re"][h, m], e["A_im"][h, m], e["B_re"][h, m], e["B_im"][h, m]), f_widths))
                        ccw.append(_pack((e["C_re"][h, m], e["C_im"][h, m]), (cr_width, ci_width)))
                    else:
                        ls[len(cw)] = (0,) * 6
                        cw.append(0)
                        ccw.append(0)
            for kk in range(2 * KP):
                j = mix_output_row(H, P, p, kk)
                for q in range(Q):
                    if j is None:
                        lm[len(cw)] = (0,) * k
                        cw.append(0)
                        continue
                    vals = [0] * k  # in field order: column i's weight in field mix_field(k, i)
                    for i in range(k):
                        if k * q + i < H:
                            vals[mix_field(k, i)] = int(e["W"][j, k * q + i])
                    lm[len(cw)] = tuple(vals)
                    cw.append(_pack(vals, f_widths))
        coef_words.append(cw)
        c_words.append(ccw)
        load_s4d.append(ls)
        load_mix.append(lm)
    b_widths = (max(w_of(ly.B_re) for ly in qm.layers), max(w_of(ly.B_im) for ly in qm.layers))
    load = None
    if storage is ParamStorage.LOAD:
        load = LoadLayout.build(
            (max(w_of(ly.A_re) for ly in qm.layers), max(w_of(ly.A_im) for ly in qm.layers), *b_widths,
             cr_width, ci_width),
            (wW,) * k, load_s4d, load_mix)

    lane = LaneConfig(
        mul_stages=pipe.mul_stages, f_widths=f_widths, xr_width=xr_width, xi_width=xi_width, u_width=a,
        g_width=a, cr_width=cr_width, ci_width=ci_width,
        shifts={**{k: ssm_table.shifts[k] for k in ("ar", "ai", "br", "ax", "ia", "bi", "re", "im", "cr", "ci")},
                "w": sh_w_all, "v": sh_v_all},
        acc_re_width=s_wd["acc_re"], acc_im_width=s_wd["acc_im"], part_width=s_wd["part"],
        xr_rounding=xr_rnd[0], xr_overflow=xr_rnd[1], xi_rounding=xi_rnd[0], xi_overflow=xi_rnd[1],
        racc_width=m_wd["racc"], bias_width=bias_width, fin_width=m_wd["fin"], v_width=a,
        v_rounding=v_rnd[0], v_overflow=v_rnd[1],
        # with mix_cols >= 6 the B̄·u multipliers also take real-mode weights from fields 2, 3
        b_widths=b_widths if storage is ParamStorage.LOAD and k == 4 else None, soft_mul_bits=soft_mul_bits,
        requant_stages=pipe.requant_stages, acc_stages=pipe.acc_stages, mix_cols=k,
    )

    # -- tables --------------------------------------------------------------------------
    gelu_words, sig_words = [], []
    amask = (1 << a) - 1
    sig_width = max(ly.sig.width for ly in qm.layers)
    for ly in qm.layers:
        gelu_words.extend(int(c) & amask for c in ly.gelu_lut)
        sig_words.extend(int(c) for c in ly.sigmoid_lut)

    # -- GLU and residual, per layer -----------------------------------------------------
    glu = {"z": [], "dz": [], "du": [], "r": [], "res_width": 0}
    for l, ly in enumerate(qm.layers):
        U = qm.r_in(l)
        glu["z"].append(ly.v.frac + ly.sig.frac - ly.z.frac)
        F = max(ly.z.frac, U.frac, ly.r_out.frac)
        glu["dz"].append(F - ly.z.frac)
        glu["du"].append(F - U.frac)
        glu["r"].append(F - ly.r_out.frac)
        glu["res_width"] = max(glu["res_width"], _sum_width([(1, Term(ly.z)), (1, Term(U))], F, F - ly.r_out.frac, r_rnd[0]))
    glu["prod_width"] = a + sig_width + 1
    glu["z_rounding"], glu["z_overflow"] = z_rnd
    glu["r_rounding"], glu["r_overflow"] = r_rnd

    # -- encoder ---------------------------------------------------------------------------
    enc_table = Table(H)
    e_w, e_b, e_s, e_bp, e_wd = [], [], [], [], 0
    We, be = qm.enc_W.effective(), qm.enc_b.effective()
    for h in range(H):
        t_w, t_b = Term(_eff(qm.enc_W, h), U0_FORMAT), Term(_eff(qm.enc_b, h))
        F = max(t_w.frac, t_b.frac, qm.r0.frac)
        e_w.append(F - t_w.frac)
        e_s.append(F - qm.r0.frac)
        e_bp.append(int(be[h]) << (F - t_b.frac))
        e_wd = max(e_wd, _sum_width([(1, t_w), (1, t_b)], F, F - qm.r0.frac, qm.r0.rounding))
    enc_table.value("W", [int(x) for x in We[:, 0]], _eff_width(qm.enc_W))
    enc_table.value("bias", e_bp)
    enc_table.shift("w", e_w)
    enc_table.shift("s", e_s)
    enc = {"fin_width": e_wd, "prod_width": _eff_width(qm.enc_W) + 9,
           "rounding": qm.r0.rounding, "overflow": qm.r0.overflow}

    # -- decoder ---------------------------------------------------------------------------
    rL = qm.r_final
    pool_fmt = QFormat(min(64, signed_width(T * rL.min_code, T * rL.max_code)), rL.frac)
    Fk = [max(int(qm.dec_W.frac[k]) + rL.frac, int(qm.dec_b.frac[k])) for k in range(nc)]
    Fmax = max(Fk)
    dec_table = Table(nc)
    Wd, bd = qm.dec_W.effective(), qm.dec_b.effective()
    dw, dbp, acc_w, logit_w = [], [], 0, 0
    for k in range(nc):
        t_w, t_b = Term(_eff(qm.dec_W, k), pool_fmt, H), Term(_eff(qm.dec_b, k))
        dw.append(Fmax - t_w.frac)
        dbp.append(int(bd[k]) << (Fmax - t_b.frac))
        acc_w = max(acc_w, _sum_width([(1, t_w)], t_w.frac, 0, Rounding.FLOOR))
        logit_w = max(logit_w, _sum_width([(1, t_w), (1, t_b)], Fmax, 0, Rounding.FLOOR))
    dec_table.shift("w", dw)
    dec_table.value("bias", dbp)
    dec = {"W_words": [int(Wd[k, h]) & ((1 << _eff_width(qm.dec_W)) - 1) for k in range(nc) for h in range(H)],
           "W_width": _eff_width(qm.dec_W), "acc_width": acc_w}

    return CoreConfig(
        qm=qm, P=P, T=T, pipe=pipe, a=a, Cs=Cs, KP=KP, Q=Q, lane=lane, ssm_table=ssm_table,
        mix_tables=mix_tables, enc_table=enc_table, dec_table=dec_table, coef_words=tuple(coef_words),
        coef_field_widths=f_widths, c_words=tuple(c_words), xr_width=xr_width, xi_width=xi_width,
        du_width=d_width + a, d_width=d_width, rowsum_width=s_wd["rowsum"], fin_width=s_wd["fin"],
        y_rounding=y_rnd[0], y_overflow=y_rnd[1], gelu_words=gelu_words, sig_words=sig_words,
        sig_width=sig_width, glu=glu, enc=enc, dec=dec, pool_width=pool_fmt.width,
        logit_width=logit_w, logit_frac=Fmax, storage=storage, soft_mul_bits=soft_mul_bits, load=load,
    )
