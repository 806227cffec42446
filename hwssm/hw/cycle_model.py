"""The cycle model of the core: exact issue times, step period, digit period, utilization.

One time step is an in-order stream of *issue slots* (one per clock at most), per block l:
``H·Cs`` S4D slots (channel h, mode chunk c: lanes p = 0..P-1 update modes m = c·P + p),
then ``2·KP·Q`` mixing slots (pass kk = 0..2KP-1, column chunk q: lane p computes output
row ``(kk mod 2)·H + (kk div 2)·P + p``, k = ``Pipeline.mix_cols`` columns kq..kq+k-1 per
cycle, Q = ceil(H/k)). A slot issues as soon as its operands exist (the sequencer's credit
counters):

- S4D (l = 0, h): the encoder has written r0[h] (the encoder starts with the step and
  writes one channel per cycle: visible ``5 + h`` cycles after the step start, +
  ``Pipeline.encdec_stages``);
- S4D (l >= 1, h): the GLU/residual unit has written r_l[h] (visible ``γ + 6``);
- mixing (l, q): GELU has written g[0 .. min(H, kq+k) - 1] of block l (visible
  ``LAT_G = 8 + 2·mul_stages + tree_stages`` after the last S4D slot of that channel, +
  ``Pipeline.acc_stages`` + ``Pipeline.align_stages``); with k = 8 the block's first mixing slot also comes at least
  ``1 + mix_gap`` cycles after its last S4D slot (:func:`mix_gap`);
- GLU op (l, h), in order, one per cycle: its value and gate rows are written (visible
  ``LAT_V = 5 + mul_stages`` after the last slot of the gate pass, + ``Pipeline.acc_stages`` +
  ``Pipeline.align_stages``).

With LayerNorm (every block, :mod:`hwssm.hw.rtl.layernorm`; one sequential unit) the unit
writes output h of a block ``latency + h`` cycles after the last of its H inputs
(:attr:`~hwssm.hw.norm_config.NormConfig.latency`): prenorm, its inputs are r_l as the encoder
or the GLU writes it and the S4D slot (l, h) waits for its output h (+1); postnorm, its inputs
are the GLU's residual sums and the S4D slot (l+1, h) waits for its output h (+1), which also
takes the GLU's place on dbg and in the pool. ``StepSchedule.norm_out`` holds those cycles.

A step starts (the pixel is taken and the encoder starts) one cycle after the previous
step's last slot, but not earlier than ``P_min`` cycles after the previous start:
``P_min`` keeps consecutive steps from overtaking each other in small networks (state
RAM read-after-write, the value/gate buffer, the encoder's double buffer; with
:attr:`~hwssm.hw.storage.ParamStorage.LOAD` storage also the state banks: step t's last
state write lands before step t+1's first state read of the same bank); for the
reference networks it is far below the step length and costs nothing. With LayerNorm it also
keeps the next step's first vector from reaching the unit before it is free (``busy``).

Utilization
-----------
A lane-cycle is *useful* when it does one complex mode update (8 multiplies), or k real
MACs of a mixing layer (a real-mode lane does k = ``mix_cols`` MACs per cycle). The useful
lane-cycles of one step are therefore ``L·(H·M + 2H·H/k)``; the encoder (H MACs per
step) and the decoder (once per digit) run on their own small multipliers and are not
counted. ``utilization = useful / (P · cycles_per_step)``; 1.0 means every lane does
useful work every cycle of a step.
"""

from __future__ import annotations

import dataclasses
import functools

from typing import Union

from ..quant.qmodel import QModel
from .core_config import CoreConfig, tree_stages
from .norm_config import norm_timing
from .options import DesignPoint, Pipeline, ParamStorage

__all__ = ["Latencies", "StepSchedule", "step_schedule", "cycles_per_step", "cycles_per_digit",
           "digit_tail", "last_to_class", "utilization", "useful_lane_cycles", "mix_gap"]


