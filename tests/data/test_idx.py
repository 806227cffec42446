"""IDX reader: valid files decode without copying; every malformed file is a one-line HwssmError."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from hwssm.data.idx import IMAGES_MAGIC, LABELS_MAGIC, parse_idx, read_idx
from hwssm.errors import HwssmError


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """An IDX file for ``array`` (big-endian items)."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


IMAGES = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
LABELS = np.array([7, 2, 1], dtype=np.uint8)


def test_parse_images_and_labels():
    images = parse_idx(idx_bytes(IMAGES), name="x", magic=IMAGES_MAGIC, shape=(3, 4, 5))
    labels = parse_idx(idx_bytes(LABELS), name="y", magic=LABELS_MAGIC, shape=(3,))
    np.testing.assert_array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)
    assert images.dtype == np.uint8 and not images.flags.writeable
    assert IMAGES_MAGIC == 2051 and LABELS_MAGIC == 2049


def test_parse_multibyte_big_endian():
    values = np.array([[-2, 300], [1, -32768]], dtype=np.int16)
    data = idx_bytes(values, code=0x0B)
    assert data[12:14] == b"\xff\xfe"  # big-endian on disk, after the 12-byte header
    np.testing.assert_array_equal(parse_idx(data, name="x"), values)


def test_wrong_magic():
    with pytest.raises(HwssmError) as excinfo:
        parse_idx(idx_bytes(LABELS), name="labels.idx", magic=IMAGES_MAGIC)
    message = one_line_error(excinfo)
    assert "labels.idx" in message and "2049" in message and "expected 2051" in message


@pytest.mark.parametrize("data", [b"PK\x03\x04" + bytes(20), bytes([0, 0, 0x07, 1]) + bytes(8), bytes([0, 0, 8, 0])])
def test_not_idx(data):
    with pytest.raises(HwssmError, match="bad IDX magic") as excinfo:
        parse_idx(data, name="f")
    one_line_error(excinfo)


@pytest.mark.parametrize("cut", [0, 3, 10])
def test_header_truncated(cut):
    with pytest.raises(HwssmError, match="too short") as excinfo:
        parse_idx(idx_bytes(IMAGES)[:cut], name="f")
    one_line_error(excinfo)


def test_data_truncated_and_trailing():
    good = idx_bytes(IMAGES)
    with pytest.raises(HwssmError, match=r"75 bytes, expected 76 .*\(truncated\)"):
        parse_idx(good[:-1], name="f")
    with pytest.raises(HwssmError, match=r"\(trailing data\)") as excinfo:
        parse_idx(good + b"\0", name="f")
    assert f"{len(good) + 1} bytes, expected {len(good)}" in one_line_error(excinfo)


def test_wrong_dimensions():
    with pytest.raises(HwssmError, match="dimensions are 3×4×5, expected 3×28×28") as excinfo:
        parse_idx(idx_bytes(IMAGES), name="f", shape=(3, 28, 28))
    one_line_error(excinfo)


def test_read_gz_and_raw(tmp_path):
    raw = tmp_path / "a-idx3-ubyte"
    raw.write_bytes(idx_bytes(IMAGES))
    gz = tmp_path / "a-idx3-ubyte.gz"
    gz.write_bytes(gzip.compress(idx_bytes(IMAGES)))
    np.testing.assert_array_equal(read_idx(raw, magic=IMAGES_MAGIC), IMAGES)
    np.testing.assert_array_equal(read_idx(gz, magic=IMAGES_MAGIC, shape=(3, 4, 5)), IMAGES)


def test_read_truncated_gz(tmp_path):
    data = gzip.compress(idx_bytes(IMAGES))
    path = tmp_path / "t.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(HwssmError, match="truncated gzip") as excinfo:
        read_idx(path)
    assert str(path) in one_line_error(excinfo)


def test_read_corrupt_gz(tmp_path):
    path = tmp_path / "c.gz"
    path.write_bytes(b"this is not gzip at all")
    with pytest.raises(HwssmError, match="corrupt gzip") as excinfo:
        read_idx(path)
    assert str(path) in one_line_error(excinfo)


def test_read_gz_with_trailing_garbage(tmp_path):
    path = tmp_path / "g.gz"
    path.write_bytes(gzip.compress(idx_bytes(IMAGES)) + b"junk")
    with pytest.raises(HwssmError, match="corrupt gzip") as excinfo:
        read_idx(path)
    one_line_error(excinfo)


def test_read_missing(tmp_path):
    with pytest.raises(HwssmError, match="cannot read") as excinfo:
        read_idx(tmp_path / "nope")
    one_line_error(excinfo)
