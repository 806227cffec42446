"""``hwssm rtl generate --prefix --last`` and ``hwssm rtl testbench`` end to end on a small
QModel and real MNIST test digits (T = 784), run on Icarus; and their one-line errors."""

from __future__ import annotations

import subprocess

import pytest

from hwssm.cli import main
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel
from tests.verify.test_testbench import iverilog


@pytest.mark.icarus
def test_generate_and_testbench_on_mnist_digits(tmp_path, capsys):
    iverilog()
    qpath = save_qmodel(random_qmodel(3, 2, 2, seed=4), tmp_path / "m")
    rtl, tb = tmp_path / "rtl", tmp_path / "tb"
    assert main(["rtl", "generate", "--model", str(qpath), "--lanes", "3", "--out", str(rtl),
                 "--prefix", "cli_", "--last"]) == 0
    assert main(["rtl", "testbench", "--rtl", str(rtl), "--model", str(qpath), "--indices", "0,7",
                 "--out", str(tb)]) == 0
    assert "tb_cli_hwssm_core.v" in capsys.readouterr().out
    for cmd in (["iverilog", "-g2012", "-o", "tb.vvp", "tb_cli_hwssm_core.v", str(rtl / "hwssm_core.v")],
                ["vvp", "-n", "tb.vvp"]):
        res = subprocess.run(cmd, cwd=tb, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr
    assert "PASS tb_cli_hwssm_core: 2 sequences" in res.stdout, res.stdout[-2000:]


def test_errors_are_one_line(tmp_path, capsys):
    q = save_qmodel(random_qmodel(3, 2, 1, seed=1), tmp_path / "a")
    other = save_qmodel(random_qmodel(3, 2, 1, seed=2), tmp_path / "b")
    rtl = tmp_path / "rtl"
    assert main(["rtl", "generate", "--model", str(q), "--lanes", "1", "--out", str(rtl), "--prefix", "9x"]) == 2
    assert main(["rtl", "generate", "--model", str(q), "--lanes", "1", "--out", str(rtl)]) == 0
    capsys.readouterr()
    for argv in (["--model", str(other), "--indices", "0", "--out", str(tmp_path / "tb")],
                 ["--model", str(q), "--indices", "0", "--out", str(rtl)],
                 ["--model", str(q), "--digits", "0", "--out", str(tmp_path / "tb")]):
        assert main(["rtl", "testbench", "--rtl", str(rtl), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("hwssm: error: ") and "\n" not in err, err
