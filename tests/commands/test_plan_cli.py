"""`hwssm plan show` and `hwssm ptq --plan CODE` with per-layer overrides; exit 2 on bad plans."""

import json

import pytest

from hwssm.cli import main
from hwssm.model.checkpoint import init_params, save_checkpoint
from hwssm.model.config import S4DConfig
from hwssm.quant.plan import parse_code
from hwssm.quant.qmodel_io import load_qmodel

CODE = "A8x8-B4C4D4-W8-a6-L1:A6B3W5"


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    cfg = S4DConfig(H=4, N=4, L=2)
    return save_checkpoint(tmp_path_factory.mktemp("ck") / "tiny2", cfg, init_params(cfg, 0), {"note": "test"})


def test_plan_show_lists_overrides_and_block_widths(capsys):
    assert main(["plan", "show", "A8x8-B4C4D4-W8-a6-L2:A6x10-L3:B3C3", "--layers", "4"]) == 0
    out = capsys.readouterr().out
    assert "layer 2: A_re 6" in out and "layer 3: C 3" in out
    assert "| 2 | 6 | 10 | 4 | 4 | 4 | 8 | 16 | 6 |" in out and "| 3 | 8 | 8 | 3 | 3 | 4 | 8 | 16 | 6 |" in out
    assert main(["plan", "show", "hetero"]) == 0
    out = capsys.readouterr().out
    assert "code A8x8-B4C4D4-W8-a6" in out and "overrides: none" in out and "| block |" not in out
    assert main(["plan", "show", CODE, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["code"] == CODE and d["per_layer"] and [r["W"] for r in d["layers"]] == ["8", "5"]
    assert parse_code(d["code"]).to_json() == d["plan"]


@pytest.mark.parametrize("argv, fragment", [
    (["plan", "show", "A8x8-W8-a8-L5:A6", "--layers", "4"], "overrides layer 5, but the network has 4 layers"),
    (["plan", "show", "A8x8-W8-a8-L1:Z6"], "cannot read 'Z6'"),
    (["plan", "show", "A8x8-W8-a8", "--layers", "0"], "--layers must be >= 1"),
])
def test_plan_show_bad_input_exits_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_ptq_with_a_per_layer_code(ckpt, tmp_path, capsys):
    out = tmp_path / "tiny_pl"
    assert main(["ptq", "--model", str(ckpt), "--plan", CODE, "--out", str(out), "--calib-digits", "8"]) == 0
    text = capsys.readouterr().out
    assert f"plan {CODE}" in text and "| 1 | 6 | 8 | 3 | 4 | 4 | 5 | 16 | 6 |" in text
    qm = load_qmodel(tmp_path / "tiny_pl.qmodel.json")
    assert qm.plan == parse_code(CODE)
    assert [(ly.A_re.bits, ly.B_re.bits, ly.W.bits) for ly in qm.layers] == [(8, 4, 8), (6, 3, 5)]
    assert main(["ptq", "--model", str(ckpt), "--plan", "A8x8-W8-a8-L2:A6", "--out", str(out), "--calib-digits", "8"]) == 2
    assert "overrides layer 2, but the network has 2 layers" in capsys.readouterr().err
