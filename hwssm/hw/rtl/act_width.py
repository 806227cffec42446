"""Per-layer activation widths: a requantized a-bit code fitted to its block's own, narrower format.

With per-layer precision the activation formats (R_0, Y_l, G_l, V_l, Z_l, R_{l+1}) may have
different widths; the RTL carries every activation in a bits, the widest
(:func:`hwssm.hw.derive.act_width`), a narrower code sign-extended. Each requantization to a
narrower format fits to a bits and then to ``a - d`` bits, ``d`` the deficit of the row or
block (a row ROM field ``yd``/``vd`` or a per-block constant ``zd``/``rd``), with
:func:`~hwssm.hw.rtl.ops.narrow`: equal to the contract's fit to the narrower format directly.
No hardware at all when every deficit is 0 (one activation width: the Verilog of before).
GELU and sigmoid tables have 2^a words per block, addressed by the a-bit code.
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Value

from ...fixed import Overflow
from .ops import ShiftAmt, delay, narrow

__all__ = ["fit_deficit", "deficit_at"]


def deficit_at(m: Module, amt: ShiftAmt, n: int, name: str) -> ShiftAmt:
    """``amt`` (sampled now) as it was ``n`` cycles ago: its variable part delayed ``n`` cycles."""
    if amt.var is None or not len(amt.var) or not n:
        return amt
    return ShiftAmt(amt.lo, delay(m, amt.var, n, name, reset_less=True))


def fit_deficit(m: Module, v: Value, amt: ShiftAmt, overflow: Overflow, width: int, name: str) -> Value:
    """The signed ``width``-bit code ``v`` fitted to ``width - d`` bits, ``d = lo + var`` (saturated or
    wrapped as ``overflow``), still ``width`` bits; ``v`` itself when ``d`` is the constant 0.
    Combinational."""
    var = amt.var if amt.var is not None and len(amt.var) else None
    if var is None and amt.lo == 0:
        return v
    if var is None:
        d = Const(amt.lo, max(1, amt.lo.bit_length()))
    else:
        d = var + amt.lo if amt.lo else var
    return narrow(m, v, d, overflow, width, name)
