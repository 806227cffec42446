"""The core on per-layer precision plans: Amaranth's simulator against tests/naive.py (exact).

The derivation shares one width per operand across blocks (the widest; narrower blocks'
codes are sign-extended into the same ROM fields and multipliers), so per-layer widths of
Ā, B̄, C̄, D and the mixing W, b need no other hardware. Per-layer state or activation
widths are refused in one line (the RTL saturates to one width per part).
"""

from __future__ import annotations

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


@pytest.mark.parametrize("code, fragment", [("A8x8-W8-a8-L1:x10", "one state width"),
                                            ("A8x8-W8-a8-L1:a6", "one width")])
def test_per_layer_state_and_activation_widths_are_refused_in_one_line(code, fragment):
    qm = random_qmodel(3, 2, 2, parse_code(code), seed=0)
    with pytest.raises(HwssmError, match=fragment) as e:
        derive(qm, DesignPoint(2, 4))
    assert "\n" not in str(e.value)
