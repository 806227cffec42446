"""``hwssm board build``: the model as a bitstream for a development board, with everything to run it.

Steps: the board top (:func:`hwssm.board.top.build_board_top`: UART, protocol engine, PLL, the
core, with LOAD storage the SPI-flash loader) as Verilog; the board's pins as a PCF / LPF
(:mod:`hwssm.targets.constraints`); Yosys, nextpnr with the pins and the packer
(:func:`hwssm.synth.pinned.build_bitstream`) in a work directory under the cache; then the
output set, committed together into ``DIR`` (:func:`hwssm.io.staged_dir`, ``report.json``
last): ``top.bin`` / ``top.bit``, ``flash.bin`` (LOAD storage: the bitstream at address 0,
0xFF up to the board's flash offset, then the parameter image of :mod:`hwssm.board.protocol`),
``pins.pcf`` / ``pins.lpf``, ``report.json``, ``report.md``, ``README.md``
(:mod:`hwssm.board.report`).

Refused with one line (HwssmError, nothing written): an unknown board; LOAD storage on a
board without flash; a model that does not fit (what overflowed, by how much); a missing
tool; a flash image larger than the flash region; a placed design whose fmax is below the
build clock (unless ``allow_slow``).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from ..config import cache_dir, find_nextpnr, find_packer, find_yosys
from ..errors import HwssmError
from ..hw.options import DesignPoint, ParamStorage
from ..io import json_text, staged_dir, write_bytes, write_text
from ..quant.qmodel import QModel
from ..synth.nextpnr import DesignDoesNotFit, Pinned
from ..synth.pinned import PinnedBuild, build_bitstream
from ..synth.yosys import YosysOptions
from ..targets.boards import Board
from ..targets.constraints import Clock, Pin, render
from . import protocol
from .options import BoardOptions
from .report import board_readme, build_report, report_markdown

__all__ = ["BuildRequest", "BoardBuild", "build_board", "FLASH_NAME", "TOP_VERILOG"]

#: The flash file of LOAD storage (bitstream + parameter image at the board's offset).
FLASH_NAME = "flash.bin"
#: The board top's Verilog in the work directory.
TOP_VERILOG = "top.v"


@dataclasses.dataclass(frozen=True)
class BuildRequest:
    """What ``hwssm board build`` builds.

    Attributes
    ----------
    qm : QModel
    design : DesignPoint
        Lanes P, T (784 for sMNIST), pipeline, storage (LOAD: parameters from the board's flash).
    board : Board
        :mod:`hwssm.targets.boards`.
    out : Path
        Output directory.
    allow_slow : bool
        Write the build even when fmax is below the build clock.
    seed : int
        nextpnr placer seed.
    baud : int or None
        UART rate, bit/s (None: the board's).
    """

    qm: QModel
    design: DesignPoint
    board: Board
    out: Path
    allow_slow: bool = False
    seed: int = 1
    baud: int | None = None


@dataclasses.dataclass(frozen=True)
class BoardBuild:
    """The committed output set (paths in write order) and the report (``report.json``)."""

    files: tuple[Path, ...]
    report: dict

    def summary(self) -> str:
        """A few lines for the terminal."""
        r = self.report
        u, t = r["utilization"], r["timing"]
        lines = [f"{r['board']['name']} ({r['board']['part']}): {r['bitstream']['name']} {r['bitstream']['bytes']:,} bytes"
                 + (f", {FLASH_NAME} {r['flash']['file_bytes']:,} bytes (image {r['flash']['image_bytes']:,} at "
                    f"0x{r['flash']['offset']:x})" if r.get("flash") else ""),
                 f"LUT4 {u['lut']}, FF {u['ff']}, DSP {u['dsp']}, BRAM {u['bram']}, SPRAM {u['spram']}, "
                 f"logic cells {u['logic_cells']}/{u['logic_cells_available']}",
                 f"fmax {t['fmax_mhz']:.2f} MHz at a {t['clock_mhz']:g} MHz build clock"
                 + ("" if t["meets_clock"] else " (SLOW: built with --allow-slow)"),
                 f"{r['sequence']['core_cycles']:,} core cycles per sequence; with the UART at {r['uart']['baud']} baud "
                 f"{1e3 * r['sequence']['latency_s']:.1f} ms per sequence",
                 f"written: {', '.join(p.name for p in self.files)} in {self.files[0].parent}"]
        return "\n".join(lines)


def _pins(board: Board, ports) -> list[Pin]:
    sites = board.sites()
    missing = [n for n in ports if n not in sites]
    if missing:
        raise HwssmError(f"board {board.name} has no pin for the top's port(s) {', '.join(missing)}")
    io = board.io_standard or "LVCMOS33"
    return [Pin(n, sites[n], io_type=io, pull_up=(n == "uart_rx")) for n in ports]


def _check_tools(board: Board) -> None:
    find_yosys()
    find_nextpnr(board.device.family.name)
    bs = board.device.family.bitstream
    if bs is None:
        raise HwssmError(f"board {board.name}: device family {board.device.family.name} has no bitstream packer")
    find_packer(bs.packer)


def _flash_image(req: BuildRequest, cfg) -> bytes | None:
    if req.design.storage is not ParamStorage.LOAD:
        return None
    flash = req.board.flash
    if flash is None:
        raise HwssmError(f"board {req.board.name} has no parameter flash: build with --storage rom")
    words = [int(w) for w in cfg.load.image()]
    image = protocol.flash_image(words, protocol.digest4(req.qm.digest()))
    region = flash.size_bytes - flash.offset
    if len(image) > region:
        raise HwssmError(f"the parameter image ({len(image):,} bytes) is larger than the flash region of "
                         f"{req.board.name} ({region:,} bytes from 0x{flash.offset:x}) by {len(image) - region:,} bytes")
    return image


def _flash_file(board: Board, bitstream: bytes, image: bytes) -> bytes:
    offset = board.flash.offset
    if len(bitstream) > offset:
        raise HwssmError(f"the bitstream ({len(bitstream):,} bytes) overlaps the parameter image at 0x{offset:x}")
    return bitstream + b"\xff" * (offset - len(bitstream)) + image


def _timing(build: PinnedBuild, clock_mhz: float) -> tuple[float, bool]:
    """(fmax of the slowest clock in MHz, whether every clock meets its constraint)."""
    fmax = build.pnr.fmax_mhz
    if not fmax:
        raise HwssmError("nextpnr reported no clocked paths for the board top (is the clock pin constrained?)")
    target = build.pnr.target_mhz
    worst = min(fmax.values())
    meets = all(fmax[c] >= (target.get(c) or clock_mhz) for c in fmax)
    return worst, meets


def build_board(req: BuildRequest, progress=None) -> BoardBuild:
    """Build ``req`` (see the module docstring); returns the committed files and the report."""
    from .top import TOP_NAME, board_verilog, build_board_top

    out = Path(req.out)
    if out.exists() and not out.is_dir():
        raise HwssmError(f"--out {out} exists and is not a directory")
    _check_tools(req.board)
    top = build_board_top(req.qm, req.design, req.board, BoardOptions(baud=req.baud))
    image = _flash_image(req, top.config)
    bs = req.board.device.family.bitstream
    pins = _pins(req.board, list(top.signature.members))
    clock_mhz = top.clk_hz / 1e6
    root = cache_dir() / "board"
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{req.board.name}-", dir=root))
    if progress:
        progress(f"board top of {req.board.name} ({clock_mhz:g} MHz) -> {work}")
    write_text(work / TOP_VERILOG, board_verilog(top))
    pins_text = render(bs.constraints, pins, [Clock("clk", req.board.osc_hz / 1e6)])
    write_text(work / bs.pins_name, pins_text)
    prof = req.board.device.profile
    try:
        build = build_bitstream(work, [TOP_VERILOG], TOP_NAME, req.board.device, Pinned(req.board.nextpnr_args, bs.pins_name),
                                freq_mhz=clock_mhz, seed=req.seed, options=YosysOptions(dsp=prof.dsp, spram=prof.spram),
                                progress=progress)
    except DesignDoesNotFit as exc:
        over = ", ".join(f"{k} needs {u.used} of {u.available} (+{u.overflow})" for k, u in exc.utilization.items()
                         if u.overflow)
        hint = "try fewer lanes" if req.design.lanes > 1 else "P=1 is the smallest core: a smaller model or plan is needed"
        raise HwssmError(f"the model does not fit {req.board.name} ({req.board.part}) at P={req.design.lanes}: {over}; "
                         f"{hint} (logs: {work})") from None
    fmax, meets = _timing(build, clock_mhz)
    if not meets and not req.allow_slow:
        raise HwssmError(f"the placed design reaches {fmax:.2f} MHz, below the {clock_mhz:g} MHz build clock of "
                         f"{req.board.name}: use fewer lanes or a faster pipeline, or --allow-slow (logs: {work})")
    bitstream = build.bitstream.read_bytes()
    flash_bytes = _flash_file(req.board, bitstream, image) if image is not None else None
    report = build_report(req, top, build, fmax, meets, len(bitstream), image, flash_bytes, work)
    names = [bs.bitstream_name, *([FLASH_NAME] if flash_bytes is not None else []), bs.pins_name,
             "README.md", "report.md", "report.json"]
    with staged_dir(out) as (staging, commit):
        write_bytes(staging / bs.bitstream_name, bitstream)
        if flash_bytes is not None:
            write_bytes(staging / FLASH_NAME, flash_bytes)
        write_text(staging / bs.pins_name, pins_text)
        write_text(staging / "README.md", board_readme(report))
        write_text(staging / "report.md", report_markdown(report))
        write_text(staging / "report.json", json_text(report))
        files = commit(names)
    if flash_bytes is None:
        (out / FLASH_NAME).unlink(missing_ok=True)  # a stale image of an earlier LOAD build would not match
    return BoardBuild(tuple(files), report)
