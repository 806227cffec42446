"""Kernel packing of the blocks' LayerNorms (ARITHMETIC.md §7) for :mod:`hwssm.golden._norm_kernels`.

From the lowering (:func:`hwssm.quant.lowering.lower_layer_norm`): per block, the kind (none,
prenorm, postnorm), the ε term E, the rounding of ν, and per channel γ pre-shifted by its
alignment and the requantization's pre-shift, with an int64 fit record whose KQ_ADD column
holds the aligned β plus the rounding addend. The LayerNorm kernel is always int64.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..fixed import Rounding
from ..quant.lowering import RQ_LSH, RQ_RND, lower_layer_norm
from ..quant.qmodel import QModel, QModelError
from .tables import KQ_ADD, KQ_COLS, _kernel_fit

__all__ = ["NormTables", "build_norm_tables", "NONE", "PRENORM", "POSTNORM"]

#: Kinds of a block's LayerNorm (``NormTables.kind``).
NONE, PRENORM, POSTNORM = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class NormTables:
    """int64 constants of the LayerNorm kernel, stacked over the L blocks (zeros where none)."""

    kind: np.ndarray      # (L,)       NONE, PRENORM or POSTNORM
    E: np.ndarray         # (L,)       the ε term of V
    half_up: np.ndarray   # (L,)       1 when the output format rounds HALF_UP (the rounding of ν)
    cg: np.ndarray        # (L, H)     γ << (alignment + pre-shift)
    q: np.ndarray         # (L, H, 6)  fit records (KQ_*), KQ_ADD = (β << (alignment + pre-shift)) + addend

    @property
    def any(self) -> bool:
        return bool(self.kind.any())


def _int64(v: int, where: str) -> int:
    if not -(1 << 63) <= v < (1 << 63):
        raise QModelError(f"{where}: a pre-shifted LayerNorm constant needs more than 64 bits (ARITHMETIC.md §7)")
    return v


def build_norm_tables(qm: QModel) -> NormTables:
    """The LayerNorm constants of ``qm`` (all-zero kinds for a model without LayerNorm)."""
    L, H = qm.L, qm.H
    kind, E, half_up = np.zeros(L, np.int64), np.zeros(L, np.int64), np.zeros(L, np.int64)
    cg, q = np.zeros((L, H), np.int64), np.zeros((L, H, KQ_COLS), np.int64)
    for l in range(L):
        nl = lower_layer_norm(qm, l) if qm.layers[l].norm is not None else None
        if nl is None:
            continue
        kind[l] = PRENORM if nl.prenorm else POSTNORM
        E[l], half_up[l] = nl.E, int(nl.O.rounding is Rounding.HALF_UP)
        for h in range(H):
            rec, sh = nl.rq[h], nl.sh[h]
            where = f"layers.{l} LayerNorm channel {h}"
            cg[l, h] = _int64(int(nl.gamma[h]) << int(sh[0] + rec[RQ_LSH]), where)
            q[l, h] = _kernel_fit(rec, 64, nl.O)
            q[l, h, KQ_ADD] = _int64((int(nl.beta[h]) << int(sh[1] + rec[RQ_LSH])) + int(rec[RQ_RND]), where)
    return NormTables(kind, E, half_up, cg, q)
