"""Pixel memory files and the expected verification stream (order t, l, h) from the golden engine."""

import numpy as np

from hwssm.golden.engine import run
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.verify.stimulus import expected, load_expected, save_expected, write_pixels
from tests.naive import run_sequence


def test_write_pixels_is_readmemh_bytes(tmp_path):
    pix = np.array([[0, 15, 16], [255, 128, 7]], dtype=np.uint8)
    assert write_pixels(tmp_path / "p.hex", pix) == 6
    assert (tmp_path / "p.hex").read_text() == "00\n0f\n10\nff\n80\n07\n"


def test_expected_stream_order_is_t_l_h():
    qm = random_qmodel(3, 2, 2, seed=4)
    pix = np.random.default_rng(1).integers(0, 256, (2, 5)).astype(np.uint8)
    exp = expected(qm, pix)
    res = run(qm, pix, trace=True)
    assert exp.dbg.shape == (2, 5 * 2 * 3)
    for i in range(2):
        ref = run_sequence(qm, pix[i])["traces"]["r"]  # r[l][t][h], l = 0 is the encoder
        for t in range(5):
            for l in range(2):
                for h in range(3):
                    k = (t * 2 + l) * 3 + h
                    assert exp.dbg[i, k] == ref[l + 1][t][h] == res.r[i, l + 1, t, h]
                    assert exp.where(k) == (t, l, h)
    np.testing.assert_array_equal(exp.logits, res.logits)
    np.testing.assert_array_equal(exp.pred, res.pred)


def test_save_and_load_expected(tmp_path):
    qm = random_qmodel(2, 1, 1, seed=0)
    exp = expected(qm, np.zeros((1, 3), np.uint8))
    save_expected(tmp_path / "e.npz", exp)
    back = load_expected(tmp_path / "e.npz")
    np.testing.assert_array_equal(back.dbg, exp.dbg)
    assert (back.T, back.L, back.H) == (3, 1, 2)
