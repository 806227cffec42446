"""The design options shared by ``hwssm rtl generate`` and ``hwssm sim`` (commands/design_args.py)."""

from __future__ import annotations

import argparse
import json

import pytest

from hwssm.cli import main
from hwssm.commands.design_args import add_design_arguments, design_from_args, given_design_options
from hwssm.hw.options import DesignPoint, ParamStorage, Pipeline
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel
from hwssm import targets
from hwssm.synth.profile import device_profile


def _args(*argv):
    p = argparse.ArgumentParser()
    add_design_arguments(p)
    return p.parse_args(list(argv))


def test_defaults_are_the_design_point_defaults():
    args = _args()
    assert given_design_options(args) == []
    assert design_from_args(args, 4, 784) == DesignPoint(4)


@pytest.mark.parametrize("device", targets.devices(), ids=lambda d: d.name)
def test_a_profile_is_the_devices_build_profile(device):
    prof = device_profile(device)
    d = design_from_args(_args("--profile", device.name), 2, 784)
    assert (d.pipeline, d.storage, d.soft_mul_bits) == (prof.pipeline, prof.storage, prof.soft_mul_bits)


def test_explicit_options_override_the_profile():
    args = _args("--profile", "up5k", "--storage", "rom", "--soft-mul-bits", "0", "--mix-cols", "8")
    assert given_design_options(args) == ["--mix-cols", "--storage", "--soft-mul-bits", "--profile"]
    d = design_from_args(args, 1, 100)
    assert d == DesignPoint(1, 100, Pipeline(mul_stages=3, mem_stages=2, requant_stages=1, acc_stages=1, mix_cols=8,
                                             encdec_stages=1, align_stages=1, operand_regs=1, issue_regs=1),
                            ParamStorage.ROM, 0)


def test_rtl_generate_with_a_profile(tmp_path, capsys):
    qpath = save_qmodel(random_qmodel(3, 2, 1, seed=4), tmp_path / "m")
    out = tmp_path / "rtl"
    assert main(["rtl", "generate", "--model", str(qpath), "--lanes", "2", "--out", str(out), "--seq-len", "5",
                 "--profile", "ecp5-25k", "--mix-cols", "8"]) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["storage"] == "rom" and man["soft_mul_bits"] == 0
    assert {k: man["pipeline"][k] for k in ("mem_stages", "requant_stages", "acc_stages", "mix_cols", "bank_words")} == \
        {"mem_stages": 3, "requant_stages": 1, "acc_stages": 1, "mix_cols": 8, "bank_words": 2048}


def test_bad_soft_mul_bits_is_one_line(tmp_path, capsys):
    qpath = save_qmodel(random_qmodel(3, 2, 1, seed=4), tmp_path / "m")
    assert main(["rtl", "generate", "--model", str(qpath), "--lanes", "2", "--out", str(tmp_path / "o"),
                 "--soft-mul-bits", "99"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hwssm: error: ") and "soft_mul_bits" in err and "\n" not in err


def test_board_build_defaults_to_the_boards_pipeline(tmp_path, monkeypatch):
    """``hwssm board build`` without ``--profile``: the board's own pipeline where it has one
    (iCEBreaker: ``Pipeline.fast()``, not the UP5K profile's closure pipeline), stage options on
    top; with ``--profile`` the device profile's."""
    import hwssm.board.build as board_build

    seen = []

    def capture(req, progress=None):
        seen.append(req.design)
        raise HwssmError("captured")

    from hwssm.errors import HwssmError

    monkeypatch.setattr(board_build, "build_board", capture)
    model = save_qmodel(random_qmodel(3, 2, 1, seed=4), tmp_path / "m")
    base = ["board", "build", "--board", "icebreaker", "--model", str(model), "--lanes", "1", "--out", str(tmp_path / "o")]
    for extra in ([], ["--mix-cols", "8"], ["--profile", "up5k"]):
        assert main(base + extra) == 2
    assert [d.pipeline for d in seen] == [Pipeline.fast(), Pipeline(mem_stages=2, requant_stages=1, acc_stages=1, mix_cols=8),
                                          targets.UP5K.profile.pipeline]
    assert all(d.storage is ParamStorage.LOAD and d.soft_mul_bits == 4 for d in seen)
    assert targets.UP5K.profile.pipeline == Pipeline.closure()
