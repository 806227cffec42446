"""The arithmetic contract lowered once: a QModel as typed per-layer, per-row integer records.

ARITHMETIC.md (beside this module) defines what a QModel computes. :func:`lower` turns a
QModel into the integers that definition implies, once, for every consumer:

- the golden engine (:mod:`hwssm.golden.tables` packs these records for its kernels),
- the RTL derivation (:mod:`hwssm.hw`, which adds only its documented rewrites),
- the QAT forward (:mod:`hwssm.train`).

For every sum: each term's effective format and alignment to the accumulator frac ``F``,
the worst-case accumulator width (:func:`hwssm.fixed.accumulator_format`) and the
requantization (``F``, the output format with its own rounding and overflow, and the
RQ_* record ``lsh, rnd, rsh, lo, hi, wrap``). Per row quantities are numpy arrays (shapes
in the comments); the per-row :class:`~hwssm.quant.lowering_sum.SumRow` objects keep the
typed view. The lookup tables are the QModel's stored codes (:class:`Lut`).

:func:`lower` raises :class:`~hwssm.quant.qmodel.QModelError` (a HwssmError, one line) for a
QModel outside ARITHMETIC.md §5; :meth:`QModel.validate` runs it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from ..fixed import MAX_WIDTH, Overflow, QFormat, requantize, signed_width
from .lowering_sum import (
    RQ_COLS, RQ_HI, RQ_LO, RQ_LSH, RQ_RND, RQ_RSH, RQ_WRAP, MixFormats, Requant, SsmFormats, SsmSums, SumRow,
    TermRow, decoder_row, encoder_row, glu_row, lower_sum, mix_row, requant_record, residual_row, ssm_row,
)
from .layernorm import NormLowering, lower_norm
from .qmodel import QModel, QModelError

__all__ = [
    "RQ_LSH", "RQ_RND", "RQ_RSH", "RQ_LO", "RQ_HI", "RQ_WRAP", "RQ_COLS", "requant_record",
    "TermRow", "Requant", "SumRow", "SsmFormats", "SsmSums", "MixFormats", "lower_sum", "ssm_row", "mix_row",
    "Lut", "EncoderLowering", "LayerLowering", "DecoderLowering", "Lowering", "lower", "pool_format", "lower_layer_norm",
]


@dataclasses.dataclass(frozen=True)
class Lut:
    """A nonlinearity table (§2.2): entry i is the ``fout`` code for the input code ``i + fin.min_code``."""

    codes: np.ndarray   # int64 (2**fin.width,)
    fin: QFormat        # input format (Y_l for GELU, V_l for the sigmoid)
    fout: QFormat       # output format (G_l, S_l)

    @property
    def min_code(self) -> int:
        return self.fin.min_code


@dataclasses.dataclass(frozen=True)
class EncoderLowering:
    """Encoder (§2.1), rows h = 0..H-1: ``r0[h] = requant(Σ_c We[h,c]·p[c] + be[h], F, R_0)``.

    A token model (``table`` set) reads ``r0[h] = table[token, h]``: the same sum with the
    one-hot input, ``requant(We[h, token] + be[h], F, R_0)``, computed here once per token
    (the embedding ROM of the hardware).
    """

    W: np.ndarray                # int64 (H,)    effective We of input 0 (the whole encoder when C = 1)
    b: np.ndarray                # int64 (H,)    effective be
    rows: tuple[SumRow, ...]     # (H,)
    sh: np.ndarray               # int64 (H, 2)  alignments of We·p and be
    rq: np.ndarray               # int64 (H, 6)  requant records to R_0
    Wc: np.ndarray = None        # int64 (H, C) or (H, V)  every effective We
    table: np.ndarray | None = None  # int64 (V, H) R_0 codes of each token (token models), else None

    @property
    def C(self) -> int:
        """Samples per step the encoder sums (1 for a token model)."""
        return 1 if self.table is not None else self.Wc.shape[1]


@dataclasses.dataclass(frozen=True)
class LayerLowering:
    """Block l (§2.2): state update, readout, GELU, mixing, GLU and residual."""

    U: QFormat                   # the block's input format R_l (frac fu; the S4D input is N_l after a prenorm LayerNorm)
    A: np.ndarray                # int64 (4, H, M)  effective Ar, Ai, Br, Bi
    C: np.ndarray                # int64 (2, H, M)  effective Cr, Ci
    D: np.ndarray                # int64 (H,)       effective D
    ssm: tuple[SsmSums, ...]     # (H,)  the sums xr' (Fre), xi' (Fim), y (G) of channel h
    x_sh: np.ndarray             # int64 (H, 6)     alignments: re: Ar·xr, Ai·xi, Br·u; im: Ar·xi, Ai·xr, Bi·u
    x_rq: np.ndarray             # int64 (H, 2, 6)  requant records to Xre[h], Xim[h]
    y_sh: np.ndarray             # int64 (H, 3)     alignments of Cr·xr, Ci·xi, D·u (the factor 2 apart)
    y_rq: np.ndarray             # int64 (H, 6)     requant records to Y_l
    gelu: Lut                    # Y_l -> G_l
    W: np.ndarray                # int64 (2H, H)    effective mixing weights
    b: np.ndarray                # int64 (2H,)      effective mixing biases
    mix: tuple[SumRow, ...]      # (2H,)
    v_sh: np.ndarray             # int64 (2H, 2)    alignments of Σ W·g and b
    v_rq: np.ndarray             # int64 (2H, 6)    requant records to V_l
    sigmoid: Lut                 # V_l -> S_l
    glu: SumRow                  # v·σ at fv + fσ -> Z_l
    z_rq: np.ndarray             # int64 (6,)
    residual: SumRow             # z + u -> R_{l+1} (N_l before a postnorm LayerNorm)
    res_sh: np.ndarray           # int64 (2,)       alignments of z and u
    res_rq: np.ndarray           # int64 (6,)
    norm: NormLowering | None = None   # the block's LayerNorm (§7), prenorm R_l -> N_l, postnorm N_l -> R_{l+1}

    def sums(self) -> Iterator[SumRow]:
        """Every requantized sum of the block."""
        for s in self.ssm:
            yield from (s.xr, s.xi, s.y)
        yield from self.mix
        yield self.glu
        yield self.residual
        if self.norm is not None:
            yield from self.norm.rows


@dataclasses.dataclass(frozen=True)
class DecoderLowering:
    """Decoder (§2.3), rows k: ``logit[k] = align(Σ_h Wd[k,h]·S[h] + bd[k], max F_k - F_k)``."""

    W: np.ndarray                # int64 (K, H)  effective Wd
    b: np.ndarray                # int64 (K,)    effective bd
    S: QFormat                   # the pooled sum over T steps (frac of R_L, width for T)
    rows: tuple[SumRow, ...]     # (K,)  accumulator frac F_k
    sh: np.ndarray               # int64 (K, 3)  alignments of Σ Wd·S and bd, then of o[k] to max F_k
    logit_frac: int              # max_k F_k
    width: int                   # bits of the widest aligned logit


@dataclasses.dataclass(frozen=True)
class Lowering:
    """A QModel lowered for sequences of ``T`` steps (see the module docstring)."""

    T: int
    encoder: EncoderLowering
    layers: tuple[LayerLowering, ...]
    decoder: DecoderLowering

    def sums(self) -> Iterator[SumRow]:
        """Every requantized sum of the network (encoder, then block by block)."""
        yield from self.encoder.rows
        for ly in self.layers:
            yield from ly.sums()

    @property
    def acc_width(self) -> int:
        """Widest accumulator of a requantized sum (bits, :func:`~hwssm.fixed.accumulator_format`)."""
        return max(s.width for s in self.sums())

    @property
    def pre_width(self) -> int:
        """Widest requantized sum after its left pre-shift, ``(acc << lsh) + rnd`` (bits)."""
        return max(s.pre_width for s in self.sums())

    @property
    def unsigned_wrap_width(self) -> int:
        """Widest unsigned wrapping output format (0 when none): its codes reach 2**width - 1."""
        return max((s.rq.out.width for s in self.sums()
                    if s.rq.out.overflow is Overflow.WRAP and not s.rq.out.signed), default=0)

    @property
    def out_formats(self) -> list[QFormat]:
        """The output format of every requantization."""
        return [s.rq.out for s in self.sums()]


def pool_format(rL: QFormat, T: int) -> QFormat:
    """The sum-pool over ``T`` steps of codes of ``rL``: exact width, frac of ``rL``."""
    return QFormat(min(MAX_WIDTH, signed_width(T * rL.min_code, T * rL.max_code)), rL.frac)


def _records(rows, get) -> np.ndarray:
    return np.array([get(r) for r in rows], dtype=np.int64)


def _encoder(qm: QModel) -> EncoderLowering:
    C = 1 if qm.tokens else qm.C
    rows = tuple(encoder_row(qm.enc_W.effective_format(h), qm.enc_b.effective_format(h), qm.u0, qm.r0,
                             f"encoder channel {h}", C) for h in range(qm.H))
    Wc, b = qm.enc_W.effective(), qm.enc_b.effective()
    sh = _records(rows, lambda r: r.aligns)
    table = None
    if qm.tokens:   # r0[h] of token v: requant((We[h, v] << sh0) + (be[h] << sh1), F, R_0)
        acc = (Wc << sh[:, :1]) + (b << sh[:, 1])[:, None]                   # (H, V)
        table = np.stack([requantize(acc[h], rows[h].F, qm.r0) for h in range(qm.H)], axis=1)  # (V, H)
        table = np.ascontiguousarray(table, dtype=np.int64)
    return EncoderLowering(
        W=Wc[:, 0].copy(), b=b, rows=rows, sh=sh, rq=_records(rows, lambda r: r.rq.record()),
        Wc=Wc, table=table)


def lower_layer_norm(qm: QModel, l: int) -> NormLowering | None:
    """Block l's LayerNorm lowered (ARITHMETIC.md §7), None without one."""
    qn = qm.layers[l].norm
    if qn is None:
        return None
    X, O = (qm.r_in(l), qn.n) if qn.prenorm else (qn.n, qm.layers[l].r_out)
    return lower_norm(qn, X, O, qm.H, f"layers.{l} LayerNorm")


