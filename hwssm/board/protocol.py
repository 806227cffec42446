"""Codec of the board UART protocol v1 (see ``hwssm/board/PROTOCOL.md``), pure Python.

The host (``hwssm board run``) and the test responder speak it; the board's protocol engine
(RTL) implements the same bytes. Every multi-byte integer is little-endian.

Frames
    Host -> board: :class:`InfoRequest` (2 bytes ``S I``), :class:`ClassifyRequest`
    (``S C flags digest4 T:u32`` then ``T*C`` sample bytes, channels interleaved per step).
    Board -> host: :class:`InfoAnswer` (15 bytes), :class:`ClassifyAnswer` (4 bytes, plus
    ``4*K`` with logits), :class:`ErrorAnswer` (3 bytes ``R status kind``).

Decoding a malformed frame (wrong magic, wrong kind, wrong length, bad field) raises
:class:`~hwssm.errors.HwssmError` with a one-line message. :func:`read_request` and
:func:`read_answer` pull a frame from a byte source (a ``read(n) -> bytes`` callable that returns
exactly ``n`` bytes or raises), reading only as many bytes as the frame has.

Flash image (LOAD storage, iCEBreaker): :func:`flash_image` writes the 16-byte header
(``b"HWSSMIMG"``, word count u32 LE, digest4) followed by the 16-bit words of ``params.hex``,
big-endian per word; :func:`parse_flash_image` reads it back.
"""

from __future__ import annotations

import enum
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import HwssmError

__all__ = ["PROTO_VERSION", "REQUEST_MAGIC", "ANSWER_MAGIC", "LOGIT_BYTES", "FLAG_LOGITS", "Kind", "Status",
           "InfoRequest", "ClassifyRequest", "InfoAnswer", "ClassifyAnswer", "ErrorAnswer", "Request", "Answer",
           "digest4", "encode_request", "decode_request", "encode_answer", "decode_answer", "read_request",
           "read_answer", "FLASH_MAGIC", "FLASH_HEADER_BYTES", "flash_image", "parse_flash_image", "parse_params_hex",
           "INFO_ANSWER_BYTES", "ERROR_ANSWER_BYTES", "CLASSIFY_HEADER_BYTES"]

#: Protocol version reported in the INFO answer.
PROTO_VERSION = 1
#: First byte of every request ('S').
REQUEST_MAGIC = 0x53
#: First byte of every answer ('R').
ANSWER_MAGIC = 0x52
#: Bytes per logit in a CLASSIFY answer (int32, little-endian).
LOGIT_BYTES = 4
#: CLASSIFY flags bit 0: also return the K logits.
FLAG_LOGITS = 0x01
#: Bytes of a CLASSIFY request before the samples: S C flags digest4 T.
CLASSIFY_HEADER_BYTES = 11
#: Bytes of an INFO answer: R status I digest4 T C K logit_bytes version.
INFO_ANSWER_BYTES = 15
#: Bytes of an error answer: R status kind.
ERROR_ANSWER_BYTES = 3
#: Magic of the flash parameter image.
FLASH_MAGIC = b"HWSSMIMG"
#: Bytes of the flash image header: magic, word count (u32 LE), digest4.
FLASH_HEADER_BYTES = 16


class Kind(enum.IntEnum):
    """Request kind (second byte of a request, third byte of an answer)."""

    INFO = 0x49  # 'I'
    CLASSIFY = 0x43  # 'C'
    UNKNOWN = 0x3F  # '?': echoed in a BAD_MAGIC answer to an unknown request


class Status(enum.IntEnum):
    """Answer status (second byte of every answer)."""

    OK = 0x00
    BAD_MAGIC = 0x01  #: first byte not 'S' or an unknown request kind
    BAD_DIGEST = 0x02  #: digest4 differs from the model in the bitstream
    BAD_LENGTH = 0x03  #: T differs from the model's T
    TIMEOUT = 0x04  #: the host stopped in the middle of a frame (longer than the inter-byte timeout)
    NOT_LOADED = 0x05  #: the parameter image in flash was bad; the core holds no model