@dataclasses.dataclass(frozen=True)
class Latencies:
    """Fixed latencies of the datapath, in cycles (shared with the RTL's components)."""

    mul_stages: int
    tree_stages: int
    mem_stages: int = 0
    requant_stages: int = 0
    acc_stages: int = 0
    encdec_stages: int = 0
    align_stages: int = 0

    @property
    def enc_first(self) -> int:
        """Step start → r0[0] readable by an S4D slot (r0[h] at enc_first + h)."""
        return 5 + self.mem_stages + self.requant_stages + self.encdec_stages

    @property
    def x_write(self) -> int:
        """S4D slot → its state write (the cycle the RAM write port is enabled)."""
        return self.mul_stages + 3 + self.mem_stages + self.requant_stages

    @property
    def g(self) -> int:
        """Last S4D slot of a channel → its g readable by a mixing slot."""
        return (8 + 2 * self.mul_stages + self.tree_stages + self.mem_stages + 2 * self.requant_stages
                + self.acc_stages + self.align_stages)

    @property
    def v_write(self) -> int:
        """Last slot of a mixing pass → its value/gate buffer write."""
        return 4 + self.mul_stages + self.mem_stages + self.requant_stages + self.acc_stages + self.align_stages

    @property
    def v(self) -> int:
        """Last slot of a gate pass → the GLU may start on its channels."""
        return 5 + self.mul_stages + self.mem_stages + self.requant_stages + self.acc_stages + self.align_stages

    @property
    def glu_out(self) -> int:
        """GLU op → r_{l+1}[h] written (dbg_valid, pool write)."""
        return 5 + self.mem_stages + 2 * self.requant_stages

    @property
    def r(self) -> int:
        """GLU op → r_{l+1}[h] readable by an S4D slot."""
        return 6 + self.mem_stages + 2 * self.requant_stages


def mix_gap(pipe: Pipeline) -> int:
    """Idle cycles between a block's last S4D slot and its first mixing slot (beyond the
    next cycle) with ``mix_cols = 8``: a complex item uses the readout multipliers at lane
    stage ``stage_c = mul_stages + 2 + requant_stages``, a real item at stage 0, so no real
    item may issue exactly ``stage_c`` cycles after a complex one. 0 for 4 and 6 columns."""
    return pipe.mul_stages + 2 + pipe.requant_stages if pipe.mix_cols == 8 else 0


@dataclasses.dataclass(frozen=True)
class StepSchedule:
    """Issue times of one step, relative to its start cycle (the cycle the pixel is taken).

    Attributes
    ----------
    ssm : list[list[list[int]]]
        ``ssm[l][h][c]``: issue cycle of each S4D slot.
    mix : list[list[list[int]]]
        ``mix[l][kk][q]``: issue cycle of each mixing slot.
    glu : list[list[int]]
        ``glu[l][h]``: cycle of each GLU op; r_{l+1}[h] appears on dbg at ``glu + 5``.
    last_issue : int
        Cycle of the step's last slot.
    p_min : int
        Smallest allowed distance between two step starts.
    period : int
        ``max(last_issue + 1, p_min)``: cycles per step in steady state.
    norm_out : list or None
        With LayerNorm (:mod:`hwssm.hw.rtl.layernorm`): ``norm_out[l][h]``, the cycle the unit
        writes its output h of block l (prenorm: n = u of block l; postnorm: r_{l+1}[h], on
        dbg then instead of at ``glu + 5``).
    bu, upd : list or None
        S5 only (:mod:`hwssm.hw.cycle_s5`): ``bu[l][kk][q]`` the B̄u slots, ``upd[l][c]`` the
        state updates; ``ssm`` then holds the readout slots and ``mix`` the GLU passes.
    """

    ssm: list
    mix: list
    glu: list
    last_issue: int
    p_min: int
    period: int
    bu: list | None = None
    upd: list | None = None
    norm_out: list | None = None


Model = Union[CoreConfig, QModel]


def _point(model: Model, design: DesignPoint | None) -> DesignPoint:
    """The design point of a CoreConfig (``design`` None), or ``design`` for a QModel."""
    if isinstance(model, CoreConfig):
        if design is not None:
            raise TypeError("the cycle model of a CoreConfig takes no DesignPoint (the config holds its own)")
        return DesignPoint(model.P, model.T, model.pipe, model.storage, model.soft_mul_bits)
    if not isinstance(design, DesignPoint):
        raise TypeError("the cycle model of a QModel needs its DesignPoint")
    from .derive import check_rtl_encoder   # the cycle model is the RTL's: only encoders it builds

    check_rtl_encoder(model)
    return design


