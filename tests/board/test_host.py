"""The host tool over a pseudo-terminal (os.openpty) against a Python responder.

The responder (tests/board/responder.py) is the board's counterpart for testing the host's
serial code: it answers per the protocol from the golden engine. It does not test the RTL.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from hwssm.board import protocol as p
from hwssm.board.host import query_info, run_on_board
from hwssm.board.serial import SerialPort
from hwssm.cli import main
from hwssm.errors import HwssmError
from hwssm.golden import engine
from hwssm.quant.qmodel_io import load_qmodel, save_qmodel
from hwssm.quant.random_qmodel import random_qmodel

from .responder import Responder

T = 784


@pytest.fixture(scope="module")
def qm():
    model = random_qmodel(4, 2, 1, seed=3)
    engine.run(model, np.zeros((1, T), np.uint8))  # numba compiles here, not while a read waits
    return model


@pytest.fixture(scope="module")
def pixels():
    return np.random.default_rng(0).integers(0, 256, size=(4, T)).astype(np.uint8)


def test_info_and_classify(qm, pixels):
    labels = np.arange(4) % 10
    with Responder(qm) as r, SerialPort(r.path, 115200, timeout_s=5) as port:
        info = query_info(port)
        assert info == p.InfoAnswer(p.digest4(qm.digest()), T, 1, qm.n_classes)
        run = run_on_board(port, qm, pixels, labels, np.arange(4), logits=True)
    g = engine.run(qm, pixels)
    assert run.ok and run.sequences == 4 and run.logits_checked
    assert run.correct == int((g.pred == labels).sum())
    assert run.sequences_per_s > 0


def test_mismatch_is_reported(qm, pixels):
    with Responder(qm, corrupt=True) as r, SerialPort(r.path, timeout_s=5) as port:
        run = run_on_board(port, qm, pixels[:2], np.zeros(2), np.array([7, 9]))
    assert not run.ok and [m.index for m in run.mismatches] == [7, 9]
    assert "sequence 7: board class" in run.mismatches[0].describe()


def test_other_model(qm, pixels):
    other = random_qmodel(4, 2, 1, seed=4)
    with Responder(other) as r, SerialPort(r.path, timeout_s=5) as port:
        with pytest.raises(HwssmError, match="holds model"):
            run_on_board(port, qm, pixels[:1], np.zeros(1), np.zeros(1))


def test_other_length(qm, pixels):
    with Responder(qm, T=100) as r, SerialPort(r.path, timeout_s=5) as port:
        with pytest.raises(HwssmError, match="T = 100"):
            run_on_board(port, qm, pixels[:1], np.zeros(1), np.zeros(1))


def test_error_status_is_one_line(qm):
    with Responder(qm) as r, SerialPort(r.path, timeout_s=5) as port:
        port.write(p.encode_request(p.ClassifyRequest(b"\0\0\0\0", T, 1, bytes(T))))
        with pytest.raises(HwssmError, match="BAD_DIGEST"):
            p_ans = p.read_answer(port.read_exact)
            raise HwssmError(p_ans.message())


def test_silent_port_times_out(qm, pixels):
    with Responder(qm, silent=True) as r, SerialPort(r.path, timeout_s=0.3) as port:
        t0 = time.monotonic()
        with pytest.raises(HwssmError, match="no answer within 0.3 s"):
            run_on_board(port, qm, pixels[:1], np.zeros(1), np.zeros(1))
        assert time.monotonic() - t0 < 3


def test_bad_port_and_baud(tmp_path):
    with pytest.raises(HwssmError, match="cannot open serial port"):
        SerialPort(str(tmp_path / "nope"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(HwssmError, match="not a tty"):
        SerialPort(str(tmp_path / "file"))
    with pytest.raises(HwssmError, match="not a standard rate"):
        SerialPort("/dev/null", baud=12345)


def test_cli_board_run(qm, tmp_path, capsys):
    path = save_qmodel(qm, tmp_path / "m.qmodel.json")
    with Responder(qm) as r:
        rc = main(["board", "run", "--port", r.path, "--model", str(path), "--data", "smnist",
                   "--indices", "0,1,2", "--logits", "--timeout", "5"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "3 sequences" in out and "agree with the golden engine" in out and "sequences/s" in out


def test_cli_board_run_silent(qm, tmp_path, capsys):
    path = save_qmodel(qm, tmp_path / "m.qmodel.json")
    with Responder(qm, silent=True) as r:
        rc = main(["board", "run", "--port", r.path, "--model", str(path), "--data", "smnist", "--indices", "0",
                   "--timeout", "0.2"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "no answer within 0.2 s" in err


def test_cli_board_run_s5(tmp_path, capsys):
    """``hwssm board run`` with an S5 QModel (issue 15): the golden S5 engine answers, the host agrees."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "hw" / "cost" / "data" / "s5_tiny_up5k.qmodel.json"
    with Responder(load_qmodel(path)) as r:
        rc = main(["board", "run", "--port", r.path, "--model", str(path), "--data", "smnist",
                   "--indices", "0,1", "--logits", "--timeout", "10", "--json"])
    out = capsys.readouterr().out
    assert rc == 0, out
    doc = json.loads(out)
    assert doc["sequences"] == 2 and doc["mismatches"] == [] and doc["logits_checked"]
