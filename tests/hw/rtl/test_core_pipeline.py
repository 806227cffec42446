"""``Pipeline.mem_stages`` (registers after every memory read, for block RAM without output
registers, e.g. ECP5) and ``Pipeline.requant_stages`` (every requantization split between
its shift and its rounding): the core stays exact against tests/naive.py, its cycles follow
the cycle model, and the defaults generate the same Verilog as before."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.hw import cycle_model
from hwssm.hw.options import Pipeline
from hwssm.hw.options import DesignPoint
from hwssm.hw.rtl.core import HwssmCore
from hwssm.hw.storage import ParamStorage
from hwssm.quant.plan import resolve_plan
from hwssm.quant.random_qmodel import random_qmodel
from tests.hw.rtl.rtl_run import rtl_run
from tests.hw.rtl.test_core import _expected

# (H, M, L, P, T, plan, pipeline)
CASES = {
    "p1-hetero-fast": (3, 2, 2, 1, 4, "hetero", Pipeline.fast()),
    "p3-perhead-deep": (4, 3, 2, 3, 3, "A8x8-W8-a8-h-asym", Pipeline(mem_stages=2, mul_stages=2, tree_levels_per_stage=1)),
    "p5-floor-wrap-res": (5, 2, 1, 5, 3, "A6x10-B4C4D4-W6-a6-floor-wrap", Pipeline(requant_stages=1)),
    "p2-acc": (6, 3, 2, 2, 3, "A8x8-W8-a8-h", Pipeline(acc_stages=1)),
    # wider real mode: H not a multiple of mix_cols, H < mix_cols, with and without the fast pipeline
    "p3-mix6": (7, 3, 2, 3, 3, "hetero", Pipeline(mix_cols=6)),
    "p2-mix8": (11, 2, 2, 2, 3, "A8x8-W8-a8-h-asym", Pipeline(mix_cols=8)),
    "p1-mix8-fast": (5, 2, 2, 1, 3, "hetero", Pipeline(mem_stages=2, requant_stages=1, acc_stages=1, mix_cols=8)),
    "p4-mix6-deep": (13, 4, 1, 4, 2, "A6x10-B4C4D4-W6-a6-floor-wrap", Pipeline(mul_stages=2, mix_cols=6)),
    "p5-mix8-wide-w": (9, 3, 2, 5, 3, "A8x8-B4C4D4-W8-a6", Pipeline(mix_cols=8, requant_stages=1)),
    # timing closure: aligned terms registered (mul_stages >= 2, align_stages), encoder/decoder
    # registers (encdec_stages), with and without the registered row sum
    "p1-hetero-closure": (3, 2, 2, 1, 4, "hetero", Pipeline.closure()),
    "p3-mix8-closure-m3": (9, 3, 2, 3, 3, "A8x8-W8-a8-h-asym",
                           Pipeline(mul_stages=3, mem_stages=2, requant_stages=1, acc_stages=1, encdec_stages=1,
                                    align_stages=1, mix_cols=8)),
    "p2-align-encdec": (6, 3, 2, 2, 3, "A6x10-B4C4D4-W6-a6-floor-wrap", Pipeline(align_stages=1, encdec_stages=1)),
    "p2-mix6-m2-align": (7, 3, 2, 2, 3, "hetero", Pipeline(mul_stages=2, align_stages=1, mix_cols=6)),
    # operand_regs: the operand multiplexers before the last memory register (no extra cycle)
    "p3-mix8-closure-op": (9, 3, 2, 3, 3, "A8x8-W8-a8-h-asym",
                           Pipeline(mul_stages=2, mem_stages=2, requant_stages=1, acc_stages=1, encdec_stages=1,
                                    align_stages=1, mix_cols=8, operand_regs=1)),
    "p2-mix6-ms1-op": (7, 3, 2, 2, 3, "hetero", Pipeline(mem_stages=1, mix_cols=6, operand_regs=1)),
    # issue_regs: the sequencer's end tests registered, its timer cleared at a start
    "p3-mix8-ir": (11, 3, 2, 3, 3, "A8x8-W8-a8-h-asym", Pipeline(mix_cols=8, issue_regs=1)),
    "p1-fast-ir": (5, 2, 2, 1, 3, "hetero", Pipeline(mem_stages=2, requant_stages=1, acc_stages=1, issue_regs=1)),
    # bank_words: deep coefficient ROMs in banks, selected after their read registers
    "p2-closure-bank": (9, 3, 2, 2, 3, "A8x8-W8-a8-h-asym",
                        Pipeline(mul_stages=3, mem_stages=2, requant_stages=1, acc_stages=1, encdec_stages=1,
                                 align_stages=1, operand_regs=1, issue_regs=1, bank_words=16)),
    "p1-ms1-bank": (7, 4, 3, 1, 3, "hetero", Pipeline(mem_stages=1, bank_words=16, mix_cols=8)),
    "p2-ms3-bank": (9, 3, 2, 2, 3, "hetero",
                    Pipeline(mul_stages=3, mem_stages=3, requant_stages=1, acc_stages=1, encdec_stages=1,
                             align_stages=1, operand_regs=1, issue_regs=1, bank_words=16)),
    "p3-ms3-bank-rom": (9, 3, 2, 3, 3, "A8x8-W8-a8-h-asym", Pipeline(mem_stages=3, bank_words=32, mix_cols=6)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_mem_stages_core_is_exact_and_on_time(case):
    H, M, L, P, T, plan, pipe = CASES[case]
    qm = random_qmodel(H, M, L, resolve_plan(plan), seed=len(case), extreme=True)
    core = HwssmCore(qm, DesignPoint(P, T, pipe))
    rng = np.random.default_rng(P)
    digits = [[int(p) for p in rng.integers(0, 256, T)] for _ in range(2)]
    res = rtl_run(core, digits)
    dbg, logits, classes = _expected(qm, digits)
    assert ([v for _, v in res.dbg], [v for _, v in res.logits], [v for _, v in res.classes]) == (dbg, logits, classes)
    s = cycle_model.step_schedule(core.config)
    lat = cycle_model.Latencies(pipe.mul_stages, core.config.tree_stages, pipe.mem_stages, pipe.requant_stages,
                                 pipe.acc_stages)
    start = res.accepted[0] + 1
    cpd, cps = core.cycles_per_digit, core.cycles_per_step
    want = [start + d * cpd + t * cps + s.glu[l][h] + lat.glu_out
            for d in range(2) for t in range(T) for l in range(L) for h in range(H)]
    assert [c for c, _ in res.dbg] == want
    assert [c for c, _ in res.classes] == [start + (d + 1) * cpd - 1 for d in range(2)]
    # the QModel form of the cycle model agrees with the CoreConfig form
    assert cps == cycle_model.cycles_per_step(qm, DesignPoint(P, T, pipe))
    assert cpd == cycle_model.cycles_per_digit(qm, DesignPoint(P, T, pipe))


def test_mem_stages_cost_cycles_only_in_latency():
    """On the reference shape (H=64, N=64, L=4) the extra registers cost a few cycles per step
    (latency exposed between layers), not throughput."""
    qm = random_qmodel(64, 32, 4, resolve_plan("hetero"))
    base, fast = Pipeline(), Pipeline.fast()
    assert (fast.mem_stages, fast.requant_stages, fast.acc_stages) == (2, 1, 1)
    for P in (1, 2, 3):
        slow = cycle_model.cycles_per_step(qm, DesignPoint(P, pipeline=fast)) - cycle_model.cycles_per_step(qm, DesignPoint(P, pipeline=base))
        assert 0 <= slow <= 4, (P, slow)
    for name, bad in (("mem_stages", 4), ("requant_stages", 2), ("acc_stages", 2), ("mix_cols", 5)):
        with pytest.raises(HwssmError, match=name):
            Pipeline(**{name: bad})


def test_operand_regs_cost_no_cycle():
    """operand_regs moves the last memory register behind the operand multiplexers: the
    same cycles per step and per digit; it needs a memory register to move."""
    qm = random_qmodel(64, 32, 4, resolve_plan("hetero"))
    for pipe in (Pipeline.fast(), Pipeline.closure()):
        kept, moved = dataclasses.replace(pipe, operand_regs=0), dataclasses.replace(pipe, operand_regs=1)
        for P in (1, 2):
            assert (cycle_model.cycles_per_digit(qm, DesignPoint(P, pipeline=moved))
                    == cycle_model.cycles_per_digit(qm, DesignPoint(P, pipeline=kept)))
    assert "-op1" in DesignPoint(1, pipeline=moved).key() and "-op" not in DesignPoint(1, pipeline=kept).key()
    with pytest.raises(HwssmError, match="operand_regs = 1 needs mem_stages"):
        Pipeline(operand_regs=1)
    with pytest.raises(HwssmError, match="operand_regs"):
        Pipeline(mem_stages=2, operand_regs=2)


def test_default_pipeline_verilog_is_stable():
    """The default configuration's Verilog does not depend on the new options' code paths:
    explicitly passing the defaults gives byte-identical text."""
    from hwssm.hw.emit import verilog_text

    qm = random_qmodel(3, 2, 2, resolve_plan("hetero"), seed=4)
    a = verilog_text(HwssmCore(qm, DesignPoint(2, 3)))
    b = verilog_text(HwssmCore(qm, DesignPoint(2, 3, Pipeline(mem_stages=0, requant_stages=0),
                                                storage=ParamStorage.ROM, soft_mul_bits=0)))
    assert hashlib.sha256(a.encode()).digest() == hashlib.sha256(b.encode()).digest()
