"""The shipped s4d_hetero model at P = 16 on the ULX3S board top (ROM storage, no flash), in
Verilator: one full 784-step MNIST test digit over the UART, class and logits equal to the
golden engine's, the request's cycles equal to the cycle model's cycles_per_digit plus the
UART (core-bound: a core step takes longer than a UART byte)."""

from __future__ import annotations

import time

import pytest

from hwssm.api import load_model
from hwssm.board import protocol as p
from hwssm.board.options import BoardOptions
from hwssm.board.sim.runner import Step, build_board_sim, run_script
from hwssm.board.timing import answer_bytes, classify_cycles
from hwssm.board.top import build_board_top, digest4
from hwssm.golden import engine
from hwssm.golden.evaluate import test_pixels as mnist_test_pixels
from hwssm.hw import cycle_model
from hwssm.hw.options import DesignPoint
from hwssm.targets.boards import ULX3S

pytestmark = [pytest.mark.verilator, pytest.mark.slow]

DIV = 8


def test_hetero_p16_one_digit(tmp_path):
    qm = load_model("s4d_hetero")
    top = build_board_top(qm, DesignPoint(16, 784), ULX3S, BoardOptions(sim=True, uart_divisor=DIV, timeout_cycles=4000))
    cfg = top.config
    t0 = time.monotonic()
    sim = build_board_sim(top)
    build_s = time.monotonic() - t0
    pix, _ = mnist_test_pixels(limit=1)
    gold = engine.run(qm, pix)
    want = classify_cycles(cfg, DIV, True)
    req = p.encode_request(p.ClassifyRequest(digest4(qm), 784, 1, bytes(pix[0]), True))
    answers, rec = run_script(sim, [Step(req, answer_bytes(cfg.n_classes, True), 2 * want)], tmp_path)
    a = answers[0]
    assert a.complete, a.data.hex()
    ans = p.decode_answer(a.data, cfg.n_classes, True)
    assert ans.cls == gold.pred[0] and ans.logits == tuple(int(v) for v in gold.logits[0])
    assert cycle_model.cycles_per_step(cfg) >= 10 * DIV
    assert a.cycles(DIV) == want
    print(f"\nhetero P=16 board: {a.cycles(DIV)} cycles per digit incl. UART at divisor {DIV} "
          f"(core {cycle_model.cycles_per_digit(cfg)}); build {build_s:.0f} s, run {rec['seconds']:.1f} s")
