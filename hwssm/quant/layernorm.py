"""The integer LayerNorm of an S4D block (ARITHMETIC.md §7): its QModel record and its lowering.

A block may carry a LayerNorm over its H channels (:class:`QNorm`), before the S4D layer
(prenorm: ``u = LN(r_l)`` feeds the state update and the D·u skip, the residual adds r_l) or
after the residual (postnorm: the residual sum is requantized to the format ``n`` and
``r_{l+1} = LN(that)``). One step of it, integers only (ARITHMETIC.md §7)::

    S1   = Σ_h x[h]                         d[h] = H·x[h] − S1        (exact: H·(x − μ))
    Q    = Σ_h d[h]²                        V    = H·Q + E            (E = ε·H⁴·2^(2·fx), ≥ 1)
    ρ, j = rsqrt(V)                         ρ·2^-(31+j) ≈ 1/√V        (:func:`rsqrt`)
    ν[h] = rshift(d[h]·H·ρ, 31 + j − NU_FRAC, O.rounding)             (≈ (x−μ)/√(σ²+ε) at frac NU_FRAC)
    o[h] = requant(align(γ[h]·ν[h], F − fγ − NU_FRAC) + align(β[h], F − fβ), F, O)

No division and no mean rounding: the centring is exact, the only approximation is the
reciprocal square root, defined as an exact integer function of V.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..fixed import MAX_WIDTH, QFormat, Term, signed_width
from .lowering_sum import SumRow, lower_sum
from .qmodel import QModelError, QParam, fmt_from_json, fmt_json

__all__ = ["NU_FRAC", "MANT_LO", "RSQRT_NUM", "QNorm", "NormLowering", "rsqrt", "eps_code", "lower_norm",
           "nu_format", "variance_width", "NORM_FIELDS"]

#: Fractional bits of the normalized value ν (|ν| ≤ √H·2^NU_FRAC).
NU_FRAC = 16
#: The mantissa m of V lies in [2^MANT_LO, 2^(MANT_LO+2)).
MANT_LO = 20
#: ρ = isqrt(RSQRT_NUM // m) = floor(2^31/√m), in (2^20, 2^21].
RSQRT_NUM = 1 << 62
#: Largest V (exclusive): the variance sum is held in a signed 64-bit word.
V_LIMIT = 1 << 63
#: Fields of a layer's ``"norm"`` entry in the QModel JSON.
NORM_FIELDS = ("prenorm", "eps", "n")


@dataclasses.dataclass(frozen=True, eq=False)
class QNorm:
    """The LayerNorm of one S4D block in integers (ARITHMETIC.md §7).

    Attributes
    ----------
    prenorm : bool
        True: before the S4D layer (input R_l, output ``n``, the S4D input). False: after the
        residual (the residual sum is requantized to ``n``, the LayerNorm maps it to R_{l+1}).
    gamma, beta : QParam
        γ and β, (H,) each, one row per channel.
    eps : int
        E = max(1, round(ε·H⁴·2^(2·fx))), fx the frac of the LayerNorm's input; 1 ≤ E < 2^62.
    n : QFormat
        The block's extra activation format N_l (prenorm: the LayerNorm's output; postnorm: its input).
    """

    prenorm: bool
    gamma: QParam
    beta: QParam
    eps: int
    n: QFormat

    def to_json(self) -> dict:
        return {"prenorm": self.prenorm, "eps": int(self.eps), "n": fmt_json(self.n)}

    @classmethod
    def from_parts(cls, d: dict, gamma: QParam, beta: QParam) -> "QNorm":
        if not isinstance(d, dict) or set(d) != set(NORM_FIELDS):
            raise ValueError(f"a layer's norm entry must have exactly the fields {', '.join(NORM_FIELDS)}")
        if not isinstance(d["prenorm"], bool):
            raise ValueError("norm.prenorm must be true or false")
        if isinstance(d["eps"], bool) or not isinstance(d["eps"], int):
            raise ValueError("norm.eps must be an integer")
        return cls(d["prenorm"], gamma, beta, d["eps"], fmt_from_json(d["n"]))


def eps_code(eps: float, H: int, X: QFormat) -> int:
    """E = max(1, round(ε·H⁴·2^(2·fx))) of a LayerNorm over H channels whose input has format X."""
    e = round(math.ldexp(float(eps) * H ** 4, 2 * X.frac))
    return max(1, int(e))


def rsqrt(V: int) -> tuple[int, int]:
    """(ρ, j) with ρ·2^-(31+j) ≈ 1/√V, for an integer 1 ≤ V < 2^63 (ARITHMETIC.md §7).

    j = ⌊(bitlen(V) − 21)/2⌋; the mantissa m = V >> 2j (j ≥ 0, truncated) or V << −2j lies in
    [2^20, 2^22); ρ = isqrt(⌊2^62/m⌋) = ⌊2^31/√m⌋ exactly, in (2^20, 2^21].
    """
    j = (int(V).bit_length() - (MANT_LO + 1)) // 2
    m = V >> (2 * j) if j >= 0 else V << (-2 * j)
    return math.isqrt(RSQRT_NUM // m), j


def variance_width(X: QFormat, H: int, E: int) -> int:
    """Bits (sign included) of V = H·Q + E at its worst case for H codes of X."""
    dmax = H * (X.max_code - X.min_code)
    return signed_width(0, H * H * dmax * dmax + E)


def nu_format(H: int) -> QFormat:
    """Format of ν: signed, frac NU_FRAC, wide enough for |ν| ≤ √H·2^NU_FRAC·(1 + 2^-20) + 1."""
    bound = math.isqrt(H * (1 << (2 * NU_FRAC)) * (((1 << 20) + 1) ** 2) >> 40) + 2
    return QFormat(signed_width(-bound, bound), NU_FRAC, True)


@dataclasses.dataclass(frozen=True)
class NormLowering:
    """A block's LayerNorm lowered (§7): input X, output O, rows h = 0..H-1."""

    prenorm: bool
    X: QFormat                   # input format (R_l prenorm, N_l postnorm)
    O: QFormat                   # output format (N_l prenorm, R_{l+1} postnorm)
    H: int
    E: int                       # the ε term of V
    gamma: np.ndarray            # int64 (H,) effective γ
    beta: np.ndarray             # int64 (H,) effective β
    rows: tuple[SumRow, ...]     # (H,) γ·ν + β requantized to O
    sh: np.ndarray               # int64 (H, 2) alignments of γ·ν and β
    rq: np.ndarray               # int64 (H, 6) requant records to O
    v_width: int                 # bits of V at its worst case (≤ 64)


