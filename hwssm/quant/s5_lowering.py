"""An S5QModel lowered once (ARITHMETIC.md §6): every sum's alignments and requantization records.

The encoder and decoder are those of the S4D lowering (:mod:`hwssm.quant.lowering`); each S5
block becomes an :class:`S5LayerLowering` of int64 arrays (shapes in the comments) that the
golden S5 kernel reads. Every sum goes through :func:`hwssm.quant.lowering_sum.lower_sum`,
which refuses an illegal one (ARITHMETIC.md §5) with one QModelError line naming it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..fixed import Term
from ..model.s5_config import Glu
from .lowering import DecoderLowering, EncoderLowering, Lut, _decoder, _encoder
from .lowering_sum import SumRow, glu_row, lower_sum, mix_row, MixFormats, residual_row
from .qmodel import QModelError
from .s5_qmodel import S5QModel


@dataclasses.dataclass(frozen=True)
class S5LayerLowering:
    """Block l of an S5QModel: B̄u, state update, readout, GELU, GLU Linear, gate, residual."""

    B: np.ndarray        # int64 (2, P, H)  effective Br, Bi
    beta: np.ndarray     # int64 (2, P)     effective βr, βi
    bu_sh: np.ndarray    # int64 (2, P, 2)  alignments of Σ_h B·u and β
    bu_rq: np.ndarray    # int64 (2, P, 6)  requant records to BU_re, BU_im
    A: np.ndarray        # int64 (2, P)     effective Λr, Λi
    x_sh: np.ndarray     # int64 (P, 6)     re: Λr·xr, Λi·xi, bu_re; im: Λr·xi, Λi·xr, bu_im
    x_rq: np.ndarray     # int64 (P, 2, 6)  requant records to Xre[p], Xim[p]
    C: np.ndarray        # int64 (2, H, P)  effective Cr, Ci
    D: np.ndarray        # int64 (H,)       effective D
    delta: np.ndarray    # int64 (H,)       effective δ
    y_sh: np.ndarray     # int64 (H, P, 2)  alignments of 2·Cr·xr'[p] and 2·Ci·xi'[p] (the 2 not included)
    yd_sh: np.ndarray    # int64 (H, 2)     alignments of D·u and δ
    y_rq: np.ndarray     # int64 (H, 6)     requant records to Y_l
    gelu: Lut            # Y_l -> G_l
    W: np.ndarray        # int64 (J, H)     effective GLU weights (J = H half, 2H full)
    b: np.ndarray        # int64 (J,)
    v_sh: np.ndarray     # int64 (J, 2)
    v_rq: np.ndarray     # int64 (J, 6)
    sigmoid: Lut         # V_l -> S_l
    z_rq: np.ndarray     # int64 (6,)       value·σ -> Z_l
    res_sh: np.ndarray   # int64 (2,)       alignments of z and u
    res_rq: np.ndarray   # int64 (6,)
    rows: tuple[SumRow, ...]


@dataclasses.dataclass(frozen=True)
class S5Lowering:
    """An S5QModel lowered for sequences of ``T`` steps."""

    T: int
    encoder: EncoderLowering
    layers: tuple[S5LayerLowering, ...]
    decoder: DecoderLowering


def _rec(rows, get) -> np.ndarray:
    return np.array([get(r) for r in rows], dtype=np.int64)


def _layer(qm: S5QModel, l: int) -> S5LayerLowering:
    ly, U, H, P = qm.layers[l], qm.r_in(l), qm.H, qm.P
    fmt = lambda p, i: p.effective_format(i)  # noqa: E731
    bu = [[lower_sum([(1, Term(fmt(Bp, p), U, H)), (1, Term(fmt(bp, p)))], BU, f"layers.{l} B̄u{part} mode {p}")
           for p in range(P)]
          for Bp, bp, BU, part in ((ly.B_re, ly.beta_re, ly.bu_re, " re"), (ly.B_im, ly.beta_im, ly.bu_im, " im"))]
    xr, xi = [], []
    for p in range(P):
        Ar, Ai, Xr, Xi = fmt(ly.A_re, p), fmt(ly.A_im, p), ly.x_re[p], ly.x_im[p]
        xr.append(lower_sum([(1, Term(Ar, Xr)), (-1, Term(Ai, Xi)), (1, Term(ly.bu_re))], Xr, f"layers.{l} xr mode {p}"))
        xi.append(lower_sum([(1, Term(Ar, Xi)), (1, Term(Ai, Xr)), (1, Term(ly.bu_im))], Xi, f"layers.{l} xi mode {p}"))
    ys = []
    for h in range(H):
        Cr, Ci = fmt(ly.C_re, h), fmt(ly.C_im, h)
        terms = [t for p in range(P) for t in ((1, Term(Cr, ly.x_re[p], 1, 1)), (-1, Term(Ci, ly.x_im[p], 1, 1)))]
        terms += [(1, Term(fmt(ly.D, h), U)), (1, Term(fmt(ly.delta, h)))]
        ys.append(lower_sum(terms, ly.y, f"layers.{l} readout channel {h}"))
    J = qm.glu_rows
    mix = [mix_row(MixFormats(fmt(ly.W, j), fmt(ly.b, j), ly.g, ly.v, H), f"layers.{l} GLU row {j}") for j in range(J)]
    value = ly.g if qm.glu is Glu.HALF else ly.v
    gate = glu_row(value, ly.sig, ly.z, f"layers.{l} GLU")
    res = residual_row(ly.z, U, ly.r_out, f"layers.{l} residual")
    return S5LayerLowering(
        B=np.stack([ly.B_re.effective(), ly.B_im.effective()]),
        beta=np.stack([ly.beta_re.effective(), ly.beta_im.effective()]),
        bu_sh=np.stack([_rec(rows, lambda r: r.aligns) for rows in bu]),
        bu_rq=np.stack([_rec(rows, lambda r: r.rq.record()) for rows in bu]),
        A=np.stack([ly.A_re.effective(), ly.A_im.effective()]),
        x_sh=np.array([a.aligns + b.aligns for a, b in zip(xr, xi)], np.int64),
        x_rq=np.array([(a.rq.record(), b.rq.record()) for a, b in zip(xr, xi)], np.int64),
        C=np.stack([ly.C_re.effective(), ly.C_im.effective()]), D=ly.D.effective(), delta=ly.delta.effective(),
        y_sh=np.array([np.reshape(r.aligns[:2 * P], (P, 2)) for r in ys], np.int64).reshape(H, P, 2),
        yd_sh=np.array([r.aligns[2 * P:] for r in ys], np.int64),
        y_rq=_rec(ys, lambda r: r.rq.record()),
        gelu=Lut(ly.gelu_lut, ly.y, ly.g),
        W=ly.W.effective(), b=ly.b.effective(),
        v_sh=_rec(mix, lambda r: r.aligns), v_rq=_rec(mix, lambda r: r.rq.record()),
        sigmoid=Lut(ly.sigmoid_lut, ly.v, ly.sig),
        z_rq=gate.rq.record(), res_sh=np.array(res.aligns, np.int64), res_rq=res.rq.record(),
        rows=(*bu[0], *bu[1], *xr, *xi, *ys, *mix, gate, res),
    )


def lower_s5(qm: S5QModel, T: int = 784) -> S5Lowering:
    """Lower ``qm`` for sequences of ``T`` steps; QModelError (one line) when it is not legal."""
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise QModelError(f"sequence length T must be a positive integer, not {T!r}")
    return S5Lowering(T=int(T), encoder=_encoder(qm), layers=tuple(_layer(qm, l) for l in range(qm.L)),
                      decoder=_decoder(qm, int(T)))
