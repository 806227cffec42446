"""What the RTL's LayerNorm unit is made of (ARITHMETIC.md §7), derived from a QModel.

The constants come from the contract's lowering (:func:`hwssm.quant.lowering.lower_layer_norm`),
packed as the golden kernel packs them (:func:`hwssm.golden.norm_tables.build_norm_tables`):
per block the ε term E and the rounding of ν, per row (l·H + h) γ pre-shifted by its
alignment and the requantization's pre-shift (``cg``), the aligned β plus the rounding addend
(``add``) and the requantization's right shift (``rsh``). The unit computes
``o = fit(floor((cg·ν + add) / 2^rsh), O)`` exactly as the kernel does.

The RTL builds a LayerNorm when every block has one, all placed alike (all prenorm or all
postnorm), with input and output formats of the core's activation width; anything else is
refused in one line (:func:`norm_config`).
"""

from __future__ import annotations

import dataclasses

from ..errors import HwssmError
from ..fixed import Overflow, Rounding, signed_width
from ..quant.layernorm import MANT_LO, NU_FRAC, nu_format
from ..quant.lowering import RQ_LSH, RQ_RND, RQ_RSH, lower_layer_norm
from .rom_table import Table

__all__ = ["NormConfig", "norm_config", "check_norm_placement", "norm_timing", "RHO_BITS", "norm_iterations"]

#: Bits of ρ = isqrt(⌊2^62/m⌋) ∈ (2^20, 2^21]: one digit-recurrence cycle per bit.
RHO_BITS = 22
#: Width of the ρ recurrence's registers (2^62 − m·ρ², m·ρ·2^(k+1), m·2^(2k) and their sums).
REC_BITS = 68


