"""A software counterpart of the board for testing the host's serial code over a pseudo-terminal.

:class:`Responder` owns the master side of ``os.openpty()`` and answers per BOARD_PROTOCOL v1
from the golden engine (:mod:`hwssm.golden`): INFO with the model's digest4, T, C = 1, K;
CLASSIFY with the golden class (and logits). It is the board's stand-in, not the board: the
RTL protocol engine is tested against the same codec in the board-level simulation.
``corrupt`` flips the class of every answer (to show that the host's check can fail);
``silent`` answers nothing (a port with no board behind it).
"""

from __future__ import annotations

import os
import select
import threading

import numpy as np

from hwssm.board import protocol as p
from hwssm.golden import engine


class _Closed(Exception):
    pass


class Responder:
    def __init__(self, qm, T: int = 784, *, corrupt: bool = False, silent: bool = False):
        self.qm, self.T, self.corrupt, self.silent = qm, T, corrupt, silent
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.d4 = p.digest4(qm.digest())
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        os.close(self.slave)
        os.close(self.master)

    def _read(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            if self._stop.is_set():
                raise _Closed
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    buf += os.read(self.master, n - len(buf))
                except OSError:
                    raise _Closed from None
        return buf

    def _send(self, ans) -> None:
        os.write(self.master, p.encode_answer(ans))

    def _serve(self) -> None:
        try:
            while True:
                head = self._read(2)
                if self.silent:
                    continue
                self.requests += 1
                if head[0] != p.REQUEST_MAGIC or head[1] not in (p.Kind.INFO, p.Kind.CLASSIFY):
                    self._send(p.ErrorAnswer(p.Status.BAD_MAGIC, p.Kind.UNKNOWN))
                    continue
                if head[1] == p.Kind.INFO:
                    self._send(p.InfoAnswer(self.d4, self.T, 1, self.qm.n_classes))
                    continue
                rest = self._read(p.CLASSIFY_HEADER_BYTES - 2)
                req_head = head + rest
                d4, T, logits = req_head[3:7], int.from_bytes(req_head[7:11], "little"), bool(req_head[2] & 1)
                if d4 != self.d4:
                    self._send(p.ErrorAnswer(p.Status.BAD_DIGEST, p.Kind.CLASSIFY))
                    continue
                if T != self.T:
                    self._send(p.ErrorAnswer(p.Status.BAD_LENGTH, p.Kind.CLASSIFY))
                    continue
                req = p.decode_request(req_head + self._read(T), 1)
                g = engine.run(self.qm, np.frombuffer(req.samples, np.uint8)[None, :])
                cls = int(g.pred[0]) ^ (1 if self.corrupt else 0)
                self._send(p.ClassifyAnswer(cls, tuple(int(v) for v in g.logits[0]) if logits else None))
        except _Closed:
            return
