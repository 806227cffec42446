"""Combinational arithmetic of the contract, as Amaranth expressions (no Components here).

These build the hardware for ``align`` (exact left shift), ``rshift`` (rounding right
shift) and ``fit`` (saturate or wrap) of ``hwssm/quant/ARITHMETIC.md``. A shift amount
is a :class:`ShiftAmt`: a constant part ``lo`` plus an optional unsigned variable part
(the per-row offset read from a ROM), so that per-tensor formats cost no shifter at all.

Every helper that reuses a compound expression (a sign bit, a value compared twice)
first names it with :func:`wire`: Amaranth lowers each *use* of an expression into its
own cells, so ``Cat(e, e[-1].replicate(k))`` on an unnamed ``e`` emits ``k + 1`` copies
of ``e`` (and Verilator evaluates every copy, every cycle), whereas on a signal it is one
signed operand. Naming does not change any value.
"""

from __future__ import annotations

import dataclasses

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed

from ...fixed import Overflow, Rounding

__all__ = ["ShiftAmt", "wire", "shl", "requant", "fit", "narrow", "delay", "resize", "chain", "mul"]


@dataclasses.dataclass(frozen=True)
class ShiftAmt:
    """A shift of ``lo + var`` bits; ``var`` is None for a constant shift."""

    lo: int
    var: Value | None = None


def wire(m: Module, v: Value, name: str = "w") -> Value:
    """``v`` as a signal of its own shape: ``v`` itself when it already is a signal or a
    constant, else a new combinational signal driven by ``v`` (see the module docstring)."""
    v = Value.cast(v)
    if isinstance(v, (Signal, Const)):
        return v
    s = Signal(v.shape(), name=name)
    m.d.comb += s.eq(v)
    return s


def resize(v: Value, width: int) -> Value:
    """``v`` sign-extended (signed) or zero-extended (unsigned), or truncated, to a signed ``width``-bit value."""
    v = Value.cast(v)
    if len(v) >= width:
        return v[:width].as_signed()
    return _sext(v, width) if v.shape().signed else _zext(v, width)


def _sext(v: Value, width: int) -> Value:
    return Cat(v, v[-1].replicate(width - len(v))).as_signed()


def _zext(v: Value, width: int) -> Value:
    return Cat(v, Const(0, width - len(v))).as_signed()


def shl(m: Module, v: Value, amt: ShiftAmt, width: int, name: str = "shl") -> Value:
    """Exact left shift ``v · 2^(lo+var)`` as a signed ``width``-bit value.

    The caller guarantees (by the accumulator sizing) that the result fits in ``width``.
    """
    v = Value.cast(v)
    if amt.lo < 0:
        raise ValueError("shl needs lo >= 0")
    r = v << amt.lo if amt.lo else v
    if amt.var is not None and len(amt.var):
        r = r << amt.var
    if len(r) < width:
        r = wire(m, r, name)
    return resize(r, width)


