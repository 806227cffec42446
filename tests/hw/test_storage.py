"""The LOAD storage's load image: decoded by its documented order, it gives back exactly the
effective parameters of the QModel (Ā, B̄, C̄ per mode, mixing weights per row; S5: Λ̄, B̄ and
GLU rows, C̃ aligned to its row)."""

from __future__ import annotations

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.hw.core_config import mix_output_row
from hwssm.hw.derive import derive
from hwssm.hw.options import DesignPoint
from hwssm.hw.storage import LOAD_WORD_BITS, MIX_FIELDS, S4D_FIELDS, ParamStorage
from hwssm.quant.plan import resolve_plan
from hwssm.quant.random_qmodel import random_qmodel


def _signed(v: int, w: int) -> int:
    return v - (1 << w) if v >> (w - 1) & 1 else v


@pytest.mark.parametrize("plan,P", [("hetero", 1), ("hetero", 3), ("A8x8-W8-a8-h-asym", 2), ("uniform4", 5)])
def test_image_decodes_to_the_effective_parameters(plan, P):
    H, M, L = 5, 3, 2
    qm = random_qmodel(H, M, L, resolve_plan(plan), seed=P, extreme=True)
    cfg = derive(qm, DesignPoint(P, 4, storage=ParamStorage.LOAD))
    ld = cfg.load
    image = ld.image()
    assert image.dtype == np.uint16 and len(image) == P * len(ld.slices) * ld.depth
    assert ld.depth == cfg.coef_depth and sum(ld.slices) == ld.coef_width
    assert all(w == LOAD_WORD_BITS for w in ld.slices[:-1]) and 1 <= ld.slices[-1] <= LOAD_WORD_BITS
    per_slot = L and (H * cfg.Cs + 2 * cfg.KP * cfg.Q)
    seen_s4d = seen_mix = 0
    for p in range(P):
        # reassemble the lane's words from its segments, in image order
        words = [0] * ld.depth
        for s in range(len(ld.slices)):
            off = ld.segment(p, s) * ld.depth
            for a in range(ld.depth):
                words[a] |= int(image[off + a]) << (LOAD_WORD_BITS * s)
        for l, ly in enumerate(qm.layers):
            eff = {n: getattr(ly, n).effective() for n in ("A_re", "A_im", "B_re", "B_im", "C_re", "C_im", "W")}
            base = l * per_slot
            for h in range(H):
                for c in range(cfg.Cs):
                    m = c * P + p
                    word = words[base + h * cfg.Cs + c]
                    got = [_signed(word >> pos & ((1 << w) - 1), w) for pos, w in ld.s4d_fields]
                    want = [int(eff[n][h, m]) if m < M else 0 for n in ("A_re", "A_im", "B_re", "B_im", "C_re", "C_im")]
                    assert got == want, (p, l, h, c, dict(zip(S4D_FIELDS, got)))
                    seen_s4d += m < M
            for kk in range(2 * cfg.KP):
                j = mix_output_row(H, P, p, kk)
                for q in range(cfg.Q):
                    word = words[base + H * cfg.Cs + kk * cfg.Q + q]
                    got = [_signed(word >> pos & ((1 << w) - 1), w) for pos, w in ld.mix_fields]
                    want = [0] * 4 if j is None else [int(eff["W"][j, 4 * q + i]) if 4 * q + i < H else 0 for i in range(4)]
                    assert got == want, (p, l, kk, q, dict(zip(MIX_FIELDS, got)))
                    seen_mix += j is not None
    assert seen_s4d == L * H * M and seen_mix == L * 2 * H * cfg.Q


def test_hetero_word_is_two_slices():
    """Hetero plan: Ā 8+8, B̄ 4+4, C̄ 4+4 = 32 bits = four 8-bit weights: two 16-bit slices."""
    qm = random_qmodel(4, 2, 1, resolve_plan("hetero"))
    ld = derive(qm, DesignPoint(1, 2, storage=ParamStorage.LOAD)).load
    assert ld.coef_width == 32 and ld.slices == (16, 16)
    assert [w for _, w in ld.s4d_fields] == [8, 8, 4, 4, 4, 4]


def test_bad_options_fail_in_one_line():
    qm = random_qmodel(3, 2, 1)
    for kw in ({"storage": "spram"}, {"soft_mul_bits": -1}, {"soft_mul_bits": 99}, {"soft_mul_bits": 2.0}):
        with pytest.raises(HwssmError) as e:
            derive(qm, DesignPoint(1, 2, **kw))
        assert "\n" not in str(e.value)
    assert derive(qm, DesignPoint(1, 2, storage="load")).storage is ParamStorage.LOAD


