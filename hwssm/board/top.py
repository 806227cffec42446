"""Builders of the board tops, for ``hwssm board build`` and the board simulation.

- :func:`build_board_top`: the Amaranth top (:class:`~hwssm.board.rtl.top.BoardTop`);
- :func:`board_verilog`: its Verilog (one file: top, core, UART, engine, loader; the PLL
  is an instance of the vendor primitive), with the core generator's text rewrites;
- :func:`write_board_verilog`: that text written atomically.

Pin constraints are :func:`hwssm.targets.constraints.render`.

The flash image (LOAD storage) is :func:`hwssm.board.protocol.flash_image`.
"""

from __future__ import annotations

from pathlib import Path

from ..hw.derive import derive
from ..errors import HwssmError
from ..hw.options import DesignPoint, ParamStorage
from ..io import write_text
from ..quant.qmodel import QModel
from ..targets.boards import Board
from .options import BoardOptions
from . import protocol
from .rtl.top import BoardTop

__all__ = ["TOP_NAME", "digest4", "build_board_top", "board_verilog", "write_board_verilog"]

#: Module name of the board top in the Verilog.
TOP_NAME = "hwssm_board"


def digest4(qm: QModel) -> bytes:
    """The first 4 bytes of the model's digest (:func:`hwssm.board.protocol.digest4`)."""
    return protocol.digest4(qm.digest())


def build_board_top(qm: QModel, design: DesignPoint, board: Board, options: BoardOptions = BoardOptions()) -> BoardTop:
    """The board top of ``qm`` built as ``design`` on ``board``.

    ``design.storage`` LOAD: parameters from the board's flash (HwssmError on a board without
    one); ROM: in the bitstream. ``options.sim``: no PLL (core clock = oscillator).
    The returned top states the figures it was built with: ``clk_hz``, ``divisor`` (cycles
    per UART bit), ``timeout_cycles``, ``sck_half``, ``wake_cycles``, ``fifo_depth``.
    """
    if design.storage is ParamStorage.LOAD and board.flash is None:
        raise HwssmError(f"board {board.name} has no parameter flash: build the core with ROM storage")
    return BoardTop(derive(qm, design), digest4(qm), board, options)


def board_verilog(top: BoardTop) -> str:
    """Verilog of ``top`` as module :data:`TOP_NAME` (with the core generator's rewrites:
    replications, the all-zero init of SPRAM-mapped memories dropped, a time-0 event for
    every ``always @*``, width lint waivers)."""
    from amaranth.back import verilog

    from ..hw.emit import strip_noinit
    from ..hw.rtl.portable import lint_waivers, trigger_at_time_zero
    from ..hw.rtl.replicate import fold_replications

    ports = [getattr(top, name) for name in top.signature.members]
    text = verilog.convert(top, name=TOP_NAME, ports=ports, emit_src=False)
    return lint_waivers(trigger_at_time_zero(fold_replications(strip_noinit(text))))


def write_board_verilog(top: BoardTop, path: str | Path) -> Path:
    """Write :func:`board_verilog` of ``top`` to ``path`` (atomically); returns the path."""
    path = Path(path)
    write_text(path, board_verilog(top))
    return path