def requant(m: Module, v: Value, amt: ShiftAmt, rounding: Rounding, overflow: Overflow,
            out_width: int, out_signed: bool = True, *, stages: int = 0, name: str = "rq") -> Value:
    """``fit(rshift(v, lo+var, rounding), out)``: the requantization of the contract.

    ``lo`` may be negative (an exact left shift by ``-lo`` first). HALF_UP uses
    ``(((v << 1) >> s) + 1) >> 1``, which equals ``(v + 2^(s-1)) >> s`` for ``s >= 1`` and
    ``v`` for ``s = 0``, so a variable ``s`` needs no separate rounding constant.

    ``stages`` registers (in ``m``'s sync domain) between the shift and the rounding and
    saturation: the result is then ``stages`` cycles late (``var`` is sampled with ``v``).
    """
    v = Value.cast(v)
    if not v.shape().signed:
        v = _zext(v, len(v) + 1)
    v = wire(m, v, f"{name}_in")
    lo = amt.lo
    if lo < 0:
        v = wire(m, resize(v << (-lo), len(v) - lo), f"{name}_al")
        lo = 0
    var = amt.var if (amt.var is not None and len(amt.var)) else None
    if rounding is Rounding.HALF_UP:
        n = len(v)
        w = v << 1  # n + 1 bits
        if lo:
            w = w >> lo
        if var is not None:
            w = w >> var
        w = delay(m, w, stages, name, reset_less=True) if stages else wire(m, w, f"{name}_sh")
        # (w + 1) >> 1 fits in n bits: it is v for s = 0 and |v| / 2^s rounded for s >= 1
        r = ((w + Const(1, signed(2))) >> 1)[:n].as_signed()
        if overflow is Overflow.SATURATE:
            return _fit_half_up(m, w, r, out_width, out_signed, f"{name}_fit")
    else:
        r = v
        if lo:
            r = r >> lo
        if var is not None:
            r = r >> var
        if stages:
            r = delay(m, r, stages, name, reset_less=True)
    return fit(m, r, overflow, out_width, out_signed, name=f"{name}_fit")


def mul(m: Module, a: Value, b: Value, soft_bits: int = 0, name: str = "mul") -> Value:
    """``a · b`` with Amaranth's product shape; built from adders when an operand is narrow.

    When the narrower operand has at most ``soft_bits`` bits (``soft_bits >= 1``), the
    product is the sum of its partial products (``Σ n[i]·w·2^i``, the sign bit of a signed
    ``n`` subtracted), so that synthesis builds it from LUTs and carry chains instead of a
    hard DSP (Yosys maps every ``$mul`` above its width threshold to a DSP, however few
    there are). Otherwise the plain ``a * b``. Both give the same integer.
    """
    a, b = Value.cast(a), Value.cast(b)
    shape = (a * b).shape()
    if soft_bits <= 0 or min(len(a), len(b)) > soft_bits or min(len(a), len(b)) == 0:
        return a * b
    n, w = (a, b) if len(a) <= len(b) else (b, a)
    n, w = wire(m, n, f"{name}_n"), wire(m, w, f"{name}_w")
    width = shape.width
    wx = wire(m, resize(w, width), f"{name}_wx")
    terms = []
    for i in range(len(n)):
        term = Mux(n[i], resize(wx << i, width), 0)
        neg = n.shape().signed and i == len(n) - 1
        terms.append(-term if neg else term)
    # a balanced adder tree (depth ceil(log2(bits)), not a chain): every partial sum is
    # exact, and the product fits in ``width``
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    r = wire(m, resize(terms[0], width), name)
    return r if shape.signed else r.as_unsigned()


def fit(m: Module, v: Value, overflow: Overflow, width: int, signed_out: bool = True,
        name: str = "fit") -> Value:
    """Saturate or wrap a signed value into a ``width``-bit code (signed or unsigned)."""
    v = wire(m, v, name)
    if overflow is Overflow.WRAP:
        if len(v) < width:
            v = resize(v, width)
        r = v[:width]
        return r.as_signed() if signed_out else r.as_unsigned()
    if signed_out:
        lo_c, hi_c = -(1 << (width - 1)), (1 << (width - 1)) - 1
    else:
        lo_c, hi_c = 0, (1 << width) - 1
    wide = max(len(v), width + 1)  # holds v, hi and lo
    vv = resize(v, wide)
    hi = Const(hi_c, signed(wide))
    lo = Const(lo_c, signed(wide))
    # v > hi and v < lo from v's top bits (a tree of LUTs, no comparator carry chain):
    # bits [width-1, wide-1) (signed) or [width, wide-1) (unsigned) must all equal the sign
    sign = vv[wide - 1]
    top = vv[width - 1 if signed_out else width:wide - 1]
    if len(top):
        over = ~sign & top.any()
        under = sign & ~top.all() if signed_out else sign
    else:
        over, under = Const(0, 1), (sign if not signed_out else Const(0, 1))
    r = Mux(over, hi, Mux(under, lo, vv))
    r = r[:width]
    return r.as_signed() if signed_out else r.as_unsigned()


