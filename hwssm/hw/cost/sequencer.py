"""Cost section of the sequencer (:mod:`hwssm.hw.sequencer`): counters, addresses, credit counters.
"""

from __future__ import annotations

from ..core_config import ceil_log2
from ..cycle_model import mix_gap
from .blocks import Block, Kind, addr_width

__all__ = ["sequencer_blocks"]


def sequencer_blocks(c) -> list[Block]:
    """Sequencer (:class:`hwssm.hw.sequencer.Sequencer`): counters, addresses and credit counters."""
    P, L, H = c.P, c.L, c.H
    aw = addr_width
    cw = aw(H + 1) + 1
    counters = (aw(c.T) + aw(L) + aw(H) + aw(c.Cs) + aw(2 * c.KP) + aw(c.KP) + aw(c.Q) + aw(c.coef_depth)
                + aw(L * H * c.Cs) + aw(L * H) + aw(L * 2 * c.KP) + 2 * cw + 3 * cw + 1)
    gap = mix_gap(c.pipe)
    if gap:
        counters += ceil_log2(gap + 1)  # the S4D -> mixing gap countdown (mix_cols = 8)
    B = [Block("sequencer counters", "control", Kind.ADD, counters, 2),
         Block("sequencer registers", "control", Kind.REG, counters + 8 + 4)]
    if P > 1:
        B.append(Block("pairs = min(rem, P)", "control", Kind.COMPARE, cw))
    return B
