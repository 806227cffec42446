"""The cycle model of an S5 core: exact issue times of one step (see :mod:`hwssm.hw.cycle_model`).

Per block l, in issue order (one slot per cycle at most, Cs = ceil(Pm/P) mode chunks,
KP = ceil(H/P), Q = ceil(H/k) with k = ``Pipeline.mix_cols`` real-mode columns (4, 6 or 8;
written 4 below); :mod:`hwssm.hw.derive_s5` says what each slot computes):

- **B̄u** (real): passes kk = 0..2Cs-1, chunks q = 0..Q-1; chunk q needs the block input
  u[0 .. min(H, 4q+4) - 1] in the u banks (visible ``enc_first + h`` after the step start for
  l = 0, ``glu + r`` after the GLU op of the previous block);
- **update** (complex): Cs slots back to back, the first ``max(1, v_write + 2 - Cs)`` cycles
  after the last B̄u slot (the last bu row is written ``v_write`` after its pass);
- **readout** (complex): H·Cs slots (h, c) back to back, the first ``max(1, x_write + 2 - Cs)``
  cycles after the last update (every new state is written before it is read);
- **GLU** (real): half GLU KP passes, full GLU 2·KP, of Q chunks; chunk q needs
  g[0 .. min(H, 4q+4) - 1] (visible ``Latencies.g`` after the channel's last readout slot);
  with ``mix_cols = 8`` the first one also waits :func:`glu_gap` more cycles;
- **GLU op** (h, in order, one per cycle, not issue slots): after the gate pass of h
  (``Latencies.v``).

``P_min`` has the S4D rules (state read-after-write, value buffer reuse (for the half GLU also
GELU's writes of g into it), the encoder's double buffer).
"""

from __future__ import annotations

import functools

from .cycle_model import Latencies, StepSchedule

__all__ = ["schedule_s5", "useful_lane_cycles_s5", "update_gap", "readout_gap", "glu_gap"]


def update_gap(lat: Latencies, Cs: int) -> int:
    """Cycles from the last B̄u slot of a block to its first update slot."""
    return max(1, lat.v_write + 2 - Cs)


def readout_gap(lat: Latencies, Cs: int) -> int:
    """Cycles from the last update slot of a block to its first readout slot."""
    return max(1, lat.x_write + 2 - Cs)


def glu_gap(lat: Latencies, cols: int) -> int:
    """Idle cycles between a block's last readout slot and its first GLU slot (beyond the next
    cycle): with ``mix_cols = 8`` the readout multipliers finish the last readout first
    (:func:`hwssm.hw.cycle_model.mix_gap`), else 0."""
    return lat.mul_stages + 2 + lat.requant_stages if cols == 8 else 0


@functools.lru_cache(maxsize=64)
def schedule_s5(H: int, Pm: int, L: int, P: int, half: bool, lat: Latencies, cols: int = 4) -> StepSchedule:
    """The issue schedule of one step of an S5 core (times relative to the step start);
    ``cols`` = ``Pipeline.mix_cols``, the real-mode columns per lane-cycle."""
    k = cols
    Cs, KP, Q = -(-Pm // P), -(-H // P), -(-H // k)
    NG = KP if half else 2 * KP
    t = 0
    bu, upd, ssm, mix, glu = [], [], [], [], []
    glu_prev = -(1 << 30)
    for l in range(L):
        u_vis = [lat.enc_first + h if l == 0 else glu[l - 1][h] + lat.r for h in range(H)]
        passes = []
        for _ in range(2 * Cs):
            qs = []
            for q in range(Q):
                t = max(t + 1, u_vis[min(H, k * q + k) - 1])
                qs.append(t)
            passes.append(qs)
        bu.append(passes)
        t += update_gap(lat, Cs) - 1
        ups = []
        for _ in range(Cs):
            t += 1
            ups.append(t)
        upd.append(ups)
        t += readout_gap(lat, Cs) - 1
        rows, g_vis = [], []
        for _ in range(H):
            cs = []
            for _ in range(Cs):
                t += 1
                cs.append(t)
            rows.append(cs)
            g_vis.append(cs[-1] + lat.g)
        ssm.append(rows)
        t += glu_gap(lat, k)
        passes = []
        for _ in range(NG):
            qs = []
            for q in range(Q):
                t = max(t + 1, g_vis[min(H, k * q + k) - 1])
                qs.append(t)
            passes.append(qs)
        mix.append(passes)
        ops = []
        for h in range(H):
            gate = h // P if half else 2 * (h // P) + 1
            glu_prev = max(glu_prev + 1, passes[gate][-1] + lat.v)
            ops.append(glu_prev)
        glu.append(ops)
    first_vwrite = mix[0][0][-1] + lat.v_write
    if half:   # GELU writes g[0] of block 0 into the value buffer (the cycle before it is visible)
        first_vwrite = min(first_vwrite, ssm[0][0][-1] + lat.g - 1)
    p_min = max(
        lat.x_write + 1,
        glu[-1][-1] - first_vwrite + 1,
        -(-(max(glu[0][h] - h for h in range(H)) - 2 - lat.mem_stages - lat.requant_stages - lat.encdec_stages) // 2),
        2,
    )
    return StepSchedule(ssm, mix, glu, t, p_min, max(t + 1, p_min), bu=bu, upd=upd)


def useful_lane_cycles_s5(H: int, Pm: int, L: int, half: bool, cols: int = 4) -> float:
    """Useful lane-cycles of one step: per block the B̄u GEMV (2·Pm·H MACs, ``cols`` per
    lane-cycle), Pm mode updates, H·Pm readout pairs (one lane-cycle each) and the GLU Linear
    (J·H MACs)."""
    J = H if half else 2 * H
    k = cols
    return L * (2 * Pm * H / k + Pm + H * Pm + J * H / k)
