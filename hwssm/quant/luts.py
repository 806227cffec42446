"""Nonlinearity tables indexed by a quantized activation code (ARITHMETIC.md §2.2).

Entry i of a table for input format ``fin`` is the output code for the input
code ``i + fin.min_code``. The tables are computed once here, stored in the
QModel, and read by the golden engine, the RTL and QAT alike.
"""

from __future__ import annotations

import math

import numpy as np

from ..fixed import QFormat


def input_values(fin: QFormat) -> np.ndarray:
    """Real value of every code of ``fin``, in table order (float64, 2**width entries)."""
    codes = np.arange(fin.min_code, fin.max_code + 1, dtype=np.int64)
    return fin.dequantize(codes)


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU in float64: x · Φ(x)."""
    erf = np.vectorize(math.erf, otypes=[np.float64])
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid in float64, stable for large |x|."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def gelu_table(fin: QFormat, fout: QFormat) -> np.ndarray:
    """GELU table: int64 codes of ``fout``, 2**fin.width entries."""
    return fout.quantize(gelu(input_values(fin)))


def sigmoid_table(fin: QFormat, fout: QFormat) -> np.ndarray:
    """Sigmoid table: int64 codes of ``fout`` (unsigned), 2**fin.width entries."""
    return fout.quantize(sigmoid(input_values(fin)))


def sigmoid_format(act_bits: int, fin: QFormat) -> QFormat:
    """The GLU gate format: unsigned, ``act_bits`` wide, frac = width (values in [0, 1))."""
    return QFormat(act_bits, act_bits, signed=False, rounding=fin.rounding, overflow=fin.overflow)
