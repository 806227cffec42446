"""IDX reader: the file format of the MNIST distribution.

Format (all header integers 32-bit big-endian)::

    offset 0   magic: 0x00 0x00 <type code> <ndim>
    offset 4   ndim × uint32 dimension sizes
    then       prod(dims) items of the type, big-endian, C (row-major) order

Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64. MNIST uses 0x08 with ndim 3 for images (magic 2051) and ndim 1
for labels (magic 2049).

Every problem (bad gzip stream, unknown magic, wrong dimensions, truncated or
trailing bytes) raises :class:`hwssm.errors.HwssmError` with one line naming
the file.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ..errors import HwssmError

#: Magic number of an MNIST image file: unsigned bytes, 3 dimensions (n, rows, cols).
IMAGES_MAGIC = 0x00000803
#: Magic number of an MNIST label file: unsigned bytes, 1 dimension (n,).
LABELS_MAGIC = 0x00000801

_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(
    data: bytes,
    *,
    name: str,
    magic: int | None = None,
    shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Decode the bytes of one uncompressed IDX file.

    Parameters
    ----------
    data
        The whole file, uncompressed.
    name
        What to call the file in error messages (usually its path).
    magic
        The required magic number (e.g. :data:`IMAGES_MAGIC`), or None for any valid one.
    shape
        The required dimensions, or None for any.

    Returns
    -------
    numpy.ndarray
        A read-only array over ``data`` (no copy) with the file's dimensions and
        item type (big-endian for multi-byte types).

    Raises
    ------
    HwssmError
        Unknown or unexpected magic number, unexpected dimensions, or a byte count
        that does not match the header exactly (truncated or trailing data).
    """
    if len(data) < 4:
        raise HwssmError(f"{name}: {len(data)} bytes is too short for an IDX header (truncated file?)")
    found = int.from_bytes(data[:4], "big")
    code, ndim = data[2], data[3]
    if data[0] or data[1] or code not in _DTYPES or ndim == 0:
        raise HwssmError(f"{name}: bad IDX magic number {found} (0x{found:08x}); not an IDX file")
    if magic is not None and found != magic:
        raise HwssmError(f"{name}: IDX magic number is {found} (0x{found:08x}), expected {magic} (0x{magic:08x})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise HwssmError(f"{name}: {len(data)} bytes is too short for an IDX header of {ndim} dimensions (truncated file?)")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if shape is not None and dims != tuple(shape):
        raise HwssmError(f"{name}: IDX dimensions are {_fmt(dims)}, expected {_fmt(shape)}")
    dtype = _DTYPES[code]
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "trailing data"
        raise HwssmError(
            f"{name}: {len(data)} bytes, expected {expected} for dimensions {_fmt(dims)} ({problem})"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    array.flags.writeable = False
    return array


def read_idx(
    path: str | os.PathLike,
    *,
    magic: int | None = None,
    shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Read an IDX file, gzip-compressed (name ends in ``.gz``) or raw.

    Parameters are as for :func:`parse_idx`. Returns a read-only array.

    Raises
    ------
    HwssmError
        The file cannot be read, its gzip stream is truncated or corrupt, or the
        IDX content is invalid (see :func:`parse_idx`).
    """
    path = Path(path)
    raw = read_bytes(path)
    data = gunzip(raw, name=str(path)) if path.name.endswith(".gz") else raw
    return parse_idx(data, name=str(path), magic=magic, shape=shape)


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``; HwssmError (one line) when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise HwssmError(f"{path}: cannot read: {exc.strerror or exc}") from None


def gunzip(raw: bytes, *, name: str) -> bytes:
    """Decompress a whole gzip file; HwssmError (one line) if it is truncated or corrupt."""
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise HwssmError(f"{name}: truncated gzip stream (the file ends before the end-of-stream marker)") from None
    except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise HwssmError(f"{name}: corrupt gzip data: {exc}") from None


def _fmt(dims) -> str:
    return "×".join(str(d) for d in dims) if dims else "()"
