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


@pytest.fixture(scope="module")
def s5_load_tb(tmp_path_factory):
    """An S5 core with LOAD storage and the UP5K profile's pipeline and soft multipliers (full
    GLU, per-mode formats, 2 lanes) and its testbench: reset, the load image streamed through the
    load port (``params.hex``), then 3 sequences."""
    from hwssm import targets
    from hwssm.hw.options import ParamStorage
    from hwssm.synth.profile import device_profile

    root = tmp_path_factory.mktemp("s5_load")
    qm = s5_model(S5Config(H=5, P=7, L=2, n_classes=3, glu=Glu.FULL), "A8x12-B4C4D4-W8-a6-h-asym", seed=4)
    design = device_profile(targets.UP5K).design(2, 6)
    assert design.storage is ParamStorage.LOAD
    man = generate(qm, design, root / "rtl")
    assert man["storage"] == "load" and man["family"] == "s5" and man["load"]["words"] > 0
    assert set(man["load"]) >= {"update_fields", "readout_fields", "mix_fields"}
    return write_testbench(root / "rtl", qm, s5_pixels(3, 6, seed=2), root / "tb", TestbenchOptions(dbg=True))


@pytest.mark.verilator
def test_s5_load_design_passes_on_verilator(s5_load_tb):
    """Verilator (the generated testbench): every class, logit and block output of the golden S5
    engine after the image went in through the load port, and the manifest's latency."""
    from hwssm.config import find_verilator
    from tests.verify.test_testbench import _run, _verdict

    v = find_verilator()
    files = s5_load_tb
    build, sim = simulator_commands(files)["verilator"]
    out = _run([[str(v.executable)] + build[1:], sim], files.directory, env=v.env())
    assert _verdict(out).startswith(f"PASS {files.top}:")


@pytest.mark.icarus
def test_s5_load_design_passes_on_icarus(s5_load_tb):
    iverilog()
    cmds = simulator_commands(s5_load_tb, iverilog_mode="2005")["icarus"]
    assert _verdict(_run(cmds, s5_load_tb.directory)).startswith(f"PASS {s5_load_tb.top}:")
