"""The fixed quantization frame of a QAT run: every format, frac, zero point, shift and table.

QAT trains the *codes* of a QModel whose formats never change. The frame is taken from a
PTQ QModel of the starting float model (:func:`hwssm.quant.ptq.ptq`, calibrated on training
digits, optionally with finer state formats, see
:func:`hwssm.train.qat_prepare.with_state_headroom`): its parameter fracs and zero points, its
activation and state formats and its GELU/sigmoid tables stay fixed for the whole run, and the export writes exactly these
formats beside the codes the QAT forward used. Fixed power-of-two scales make the QAT
forward and the exported QModel the same integer network by construction.

The shift and requantization constants are those of the contract's lowering
(:func:`hwssm.quant.lowering.lower`, which the golden engine and the RTL also read), so the
alignment of every sum is shared, not re-derived.

This module is numpy only (no torch).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..errors import HwssmError
from ..fixed import QFormat, Rounding
from ..quant.lowering import Lowering, lower
from ..quant.luts import gelu, input_values, sigmoid
from ..quant.qmodel import QModel, QParam

#: Largest accumulator width (bits, sign included) whose integers a float64 holds exactly.
FLOAT64_EXACT_BITS = 53


def _dgelu(x: np.ndarray) -> np.ndarray:
    """d/dx of the erf GELU: Φ(x) + x·φ(x)."""
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * (1.0 + erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def derivative_table(fin: QFormat, fout: QFormat, table: np.ndarray, kind: str) -> np.ndarray:
    """Straight-through derivative of a lookup table, in code units (float64, one per entry).

    Entry i is ``f'(x_i) · 2**(fout.frac - fin.frac)`` for the input value ``x_i`` of code
    ``i + fin.min_code``, and 0 where the table entry was saturated (the unclipped rounded
    output lies outside ``fout``): saturation masks the gradient.
    """
    x = input_values(fin)
    if kind == "gelu":
        f, df = gelu(x), _dgelu(x)
    elif kind == "sigmoid":
        f = sigmoid(x)
        df = f * (1.0 - f)
    else:
        raise ValueError(f"unknown table kind {kind!r}")
    scaled = np.ldexp(f, fout.frac)
    raw = np.floor(scaled) if fout.rounding is Rounding.FLOOR else np.floor(scaled + 0.5)
    inside = (raw >= fout.min_code) & (raw <= fout.max_code)
    if not np.array_equal(raw[inside], np.asarray(table)[inside]):
        raise ValueError(f"{kind} table differs from its definition for {fin.name} -> {fout.name}")
    return np.where(inside, df * 2.0 ** (fout.frac - fin.frac), 0.0)


@dataclasses.dataclass(frozen=True)
class ParamFrame:
    """Fixed quantization of one parameter tensor: ``code = clip(round(w·2**frac[row]) + zero[row])``.

    ``lo``/``hi`` are the stored code range (signed for symmetric tensors, unsigned otherwise).
    """

    bits: int
    signed: bool
    frac: np.ndarray   # int64 (rows,)
    zero: np.ndarray   # int64 (rows,)

    @classmethod
    def of(cls, p: QParam) -> "ParamFrame":
        return cls(p.bits, p.signed, p.frac.copy(), p.zero.copy())

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1


@dataclasses.dataclass(frozen=True)
class Frame:
    """Everything a QAT forward needs besides the codes.

    Attributes
    ----------
    template : QModel
        The PTQ model whose formats (and initial codes) the run uses.
    lowering : Lowering
        Its contract lowered for sequences of ``T`` steps (alignments, requantization records, tables).
    T : int
        Sequence length the widths were checked for.
    dgelu, dsig : float64 (L, 2**wy), (L, 2**wv)
        Straight-through derivatives of the GELU and sigmoid tables (:func:`derivative_table`).
    state_bits : int
        Widest state format (bits): the recurrence kernel stores states as int16 up to 16 bits.
    """

    template: QModel
    lowering: Lowering
    T: int
    dgelu: np.ndarray
    dsig: np.ndarray
    state_bits: int

    @property
    def acc64(self) -> bool:
        """Whether the recurrence needs 64-bit integers: some requantized sum (pre-shift included)
        is wider than 31 bits, or an unsigned wrapping state reaches 2**32 (the golden kernels' rule)."""
        return self.lowering.pre_width > 31 or self.lowering.unsigned_wrap_width >= 32


def build_frame(template: QModel, T: int) -> Frame:
    """The frame of ``template`` for sequences of ``T`` steps.

    Raises HwssmError when an accumulator is too wide for exact float64 arithmetic (the
    batched part of the QAT forward carries integers in float64).
    """
    lw = lower(template, T)
    # every accumulator, including the requantization pre-shift (acc << lsh) + rnd, and the decoder
    widest = max(lw.acc_width, lw.pre_width, lw.decoder.width)
    if widest > FLOAT64_EXACT_BITS:
        raise HwssmError(f"plan {template.plan.name}: an accumulator needs {widest} bits; QAT carries integers "
                         f"in float64 and supports at most {FLOAT64_EXACT_BITS}")
    wy = max(ly.gelu.codes.size for ly in lw.layers)
    wv = max(ly.sigmoid.codes.size for ly in lw.layers)
    dgelu = np.zeros((template.L, wy))
    dsig = np.zeros((template.L, wv))
    for l, ly in enumerate(lw.layers):
        dgelu[l, :ly.gelu.codes.size] = derivative_table(ly.gelu.fin, ly.gelu.fout, ly.gelu.codes, "gelu")
        dsig[l, :ly.sigmoid.codes.size] = derivative_table(ly.sigmoid.fin, ly.sigmoid.fout, ly.sigmoid.codes,
                                                           "sigmoid")
    state_bits = max(f.width for ly in template.layers for f in (*ly.x_re, *ly.x_im))
    return Frame(template, lw, T, dgelu, dsig, state_bits)
