"""Cost section of the parameter loader of LOAD storage (:mod:`hwssm.hw.loader`).
"""

from __future__ import annotations

from .blocks import Block, Kind, addr_width

__all__ = ["loader_blocks"]


def loader_blocks(c) -> list[Block]:
    """The parameter loader of LOAD storage (:class:`hwssm.hw.loader.ParamLoader`): segment and
    address counters, the registered write (segment, address, 16-bit data, enable)."""
    ld = c.load
    sw, dw = addr_width(len(ld.segments)), addr_width(ld.depth)
    return [Block("loader counters", "control", Kind.ADD, sw + dw, 2),
            Block("loader end tests", "control", Kind.COMPARE, sw + dw),
            Block("loader registers", "control", Kind.REG, 2 * (sw + dw) + 16 + 2)]
