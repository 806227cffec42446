"""The S5 family from the command line: `hwssm ptq` writes an S5 QModel, `hwssm golden eval` and
`hwssm bench golden --model` run it, `hwssm rtl generate` and `hwssm estimate` build and price it, sweeps
and the profile report take it (the flow: tests/test_flow_s5.py), and so do board builds and runs."""

import json

import numpy as np
import pytest

import hwssm
from hwssm.cli import main
from hwssm.model.checkpoint import save_checkpoint
from hwssm.model.s5_config import S5Config
from hwssm.model.s5_network import S5Classifier, init_params
from hwssm.quant.s5_qmodel import S5QModel

CFG = S5Config(H=4, P=3, L=1, n_classes=10)


@pytest.fixture(scope="module")
def s5q(tmp_path_factory):
    d = tmp_path_factory.mktemp("s5")
    ckpt = save_checkpoint(d / "s5", CFG, init_params(CFG, 0))
    assert main(["ptq", "--model", str(ckpt), "--plan", "uniform8", "--out", str(d / "q"), "--calib-digits", "4",
                 "--json"]) == 0
    return ckpt, d / "q.qmodel.json"


def test_ptq_writes_an_s5_qmodel(s5q, capsys):
    _, q = s5q
    qm = hwssm.load_model(q)
    assert isinstance(qm, S5QModel) and qm.plan.name == "uniform8" and qm.P == 3
    assert qm.meta["source_checkpoint"].endswith("s5.json")


def test_golden_eval_agrees_with_the_s5_float_model(s5q, capsys):
    ckpt, q = s5q
    assert main(["golden", "eval", "--model", str(q), "--limit", "3", "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["digits"] == 3 and ev["footprint_bits"] == hwssm.load_model(q).footprint_bits
    assert ev["float_reference"] in ("computed", "cached") and ev["float_agreement"] is not None
    # the float accuracy is the S5 float classifier's, on the same digits
    digits = hwssm.Digits.mnist_test(range(3))
    fpred = S5Classifier(CFG, hwssm.load_model(ckpt).params).predict(digits.pixels)
    assert ev["float_accuracy"] == pytest.approx(float(np.mean(fpred == digits.labels)))


def test_api_evaluate_and_save_round_trip(s5q, tmp_path):
    _, q = s5q
    qm = hwssm.load_model(q)
    path = hwssm.save_model(qm, tmp_path / "again")
    again = hwssm.load_model(path)
    assert again.digest() == qm.digest()
    digits = hwssm.Digits(np.random.default_rng(0).integers(0, 256, (2, 12)).astype(np.uint8), np.arange(2))
    res = hwssm.evaluate(again, digits, hwssm.EvalOptions(trace=True))
    from hwssm.golden.s5_engine import run_s5

    ref = run_s5(qm, digits.pixels, trace=True)
    np.testing.assert_array_equal(res.logits, ref.logits)
    np.testing.assert_array_equal(res.trace.r, ref.r)


def test_bench_golden_on_an_s5_model(s5q, capsys):
    _, q = s5q
    assert main(["bench", "golden", "--model", str(q), "--digits", "2", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["model"]["family"] == "s5" and rec["model"]["P"] == 3 and rec["macs_per_s"] > 0
    # the S4D reference engine, timed in the same run
    assert rec["reference"]["family"] == "s4d" and rec["reference_macs_per_s"] > 0
    assert rec["ratio_to_reference"] == pytest.approx(rec["macs_per_s"] / rec["reference_macs_per_s"])


def test_rtl_generate_and_estimate_take_s5(s5q, tmp_path, capsys):
    """S5 has RTL (issue 15): `hwssm rtl generate` writes it, `hwssm estimate` prices it (also with
    the up5k profile's LOAD storage: the coefficient memories in SPRAM)."""
    _, q = s5q
    assert main(["rtl", "generate", "--lanes", "2", "--seq-len", "8", "--out", str(tmp_path / "o"),
                 "--model", str(q)]) == 0
    man = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert man["family"] == "s5" and man["shape"]["P"] == 3
    capsys.readouterr()
    assert main(["estimate", "--device", "ecp5-25k", "--lanes", "2", "--model", str(q), "--json"]) == 0
    pt = json.loads(capsys.readouterr().out)["points"][0]
    assert pt["resources"]["lut"]["estimate"] > 0 and pt["cycles_per_step"] > 0
    assert main(["estimate", "--device", "up5k", "--profile", "up5k", "--model", str(q), "--json"]) == 0
    pt = json.loads(capsys.readouterr().out)["points"][0]
    assert pt["resources"]["spram"]["estimate"] > 0


def test_board_takes_s5(s5q, tmp_path, capsys):
    """Board builds and runs take S5 models (issue 15 x issue 19; the board simulation:
    tests/board/test_board_sim_s5.py): the S5 QModel gets past the family check and the core
    derivation to the board top, whose bad UART rate is the one line; the run to the serial port."""
    ckpt, q = s5q
    assert main(["board", "build", "--board", "ulx3s", "--lanes", "1", "--baud", "20000000", "--out", str(tmp_path / "o"),
                 "--model", str(q)]) == 2
    err = capsys.readouterr().err
    assert "20000000 baud from a 50 MHz clock" in err and "S5" not in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert main(["board", "run", "--port", str(tmp_path / "no-port"), "--model", str(q), "--digits", "1"]) == 2
    err = capsys.readouterr().err
    assert "cannot open serial port" in err and "S5" not in err and "Traceback" not in err


def test_estimate_cost_api_takes_s5(s5q):
    _, q = s5q
    est = hwssm.estimate_cost(hwssm.load_model(q), hwssm.DesignPoint(2, 16), "ecp5-25k")
    assert est.total.lut > 0 and any(b.name.startswith("bu buffer") for b, _ in est.blocks)


def test_exploration_commands_take_s5(s5q, tmp_path, capsys):
    """Sweeps and the profile report take S5 (issue 15), the QModel and the float checkpoint with a
    plan alike (search: tests/explore/test_sweep_s5.py)."""
    ckpt, q = s5q
    for i, model in enumerate((["--model", str(q)], ["--model", str(ckpt), "--plans", "uniform8"])):
        assert main(["sweep", *model, "--limit", "2", "--lanes", "1", "--devices", "ecp5-25k", "--estimate-only",
                     "--jobs", "1", "--calib-digits", "4", "--out", str(tmp_path / f"s{i}.json")]) == 0
        pts = json.loads((tmp_path / f"s{i}.json").read_text())["points"]
        assert [(p["family"], p["P"], p["status"]) for p in pts] == [("s5", 3, "estimated")]
    # the QModel is the checkpoint's PTQ on the same digits: the same point
    assert pts[0]["qmodel_digest"] == json.loads((tmp_path / "s0.json").read_text())["points"][0]["qmodel_digest"]
    assert main(["report", "profile", "--model", str(q), "--calib-digits", "4", "--out", str(tmp_path / "p")]) == 0
    assert any(r["name"] == "bu_re" for r in json.loads((tmp_path / "p" / "profile.json").read_text())["tensors"])
