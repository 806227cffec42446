"""The board protocol codec: round trips (hypothesis), the exact bytes of the spec, malformed input."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwssm.board import protocol as p
from hwssm.errors import HwssmError

d4s = st.binary(min_size=4, max_size=4)


@st.composite
def classify_requests(draw):
    T = draw(st.integers(0, 40))
    C = draw(st.integers(1, 4))
    return p.ClassifyRequest(draw(d4s), T, C, draw(st.binary(min_size=T * C, max_size=T * C)), draw(st.booleans()))


info_answers = st.builds(p.InfoAnswer, d4s, st.integers(0, 2**32 - 1), st.integers(0, 255), st.integers(0, 255),
                         st.integers(0, 255), st.integers(0, 255))
error_answers = st.builds(p.ErrorAnswer, st.sampled_from([s for s in p.Status if s is not p.Status.OK]),
                          st.sampled_from(list(p.Kind)))


@st.composite
def classify_answers(draw):
    K = draw(st.integers(1, 20))
    logits = draw(st.none() | st.lists(st.integers(-2**31, 2**31 - 1), min_size=K, max_size=K).map(tuple))
    return K, p.ClassifyAnswer(draw(st.integers(0, 255)), logits)


def _reader(data: bytes):
    pos = [0]

    def read(n):
        if pos[0] + n > len(data):
            raise EOFError("short")
        out = data[pos[0]:pos[0] + n]
        pos[0] += n
        return out
    return read, pos


@settings(max_examples=200, deadline=None)
@given(classify_requests())
def test_classify_request_round_trip(req):
    data = p.encode_request(req)
    assert len(data) == p.CLASSIFY_HEADER_BYTES + req.T * req.C
    assert p.decode_request(data, req.C) == req
    read, pos = _reader(data + b"tail")
    assert p.read_request(read, req.C) == req and pos[0] == len(data)


def test_info_request_bytes():
    assert p.encode_request(p.InfoRequest()) == b"SI"
    assert p.decode_request(b"SI", 1) == p.InfoRequest()


@settings(max_examples=200, deadline=None)
@given(info_answers | error_answers)
def test_info_and_error_answer_round_trip(ans):
    data = p.encode_answer(ans)
    assert p.decode_answer(data) == ans
    read, pos = _reader(data + b"xx")
    assert p.read_answer(read) == ans and pos[0] == len(data)


@settings(max_examples=200, deadline=None)
@given(classify_answers())
def test_classify_answer_round_trip(k_ans):
    K, ans = k_ans
    data = p.encode_answer(ans)
    logits = ans.logits is not None
    assert len(data) == 4 + (4 * K if logits else 0)
    assert p.decode_answer(data, K, logits) == ans
    read, pos = _reader(data + b"more")
    assert p.read_answer(read, K, logits) == ans and pos[0] == len(data)


def test_spec_bytes():
    """The bytes of BOARD_PROTOCOL.md, written out by hand."""
    req = p.ClassifyRequest(bytes.fromhex("a1b2c3d4"), 2, 1, b"\x00\xff", logits=True)
    assert p.encode_request(req) == b"SC\x01\xa1\xb2\xc3\xd4\x02\x00\x00\x00\x00\xff"
    info = p.InfoAnswer(bytes.fromhex("a1b2c3d4"), 784, 1, 10)
    assert p.encode_answer(info) == b"R\x00I\xa1\xb2\xc3\xd4\x10\x03\x00\x00\x01\x0a\x04\x01"
    ans = p.ClassifyAnswer(7, (-1, 2))
    assert p.encode_answer(ans) == b"R\x00C\x07" + struct.pack("<2i", -1, 2)
    assert p.encode_answer(p.ErrorAnswer(p.Status.BAD_MAGIC, p.Kind.UNKNOWN)) == b"R\x01?"
    assert p.Status.NOT_LOADED == 5 and p.Status.TIMEOUT == 4


def test_digest4():
    assert p.digest4("0a1b2c3d" + "0" * 56) == b"\x0a\x1b\x2c\x3d"
    for bad in ("0a1b2c", "zz1b2c3d", 123, ""):
        with pytest.raises(HwssmError):
            p.digest4(bad)


@pytest.mark.parametrize("data, C", [
    (b"", 1), (b"S", 1), (b"XI", 1), (b"SZ", 1), (b"SIx", 1),
    (b"SC\x00\x00\x00\x00\x00\x02\x00\x00", 1),  # header cut short
    (b"SC\x00abcd\x02\x00\x00\x00\x01", 1),  # one sample of two
    (b"SC\x00abcd\x01\x00\x00\x00\x01\x02", 1),  # one sample too many
    (b"SC\x02abcd\x00\x00\x00\x00", 1),  # reserved flag bit
])
def test_malformed_request(data, C):
    with pytest.raises(HwssmError):
        p.decode_request(data, C)


@pytest.mark.parametrize("data, K, logits", [
    (b"", 0, False), (b"R\x00", 0, False), (b"Q\x00C\x01", 1, False), (b"R\x09C", 0, False),
    (b"R\x00Z", 0, False), (b"R\x00?", 0, False), (b"R\x00C", 0, False), (b"R\x00C\x01\x00", 0, False),
    (b"R\x00C\x01", 2, True), (b"R\x00I" + b"\x00" * 11, 0, False), (b"R\x02Cx", 0, False),
])
def test_malformed_answer(data, K, logits):
    with pytest.raises(HwssmError):
        p.decode_answer(data, K, logits)


def test_bad_fields():
    with pytest.raises(HwssmError):
        p.ClassifyRequest(b"abc", 1, 1, b"x")
    with pytest.raises(HwssmError):
        p.ClassifyRequest(b"abcd", 2, 1, b"x")
    with pytest.raises(HwssmError):
        p.ClassifyAnswer(256)
    with pytest.raises(HwssmError):
        p.ClassifyAnswer(1, (2**31,))
    with pytest.raises(HwssmError):
        p.ErrorAnswer(p.Status.OK, p.Kind.INFO)
    with pytest.raises(HwssmError):
        p.read_request(_reader(b"SC\x00abcd\x05\x00\x00\x00")[0], 1, max_T=4)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 0xFFFF), max_size=300), d4s)
def test_flash_image_round_trip(words, d4):
    img = p.flash_image(words, d4)
    assert img[:8] == b"HWSSMIMG" and len(img) == 16 + 2 * len(words)
    assert struct.unpack_from("<I", img, 8)[0] == len(words) and img[12:16] == d4
    assert p.parse_flash_image(img + b"\xff" * 7) == (d4, words)
    text = "".join(f"{w:04x}\n" for w in words)
    assert p.parse_params_hex(text) == words


def test_flash_image_word_order():
    assert p.flash_image([0x1234, 0xABCD], b"\x01\x02\x03\x04")[16:] == b"\x12\x34\xab\xcd"


def test_flash_image_bad():
    with pytest.raises(HwssmError):
        p.flash_image([0x10000], b"abcd")
    with pytest.raises(HwssmError):
        p.parse_flash_image(b"HWSSMIMX" + b"\x00" * 8)
    with pytest.raises(HwssmError):
        p.parse_flash_image(b"HWSSMIMG\x05\x00\x00\x00abcd\x00\x00")
    with pytest.raises(HwssmError):
        p.parse_params_hex("12345\n")



def test_the_hardware_answer_bytes_agree():
    """The board RTL's INFO payload (hwssm.board.rtl.answer) is the codec's INFO answer after 'R', OK, 'I'."""
    from hwssm.board.rtl.answer import info_payload

    d4 = b"\x01\x02\x03\x04"
    assert b"R\x00I" + info_payload(d4, 784, 1, 10) == p.encode_answer(p.InfoAnswer(d4, 784, 1, 10))
