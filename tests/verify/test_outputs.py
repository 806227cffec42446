"""Parsing what sim_top writes: fixed-width hex streams, the packed dbg stream and per-digit tables."""

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.verify.outputs import RunFiles, parse_hex, parse_packed, read_outputs


@pytest.mark.parametrize("width", [1, 4, 6, 7, 12, 16, 33, 62, 63, 64])
def test_parse_hex_round_trip(tmp_path, width):
    rng = np.random.default_rng(width)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    vals = [lo, hi, 0, -1 if width > 1 else 0] + [int(x) for x in rng.integers(lo, hi, 50, endpoint=True)]
    digits = -(-width // 4)
    text = "".join(format(v & ((1 << width) - 1), f"0{digits}x") + "\n" for v in vals)
    (tmp_path / "s.hex").write_text(text)
    np.testing.assert_array_equal(parse_hex(tmp_path / "s.hex", width), np.array(vals, dtype=np.int64))


def test_parse_hex_unsigned_and_empty(tmp_path):
    (tmp_path / "u.hex").write_text("ff\n00\n80\n")
    np.testing.assert_array_equal(parse_hex(tmp_path / "u.hex", 8, signed=False), [255, 0, 128])
    assert parse_hex(tmp_path / "missing.hex", 8).size == 0


@pytest.mark.parametrize("text, message", [
    ("ff\n0\n", "whole number"),
    ("fff\n", "whole number"),
    ("xx\n", "not hex"),
    ("f\nff", "whole number"),
    ("0f0", "not 2 hex digits"),
])
def test_parse_hex_rejects_malformed(tmp_path, text, message):
    (tmp_path / "b.hex").write_text(text)
    with pytest.raises(HwssmError, match=message):
        parse_hex(tmp_path / "b.hex", 8)


def _packed(vals, width):
    """The wrapper's dbg format, written independently: count byte + 64-bit word per line."""
    per, lines = 64 // width, []
    for i in range(0, len(vals), per):
        chunk, word = vals[i:i + per], 0
        for k, v in enumerate(chunk):
            word |= (v & ((1 << width) - 1)) << (k * width)
        lines.append(f"{len(chunk):02x}{word:016x}\n")
    return "".join(lines)


@pytest.mark.parametrize("width, n", [(1, 64), (1, 65), (6, 1), (6, 50), (6, 200), (7, 9), (13, 40), (16, 8), (32, 5)])
def test_parse_packed_round_trip(tmp_path, width, n):
    rng = np.random.default_rng(width * 1000 + n)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    vals = ([lo, hi, 0, -1 if width > 1 else 0] + [int(x) for x in rng.integers(lo, hi, n, endpoint=True)])[:n]
    (tmp_path / "d.hex").write_text(_packed(vals, width))
    np.testing.assert_array_equal(parse_packed(tmp_path / "d.hex", width), np.array(vals, dtype=np.int64))
    assert parse_packed(tmp_path / "missing.hex", width).size == 0


@pytest.mark.parametrize("text, message", [
    ("0a" + "0" * 16 + "\n" + "05" + "0" * 16 + "\n", None),           # valid: a full line, then a partial
    ("05" + "0" * 16 + "\n" + "0a" + "0" * 16 + "\n", "line 1 holds 5"),  # a partial line before the end
    ("0b" + "0" * 16 + "\n", "line 1 holds 11"),                          # more than 64 // 6 values
    ("00" + "0" * 16 + "\n", "line 1 holds 0"),
    ("0a" + "0" * 15 + "\n", "whole number"),
    ("0a" + "x" * 16 + "\n", "not hex"),
])
def test_parse_packed_rejects_malformed(tmp_path, text, message):
    (tmp_path / "b.hex").write_text(text)
    if message is None:
        assert parse_packed(tmp_path / "b.hex", 6).tolist() == [0] * 15
        return
    with pytest.raises(HwssmError, match=message):
        parse_packed(tmp_path / "b.hex", 6)


def test_read_outputs(tmp_path):
    f = RunFiles(tmp_path)
    f.dbg.write_text(_packed([127, -128], 8))
    f.logit.write_text("001\nfff\n")
    f.outputs.write_text("3 100 2 2\n")
    f.inputs.write_text("5 50 4 6\n")
    f.steps.write_text("9 60 7 7\n")
    o = read_outputs(f, 8, 12)
    assert o.dbg.tolist() == [127, -128] and o.logits.tolist() == [1, -1]
    assert (o.classes.tolist(), o.out_cycle.tolist(), o.out_dbg.tolist()) == ([3], [100], [2])
    assert (o.in_first.tolist(), o.gap_max.tolist(), o.step_min.tolist()) == ([5], [6], [7])
    f.outputs.write_text("3 100\n")
    with pytest.raises(HwssmError, match="4 columns"):
        read_outputs(f, 8, 12)


def test_plusargs_name_every_file(tmp_path):
    args = RunFiles(tmp_path).plusargs(3, in_gap=1, out_stall=2, seed=3, stall_limit=4, drain=5)
    names = {a.split("=")[0] for a in args}
    assert names == {"+hwssm_pixels", "+hwssm_n_digits", "+hwssm_dbg", "+hwssm_logit", "+hwssm_in", "+hwssm_out",
                     "+hwssm_step", "+hwssm_in_gap", "+hwssm_out_stall", "+hwssm_seed", "+hwssm_stall_limit",
                     "+hwssm_drain", "+hwssm_tb_timing"}