@functools.lru_cache(maxsize=64)
def _schedule(H: int, M: int, L: int, P: int, ms: int, ts: int, pingpong: bool = False,
              mem: int = 0, res: int = 0, acc: int = 0, cols: int = 4, encdec: int = 0, align: int = 0,
              norm: tuple | None = None) -> StepSchedule:
    lat = Latencies(ms, ts, mem, res, acc, encdec, align)
    Cs, KP, Q = -(-M // P), -(-H // P), -(-H // cols)
    gap = mix_gap(Pipeline(mul_stages=ms, requant_stages=res, mix_cols=cols))
    t = 0  # the start cycle; slots issue from cycle 1 on
    ssm, mix, glu, nout = [], [], [], []
    glu_prev = -(1 << 30)
    for l in range(L):
        rows = []
        g_vis = []
        if norm is not None and norm[0]:   # prenorm: the LayerNorm of r_l, after its last channel
            last_in = lat.enc_first - 1 + H - 1 if l == 0 else glu[l - 1][H - 1] + lat.glu_out
            nout.append([last_in + norm[1] + h for h in range(H)])
        for h in range(H):
            if norm is None:
                ready = lat.enc_first + h if l == 0 else glu[l - 1][h] + lat.r
            elif norm[0]:
                ready = nout[l][h] + 1
            else:
                ready = lat.enc_first + h if l == 0 else nout[l - 1][h] + 1
            cs = []
            for _ in range(Cs):
                t = max(t + 1, ready)
                cs.append(t)
            rows.append(cs)
            g_vis.append(cs[-1] + lat.g)
        ssm.append(rows)
        passes = []
        t += gap  # the readout multipliers finish the last S4D slot first (mix_cols = 8)
        for kk in range(2 * KP):
            qs = []
            for q in range(Q):
                need = min(H, cols * q + cols)
                t = max(t + 1, g_vis[need - 1])
                qs.append(t)
            passes.append(qs)
        mix.append(passes)
        ops = []
        for h in range(H):
            k = h // P
            ready = passes[2 * k + 1][-1] + lat.v
            glu_prev = max(glu_prev + 1, ready)
            ops.append(glu_prev)
        glu.append(ops)
        if norm is not None and not norm[0]:   # postnorm: the LayerNorm of the residual sums
            nout.append([ops[-1] + lat.glu_out + norm[1] + h for h in range(H)])
    last = t
    # P_min: (1) state read-after-write, (2) value/gate buffer reuse, (3) encoder double buffer,
    # (4) ping-pong state banks: the last state write of a step before the next step's first read
    first_vwrite = mix[0][0][-1] + lat.v_write
    p_min = max(
        lat.x_write + 1,
        glu[-1][-1] - first_vwrite + 1,
        -(-(max(glu[0][h] - h for h in range(H)) - 2 - lat.mem_stages - lat.requant_stages - lat.encdec_stages) // 2),
        2,
        (ssm[-1][-1][-1] + lat.x_write + 1 - ssm[0][0][0]) if pingpong else 0,
        _norm_p_min(norm, lat, glu, H),
    )
    return StepSchedule(ssm, mix, glu, last, p_min, max(last + 1, p_min), norm_out=nout if norm is not None else None)


def _norm_p_min(norm, lat: Latencies, glu: list, H: int) -> int:
    """(5) the LayerNorm unit is one: the next step's first vector (block 0) may reach it only
    ``busy`` cycles after this step's last vector (block L-1) did."""
    if norm is None:
        return 0
    if norm[0]:
        return glu[-2][-1] + lat.glu_out + norm[2] - (lat.enc_first - 1) if len(glu) > 1 else \
            lat.enc_first - 1 + H - 1 + norm[2] - (lat.enc_first - 1)
    return glu[-1][-1] + norm[2] - glu[0][0]


def _s5(model: Model) -> tuple[int, bool] | None:
    """(modes Pm, half GLU) of an S5 core or model; None for S4D."""
    if isinstance(model, CoreConfig):
        return None if model.s5 is None else (model.s5.Pm, model.s5.half)
    from ..model.config import Family

    if getattr(model, "family", None) is not Family.S5:
        return None
    from ..model.s5_config import Glu

    return model.P, model.glu is Glu.HALF


def step_schedule(model: Model, design: DesignPoint | None = None) -> StepSchedule:
    """The issue schedule of one step (identical for every step) of a CoreConfig, or of a
    QModel built as ``design`` (only its lanes, pipeline and storage matter here; an S5 core's
    LOAD storage keeps its state in the ROM design's two-port RAM and costs no cycle)."""
    d = _point(model, design)
    pipe = d.pipeline
    s5 = _s5(model)
    if s5 is not None:
        from .cycle_s5 import schedule_s5

        lat = Latencies(pipe.mul_stages, tree_stages(d.lanes, pipe.tree_levels_per_stage), pipe.mem_stages,
                        pipe.requant_stages, pipe.acc_stages, pipe.encdec_stages, pipe.align_stages)
        return schedule_s5(model.H, s5[0], model.L, d.lanes, s5[1], lat, pipe.mix_cols)
    return _schedule(model.H, model.M, model.L, d.lanes, pipe.mul_stages,
                     tree_stages(d.lanes, pipe.tree_levels_per_stage), d.storage is ParamStorage.LOAD,
                     pipe.mem_stages, pipe.requant_stages, pipe.acc_stages, pipe.mix_cols, pipe.encdec_stages,
                     pipe.align_stages, norm_timing(model))


def cycles_per_step(model: Model, design: DesignPoint | None = None) -> int:
    """Cycles between consecutive step starts when pixels are always available."""
    return step_schedule(model, design).period


def digit_tail(model: Model, design: DesignPoint | None = None) -> int:
    """Last step start → next digit's first step start: last GLU op + 6, the decoder
    (n_classes·H cycles, one MAC per cycle), + 4 to the class, + 1 to restart (+ 1 in the
    GLU and + 1 in the decoder per ``Pipeline.mem_stages``, + 2 in the GLU per
    ``Pipeline.requant_stages``, + 2 in the decoder per ``Pipeline.encdec_stages``)."""
    pipe = _point(model, design).pipeline
    s = step_schedule(model, design)
    last = s.glu[-1][-1]
    if s.norm_out is not None and s.norm_out[-1][-1] > s.glu[-1][-1] + 5 + pipe.mem_stages + 2 * pipe.requant_stages:
        # postnorm: the last pool write is the LayerNorm's
        last = s.norm_out[-1][-1] - 5 - pipe.mem_stages - 2 * pipe.requant_stages
    return (last + model.n_classes * model.H + 10
            + 2 * pipe.mem_stages + 2 * pipe.requant_stages + 2 * pipe.encdec_stages)


def cycles_per_digit(model: Model, design: DesignPoint | None = None) -> int:
    """Cycles between the first step starts of consecutive digits (the digit period),
    with pixels always available and ``out_ready`` high. When pixel 0 of the first digit
    is taken at cycle ``a``, its class is on ``out`` at cycle ``a + cycles_per_digit``.

    T is the design point's sequence length (a CoreConfig's own).
    """
    T = _point(model, design).seq_len
    return (T - 1) * cycles_per_step(model, design) + digit_tail(model, design)


def last_to_class(model: Model, design: DesignPoint | None = None) -> int:
    """Cycles from the rising edge that takes the last pixel of a sequence to the first
    rising edge with the class on ``out``, when the pixels come back to back and
    ``out_ready`` is high. Pixel t+1 is taken the cycle after step t starts (the one-entry
    pixel buffer), so for T >= 2 the last pixel is taken 2 + (T-2)·period cycles after pixel
    0 and the latency is ``period + digit_tail - 2``; for T = 1 it is ``cycles_per_digit``.
    A last pixel that comes after the core has gone idle gives ``digit_tail`` (the least)."""
    T = _point(model, design).seq_len
    if T == 1:
        return cycles_per_digit(model, design)
    return cycles_per_step(model, design) + digit_tail(model, design) - 2


def useful_lane_cycles(model: Model, mix_cols: int = 4) -> float:
    """Useful lane-cycles of one step: L·(H·M + 2·H·H/k), k = ``mix_cols`` (see the module
    docstring)."""
    return model.L * (model.H * model.M + 2 * model.H * model.H / mix_cols)


def utilization(model: Model, design: DesignPoint | None = None) -> float:
    """Useful lane-cycles / (P · cycles_per_step)."""
    d = _point(model, design)
    s5 = _s5(model)
    if s5 is not None:
        from .cycle_s5 import useful_lane_cycles_s5

        return (useful_lane_cycles_s5(model.H, s5[0], model.L, s5[1], d.pipeline.mix_cols)
                / (d.lanes * cycles_per_step(model, design)))
    return useful_lane_cycles(model, d.pipeline.mix_cols) / (d.lanes * cycles_per_step(model, design))
