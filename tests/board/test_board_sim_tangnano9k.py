"""The Tang Nano 9K board top: no PLL (the core runs on the 27 MHz oscillator), ROM storage (no
flash loader), LEDs active low; the very top that ``hwssm board build`` places (not a simulation
variant: without a PLL there is nothing to leave out) in Verilator, one MNIST digit over the UART."""

from __future__ import annotations

import pytest

from hwssm.board import protocol as p
from hwssm.board.options import BoardOptions
from hwssm.board.sim.runner import Step, build_board_sim, run_script
from hwssm.board.timing import answer_bytes, classify_cycles
from hwssm.board.top import board_verilog, build_board_top, digest4
from hwssm.errors import HwssmError
from hwssm.golden import engine
from hwssm.golden.evaluate import test_pixels as mnist_test_pixels
from hwssm.hw.options import DesignPoint, ParamStorage
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.targets.boards import TANGNANO9K

T = 784


@pytest.fixture(scope="module")
def qm():
    return random_qmodel(4, 2, 1, seed=5)


def test_the_top_runs_on_the_oscillator(qm):
    top = build_board_top(qm, DesignPoint(1, T), TANGNANO9K)
    assert top.clk_hz == 27_000_000 and top.divisor == round(27e6 / 115_200) == 234
    assert set(top.signature.members) == {"clk", "uart_rx", "uart_tx", "led_ready", "led_error"}
    text = board_verilog(top)
    assert "rPLL" not in text and "SB_PLL40" not in text and "EHXPLLL" not in text


def test_no_other_clock_and_no_flash(qm):
    with pytest.raises(HwssmError, match=r"^board tangnano9k has no PLL in its top: the build clock is its 27 MHz "
                                         r"oscillator, not 50 MHz$"):
        build_board_top(qm, DesignPoint(1, T), TANGNANO9K, BoardOptions(clk_hz=50_000_000))
    with pytest.raises(HwssmError, match="board tangnano9k has no parameter flash"):
        build_board_top(qm, DesignPoint(1, T, storage=ParamStorage.LOAD), TANGNANO9K)


@pytest.mark.verilator
@pytest.mark.slow  # the Verilator build: about 150 s on a loaded 2-core machine
def test_one_digit_over_the_uart(qm, tmp_path):
    div, timeout = 8, 400
    top = build_board_top(qm, DesignPoint(1, T), TANGNANO9K, BoardOptions(uart_divisor=div, timeout_cycles=timeout))
    sim = build_board_sim(top)
    pix, _ = mnist_test_pixels(limit=1)
    gold = engine.run(qm, pix)
    cfg = top.config
    want = classify_cycles(cfg, div, True)
    req = p.encode_request(p.ClassifyRequest(digest4(qm), T, 1, bytes(pix[0]), True))
    answers, rec = run_script(sim, [Step(req, answer_bytes(cfg.n_classes, True), 3 * want + 100_000)], tmp_path)
    a = answers[0]
    assert a.complete and rec["bad_stop_bits"] == 0, a.data.hex()
    ans = p.decode_answer(a.data, cfg.n_classes, True)
    assert ans.cls == gold.pred[0] and ans.logits == tuple(int(v) for v in gold.logits[0])
    assert a.cycles(div) == want
    assert rec["led_ready"] == 0 and rec["led_error"] == 1  # active low: ready lit, error dark