def lower_norm(qn: QNorm, X: QFormat, O: QFormat, H: int, where: str) -> NormLowering:
    """Lower a LayerNorm over H channels from X to O; QModelError (one line naming ``where``)
    when it is not legal (ARITHMETIC.md §7)."""
    if qn.gamma.codes.shape != (H,) or qn.beta.codes.shape != (H,):
        raise QModelError(f"{where}: γ and β must have shape ({H},)")
    qn.gamma.validate(f"{where} γ")
    qn.beta.validate(f"{where} β")
    if isinstance(qn.eps, bool) or not isinstance(qn.eps, (int, np.integer)) or not 1 <= int(qn.eps) < (1 << 62):
        raise QModelError(f"{where}: the ε term E must be an integer in [1, 2^62), not {qn.eps!r}")
    if not X.signed or not O.signed:
        raise QModelError(f"{where}: the LayerNorm's input and output formats must be signed")
    vw = variance_width(X, H, int(qn.eps))
    if vw > MAX_WIDTH:
        raise QModelError(f"{where}: the variance sum over H={H} channels of {X.name} codes needs {vw} bits, "
                          f"more than {MAX_WIDTH} (ARITHMETIC.md §7): use fewer activation bits or channels")
    nu = nu_format(H)
    rows = tuple(lower_sum([(1, Term(qn.gamma.effective_format(h), nu)), (1, Term(qn.beta.effective_format(h)))],
                           O, f"{where} channel {h}") for h in range(H))
    return NormLowering(
        prenorm=qn.prenorm, X=X, O=O, H=H, E=int(qn.eps), gamma=qn.gamma.effective(), beta=qn.beta.effective(),
        rows=rows, sh=np.array([r.aligns for r in rows], np.int64),
        rq=np.array([r.rq.record() for r in rows], np.int64), v_width=vw)
