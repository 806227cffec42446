"""The whole board top in Verilator: power-up load from the SPI-flash model, real MNIST test
digits over the UART, classes and logits equal to the golden engine's, the cycles of a
request equal to the cycle model plus the UART (hwssm.board.timing), and the error answers
of BOARD_PROTOCOL.md (wrong digest, wrong T, a frame cut short, a bad first byte, a bad flash
image), after each of which the board answers the next good request."""

from __future__ import annotations

import numpy as np
import pytest

from hwssm.board import protocol as p
from hwssm.board.options import BoardOptions
from hwssm.board.sim.runner import Step, build_board_sim, run_script
from hwssm.board.timing import answer_bytes, classify_cycles
from hwssm.board.top import build_board_top, digest4
from hwssm.golden import engine
from hwssm.golden.evaluate import test_pixels as mnist_test_pixels
from hwssm.hw import cycle_model
from hwssm.hw.options import DesignPoint, ParamStorage
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.targets.boards import ICEBREAKER

pytestmark = pytest.mark.verilator

DIV = 8          # cycles per UART bit
TIMEOUT = 400    # inter-byte timeout, cycles (> one byte, 10·DIV)
T = 784


@pytest.fixture(scope="module")
def tiny():
    """A small random QModel, LOAD storage (parameters from the flash model), on the iCEBreaker top."""
    qm = random_qmodel(4, 2, 1, seed=3)
    top = build_board_top(qm, DesignPoint(1, T, storage=ParamStorage.LOAD), ICEBREAKER,
                          BoardOptions(sim=True, uart_divisor=DIV, timeout_cycles=TIMEOUT))
    return qm, top, build_board_sim(top)


def _classify(qm, pixels, logits=True) -> bytes:
    return p.encode_request(p.ClassifyRequest(digest4(qm), T, 1, bytes(pixels), logits))


def _wait(top, logits=True) -> int:
    return 3 * classify_cycles(top.config, DIV, logits) + 100_000


def test_digits_classes_logits_and_cycles(tiny, tmp_path):
    qm, top, sim = tiny
    pix, _ = mnist_test_pixels(limit=2)
    gold = engine.run(qm, pix)
    cfg = top.config
    steps = [Step(p.encode_request(p.InfoRequest()), p.INFO_ANSWER_BYTES, 200_000)]  # sent before the load ends
    steps += [Step(_classify(qm, pix[0], True), answer_bytes(cfg.n_classes, True), _wait(top)),
              Step(_classify(qm, pix[1], False), answer_bytes(cfg.n_classes, False), _wait(top, False))]
    answers, rec = run_script(sim, steps, tmp_path)
    assert rec["bad_stop_bits"] == 0 and all(a.complete for a in answers)
    info = p.decode_answer(answers[0].data)
    assert info == p.InfoAnswer(digest4(qm), T, 1, cfg.n_classes)
    # the load image (flash -> core) took longer than the INFO frame: the answer waited for it
    assert answers[0].byte_cycles[0] > 2 * (16 + 2 * cfg.load.image_words) * 8
    a0 = p.decode_answer(answers[1].data, cfg.n_classes, True)
    assert a0.cls == gold.pred[0] and a0.logits == tuple(int(v) for v in gold.logits[0])
    a1 = p.decode_answer(answers[2].data, cfg.n_classes, False)
    assert a1.cls == gold.pred[1] and a1.logits is None
    # UART-bound here (a byte takes 80 cycles, a core step fewer): cycle model + UART, exactly
    assert cycle_model.cycles_per_step(cfg) < 10 * DIV
    assert answers[1].cycles(DIV) == classify_cycles(cfg, DIV, True)
    assert answers[2].cycles(DIV) == classify_cycles(cfg, DIV, False)
    assert rec["led_ready"] == 0 and rec["led_error"] == 1   # iCEBreaker LEDs are active low


def test_error_answers_then_a_good_request(tiny, tmp_path):
    qm, top, sim = tiny
    pix, _ = mnist_test_pixels(limit=3)
    gold = engine.run(qm, pix[2:3])
    K = top.config.n_classes
    good = _classify(qm, pix[2], True)
    idle = 2 * TIMEOUT
    wrong_digest = bytearray(good)
    wrong_digest[3] ^= 0x01
    wrong_t = p.encode_request(p.ClassifyRequest(digest4(qm), T - 1, 1, bytes(pix[2][:T - 1]), True))
    steps = [
        Step(bytes(wrong_digest), 3, 200_000, idle),                 # 0x02, rest of the frame discarded
        Step(wrong_t, 3, 200_000, idle),                             # 0x03
        Step(good[:11 + 300], 3, _wait(top), idle),                  # cut in its samples: 0x04
        Step(good[:5], 3, 200_000, idle),                            # cut in its header: 0x04
        Step(b"X" + good, 3, 200_000, idle),                         # bad first byte: 0x01 '?'
        Step(b"SZ", 3, 200_000, idle),                               # unknown kind: 0x01 '?'
        Step(good, answer_bytes(K, True), _wait(top)),               # and the board still works
    ]
    answers, rec = run_script(sim, steps, tmp_path)
    got = [a.data for a in answers]
    assert got[0] == bytes([0x52, p.Status.BAD_DIGEST, p.Kind.CLASSIFY])
    assert got[1] == bytes([0x52, p.Status.BAD_LENGTH, p.Kind.CLASSIFY])
    assert got[2] == bytes([0x52, p.Status.TIMEOUT, p.Kind.CLASSIFY])
    assert got[3] == bytes([0x52, p.Status.TIMEOUT, p.Kind.CLASSIFY])
    assert got[4] == bytes([0x52, p.Status.BAD_MAGIC, p.Kind.UNKNOWN])
    assert got[5] == bytes([0x52, p.Status.BAD_MAGIC, p.Kind.UNKNOWN])
    last = p.decode_answer(got[6], K, True)
    assert last.cls == gold.pred[0] and last.logits == tuple(int(v) for v in gold.logits[0])


def test_bad_flash_image_not_loaded(tiny, tmp_path):
    qm, top, sim = tiny
    words = [int(w) for w in top.config.load.image()]
    other = bytes(b ^ 0xFF for b in digest4(qm))
    steps = [Step(p.encode_request(p.InfoRequest()), 3, 200_000, 2 * TIMEOUT),
             Step(_classify(qm, np.zeros(T, np.uint8)), 3, 200_000, 2 * TIMEOUT)]
    answers, rec = run_script(sim, steps, tmp_path, image=p.flash_image(words, other))
    assert [a.data for a in answers] == [bytes([0x52, p.Status.NOT_LOADED, p.Kind.INFO]),
                                         bytes([0x52, p.Status.NOT_LOADED, p.Kind.CLASSIFY])]
    assert rec["led_ready"] == 1 and rec["led_error"] == 0   # active low: error lit, ready dark