def _u8(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise HwssmError(f"{what} must be an integer in 0..255, not {value!r}")
    return value


def _u32(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF_FFFF:
        raise HwssmError(f"{what} must be an integer in 0..2**32-1, not {value!r}")
    return value


def _d4(value: bytes) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 4:
        raise HwssmError(f"digest4 must be 4 bytes, not {value!r}")
    return bytes(value)


def digest4(model_digest: str) -> bytes:
    """The 4 bytes that name a model on the wire: bytes 0..3 of its hex digest, in hex order.

    Parameters
    ----------
    model_digest : str
        The QModel digest (``QModel.digest()``, the manifest's ``model_digest``), hex, at least
        8 digits.
    """
    if not isinstance(model_digest, str) or not re.fullmatch(r"[0-9a-fA-F]{8,}", model_digest):
        raise HwssmError(f"model digest must be a hex string of at least 8 digits, not {str(model_digest)[:20]!r}")
    return bytes.fromhex(model_digest[:8])


@dataclass(frozen=True)
class InfoRequest:
    """INFO request: ask the board which model it holds (2 bytes ``S I``)."""


@dataclass(frozen=True)
class ClassifyRequest:
    """CLASSIFY request: one sequence of ``T`` steps of ``C`` channels, one byte per sample.

    Attributes
    ----------
    digest4 : bytes
        The model the host means (:func:`digest4`); the board refuses another (BAD_DIGEST).
    T : int
        Sequence length (steps).
    C : int
        Channels per step (not on the wire; the samples are ``T*C`` bytes).
    samples : bytes
        ``T*C`` sample codes, step 0 channels 0..C-1, then step 1, ...
    logits : bool
        Ask for the K logits too (flags bit 0).
    """

    digest4: bytes
    T: int
    C: int
    samples: bytes
    logits: bool = False

    def __post_init__(self):
        _d4(self.digest4)
        _u32(self.T, "T")
        if isinstance(self.C, bool) or not isinstance(self.C, int) or self.C < 1:
            raise HwssmError(f"C (channels) must be a positive integer, not {self.C!r}")
        if not isinstance(self.samples, (bytes, bytearray)) or len(self.samples) != self.T * self.C:
            raise HwssmError(f"samples must be T*C = {self.T * self.C} bytes, not "
                             f"{len(self.samples) if isinstance(self.samples, (bytes, bytearray)) else self.samples!r}")
        if not isinstance(self.logits, bool):
            raise HwssmError(f"logits must be a bool, not {self.logits!r}")


@dataclass(frozen=True)
class InfoAnswer:
    """INFO answer (status OK): the model in the bitstream.

    Attributes
    ----------
    digest4 : bytes
        First 4 bytes of the model digest.
    T, C, K : int
        Sequence length, channels per step, classes.
    logit_bytes : int
        Bytes per logit in a CLASSIFY answer (4).
    version : int
        Protocol version (1).
    """

    digest4: bytes
    T: int
    C: int
    K: int
    logit_bytes: int = LOGIT_BYTES
    version: int = PROTO_VERSION

    def __post_init__(self):
        _d4(self.digest4)
        _u32(self.T, "T")
        for name in ("C", "K", "logit_bytes", "version"):
            _u8(getattr(self, name), name)


@dataclass(frozen=True)
class ClassifyAnswer:
    """CLASSIFY answer (status OK): the class and, when asked for, the K logits (int32 codes)."""

    cls: int
    logits: tuple[int, ...] | None = None

    def __post_init__(self):
        _u8(self.cls, "class")
        if self.logits is not None:
            if not isinstance(self.logits, tuple):
                raise HwssmError(f"logits must be a tuple of ints, not {type(self.logits).__name__}")
            for v in self.logits:
                if isinstance(v, bool) or not isinstance(v, int) or not -2**31 <= v < 2**31:
                    raise HwssmError(f"a logit must be an int32, not {v!r}")


@dataclass(frozen=True)
class ErrorAnswer:
    """An answer with a status other than OK: ``R status kind`` (kind '?' for an unknown request)."""

    status: Status
    kind: Kind

    def __post_init__(self):
        if not isinstance(self.status, Status) or self.status is Status.OK:
            raise HwssmError(f"an error answer needs an error status, not {self.status!r}")
        if not isinstance(self.kind, Kind):
            raise HwssmError(f"kind must be a Kind, not {self.kind!r}")

    def message(self) -> str:
        """One line for a person."""
        return f"the board answered {self.status.name} to a {self.kind.name} request"


Request = InfoRequest | ClassifyRequest
Answer = InfoAnswer | ClassifyAnswer | ErrorAnswer


# ----------------------------------------------------------------------------------------- requests

def encode_request(req: Request) -> bytes:
    """The bytes of request ``req``."""
    if isinstance(req, InfoRequest):
        return bytes((REQUEST_MAGIC, Kind.INFO))
    if isinstance(req, ClassifyRequest):
        flags = FLAG_LOGITS if req.logits else 0
        return bytes((REQUEST_MAGIC, Kind.CLASSIFY, flags)) + req.digest4 + struct.pack("<I", req.T) + bytes(req.samples)
    raise HwssmError(f"not a request: {type(req).__name__}")


def _request_head(head: bytes) -> Kind:
    if head[0] != REQUEST_MAGIC:
        raise HwssmError(f"not a request: first byte 0x{head[0]:02x}, expected 0x{REQUEST_MAGIC:02x} ('S')")
    if head[1] not in (Kind.INFO, Kind.CLASSIFY):
        raise HwssmError(f"unknown request kind 0x{head[1]:02x} (expected 'I' or 'C')")
    return Kind(head[1])


def _classify_fields(head: bytes) -> tuple[bool, bytes, int]:
    flags = head[2]
    if flags & ~FLAG_LOGITS:
        raise HwssmError(f"CLASSIFY flags 0x{flags:02x} set reserved bits (only bit 0 is defined)")
    (T,) = struct.unpack_from("<I", head, 7)
    return bool(flags & FLAG_LOGITS), bytes(head[3:7]), T


def decode_request(data: bytes, C: int) -> Request:
    """Parse one complete request; ``C`` is the model's channels per step (samples = T*C bytes)."""
    data = bytes(data)
    if len(data) < 2:
        raise HwssmError(f"a request has at least 2 bytes, got {len(data)}")
    kind = _request_head(data)
    if kind is Kind.INFO:
        if len(data) != 2:
            raise HwssmError(f"an INFO request is 2 bytes, got {len(data)}")
        return InfoRequest()
    if len(data) < CLASSIFY_HEADER_BYTES:
        raise HwssmError(f"a CLASSIFY request has at least {CLASSIFY_HEADER_BYTES} bytes, got {len(data)}")
    logits, d4, T = _classify_fields(data)
    if len(data) != CLASSIFY_HEADER_BYTES + T * C:
        raise HwssmError(f"a CLASSIFY request of T={T}, C={C} is {CLASSIFY_HEADER_BYTES + T * C} bytes, got {len(data)}")
    return ClassifyRequest(d4, T, C, data[CLASSIFY_HEADER_BYTES:], logits)


def read_request(read: Callable[[int], bytes], C: int, max_T: int | None = None) -> Request:
    """Read one request from ``read`` (``read(n)`` returns exactly ``n`` bytes or raises).

    ``max_T`` bounds the samples read when T is wrong (the caller answers BAD_LENGTH without
    reading ``T*C`` bytes it does not want): a larger T raises HwssmError after the header.
    """
    head = read(2)
    kind = _request_head(head)
    if kind is Kind.INFO:
        return InfoRequest()
    head += read(CLASSIFY_HEADER_BYTES - 2)
    logits, d4, T = _classify_fields(head)
    if max_T is not None and T > max_T:
        raise HwssmError(f"CLASSIFY request of T={T} steps exceeds the model's {max_T}")
    return ClassifyRequest(d4, T, C, read(T * C), logits)


# ------------------------------------------------------------------------------------------ answers

def encode_answer(ans: Answer) -> bytes:
    """The bytes of answer ``ans``."""
    if isinstance(ans, InfoAnswer):
        return (bytes((ANSWER_MAGIC, Status.OK, Kind.INFO)) + ans.digest4 + struct.pack("<I", ans.T)
                + bytes((ans.C, ans.K, ans.logit_bytes, ans.version)))
    if isinstance(ans, ClassifyAnswer):
        out = bytes((ANSWER_MAGIC, Status.OK, Kind.CLASSIFY, ans.cls))
        if ans.logits is not None:
            out += struct.pack(f"<{len(ans.logits)}i", *ans.logits)
        return out
    if isinstance(ans, ErrorAnswer):
        return bytes((ANSWER_MAGIC, ans.status, ans.kind))
    raise HwssmError(f"not an answer: {type(ans).__name__}")


def _answer_head(head: bytes) -> tuple[Status, Kind]:
    if head[0] != ANSWER_MAGIC:
        raise HwssmError(f"not an answer: first byte 0x{head[0]:02x}, expected 0x{ANSWER_MAGIC:02x} ('R')")
    try:
        status = Status(head[1])
    except ValueError:
        raise HwssmError(f"unknown answer status 0x{head[1]:02x}") from None
    try:
        kind = Kind(head[2])
    except ValueError:
        raise HwssmError(f"unknown answer kind 0x{head[2]:02x}") from None
    if status is Status.OK and kind is Kind.UNKNOWN:
        raise HwssmError("an OK answer must name its request kind ('I' or 'C'), not '?'")
    return status, kind


def _answer_size(status: Status, kind: Kind, K: int, logits: bool) -> int:
    if status is not Status.OK:
        return ERROR_ANSWER_BYTES
    if kind is Kind.INFO:
        return INFO_ANSWER_BYTES
    return 4 + (LOGIT_BYTES * K if logits else 0)


def _answer_from(data: bytes, status: Status, kind: Kind, K: int, logits: bool) -> Answer:
    if status is not Status.OK:
        return ErrorAnswer(status, kind)
    if kind is Kind.INFO:
        (T,) = struct.unpack_from("<I", data, 7)
        return InfoAnswer(bytes(data[3:7]), T, data[11], data[12], data[13], data[14])
    return ClassifyAnswer(data[3], struct.unpack_from(f"<{K}i", data, 4) if logits else None)


def decode_answer(data: bytes, K: int = 0, logits: bool = False) -> Answer:
    """Parse one complete answer; ``K`` (classes) and ``logits`` (flags bit 0 of the request) size a CLASSIFY answer."""
    data = bytes(data)
    if len(data) < ERROR_ANSWER_BYTES:
        raise HwssmError(f"an answer has at least {ERROR_ANSWER_BYTES} bytes, got {len(data)}")
    status, kind = _answer_head(data)
    size = _answer_size(status, kind, K, logits)
    if len(data) != size:
        raise HwssmError(f"a {kind.name} answer with status {status.name} is {size} bytes, got {len(data)}")
    return _answer_from(data, status, kind, K, logits)


def read_answer(read: Callable[[int], bytes], K: int = 0, logits: bool = False) -> Answer:
    """Read one answer from ``read`` (``read(n)`` returns exactly ``n`` bytes or raises)."""
    head = read(ERROR_ANSWER_BYTES)
    status, kind = _answer_head(head)
    rest = _answer_size(status, kind, K, logits) - ERROR_ANSWER_BYTES
    data = head + (read(rest) if rest else b"")
    return _answer_from(data, status, kind, K, logits)


# -------------------------------------------------------------------------------------- flash image

def parse_params_hex(text: str) -> list[int]:
    """The 16-bit load words of a ``params.hex`` text (one word per line, hex digits)."""
    words = []
    for n, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line:
            continue
        if not re.fullmatch(r"[0-9a-fA-F]{1,4}", line):
            raise HwssmError(f"params.hex line {n}: {line[:20]!r} is not a 16-bit hex word")
        words.append(int(line, 16))
    return words


def flash_image(words: Sequence[int], d4: bytes) -> bytes:
    """The flash parameter image: 16-byte header (magic, word count u32 LE, digest4), then the words big-endian.

    Parameters
    ----------
    words : sequence of int
        The 16-bit load words (:func:`parse_params_hex`), in load order.
    d4 : bytes
        :func:`digest4` of the model.
    """
    _d4(d4)
    for w in words:
        if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 0xFFFF:
            raise HwssmError(f"a load word must be in 0..0xffff, not {w!r}")
    _u32(len(words), "word count")
    return FLASH_MAGIC + struct.pack("<I", len(words)) + bytes(d4) + struct.pack(f">{len(words)}H", *words)


def parse_flash_image(data: bytes) -> tuple[bytes, list[int]]:
    """``(digest4, words)`` of a flash image; bytes after the last word (erased flash) are ignored."""
    data = bytes(data)
    if len(data) < FLASH_HEADER_BYTES or data[:8] != FLASH_MAGIC:
        raise HwssmError("not a hwssm flash image: the header does not start with b'HWSSMIMG'")
    (n,) = struct.unpack_from("<I", data, 8)
    if len(data) < FLASH_HEADER_BYTES + 2 * n:
        raise HwssmError(f"flash image announces {n} words but holds {(len(data) - FLASH_HEADER_BYTES) // 2}")
    return data[12:16], list(struct.unpack_from(f">{n}H", data, FLASH_HEADER_BYTES))
