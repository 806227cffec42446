"""The standalone plain-Verilog testbench (``hwssm rtl testbench``) of an S5 core on Icarus:
the golden S5 engine's classes, logits and every block output, the manifest's latency: PASS;
and the expected stream of an S5 model (order t, l, h) from the golden S5 engine."""

from __future__ import annotations

import numpy as np
import pytest

from hwssm.golden.s5_engine import run_s5
from hwssm.hw.emit import generate
from hwssm.hw.options import DesignPoint
from hwssm.model.s5_config import Glu, S5Config
from hwssm.verify.stimulus import expected
from hwssm.verify.testbench import TestbenchOptions, simulator_commands, write_testbench
from tests.hw.s5_models import s5_model, s5_pixels
from tests.verify.test_testbench import _run, _verdict, iverilog


def test_expected_stream_of_an_s5_model_is_t_l_h():
    qm = s5_model(S5Config(H=3, P=5, L=2, n_classes=3), "uniform8")
    pix = s5_pixels(2, 5)
    exp, res = expected(qm, pix), run_s5(qm, pix, trace=True)
    assert exp.dbg.shape == (2, 5 * 2 * 3)
    for k in range(exp.dbg.shape[1]):
        t, l, h = exp.where(k)
        np.testing.assert_array_equal(exp.dbg[:, k], res.r[:, l + 1, t, h])
    np.testing.assert_array_equal(exp.logits, res.logits)
    np.testing.assert_array_equal(exp.pred, res.pred)


@pytest.mark.icarus
def test_s5_standalone_testbench_passes_on_icarus(tmp_path):
    iverilog()
    qm = s5_model(S5Config(H=4, P=5, L=2, n_classes=3, glu=Glu.FULL), "A8x10-B6C6D6-W6-a6-h")
    generate(qm, DesignPoint(3, 6), tmp_path / "rtl")
    files = write_testbench(tmp_path / "rtl", qm, s5_pixels(3, 6), tmp_path / "tb", TestbenchOptions(dbg=True))
    cmds = simulator_commands(files, iverilog_mode="2005")["icarus"]
    assert _verdict(_run(cmds, files.directory)).startswith(f"PASS {files.top}:")
