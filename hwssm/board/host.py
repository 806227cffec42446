"""The host side of the board protocol: ask the board which model it holds, stream sequences, check.

:func:`run_on_board` sends INFO, checks that the board holds the model (digest4), the sequence
length T, the channels and classes; then sends one CLASSIFY request per sequence and compares
each class (and, when asked, each logit) with the golden engine (:mod:`hwssm.golden`), which
is the contract the core is bit-exact to. The wire format is :mod:`hwssm.board.protocol`; the
line is a :class:`~hwssm.board.serial.SerialPort` (or anything with its ``write`` /
``read_exact`` / ``discard_input`` methods).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from ..errors import HwssmError
from ..quant.qmodel import QModel
from . import protocol as p

__all__ = ["BoardMismatch", "BoardRun", "check_info", "query_info", "run_on_board", "INTER_BYTE_TIMEOUT_S"]

#: The board's inter-byte timeout (BOARD_PROTOCOL: 50 ms); the host waits longer after an error.
INTER_BYTE_TIMEOUT_S = 0.05


@dataclasses.dataclass(frozen=True)
class BoardMismatch:
    """A sequence whose board answer differs from the golden engine's.

    ``index`` is the caller's index of the sequence (the MNIST test index); ``logits`` are
    None when they were not asked for.
    """

    index: int
    board_class: int
    golden_class: int
    board_logits: tuple[int, ...] | None
    golden_logits: tuple[int, ...] | None

    def describe(self) -> str:
        what = "class" if self.board_class != self.golden_class else "logits"
        text = f"sequence {self.index}: board class {self.board_class}, golden {self.golden_class}"
        if what == "logits":
            text += f"; board logits {list(self.board_logits)}, golden {list(self.golden_logits)}"
        return text


@dataclasses.dataclass(frozen=True)
class BoardRun:
    """What :func:`run_on_board` measured.

    Attributes
    ----------
    info : InfoAnswer
        The board's INFO answer.
    sequences : int
        Sequences classified.
    correct : int
        Board classes equal to the labels.
    mismatches : tuple[BoardMismatch, ...]
        Sequences whose class (or logits, when checked) differ from the golden engine.
    logits_checked : bool
    seconds : float
        Wall time of the CLASSIFY requests (UART transfer and compute), seconds.
    """

    info: p.InfoAnswer
    sequences: int
    correct: int
    mismatches: tuple[BoardMismatch, ...]
    logits_checked: bool
    seconds: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.sequences if self.sequences else 0.0

    @property
    def sequences_per_s(self) -> float:
        return self.sequences / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_json(self) -> dict:
        return {"sequences": self.sequences, "correct": self.correct, "accuracy": round(self.accuracy, 6),
                "agree": self.sequences - len(self.mismatches), "mismatches": [m.describe() for m in self.mismatches],
                "logits_checked": self.logits_checked, "seconds": round(self.seconds, 4),
                "sequences_per_s": round(self.sequences_per_s, 3), "T": self.info.T,
                "digest4": self.info.digest4.hex(), "ok": self.ok}


def _answer(port, K: int = 0, logits: bool = False) -> p.Answer:
    ans = p.read_answer(port.read_exact, K, logits)
    if isinstance(ans, p.ErrorAnswer):
        port.discard_input(2 * INTER_BYTE_TIMEOUT_S)
        raise HwssmError(ans.message())
    return ans


def query_info(port) -> p.InfoAnswer:
    """Send INFO and return the board's answer; HwssmError on an error status or no answer."""
    port.write(p.encode_request(p.InfoRequest()))
    ans = _answer(port)
    if not isinstance(ans, p.InfoAnswer):
        raise HwssmError("the board answered INFO with a CLASSIFY answer (protocol out of step)")
    return ans


def check_info(info: p.InfoAnswer, qm: QModel, T: int, C: int = 1) -> None:
    """HwssmError (one line) unless the board holds ``qm`` for sequences of ``T`` steps of ``C`` channels."""
    want = p.digest4(qm.digest())
    if info.version != p.PROTO_VERSION:
        raise HwssmError(f"the board speaks protocol version {info.version}; this host speaks {p.PROTO_VERSION}")
    if info.digest4 != want:
        raise HwssmError(f"the board holds model {info.digest4.hex()}..., not this model ({want.hex()}...): "
                         "program it with the bitstream built for this model")
    if info.T != T:
        raise HwssmError(f"the board's model takes T = {info.T} steps; the data has {T}")
    if info.C != C or info.K != qm.n_classes or info.logit_bytes != p.LOGIT_BYTES:
        raise HwssmError(f"the board reports C={info.C}, K={info.K}, {info.logit_bytes}-byte logits; "
                         f"expected C={C}, K={qm.n_classes}, {p.LOGIT_BYTES}")


def run_on_board(port, qm: QModel, pixels: np.ndarray, labels: np.ndarray, indices: np.ndarray, *,
                 logits: bool = False, progress: Callable[[str], None] | None = None) -> BoardRun:
    """Classify ``pixels`` (n, T) uint8 on the board behind ``port`` and check them against the golden engine.

    ``labels`` (n,) are the true classes, ``indices`` (n,) name the sequences in mismatch
    reports. ``logits``: ask the board for the K logits and compare them too (the answer
    grows from 4 to 4 + 4K bytes). HwssmError (one line) when the board holds another model,
    answers with an error status, or does not answer in time.
    """
    from ..golden import engine

    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if pixels.ndim != 2 or not len(pixels):
        raise HwssmError(f"sequences must be a non-empty (n, T) array, not shape {pixels.shape}")
    n, T = pixels.shape
    info = query_info(port)
    check_info(info, qm, T)
    golden = engine.run(qm, pixels)
    d4, K = info.digest4, info.K
    mism: list[BoardMismatch] = []
    correct = 0
    t0 = time.monotonic()
    for i in range(n):
        port.write(p.encode_request(p.ClassifyRequest(d4, T, 1, pixels[i].tobytes(), logits)))
        ans = _answer(port, K, logits)
        if not isinstance(ans, p.ClassifyAnswer):
            raise HwssmError("the board answered CLASSIFY with an INFO answer (protocol out of step)")
        g_cls, g_log = int(golden.pred[i]), tuple(int(v) for v in golden.logits[i])
        correct += int(ans.cls == int(labels[i]))
        if ans.cls != g_cls or (logits and ans.logits != g_log):
            mism.append(BoardMismatch(int(indices[i]), ans.cls, g_cls, ans.logits, g_log if logits else None))
        if progress and (i + 1) % 100 == 0:
            progress(f"{i + 1}/{n} sequences, {len(mism)} mismatching")
    return BoardRun(info, n, correct, tuple(mism), logits, time.monotonic() - t0)
