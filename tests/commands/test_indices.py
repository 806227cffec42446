"""``--indices`` parsing (hwssm.commands.indices): absurd numbers are refused as one argparse line."""

from __future__ import annotations

import argparse

import pytest

from hwssm.commands.indices import MAX_INDEX, parse_indices


@pytest.mark.parametrize("text, want", [("3", [3]), ("0,17, 42", [0, 17, 42]), ("9999,", [9999])])
def test_good_lists(text, want):
    assert parse_indices(text) == want


@pytest.mark.parametrize("text", ["", ",", "2^70", "1180591620717411303424", str(MAX_INDEX), "-1", "1e3", "٣", "0x10",
                                  "1,,x", "9" * 400])
def test_bad_lists_are_one_line(text):
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse_indices(text)
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


def test_as_an_argparse_type_it_exits_2(capsys):
    p = argparse.ArgumentParser(prog="hwssm sim")
    p.add_argument("--indices", type=parse_indices)
    with pytest.raises(SystemExit) as exc:
        p.parse_args(["--indices", "1180591620717411303424"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("hwssm sim: error: argument --indices")
