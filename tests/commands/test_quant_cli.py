"""`hwssm ptq`, `hwssm golden eval`, `hwssm bench golden`: outputs, and exit code 2 on bad input."""

import json

import pytest

from hwssm.cli import main
from hwssm.model.checkpoint import init_params, save_checkpoint
from hwssm.model.config import S4DConfig
from hwssm.quant.qmodel_io import load_qmodel


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    cfg = S4DConfig(H=4, N=4, L=1)
    return save_checkpoint(tmp_path_factory.mktemp("ck") / "tiny", cfg, init_params(cfg, 0), {"note": "test"})


def test_ptq_then_golden_eval(ckpt, tmp_path, capsys):
    out = tmp_path / "tiny_u8"
    assert main(["ptq", "--model", str(ckpt), "--plan", "uniform8", "--out", str(out), "--calib-digits", "8", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    qm = load_qmodel(summary["qmodel"])
    assert qm.plan.name == "uniform8" and summary["footprint_bits"] == qm.footprint_bits
    assert main(["golden", "eval", "--model", summary["qmodel"], "--limit", "20", "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["digits"] == 20 and 0.0 <= ev["accuracy"] <= 1.0
    assert ev["footprint_bits"] == qm.footprint_bits and ev["compression"] > 1
    assert ev["float_agreement"] is not None  # the QModel remembers its source checkpoint


def test_golden_eval_on_checkpoint_with_plan(ckpt, capsys):
    assert main(["golden", "eval", "--model", str(ckpt), "--plan", "A8x12-B4C4D4-W8-a6", "--limit", "10",
                 "--calib-digits", "8", "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["plan"] == "A8x12-B4C4D4-W8-a6" and ev["digits"] == 10


@pytest.mark.parametrize("argv, fragment", [
    (["golden", "eval", "--model", "nowhere.json", "--plan", "uniform8"], "No such file"),
    (["golden", "eval", "--model", "CKPT"], "give --plan"),
    (["golden", "eval", "--model", "CKPT", "--plan", "A0x8-W8-a8"], "bits must be in [2, 64], not 0"),
    (["golden", "eval", "--model", "CKPT", "--plan", "A8x8-W65-a8"], "not 65"),
    (["golden", "eval", "--model", "CKPT", "--plan", "uniform8", "--limit", "0"], "--limit must be >= 1"),
    (["ptq", "--model", "CKPT", "--plan", "bogus", "--out", "x"], "cannot parse plan code"),
    (["bench", "golden", "--digits", "0"], "--digits must be >= 1"),
])
def test_bad_input_exits_2_with_one_line(ckpt, argv, fragment, capsys):
    argv = [str(ckpt) if a == "CKPT" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hwssm: error:") and fragment in err[0], err


def test_corrupt_checkpoint_exits_2(ckpt, tmp_path, capsys):
    import shutil
    bad = tmp_path / "bad.json"
    shutil.copy(ckpt, bad)
    shutil.copy(ckpt.with_suffix(".npz"), tmp_path / "tiny.npz")
    (tmp_path / "tiny.npz").write_bytes(b"garbage")
    assert main(["ptq", "--model", str(bad), "--plan", "uniform8", "--out", str(tmp_path / "o")]) == 2
    assert not list(tmp_path.glob("o*"))  # nothing written
    assert capsys.readouterr().err.count("\n") == 1
