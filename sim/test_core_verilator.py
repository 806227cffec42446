"""Golden engine vs the generated RTL in Verilator (through cocotb): exact, every output.

Rule: bit-exact — every r_{l+1}[t][h] of every step, block and channel, every logit and
every class equal the golden engine's; at full speed the RTL's cycle counts equal the
manifest's cycle model exactly.

- Randomized configurations: seeded random small QModels under various plans (extreme
  codes, per-head asymmetric, floor/wrap, split re/im formats), odd lane counts, H·M not a
  multiple of P, more lanes than modes, short sequences (T = 1 included), handshake stress.
- Reference designs (sim/references.py): 20 full 784-step sMNIST test digits each.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwssm.hw.options import DesignPoint, Pipeline
from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.verify.build import build
from hwssm.verify.contract import load_contract
from hwssm.verify.rtlgen import rtl_dir
from hwssm.verify.runner import RunOptions, check_model, golden_reference, run_digits
from hwssm.verify.wrapper import Traffic
from references import references

pytestmark = pytest.mark.verilator

#: Full digits per reference design in CI.
REFERENCE_DIGITS = 20

# name: (H, M, L, P, T, plan, extreme, seed, traffic)
CONFIGS = {
    "uniform8-P3": (5, 3, 2, 3, 9, NAMED_PLANS["uniform8"], False, 1, None),
    "hetero-extreme-P5-stress": (6, 7, 2, 5, 7, NAMED_PLANS["hetero"], True, 2, Traffic(96, 128, 3)),
    "perhead-asym-extreme-P7": (9, 4, 1, 7, 6, parse_code("A8x10-B4C6D5-W6-a6-h-asym"), True, 3, None),
    "floor-wrap-extreme-P2": (3, 5, 2, 2, 8, parse_code("A6.8x8.10-W5-a5-floor-wrap"), True, 4, None),
    "split-re-im-P1-T1": (4, 2, 1, 1, 1, parse_code("A8.5x12.9-B6C4D8-W8-a7"), False, 5, None),
    "uniform4-extreme-P16-stress": (3, 2, 3, 16, 5, NAMED_PLANS["uniform4"], True, 6, Traffic(200, 50, 9)),
    # Pipeline.mix_cols 6 and 8 (H not a multiple of the columns)
    "hetero-extreme-P3-mix8": (11, 4, 2, 3, 6, NAMED_PLANS["hetero"], True, 7, None),
    "perhead-asym-P4-mix6-stress": (13, 3, 2, 4, 5, parse_code("A8x10-B4C6D5-W6-a6-h-asym"), True, 8, Traffic(64, 64, 5)),
}
#: ``Pipeline.mix_cols`` of a config (default 4)
MIX_COLS = {"hetero-extreme-P3-mix8": 8, "perhead-asym-P4-mix6-stress": 6}


def _pixels(n, T, seed):
    pix = np.random.default_rng(seed).integers(0, 256, (n, T)).astype(np.uint8)
    pix[0] = 255  # saturating input
    pix[1] = 0
    return pix


def _assert_cycles(rep, contract, traffic):
    if traffic is None or traffic.full_speed:
        assert rep.cycles.digit_values() == [contract.cycles_per_digit]
        if contract.seq_len > 1:
            assert rep.cycles.step_values() == [contract.cycles_per_step]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_random_config_bit_exact(name):
    H, M, L, P, T, plan, extreme, seed, traffic = CONFIGS[name]
    qm = random_qmodel(H, M, L, plan, seed=seed, extreme=extreme, n_classes=10 if seed % 2 else 7)
    contract = load_contract(rtl_dir(qm, DesignPoint(P, T, Pipeline(mix_cols=MIX_COLS.get(name, 4)))))
    check_model(contract, qm)
    b = build(contract)
    rep = run_digits(b, _pixels(9, T, seed), golden_reference(qm),
                     options=RunOptions(jobs=2, batch=5, traffic=traffic or Traffic()))
    assert rep.ok, f"{name}: {rep.first.describe() if rep.first else rep.errors}"
    _assert_cycles(rep, contract, traffic)


@pytest.mark.slow
@pytest.mark.parametrize("ref", references(), ids=lambda r: r.name)
def test_reference_design_on_smnist_digits(ref):
    from hwssm.data import Split, load_mnist, sequences

    qm = ref.qmodel()
    contract = load_contract(ref.rtl if ref.rtl is not None else rtl_dir(qm, ref.design))
    check_model(contract, qm)
    b = build(contract)
    images, _ = load_mnist(Split.TEST)
    idx = np.arange(REFERENCE_DIGITS)
    rep = run_digits(b, sequences(images[idx]), golden_reference(qm), idx, RunOptions(jobs=2))
    assert rep.digits == REFERENCE_DIGITS
    assert rep.ok, f"{ref.name}: {rep.first.describe() if rep.first else rep.errors}"
    _assert_cycles(rep, contract, None)
