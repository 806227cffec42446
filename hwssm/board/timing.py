"""Cycles of a CLASSIFY request on the board top: the core's cycle model plus the UART.

Cycle 0 is the first rising clock edge that sees the start bit of the request's first byte
at the ``uart_rx`` pin; the figures below are rising-edge indices (B = 10·divisor cycles per
byte, n = 11 + T·C request bytes, a = answer bytes: 4, or 4 + 4·K with logits):

- byte i's start bit is seen at edge ``i·B`` (the host sends back to back);
- :data:`RX_LATENCY` ``(divisor)`` = 3 + divisor//2 + 9·divisor: edge at which the engine takes
  a byte, after its start-bit edge (2 synchronizer flops, the start bit's middle, 8 data bits
  and the stop bit's middle, the receiver's output register);
- :data:`FIFO_LATENCY` = 2: the sample FIFO (``SyncFIFOBuffered``) offers a sample taken at
  edge e at e + 2;
- the core, S4D or S5 (:func:`hwssm.hw.cycle_model.step_schedule` takes either family): pixel 0
  taken at edge p; with pixels always available its class is on ``out`` at
  ``p + cycles_per_digit``; when the last pixel comes after the core has gone idle, at
  ``last + digit_tail`` (:mod:`hwssm.hw.cycle_model`);
- :data:`ANSWER_LATENCY` = 2: the class is taken at that edge, the answer's first start bit
  begins at the second edge after;
- the answer's a bytes follow back to back; the last stop bit ends a·B cycles after the
  first start bit.

The core keeps up with the UART when ``cycles_per_step >= B`` (every pixel is in the FIFO
before the core wants it: *core-bound*), and waits for every pixel when
``cycles_per_step < B`` (*UART-bound*; the last step then starts ``B`` after the previous
one, long after it ended, when ``B >= 2·cycles_per_step``). In between the figure lies
between the two and :func:`classify_cycles` refuses to give one.
"""

from __future__ import annotations

from ..errors import HwssmError
from ..hw import cycle_model
from ..hw.core_config import CoreConfig

__all__ = ["RX_LATENCY", "FIFO_LATENCY", "ANSWER_LATENCY", "HEADER_BYTES", "rx_latency", "classify_cycles",
           "answer_bytes"]

#: Bytes of a CLASSIFY request before the samples: 'S', 'C', flags, digest4, T.
HEADER_BYTES = 11
FIFO_LATENCY = 2
ANSWER_LATENCY = 2


def rx_latency(divisor: int) -> int:
    """Edges from a byte's start-bit edge to the edge at which the engine takes it."""
    return 3 + divisor // 2 + 9 * divisor


RX_LATENCY = rx_latency


def answer_bytes(K: int, logits: bool) -> int:
    """Bytes of an OK CLASSIFY answer."""
    return 4 + (4 * K if logits else 0)


def classify_cycles(cfg: CoreConfig, divisor: int, logits: bool, channels: int = 1) -> int:
    """Cycles from the first edge that sees a CLASSIFY request's start bit to the end of the
    answer's last stop bit, on an idle board with the line driven back to back (see the
    module docstring). HwssmError when the core's step and the UART byte time are too close
    for an exact figure."""
    B = 10 * divisor
    per_step = cycle_model.cycles_per_step(cfg)
    n = HEADER_BYTES + cfg.T * channels
    a = answer_bytes(cfg.n_classes, logits)
    if per_step >= B:
        cls = HEADER_BYTES * B + rx_latency(divisor) + FIFO_LATENCY + cycle_model.cycles_per_digit(cfg)
    elif B >= 2 * per_step:
        cls = (n - 1) * B + rx_latency(divisor) + FIFO_LATENCY + cycle_model.digit_tail(cfg)
    else:
        raise HwssmError(f"no exact cycle figure: a UART byte ({B} cycles) and a core step ({per_step}) are too close")
    return cls + ANSWER_LATENCY + a * B