def narrow(m: Module, v: Value, d: Value, overflow: Overflow, width: int, name: str = "nw") -> Value:
    """A signed ``width``-bit code ``v`` fitted to ``width - d`` bits (``d`` an unsigned
    per-row variable), still as a signed ``width``-bit value: saturated to
    ``[-2^(width-1-d), 2^(width-1-d) - 1]`` or wrapped to its low ``width - d`` bits.

    After :func:`fit` to ``width`` this equals the contract's fit to ``width - d`` directly
    (two clamps to nested ranges are the inner clamp; the low bits of the low bits are the
    low bits): one shared state register holds a narrower block's state (per-layer precision).
    """
    v = wire(m, Value.cast(v)[:width].as_signed(), name)
    if overflow is Overflow.WRAP:
        r = (v << d)[:width].as_signed() >> d
    else:
        hi = Const((1 << (width - 1)) - 1, signed(width)) >> d
        lo = Const(-(1 << (width - 1)), signed(width)) >> d
        r = Mux(v > hi, hi, Mux(v < lo, lo, v))
    return wire(m, Value.cast(r)[:width].as_signed(), f"{name}_o")


def _fit_half_up(m: Module, w: Value, r: Value, width: int, signed_out: bool, name: str) -> Value:
    """``fit(r, SATURATE)`` for ``r = (w + 1) >> 1``, the out-of-range tests made on ``w``
    (a register, in parallel with the rounding adder) instead of on ``r``, so that only the
    adder's low ``width + 1`` bits are on the path to the result. With ``t = 2^width``
    (signed) or ``2^(width+1)`` (unsigned): ``r > hi`` iff ``w >= t - 1``, and ``r < lo`` iff
    ``w <= -t - 2`` (signed) or ``w <= -2`` (unsigned); each is a test of ``w``'s bits."""
    w = wire(m, resize(w, max(len(w), width + 3)), f"{name}_w")
    r = wire(m, r, name)
    top, sign = len(w) - 1, w[len(w) - 1]
    b = width if signed_out else width + 1
    over = ~sign & (w[b:top].any() | w[:b].all())          # w >= 2^b - 1
    if signed_out:
        # w >= -2^b, or w == -2^b - 1 (bit b clear, every other bit below the sign set)
        in_lo = w[b:top].all() | (~w[b] & w[b + 1:top].all() & w[:b].all())
        lo_c, hi_c = -(1 << (width - 1)), (1 << (width - 1)) - 1
    else:
        in_lo = w[:top].all()                               # w == -1: r = 0
        lo_c, hi_c = 0, (1 << width) - 1
    under = sign & ~in_lo
    wide = width + 1
    res = Mux(over, Const(hi_c, signed(wide)), Mux(under, Const(lo_c, signed(wide)), resize(r, wide)))[:width]
    return res.as_signed() if signed_out else res.as_unsigned()


def delay(m: Module, v: Value, n: int, name: str = "d", *, reset_less: bool = False) -> Value:
    """``v`` delayed by ``n`` clock cycles (registers in the sync domain, reset to 0; with
    ``reset_less`` not reset: for data that a reset control bit qualifies downstream)."""
    v = Value.cast(v)
    out = v
    for i in range(n):
        s = Signal(v.shape(), name=f"{name}_{i + 1}", reset_less=reset_less)
        m.d.sync += s.eq(out)
        out = s
    return out


def chain(m: Module, v: Value, n: int, name: str = "c", *, reset_less: bool = False) -> list:
    """``[v, v delayed 1, ..., v delayed n]`` from one register chain (``reset_less`` as in
    :func:`delay`)."""
    v = Value.cast(v)
    out = [v]
    for i in range(n):
        s = Signal(v.shape(), name=f"{name}_{i + 1}", reset_less=reset_less)
        m.d.sync += s.eq(out[-1])
        out.append(s)
    return out

