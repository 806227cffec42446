"""Read what ``sim_top`` wrote: the dbg/logit hex streams and the per-digit timing files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from .wrapper import DBG_WORD_BITS

__all__ = ["SimOutputs", "RunFiles", "parse_hex", "parse_packed", "read_outputs"]

_NIBBLE = np.full(256, 255, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_NIBBLE[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_NIBBLE[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)


@dataclasses.dataclass(frozen=True)
class RunFiles:
    """The files of one simulation run, all inside ``dir``."""

    dir: Path

    @property
    def pixels(self) -> Path:
        return self.dir / "pixels.hex"

    @property
    def dbg(self) -> Path:
        return self.dir / "dbg.hex"

    @property
    def logit(self) -> Path:
        return self.dir / "logit.hex"

    @property
    def inputs(self) -> Path:
        return self.dir / "in.txt"

    @property
    def outputs(self) -> Path:
        return self.dir / "out.txt"

    @property
    def steps(self) -> Path:
        return self.dir / "step.txt"

    @property
    def log(self) -> Path:
        return self.dir / "sim.log"

    @property
    def results(self) -> Path:
        return self.dir / "results.xml"

    @property
    def timing(self) -> Path:
        """The testbench's ``{"seconds", "cycles", "classes"}`` of the run (hwssm/verify/tb/tb_core.py)."""
        return self.dir / "tb_timing.json"

    def waves(self, fmt: str) -> Path:
        """The waveform file for format ``fmt`` ("fst" or "vcd")."""
        return self.dir / f"waves.{fmt}"

    def plusargs(self, n_digits: int, *, in_gap: int, out_stall: int, seed: int, stall_limit: int,
                 drain: int) -> list[str]:
        """The wrapper's plusargs for a run of ``n_digits`` over these files."""
        return [
            f"+hwssm_pixels={self.pixels}", f"+hwssm_n_digits={n_digits}", f"+hwssm_dbg={self.dbg}",
            f"+hwssm_logit={self.logit}", f"+hwssm_in={self.inputs}", f"+hwssm_out={self.outputs}",
            f"+hwssm_step={self.steps}",
            f"+hwssm_in_gap={in_gap}", f"+hwssm_out_stall={out_stall}", f"+hwssm_seed={seed}",
            f"+hwssm_stall_limit={stall_limit}", f"+hwssm_drain={drain}", f"+hwssm_tb_timing={self.timing}",
        ]

    def tb_load_cycles(self) -> int | None:
        """Cycles the testbench measured to stream the load image in (None: a ROM core, or none written)."""
        try:
            v = json.loads(self.timing.read_text()).get("load_cycles")
        except (OSError, ValueError, AttributeError):
            return None
        return int(v) if isinstance(v, int) and not isinstance(v, bool) else None

    def tb_seconds(self) -> float | None:
        """Seconds the testbench measured from its start to ``done`` (None when it wrote none)."""
        try:
            return float(json.loads(self.timing.read_text())["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


def _hex_rows(path: Path, digits: int) -> np.ndarray:
    """(n, digits) nibbles of a file of n lines of ``digits`` hex digits each."""
    raw = np.fromfile(path, dtype=np.uint8) if path.exists() else np.zeros(0, np.uint8)
    if raw.size % (digits + 1):
        raise HwssmError(f"{path}: size {raw.size} is not a whole number of {digits}-digit hex lines")
    rows = raw.reshape(-1, digits + 1)
    if rows.size and not np.all(rows[:, digits] == ord("\n")):
        raise HwssmError(f"{path}: lines are not {digits} hex digits long")
    nib = _NIBBLE[rows[:, :digits]]
    if np.any(nib == 255):
        bad = int(np.argmax(np.any(nib == 255, axis=1)))
        raise HwssmError(f"{path}: line {bad + 1} is not hex ({bytes(rows[bad, :digits]).decode(errors='replace')!r}; X or Z?)")
    return nib


def _signed(v: np.ndarray, width: int) -> np.ndarray:
    return np.where(v >= (1 << (width - 1)), v - (1 << width), v)


def parse_hex(path: str | Path, width: int, signed: bool = True) -> np.ndarray:
    """Values of a file of fixed-width hex lines (``$fwrite("%h\\n")`` of a ``width``-bit
    signal) as int64; two's complement when ``signed``. HwssmError on a malformed file."""
    path = Path(path)
    nib = _hex_rows(path, -(-width // 4))
    if width > 62:
        vals = [int("".join("%x" % d for d in row), 16) for row in nib]
        if signed:
            vals = [v - (1 << width) if v >> (width - 1) else v for v in vals]
        try:
            return np.array(vals, dtype=np.int64)
        except OverflowError:
            raise HwssmError(f"{path}: values wider than 64 bits are not supported") from None
    v = np.zeros(nib.shape[0], dtype=np.int64)
    for i in range(nib.shape[1]):
        v = (v << 4) | nib[:, i].astype(np.int64)
    v &= (1 << width) - 1
    return _signed(v, width) if signed else v


def parse_packed(path: str | Path, width: int, word_bits: int = 64) -> np.ndarray:
    """The signed ``width``-bit values of a packed stream (the wrapper's dbg file: per
    line, two hex digits of count ``n``, then a ``word_bits``-bit word holding ``n``
    values from the LSB up; every line but the last is full) as int64, in order.
    HwssmError on a malformed file."""
    path = Path(path)
    per, wd = word_bits // width, word_bits // 4
    nib = _hex_rows(path, 2 + wd)
    if nib.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    count = (nib[:, 0].astype(np.int64) << 4) | nib[:, 1]
    bad = (count < 1) | (count > per)
    bad[:-1] |= count[:-1] != per
    if np.any(bad):
        i = int(np.argmax(bad))
        raise HwssmError(f"{path}: line {i + 1} holds {int(count[i])} values (expected {per}, fewer only on the last line)")
    word = np.zeros(nib.shape[0], dtype=np.uint64)
    for i in range(wd):
        word = (word << np.uint64(4)) | nib[:, 2 + i].astype(np.uint64)
    shifts = (np.arange(per) * width).astype(np.uint64)
    vals = ((word[:, None] >> shifts[None, :]) & np.uint64((1 << width) - 1)).astype(np.int64)
    keep = np.arange(per)[None, :] < count[:, None]
    return _signed(vals[keep], width)


def _table(path: Path, cols: int) -> np.ndarray:
    if not path.exists():
        return np.zeros((0, cols), dtype=np.int64)
    text = path.read_text()
    if not text.strip():
        return np.zeros((0, cols), dtype=np.int64)
    try:
        a = np.array([[int(x) for x in line.split()] for line in text.splitlines() if line.strip()], dtype=np.int64)
    except ValueError:
        raise HwssmError(f"{path}: malformed line") from None
    if a.ndim != 2 or a.shape[1] != cols:
        raise HwssmError(f"{path}: expected {cols} columns per line")
    return a


@dataclasses.dataclass(frozen=True)
class SimOutputs:
    """Everything one run produced.

    Attributes
    ----------
    dbg, logits : int64 (m,)
        The dbg and logit streams as emitted (flat, all digits).
    classes : int64 (k,)
        ``out_class`` at each class handshake.
    out_cycle, out_dbg, out_logits : int64 (k,)
        Cycle of each class handshake, and the dbg/logit counts emitted by then.
    in_first, in_last, gap_min, gap_max : int64 (j,)
        Per digit whose T pixels were all taken: the cycles of its first and last pixel
        handshakes, and the smallest and largest interval between consecutive ones.
    step_first, step_last, step_min, step_max : int64 (s,)
        Per digit whose dbg values were all emitted (when the wrapper knows L·H): the
        cycles of the first dbg value of its first and last step, and the smallest and
        largest interval between the first dbg values of consecutive steps.
    """

    dbg: np.ndarray
    logits: np.ndarray
    classes: np.ndarray
    out_cycle: np.ndarray
    out_dbg: np.ndarray
    out_logits: np.ndarray
    in_first: np.ndarray
    in_last: np.ndarray
    gap_min: np.ndarray
    gap_max: np.ndarray
    step_first: np.ndarray
    step_last: np.ndarray
    step_min: np.ndarray
    step_max: np.ndarray


def read_outputs(files: RunFiles, act_width: int, logit_width: int) -> SimOutputs:
    """Parse the files of one finished run."""
    outs = _table(files.outputs, 4)
    ins = _table(files.inputs, 4)
    steps = _table(files.steps, 4)
    return SimOutputs(
        dbg=parse_packed(files.dbg, act_width, DBG_WORD_BITS),
        logits=parse_hex(files.logit, logit_width),
        classes=outs[:, 0], out_cycle=outs[:, 1], out_dbg=outs[:, 2], out_logits=outs[:, 3],
        in_first=ins[:, 0], in_last=ins[:, 1], gap_min=ins[:, 2], gap_max=ins[:, 3],
        step_first=steps[:, 0], step_last=steps[:, 1], step_min=steps[:, 2], step_max=steps[:, 3],
    )
