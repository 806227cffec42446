"""S5 models on the board tops in Verilator (issue 15 x issue 19): real MNIST test digits over the
UART, the INFO answer naming the S5 model, classes and logits equal to the golden S5 engine's, the
cycles of a request equal to the S5 cycle model plus the UART (:mod:`hwssm.board.timing`).

- ULX3S (ROM storage): the tiny trained S5 of ``tests/verify/data/s5tiny.json`` (H=8, P=5, L=2)
  quantized by PTQ on 32 real training digits with plan A8x12-B8C8D8-W8-a8-h, P=2 lanes;
- iCEBreaker (the design point of ``hwssm board build``: the UP5K profile, LOAD storage, 4-bit
  soft multipliers, the board's ``Pipeline.fast()``): the UP5K-sized S5 QModel of
  ``tests/hw/cost/data`` (H=16, P=16, L=1) at P=1, its parameters streamed from the SPI-flash
  model at power-up; a flash image of another digest leaves it NOT_LOADED.

Both cores are core-bound at a divisor of 8 (an S5 step takes longer than a UART byte)."""

from __future__ import annotations

from pathlib import Path

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
from hwssm.model.config import Family
from hwssm.quant.qmodel_io import load_qmodel
from hwssm.quant.resolve import resolve_model
from hwssm.targets.boards import ICEBREAKER, ULX3S

pytestmark = pytest.mark.verilator

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "verify" / "data" / "s5tiny.json"
UP5K_QMODEL = ROOT / "hw" / "cost" / "data" / "s5_tiny_up5k.qmodel.json"
DIV = 8          # cycles per UART bit
TIMEOUT = 4000   # inter-byte timeout, cycles
T = 784


def _classify(qm, pixels, logits: bool) -> bytes:
    return p.encode_request(p.ClassifyRequest(digest4(qm), T, 1, bytes(pixels), logits))


def _check_digits(qm, top, answers, gold, first: int) -> None:
    """Answers ``first``, ``first+1`` are the two digits (logits, then class only)."""
    cfg = top.config
    K = cfg.n_classes
    a0 = p.decode_answer(answers[first].data, K, True)
    assert a0.cls == gold.pred[0] and a0.logits == tuple(int(v) for v in gold.logits[0])
    a1 = p.decode_answer(answers[first + 1].data, K, False)
    assert a1.cls == gold.pred[1] and a1.logits is None
    assert cycle_model.cycles_per_step(cfg) >= 10 * DIV          # core-bound
    assert answers[first].cycles(DIV) == classify_cycles(cfg, DIV, True)
    assert answers[first + 1].cycles(DIV) == classify_cycles(cfg, DIV, False)
    # the figure is the S5 cycle model's digit plus the documented UART overhead
    overhead = classify_cycles(cfg, DIV, False) - cycle_model.cycles_per_digit(cfg)
    assert overhead == 11 * 10 * DIV + (3 + DIV // 2 + 9 * DIV) + 2 + 2 + 4 * 10 * DIV


def test_s5_on_the_ulx3s_rom(tmp_path):
    qm = resolve_model(CHECKPOINT, "A8x12-B8C8D8-W8-a8-h", calib_digits=32, hardware="hwssm board").qmodel
    assert qm.family is Family.S5
    top = build_board_top(qm, DesignPoint(2, T), ULX3S, BoardOptions(sim=True, uart_divisor=DIV, timeout_cycles=TIMEOUT))
    sim = build_board_sim(top)
    pix, _ = mnist_test_pixels(limit=2)
    gold = engine.run(qm, pix)
    K, want = top.config.n_classes, classify_cycles(top.config, DIV, True)
    steps = [Step(p.encode_request(p.InfoRequest()), p.INFO_ANSWER_BYTES, 200_000),
             Step(_classify(qm, pix[0], True), answer_bytes(K, True), 2 * want),
             Step(_classify(qm, pix[1], False), answer_bytes(K, False), 2 * want)]
    answers, rec = run_script(sim, steps, tmp_path)
    assert rec["bad_stop_bits"] == 0 and all(a.complete for a in answers)
    assert p.decode_answer(answers[0].data) == p.InfoAnswer(digest4(qm), T, 1, K)
    _check_digits(qm, top, answers, gold, 1)
    assert rec["led_ready"] == 1 and rec["led_error"] == 0   # ULX3S LEDs are active high


@pytest.fixture(scope="module")
def up5k():
    qm = load_qmodel(UP5K_QMODEL)
    design = ICEBREAKER.device.profile.design(1, T).replace(pipeline=ICEBREAKER.pipeline)  # as hwssm board build
    top = build_board_top(qm, design, ICEBREAKER, BoardOptions(sim=True, uart_divisor=DIV, timeout_cycles=TIMEOUT))
    return qm, top, build_board_sim(top)


def test_s5_on_the_icebreaker_from_flash(up5k, tmp_path):
    qm, top, sim = up5k
    assert qm.family is Family.S5 and top.config.storage is ParamStorage.LOAD
    pix, _ = mnist_test_pixels(limit=2)
    gold = engine.run(qm, pix)
    K, want = top.config.n_classes, classify_cycles(top.config, DIV, True)
    steps = [Step(p.encode_request(p.InfoRequest()), p.INFO_ANSWER_BYTES, 400_000),   # sent before the load ends
             Step(_classify(qm, pix[0], True), answer_bytes(K, True), 2 * want),
             Step(_classify(qm, pix[1], False), answer_bytes(K, False), 2 * want)]
    answers, rec = run_script(sim, steps, tmp_path)
    assert rec["bad_stop_bits"] == 0 and all(a.complete for a in answers)
    assert p.decode_answer(answers[0].data) == p.InfoAnswer(digest4(qm), T, 1, K)
    # the S5 load image (flash -> load port) took longer than the INFO frame: the answer waited for it
    assert answers[0].byte_cycles[0] > 2 * (16 + 2 * top.config.load.image_words) * 8
    _check_digits(qm, top, answers, gold, 1)
    assert rec["led_ready"] == 0 and rec["led_error"] == 1   # iCEBreaker LEDs are active low


def test_s5_flash_image_of_another_model_is_not_loaded(up5k, tmp_path):
    qm, top, sim = up5k
    words = [int(w) for w in top.config.load.image()]
    other = bytes(b ^ 0xFF for b in digest4(qm))
    steps = [Step(p.encode_request(p.InfoRequest()), 3, 400_000, 2 * TIMEOUT)]
    answers, rec = run_script(sim, steps, tmp_path, image=p.flash_image(words, other))
    assert answers[0].data == bytes([0x52, p.Status.NOT_LOADED, p.Kind.INFO])
    assert rec["led_ready"] == 1 and rec["led_error"] == 0
