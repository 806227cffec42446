"""The LOAD storage's load image: decoded by its documented order, it gives back exactly the
effective parameters of the QModel (Ā, B̄, C̄ per mode, mixing weights per row)."""

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
