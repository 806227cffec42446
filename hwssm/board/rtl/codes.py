"""Byte values of the board UART protocol v1 (``BOARD_PROTOCOL.md``), as the hardware uses them.

The host-side codec is :mod:`hwssm.board.protocol`; both follow the same specification.
"""

from __future__ import annotations

import enum

__all__ = ["Status", "MAGIC_REQUEST", "MAGIC_ANSWER", "KIND_INFO", "KIND_CLASSIFY", "KIND_UNKNOWN",
           "LOGIT_BYTES", "PROTO_VERSION", "FLAG_LOGITS"]

MAGIC_REQUEST = 0x53   #: 'S'
MAGIC_ANSWER = 0x52    #: 'R'
KIND_INFO = 0x49       #: 'I'
KIND_CLASSIFY = 0x43   #: 'C'
KIND_UNKNOWN = 0x3F    #: '?'
LOGIT_BYTES = 4        #: each logit is sent as an int32, little-endian
PROTO_VERSION = 1
FLAG_LOGITS = 0x01     #: CLASSIFY flags bit 0: also return the logits


class Status(enum.IntEnum):
    """Answer status byte."""

    OK = 0x00
    BAD_MAGIC = 0x01
    BAD_DIGEST = 0x02
    BAD_LENGTH = 0x03
    TIMEOUT = 0x04
    NOT_LOADED = 0x05
