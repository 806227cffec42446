"""The cycle model: the reference shape's utilization and the schedule's invariants.

(Exact agreement with cycles counted in RTL is tested in test_core.py.)
"""

from __future__ import annotations

import pytest

from hwssm.hw import cycle_model
from hwssm.hw.derive import derive
from hwssm.hw.options import DesignPoint
from hwssm.quant.random_qmodel import random_qmodel


@pytest.fixture(scope="module")
def ref():
    return random_qmodel(64, 32, 4)  # L=4, H=64, N=64 → M=32


@pytest.mark.parametrize("P", [1, 4, 16])
def test_reference_utilization_at_least_95_percent(ref, P):
    cfg = derive(ref, DesignPoint(P, 784))
    ideal = cycle_model.useful_lane_cycles(cfg) / P
    per_step = cycle_model.cycles_per_step(cfg)
    assert per_step >= ideal
    assert cycle_model.utilization(cfg) >= 0.95
    # steady state: the step period is the issue length, not the anti-overtaking bound
    s = cycle_model.step_schedule(cfg)
    assert s.p_min < s.period == s.last_issue + 1


def test_schedule_is_in_order_and_respects_dependencies(ref):
    cfg = derive(ref, DesignPoint(4, 784))
    s = cycle_model.step_schedule(cfg)
    lat = cycle_model.Latencies(cfg.pipe.mul_stages, cfg.tree_stages)
    slots = []
    for l in range(cfg.L):
        slots += [t for row in s.ssm[l] for t in row] + [t for kk in s.mix[l] for t in kk]
    assert all(b > a for a, b in zip(slots, slots[1:]))
    for l in range(1, cfg.L):
        for h in range(cfg.H):
            assert s.ssm[l][h][0] >= s.glu[l - 1][h] + lat.r
    assert cycle_model.cycles_per_digit(cfg) == (cfg.T - 1) * s.period + cycle_model.digit_tail(cfg)


def test_model_from_qmodel_equals_model_from_config(ref):
    for P in (1, 3, 16):
        cfg = derive(ref, DesignPoint(P, 784))
        assert cycle_model.cycles_per_step(ref, DesignPoint(P)) == cycle_model.cycles_per_step(cfg)
        assert cycle_model.cycles_per_digit(ref, DesignPoint(P, 784)) == cycle_model.cycles_per_digit(cfg)
        assert cycle_model.utilization(ref, DesignPoint(P)) == cycle_model.utilization(cfg)


def test_lanes_beyond_work_lower_utilization(ref):
    # P > M leaves lanes idle in S4D slots: utilization must show it, not hide it
    assert cycle_model.utilization(derive(ref, DesignPoint(64, 784))) < 0.75
