"""Nonlinearity tables indexed by a quantized activation code (ARITHMETIC.md §2.2).

Entry i of a table for input format ``fin`` is the output code for the input
code ``i + fin.min_code``. The tables are computed once here, stored in the
QModel, and read by the golden engine, the RTL and QAT alike.

Table formats always saturate, whatever the plan's overflow (ARITHMETIC.md §2.2, §5):
a gate near 1 is the largest sigmoid code, never a wrapped 0, and the GELU of a large
input is the largest code of its format, never a wrapped negative one.
"""

from __future__ import annotations

import math

import numpy as np

from ..fixed import Overflow, QFormat


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


def table_format(f: QFormat) -> QFormat:
    """``f`` made a table output format: the same width, frac, sign and rounding, overflow SATURATE."""
    return f.replace(overflow=Overflow.SATURATE)


def _table(values: np.ndarray, fout: QFormat) -> np.ndarray:
    if fout.overflow is not Overflow.SATURATE:
        raise ValueError(f"table format {fout.name} must saturate (use table_format)")
    return fout.quantize(values)


def gelu_table(fin: QFormat, fout: QFormat) -> np.ndarray:
    """GELU table: int64 codes of ``fout`` (a saturating format), 2**fin.width entries.

    Entry i is ``fout.quantize(gelu((i + fin.min_code) · 2**-fin.frac))``: round by
    ``fout.rounding``, then saturate.
    """
    return _table(gelu(input_values(fin)), fout)


def sigmoid_table(fin: QFormat, fout: QFormat) -> np.ndarray:
    """Sigmoid table: int64 codes of ``fout`` (unsigned, saturating), 2**fin.width entries."""
    return _table(sigmoid(input_values(fin)), fout)


def sigmoid_format(act_bits: int, fin: QFormat) -> QFormat:
    """The GLU gate format S_l: unsigned, ``act_bits`` wide, frac = width (values in [0, 1)),
    the rounding of ``fin``, and always saturating (a gate near 1 is the top code, not 0)."""
    return QFormat(act_bits, act_bits, signed=False, rounding=fin.rounding, overflow=Overflow.SATURATE)
