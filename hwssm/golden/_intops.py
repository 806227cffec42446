"""Private LLVM-level integer (and mixing multiply-add) operations of the golden engine's kernels.

numba promotes ``int32 * int32`` to int64, and AVX2 has no 64-bit vector multiply, so the hot
loops of :mod:`hwssm.golden._kernels` use these intrinsics, which stay in the operands' own
width: modulo ``2**bits`` arithmetic, exact because only a final sum that provably fits is
shifted right or compared (ARITHMETIC.md; :mod:`hwssm.golden.tables` proves the widths).
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic

# -- same-width integer operations (no promotion to int64) -------------------------------

def _same_int(a, b) -> bool:
    return isinstance(a, types.Integer) and isinstance(b, types.Integer) and a.bitwidth == b.bitwidth


@intrinsic
def _mul(typingctx, a, b):
    """``a * b`` modulo ``2**bits`` in ``a``'s type (``a``, ``b`` of the same width)."""
    if not _same_int(a, b):
        return None
    return a(a, b), lambda context, builder, sig, args: builder.mul(args[0], args[1])


@intrinsic
def _add(typingctx, a, b):
    """``a + b`` modulo ``2**bits`` in ``a``'s type."""
    if not _same_int(a, b):
        return None
    return a(a, b), lambda context, builder, sig, args: builder.add(args[0], args[1])


@intrinsic
def _sra(typingctx, a, s):
    """Arithmetic shift right of ``a`` by ``s`` (0 <= s < bits), in ``a``'s type."""
    if not _same_int(a, s):
        return None
    return a(a, s), lambda context, builder, sig, args: builder.ashr(args[0], args[1])


@intrinsic
def _shl(typingctx, a, s):
    """``a << s`` modulo ``2**bits`` (0 <= s < bits), in ``a``'s type."""
    if not _same_int(a, s):
        return None
    return a(a, s), lambda context, builder, sig, args: builder.shl(args[0], args[1])


@intrinsic
def _and(typingctx, a, b):
    """Bitwise ``a & b`` in ``a``'s type."""
    if not _same_int(a, b):
        return None
    return a(a, b), lambda context, builder, sig, args: builder.and_(args[0], args[1])


@intrinsic
def _widen(typingctx, a, like):
    """``a`` sign-extended to the type of ``like`` (an integer type at least as wide)."""
    if not (isinstance(a, types.Integer) and isinstance(like, types.Integer) and a.bitwidth <= like.bitwidth):
        return None

    def codegen(context, builder, sig, args):
        if sig.args[0].bitwidth == sig.return_type.bitwidth:
            return args[0]
        return builder.sext(args[0], context.get_value_type(sig.return_type))
    return like(a, like), codegen


@intrinsic
def _narrow(typingctx, a, like):
    """``a`` truncated to the type of ``like`` (an integer type at most as wide; ``a`` must fit)."""
    if not (isinstance(a, types.Integer) and isinstance(like, types.Integer) and a.bitwidth >= like.bitwidth):
        return None

    def codegen(context, builder, sig, args):
        if sig.args[0].bitwidth == sig.return_type.bitwidth:
            return args[0]
        return builder.trunc(args[0], context.get_value_type(sig.return_type))
    return like(a, like), codegen


@intrinsic
def _to(typingctx, a, like):
    """``a`` converted to the integer type of ``like``: sign-extended, truncated (``a`` must fit),
    or from a float holding an integer (exactly)."""
    if not (isinstance(a, (types.Integer, types.Float)) and isinstance(like, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ty = context.get_value_type(sig.return_type)
        if isinstance(sig.args[0], types.Float):
            return builder.fptosi(args[0], ty)
        wa, wl = sig.args[0].bitwidth, sig.return_type.bitwidth
        return args[0] if wa == wl else (builder.sext(args[0], ty) if wa < wl else builder.trunc(args[0], ty))
    return like(a, like), codegen


def _mac_types(acc, w, xs) -> bool:
    """Operands of the mixing's sums: ``acc``, ``w`` of one integer width and ``xs`` integers of
    that width or narrower, or all of one float type."""
    if isinstance(acc, types.Float):
        return acc == w and all(x == acc for x in xs)
    return _same_int(acc, w) and all(isinstance(x, types.Integer) and x.bitwidth <= acc.bitwidth for x in xs)


def _mac_codegen(builder, sig, args):
    """IR of ``acc + ((w0·x0 + w1·x1) + (w2·x2 + w3·x3))`` for ``args = (acc, w0, x0, ..., w3, x3)``."""
    fl = isinstance(sig.args[0], types.Float)
    add, mul = (builder.fadd, builder.fmul) if fl else (builder.add, builder.mul)
    acc = args[0]
    p = []
    for i in range(4):
        w, x = args[1 + 2 * i], args[2 + 2 * i]
        if not fl and sig.args[2 + 2 * i].bitwidth < sig.args[0].bitwidth:
            x = builder.sext(x, acc.type)
        p.append(mul(w, x))
    return add(acc, add(add(p[0], p[1]), add(p[2], p[3])))


@intrinsic
def _mac4(typingctx, acc, w0, x0, w1, x1, w2, x2, w3, x3):
    """``acc + ((w0·x0 + w1·x1) + (w2·x2 + w3·x3))`` in the type of ``acc`` and the ``w``:
    integers modulo ``2**bits`` (the ``x`` of that width or narrower, sign-extended), or floats
    of one type (no contraction; exact for integers while every partial sum stays below 2**24
    in float32). Four products per pass over ``acc``, two additions deep: a sum held in memory
    waits on one addition per four products, not one per product."""
    if not (_mac_types(acc, w0, (x0,)) and all(_mac_types(acc, w, (x,)) for w, x in ((w1, x1), (w2, x2), (w3, x3)))):
        return None
    return acc(acc, w0, x0, w1, x1, w2, x2, w3, x3), lambda context, builder, sig, args: _mac_codegen(builder, sig, args)


@intrinsic
def _zero(typingctx, a):
    """0 in ``a``'s type (an integer or float type: no promotion, unlike ``a - a``)."""
    if not isinstance(a, (types.Integer, types.Float)):
        return None

    def codegen(context, builder, sig, args):
        return context.get_constant(sig.return_type, 0)
    return a(a), codegen