def _layer(qm: QModel, l: int) -> LayerLowering:
    ly, U, H = qm.layers[l], qm.r_in(l), qm.H
    S = qm.ssm_in(l)   # the S4D input: U, or N_l after a prenorm LayerNorm
    ssm = []
    for h in range(H):
        f = SsmFormats(*(getattr(ly, n).effective_format(h) for n in ("A_re", "A_im", "B_re", "B_im", "C_re",
                                                                         "C_im", "D")),
                       Xr=ly.x_re[h], Xi=ly.x_im[h], U=S, Y=ly.y, M=qm.M)
        ssm.append(ssm_row(f, f"layers.{l} channel {h}"))
    mix = tuple(mix_row(MixFormats(ly.W.effective_format(j), ly.b.effective_format(j), ly.g, ly.v, H),
                        f"layers.{l} mixing row {j}") for j in range(2 * H))
    glu = glu_row(ly.v, ly.sig, ly.z, f"layers.{l} GLU")
    res = residual_row(ly.z, U, qm.res_out(l), f"layers.{l} residual")
    return LayerLowering(
        U=U,
        A=np.stack([ly.A_re.effective(), ly.A_im.effective(), ly.B_re.effective(), ly.B_im.effective()]),
        C=np.stack([ly.C_re.effective(), ly.C_im.effective()]), D=ly.D.effective(), ssm=tuple(ssm),
        x_sh=_records(ssm, lambda s: s.xr.aligns + s.xi.aligns),
        x_rq=_records(ssm, lambda s: (s.xr.rq.record(), s.xi.rq.record())),
        y_sh=_records(ssm, lambda s: s.y.aligns), y_rq=_records(ssm, lambda s: s.y.rq.record()),
        gelu=Lut(ly.gelu_lut, ly.y, ly.g),
        W=ly.W.effective(), b=ly.b.effective(), mix=mix,
        v_sh=_records(mix, lambda r: r.aligns), v_rq=_records(mix, lambda r: r.rq.record()),
        sigmoid=Lut(ly.sigmoid_lut, ly.v, ly.sig),
        glu=glu, z_rq=glu.rq.record(), residual=res, res_sh=np.array(res.aligns, np.int64), res_rq=res.rq.record(),
        norm=lower_layer_norm(qm, l),
    )


