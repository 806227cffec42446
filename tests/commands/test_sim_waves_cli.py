"""``hwssm sim --waves-steps A:B``: the window's file, the refusal above the limit, one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hwssm.cli import main
from hwssm.quant.qmodel_io import save_qmodel
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.verify.waves import FIRST_PIXEL_CYCLE, edge_ps, wave_format

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    return save_qmodel(random_qmodel(4, 2, 1, seed=11), tmp_path_factory.mktemp("m") / "small")


@pytest.mark.parametrize("window", ["5", "3:3", "4:2", "x:y", "1:2:3"])
def test_bad_window_exits_2_with_one_line(small_model, capsys, window):
    assert main(["sim", "--model", str(small_model), "--lanes", "3", "--indices", "0", "--waves-steps", window]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hwssm: error: --waves-steps must be A:B")


def test_whole_digit_of_a_reference_design_is_refused(capsys):
    # a whole sMNIST digit on rtl/hetero_P4 is 2.4 M cycles: gigabytes of VCD, refused before any build
    argv = ["sim", "--model", "s4d_hetero", "--rtl", str(ROOT / "rtl" / "hetero_P4"), "--indices", "0", "--waves"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("hwssm: error: refusing to write about ") and "--waves-force" in err[-1]
    assert main(argv + ["--waves-limit-mb", "1"]) == 2  # a lower limit refuses as well
    assert main(argv[:-1] + ["--waves-steps", "0:100000"]) == 2  # a window past the digit is the whole digit


@pytest.mark.verilator
def test_window_of_a_small_model(small_model, capsys):
    assert main(["sim", "--model", str(small_model), "--lanes", "3", "--indices", "0", "--jobs", "1",
                 "--waves-steps", "3:5"]) == 0
    out = capsys.readouterr().out
    paths = re.findall(r"^waves: (.+)$", out, re.M)
    assert len(paths) == 1 and Path(paths[0]).is_file(), out
    if wave_format(True) != "vcd":
        return
    text = Path(paths[0]).read_text()
    times = [int(t) for t in re.findall(r"^#(\d+)$", text, re.M)]
    code = re.search(r"\$var wire 64 (\S+) cyc ", text)[1]
    cyc = [int(v, 2) for v in re.findall(rf"^b([01]+) {re.escape(code)}$", text, re.M)]
    # the window opens at step 3's first cycle (1 + 3·cps) and holds exactly two steps
    cps, rem = divmod(min(cyc) - FIRST_PIXEL_CYCLE, 3)
    assert rem == 0 and cps > 1
    assert max(cyc) == FIRST_PIXEL_CYCLE + 5 * cps
    assert min(times) == edge_ps(FIRST_PIXEL_CYCLE + 3 * cps) - 5000
    assert max(times) < edge_ps(FIRST_PIXEL_CYCLE + 5 * cps) - 5000
