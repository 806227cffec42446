"""The core on per-layer precision plans: Amaranth's simulator against tests/naive.py (exact).

The derivation shares one width per operand across blocks (the widest; narrower blocks'
codes are sign-extended into the same ROM fields and multipliers), so per-layer widths of
Ā, B̄, C̄, D and the mixing W, b need no other hardware. Per-layer state widths share the
widest state register; each row's state requantization then fits to its block's own width
(a per-row deficit in the row ROM, ``hw.rtl.ops.narrow``). Per-layer activation widths share
the widest activation width a (registers, memories, 2^a-word GELU/sigmoid tables per block);
y, v, z and r are fitted to the block's own width after their requantization, and R_0 to its
own width in the encoder (``hw.rtl.act_width``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.hw.derive import derive
from hwssm.hw.options import DesignPoint, Pipeline
from hwssm.hw.rtl.core import HwssmCore
from hwssm.hw.storage import ParamStorage
from hwssm.quant.plan import parse_code
from hwssm.quant.random_qmodel import random_qmodel
from tests.hw.rtl.rtl_run import rtl_run
from tests.hw.rtl.test_core import _expected

#: block 0 narrow Ā and wide B̄; block 1 the reverse, with its own C̄, D, W and b widths
CODE = "A8x10-B4C4D4-W6-a6-L0:A5B7-L1:C7D3W4b10"


@pytest.mark.parametrize("P, extreme", [(1, True), (2, False)])
def test_core_with_per_layer_parameter_widths_matches_naive(P, extreme):
    qm = random_qmodel(3, 2, 2, parse_code(CODE), seed=P, extreme=extreme)
    assert qm.layers[0].A_re.bits == 5 and qm.layers[1].A_re.bits == 8 and qm.layers[1].W.bits == 4
    core = HwssmCore(qm, DesignPoint(P, 4, Pipeline()))
    cfg = core.config
    # shared widths are the widest over blocks
    assert cfg.coef_field_widths[:4] == (8, 8, 7, 7) and (cfg.lane.cr_width, cfg.d_width) == (7, 4)
    rng = np.random.default_rng(P)
    digits = [[int(p) for p in rng.integers(0, 256, 4)] for _ in range(2)]
    res = rtl_run(core, digits)
    dbg, logits, classes = _expected(qm, digits)
    assert [v for _, v in res.dbg] == dbg
    assert [v for _, v in res.logits] == logits
    assert [v for _, v in res.classes] == classes


def test_load_storage_with_per_layer_widths_derives():
    qm = random_qmodel(3, 2, 2, parse_code(CODE), seed=3)
    cfg = derive(qm, DesignPoint(2, 4, storage=ParamStorage.LOAD))
    assert cfg.load is not None and cfg.lane.b_widths == (7, 7)


#: (plan, P, extreme): state widths per block (re and im apart), saturating and wrapping
STATE_CASES = {
    "sat-extreme": ("A8x10-B4C4D4-W6-a6-L0:x6-L1:x8.7", 2, True),
    "wrap-floor-extreme": ("A6x10-B4C4D4-W6-a6-floor-wrap-L1:x7.5", 1, True),
    "perhead-asym": ("A8x10-W8-a8-h-asym-L0:x12.9", 3, False),
}


@pytest.mark.parametrize("case", list(STATE_CASES))
def test_core_with_per_layer_state_widths_matches_naive(case):
    code, P, extreme = STATE_CASES[case]
    qm = random_qmodel(3, 2, 2, parse_code(code), seed=P + 7, extreme=extreme)
    widths = [(ly.x_re[0].width, ly.x_im[0].width) for ly in qm.layers]
    assert len(set(widths)) == 2
    core = HwssmCore(qm, DesignPoint(P, 5, Pipeline()))
    assert core.config.xr_width == max(w for w, _ in widths) and "xdr" in core.config.lane.shifts
    rng = np.random.default_rng(P)
    digits = [[255] * 5, [int(p) for p in rng.integers(0, 256, 5)]]
    res = rtl_run(core, digits)
    dbg, logits, classes = _expected(qm, digits)
    assert [v for _, v in res.dbg] == dbg
    assert [v for _, v in res.logits] == logits
    assert [v for _, v in res.classes] == classes


def test_core_with_per_layer_state_widths_and_a_deep_pipeline_matches_naive():
    # seed 2 saturates block 1's narrow state (without the narrowing the outputs differ)
    qm = random_qmodel(4, 3, 2, parse_code("A8x10-B4C4D4-W6-a6-L1:x5.6"), seed=2, extreme=True)
    core = HwssmCore(qm, DesignPoint(2, 3, Pipeline.fast()))
    assert core.config.pipe.requant_stages >= 1
    digits = [[255, 255, 255], [17, 250, 3]]
    res = rtl_run(core, digits)
    dbg, logits, _ = _expected(qm, digits)
    assert [v for _, v in res.dbg] == dbg and [v for _, v in res.logits] == logits


#: (plan, P, seed, pipeline): activation widths per block, narrower or wider than R_0 (the
#: default), saturating and wrapping; with extreme random models each case saturates (or wraps)
#: the narrower block's codes: without the narrowing of y, "wrap-floor-fast" fails; of v,
#: "narrow-block0-fast", "wrap-floor" and "mix-cols-6"; of z, "z-saturates"; of r, "wrap-floor"
ACT_CASES = {
    "narrow-block1-sat": ("A8x8-W8-a8-L1:a6", 2, 0, Pipeline()),
    "wide-block0-narrow-r0": ("A8x8-W8-a6-L0:a8", 2, 2, Pipeline()),
    "narrow-block0-fast": ("A8x8-W8-a8-L0:a5", 1, 3, Pipeline.fast()),
    "wrap-floor": ("A6x10-B4C4D4-W6-a8-floor-wrap-L1:a5", 2, 4, Pipeline()),
    "wrap-floor-fast": ("A6x10-B4C4D4-W6-a8-floor-wrap-L0:a4", 1, 5, Pipeline.fast()),
    "mix-cols-6": ("A8x8-W8-a8-L1:a6", 2, 4, Pipeline(mix_cols=6)),
    "z-saturates": ("A8x8-W8-a8-L1:a5", 1, 6, Pipeline()),
    # the build profiles' timing-closure pipelines (operand and issue registers, banked memories)
    "closure": ("A8x8-W8-a8-L1:a6", 2, 4, Pipeline.closure()),
    "closure-banks": ("A8x8-W8-a8-L0:a5", 2, 5, dataclasses.replace(Pipeline.closure(), mem_stages=3, bank_words=16)),
}


@pytest.mark.parametrize("case", list(ACT_CASES))
def test_core_with_per_layer_activation_widths_matches_naive(case):
    code, P, seed, pipe = ACT_CASES[case]
    qm = random_qmodel(3, 2, 2, parse_code(code), seed=seed, extreme=True)
    widths = [ly.y.width for ly in qm.layers]
    assert len(set(widths)) == 2 and all(ly.v.width == ly.z.width == ly.r_out.width == w
                                         for ly, w in zip(qm.layers, widths))
    core = HwssmCore(qm, DesignPoint(P, 4, pipe))
    cfg = core.config
    a = max(widths + [qm.r0.width])
    assert cfg.a == a and len(cfg.gelu_words) == len(cfg.sig_words) == 2 << a
    assert cfg.ssm_table.shifts["yd"].hi == a - min(widths) and cfg.glu["rd"] == [a - w for w in widths]
    assert cfg.enc.get("width", a) == qm.r0.width
    rng = np.random.default_rng(P)
    digits = [[255] * 4, [int(p) for p in rng.integers(0, 256, 4)]]
    res = rtl_run(core, digits)
    dbg, logits, classes = _expected(qm, digits)
    assert [v for _, v in res.dbg] == dbg
    assert [v for _, v in res.logits] == logits
    assert [v for _, v in res.classes] == classes


def test_loaded_core_with_per_layer_activation_widths_matches_naive():
    # LOAD storage: the parameters stream in; the tables (2^a words per block) stay ROMs
    qm = random_qmodel(3, 2, 2, parse_code("A6x10-B4C4D4-W6-a8-floor-wrap-L1:a5"), seed=4, extreme=True)
    core = HwssmCore(qm, DesignPoint(2, 4, Pipeline(), ParamStorage.LOAD))
    digits = [[255] * 4, [3, 250, 17, 128]]
    res = rtl_run(core, digits, load=core.config.load.image())
    dbg, logits, classes = _expected(qm, digits)
    assert [v for _, v in res.dbg] == dbg
    assert [v for _, v in res.logits] == logits and [v for _, v in res.classes] == classes


@pytest.mark.parametrize("kind", ["channels", "tokens"])
def test_encoders_with_an_r0_narrower_than_the_blocks_match_naive(kind):
    # C = 3 samples per step (packed 8 bits each) or a token vocabulary of 9; R_0 is 6 bits,
    # block 0 8 bits: the encoder's codes (and the token ROM's words) sign-extended to a = 8
    kw = {"C": 3} if kind == "channels" else {"vocab": 9}
    qm = random_qmodel(3, 2, 2, parse_code("A8x8-W8-a6-L0:a8"), seed=3, extreme=True, **kw)
    core = HwssmCore(qm, DesignPoint(2, 4, Pipeline()))
    assert (core.config.a, qm.r0.width) == (8, 6)
    rng = np.random.default_rng(3)
    if kind == "channels":
        steps = [[[int(x) for x in rng.integers(0, 256, 3)] for _ in range(4)] for _ in range(2)]
        words = [[p[0] | p[1] << 8 | p[2] << 16 for p in d] for d in steps]
    else:
        steps = words = [[int(x) for x in rng.integers(0, 9, 4)] for _ in range(2)]
    res = rtl_run(core, words)
    dbg, logits, classes = _expected(qm, steps)
    assert [v for _, v in res.dbg] == dbg
    assert [v for _, v in res.logits] == logits and [v for _, v in res.classes] == classes


def test_one_activation_width_builds_no_narrowing():
    qm = random_qmodel(3, 2, 2, parse_code("A8x8-W8-a6-L1:x6"), seed=0)
    cfg = derive(qm, DesignPoint(2, 4))
    assert "yd" not in cfg.ssm_table.shifts and "vd" not in cfg.mix_tables[0].shifts
    assert "zd" not in cfg.glu and "rd" not in cfg.glu and "width" not in cfg.enc
    assert len(cfg.gelu_words) == 2 << 6


def test_activations_wider_than_the_tables_allow_are_refused_in_one_line():
    qm = random_qmodel(3, 2, 2, parse_code("A8x8-W8-a8-L1:a14"), seed=0)
    with pytest.raises(HwssmError, match="at most") as e:
        derive(qm, DesignPoint(2, 4))
    assert "\n" not in str(e.value)