def _decoder(qm: QModel, T: int) -> DecoderLowering:
    S = pool_format(qm.r_final, T)
    rows = tuple(decoder_row(qm.dec_W.effective_format(k), S, qm.H, qm.dec_b.effective_format(k),
                             f"decoder class {k}") for k in range(qm.n_classes))
    Fmax = max(r.F for r in rows)
    sh = np.array([(*r.aligns, Fmax - r.F) for r in rows], dtype=np.int64)
    width = max(r.width + Fmax - r.F for r in rows)
    if width > MAX_WIDTH:
        raise QModelError(f"the decoder's logits need {width} bits for sequences of {T} steps, more than "
                          f"{MAX_WIDTH} (ARITHMETIC.md §5)")
    return DecoderLowering(W=qm.dec_W.effective(), b=qm.dec_b.effective(), S=S, rows=rows, sh=sh,
                           logit_frac=Fmax, width=width)


def lower(qm: QModel, T: int = 784) -> Lowering:
    """Lower ``qm`` for sequences of ``T`` steps (T sizes only the decoder's pooled sum).

    Raises QModelError (a HwssmError, one line) when ``qm`` is not legal (ARITHMETIC.md §5).
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise QModelError(f"sequence length T must be a positive integer, not {T!r}")
    return Lowering(T=int(T), encoder=_encoder(qm), layers=tuple(_layer(qm, l) for l in range(qm.L)),
                    decoder=_decoder(qm, int(T)))