def _lane_words(ld, p: int) -> list[int]:
    """Lane p's coefficient words reassembled from its image segments, in image order."""
    image, words = ld.image(), [0] * ld.depth
    for s in range(len(ld.slices)):
        off = ld.segment(p, s) * ld.depth
        for a in range(ld.depth):
            words[a] |= int(image[off + a]) << (LOAD_WORD_BITS * s)
    return words


@pytest.mark.parametrize("k,P,glu", [(4, 1, "half"), (4, 3, "full"), (6, 2, "half"), (8, 4, "full")])
def test_s5_image_decodes_to_the_effective_parameters(k, P, glu):
    """An S5 core's image, decoded by its documented order (per block: B̄u passes, updates, one
    readout word per (h, c), GLU passes): the B̄ and W rows and Λ̄ of the QModel, and C̃ aligned
    to its row as the ROM design's C̄ ROM holds it."""
    from hwssm.hw.options import Pipeline, mix_field
    from hwssm.model.s5_config import Glu, S5Config
    from tests.hw.s5_models import s5_model

    H, Pm, L = 5, 7, 2
    qm = s5_model(S5Config(H=H, P=Pm, L=L, n_classes=3, glu=Glu(glu)), "A8x12-B4C4D4-W8-a6-h-asym", seed=k + P)
    cfg = derive(qm, DesignPoint(P, 4, Pipeline(mix_cols=k), storage=ParamStorage.LOAD))
    rom = derive(qm, DesignPoint(P, 4, Pipeline(mix_cols=k)))
    ld, Cs, Q = cfg.load, cfg.Cs, cfg.Q
    assert ld.depth == cfg.coef_depth == L * cfg.s5.coef_words(Cs, Q, H * Cs) and sum(ld.slices) == ld.coef_width
    assert [kd.key for kd in ld.kinds] == ["update", "readout", "mix"] and len(ld.mix_fields) == k
    NG = cfg.s5.glu_passes
    per_block = (2 * Cs + NG) * Q + Cs + H * Cs

    def dec(word, fields):
        return [_signed(word >> pos & ((1 << w) - 1), w) for pos, w in fields]

    for p in range(P):
        words = _lane_words(ld, p)
        for l, ly in enumerate(qm.layers):
            eff = {n: getattr(ly, n).effective() for n in ("A_re", "A_im", "B_re", "B_im", "W")}
            base = l * per_block
            for kk in range(2 * Cs):   # B̄u pass kk: row (part kk mod 2) of mode (kk div 2)·P + p
                m = (kk // 2) * P + p
                B = eff["B_re" if kk % 2 == 0 else "B_im"]
                for q in range(Q):
                    got = dec(words[base + kk * Q + q], ld.mix_fields)
                    want = [0] * k
                    for i in range(k):
                        if m < Pm and k * q + i < H:
                            want[mix_field(k, i)] = int(B[m, k * q + i])
                    assert got == want, ("B", p, l, kk, q)
            for c in range(Cs):
                m = c * P + p
                got = dec(words[base + 2 * Cs * Q + c], ld.fields("update"))
                assert got == ([int(eff["A_re"][m]), int(eff["A_im"][m])] if m < Pm else [0, 0]), ("Λ", p, l, c)
            crw = (cfg.lane.cr_width, cfg.lane.ci_width)
            for h in range(H):
                for c in range(Cs):
                    got = dec(words[base + 2 * Cs * Q + Cs + h * Cs + c], ld.fields("readout"))
                    want = dec(rom.c_words[p][(l * H + h) * Cs + c], ((0, crw[0]), (crw[0], crw[1])))
                    assert got == want, ("C", p, l, h, c)
            g0 = base + 2 * Cs * Q + Cs + H * Cs
            for kk in range(NG):
                j = (kk * P + p if kk * P + p < H else None) if glu == "half" else mix_output_row(H, P, p, kk)
                for q in range(Q):
                    got = dec(words[g0 + kk * Q + q], ld.mix_fields)
                    want = [0] * k
                    for i in range(k):
                        if j is not None and k * q + i < H:
                            want[mix_field(k, i)] = int(eff["W"][j, k * q + i])
                    assert got == want, ("W", p, l, kk, q)