def norm_iterations(v_width: int) -> int:
    """Cycles of the mantissa normalization of V (one 2-bit shift per cycle): enough to bring
    any 1 ≤ V < 2^(v_width-1) into [2^20, 2^22) (up to 10 left shifts, or right shifts)."""
    return max(10, (v_width - 1 - (MANT_LO + 1)) // 2)


@dataclasses.dataclass(frozen=True, eq=False)
class NormConfig:
    """The LayerNorm unit of a core (one per core, used by every block in turn).

    Attributes
    ----------
    prenorm : bool
        Every block's LayerNorm is before its S4D layer (else after its residual).
    H, L, a : int
        Channels, blocks, the width of its input and output codes.
    E : tuple[int, ...]
        The ε term of V per block.
    half_up : tuple[bool, ...]
        Per block: ν rounds HALF_UP (the output format's rounding), else down.
    overflow : Overflow
        Saturate or wrap of the output codes (one for all blocks).
    table : Table
        Rows l·H + h: ``cg``, ``add`` (values), ``rsh`` (shift).
    v_width : int
        Bits (sign included) of the widest V.
    nu_width : int
        Bits of ν (signed, frac 16).
    """

    prenorm: bool
    H: int
    L: int
    a: int
    E: tuple
    half_up: tuple
    overflow: Overflow
    table: Table
    v_width: int
    nu_width: int

    @property
    def iterations(self) -> int:
        """Cycles of the mantissa normalization (:func:`norm_iterations`)."""
        return norm_iterations(self.v_width)

    @property
    def d_width(self) -> int:
        """Bits of d = H·x − S1 (signed)."""
        return signed_width(-self.H * ((1 << self.a) - 1), self.H * ((1 << self.a) - 1))

    @property
    def s1_width(self) -> int:
        """Bits of S1 = Σ x (signed)."""
        return signed_width(-self.H << (self.a - 1), self.H << (self.a - 1))

    @property
    def s2_width(self) -> int:
        """Bits of S2 = Σ x² (unsigned)."""
        return (self.H << (2 * self.a - 2)).bit_length()

    @property
    def s_max(self) -> int:
        """Largest right shift of ν's product, 31 + j − 16 (j ≤ ⌊(bitlen(V) − 21)/2⌋)."""
        return 31 + max(0, (self.v_width - 1 - (MANT_LO + 1)) // 2) - NU_FRAC

    @property
    def latency(self) -> int:
        """Last input written → output of channel h written, minus h (cycles):
        1 + 2 (V) + iterations + 1 + RHO_BITS + 6 (output pipeline)."""
        return _latency(self.H, self.v_width)

    @property
    def busy(self) -> int:
        """Last input written → the unit takes the next vector's first input (cycles)."""
        return self.latency + self.H - 6


def check_norm_placement(qm) -> bool:
    """True when every block of ``qm`` has a LayerNorm, all placed alike; False when none has
    one; HwssmError (one line) for any other placement (the RTL does not build it)."""
    kinds = [ly.norm.prenorm if getattr(ly, "norm", None) is not None else None for ly in getattr(qm, "layers", ())]
    if all(k is None for k in kinds):
        return False
    if any(k is None for k in kinds) or len(set(kinds)) != 1:
        raise HwssmError("the RTL builds a LayerNorm in every block, all prenorm or all postnorm; "
                         f"this model has {['none' if k is None else 'pre' if k else 'post' for k in kinds]}")
    return True


def norm_config(qm, a: int, L: int, H: int) -> NormConfig | None:
    """The LayerNorm unit of ``qm`` (None when no block has one); HwssmError (one line) for a
    placement the RTL does not build."""
    if not check_norm_placement(qm):
        return None
    lows = [lower_layer_norm(qm, l) for l in range(L)]
    for l, nl in enumerate(lows):
        if nl.X.width != a or nl.O.width != a:
            raise HwssmError(f"layers.{l} LayerNorm: the RTL needs its input and output of the activation width "
                             f"{a} (plan {qm.plan.name}: {nl.X.name} -> {nl.O.name})")
    ovf = {nl.O.overflow for nl in lows}
    if len(ovf) != 1:
        raise HwssmError("the RTL needs one overflow for every LayerNorm output format")
    cg, add, rsh = [], [], []
    for nl in lows:
        for h in range(H):
            rec, sh = nl.rq[h], nl.sh[h]
            cg.append(int(nl.gamma[h]) << int(sh[0] + rec[RQ_LSH]))
            add.append((int(nl.beta[h]) << int(sh[1] + rec[RQ_LSH])) + int(rec[RQ_RND]))
            rsh.append(int(rec[RQ_RSH]))
    table = Table(L * H)
    table.value("cg", cg)
    table.value("add", add)
    table.shift("rsh", rsh)
    return NormConfig(
        prenorm=bool(qm.layers[0].norm.prenorm), H=H, L=L, a=a, E=tuple(nl.E for nl in lows),
        half_up=tuple(nl.O.rounding is Rounding.HALF_UP for nl in lows), overflow=ovf.pop(), table=table,
        v_width=max(nl.v_width for nl in lows), nu_width=nu_format(H).width)


def _latency(H: int, v_width: int) -> int:
    return 1 + 2 + norm_iterations(v_width) + 1 + RHO_BITS + 6


def norm_timing(model) -> tuple[bool, int, int] | None:
    """(prenorm, latency, busy) of the LayerNorm unit of a CoreConfig or an S4D QModel
    (:attr:`NormConfig.latency`, :attr:`NormConfig.busy`); None without LayerNorm."""
    nc = getattr(model, "norm", None)
    if hasattr(model, "qm"):                 # a CoreConfig
        return None if nc is None else (nc.prenorm, nc.latency, nc.busy)
    layers = getattr(model, "layers", ())
    if not any(getattr(ly, "norm", None) is not None for ly in layers):
        return None
    lows = [lower_layer_norm(model, l) for l in range(len(layers)) if layers[l].norm is not None]
    lat = _latency(model.H, max(nl.v_width for nl in lows))
    return lows[0].prenorm, lat, lat + model.H - 6
