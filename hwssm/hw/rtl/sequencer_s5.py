"""The S5 core's sequencer: time step → block → slot kind (B̄u, update, readout, GLU) → chunk.

It issues at most one slot per cycle, in the order and at the cycles of
:mod:`hwssm.hw.cycle_s5`, with the S4D sequencer's ports (:class:`~hwssm.hw.rtl.sequencer.Sequencer`):

- ``u_cnt``: values of the current block's input u written into the u banks (encoder for
  block 0, GLU residuals for the others), reset by -H after the block's last B̄u slot; B̄u
  chunk q needs ``min(H, kq+k)`` of them (k = ``Pipeline.mix_cols``);
- ``g_cnt``: GELU outputs of the current block (reset by -H after its last GLU slot); GLU
  chunk q needs ``min(H, kq+k)``;
- ``wait``: the fixed gaps before a block's first update (its bu rows written), its first
  readout (its new state written) and, with k = 8, its first GLU slot (the readout
  multipliers done), :func:`~hwssm.hw.cycle_s5.update_gap`,
  :func:`~hwssm.hw.cycle_s5.readout_gap`, :func:`~hwssm.hw.cycle_s5.glu_gap`.

A step starts as in the S4D core: the pixel buffer is full, the previous step has issued its
last slot, and at least ``p_min`` cycles have passed since the previous start. With
``Pipeline.issue_regs`` the counters' end tests are flip-flops updated with the counters, the
step timer is cleared at a start and the pixel buffer's take decision has a flip-flop of its
own, as in the S4D sequencer (no extra cycle).

``coef_addr`` walks the coefficient words in issue order; with ROM storage every readout slot
of a block reads its one identity word, with LOAD storage each reads its own C̃ word
(:mod:`hwssm.hw.storage`).
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal

from ..core_config import tree_stages
from ..cycle_model import Latencies
from ..cycle_s5 import glu_gap, readout_gap, update_gap
from ..options import ParamStorage
from .interfaces import awidth
from .sequencer import Sequencer

__all__ = ["S5Sequencer"]

WAIT, BU, UPD, RD, MIX, DRAIN = range(6)


class S5Sequencer(Sequencer):
    """Issue logic of an S5 core (members as :class:`~hwssm.hw.rtl.sequencer.Sequencer`).

    Parameters
    ----------
    cfg : CoreConfig
        With ``cfg.s5`` set.
    p_min : int
        Minimum distance between step starts (from the cycle model).
    """

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        H, L, P, T, Cs, KP, Q = cfg.H, cfg.L, cfg.P, cfg.T, cfg.Cs, cfg.KP, cfg.Q
        s5, pipe = cfg.s5, cfg.pipe
        NG, half = s5.glu_passes, s5.half
        K = pipe.mix_cols
        lat = Latencies(pipe.mul_stages, tree_stages(P, pipe.tree_levels_per_stage), pipe.mem_stages,
                        pipe.requant_stages, pipe.acc_stages, pipe.encdec_stages, pipe.align_stages)
        gu, gx, gg = update_gap(lat, Cs), readout_gap(lat, Cs), glu_gap(lat, K)
        iss = self.issue
        pmin = self._p_min
        load = cfg.storage is ParamStorage.LOAD

        phase = Signal(3, init=WAIT)
        t = Signal(awidth(T))
        par = Signal()
        l = Signal(awidth(L))
        h = Signal(awidth(H))
        c = Signal(awidth(Cs))
        kk = Signal(awidth(max(2 * Cs, NG)))
        kp = Signal(awidth(KP))                         # full GLU: value/gate pair kk div 2
        q = Signal(awidth(Q))
        coef_addr = Signal.like(iss.coef_addr)
        ssm_idx = Signal.like(iss.ssm_idx)
        row = Signal.like(iss.row)
        mixrow = Signal.like(iss.mixrow)
        xidx, xbase = Signal.like(iss.xidx), Signal.like(iss.xidx)
        cw = awidth(H + 1) + 2
        u_cnt, u_need = Signal(cw), Signal(cw, init=min(H, K))
        g_cnt, g_need = Signal(cw), Signal(cw, init=min(H, K))
        rem = Signal(cw, init=H)                        # channels not yet covered by gate passes
        wait = Signal(awidth(max(gu, gx, gg) + 1))
        ir = pipe.issue_regs  # end tests registered, timer cleared at a start (no extra cycle)
        timer = Signal(awidth(pmin + 1), init=0 if ir else pmin)
        timer_ok = Signal(init=1)
        pix_full = Signal()
        pix_data = Signal(cfg.in_width)

        start, fire_bu, fire_upd, fire_rd, fire_mix = Signal(), Signal(), Signal(), Signal(), Signal()
        # counter == a last value: a comparator, or (issue_regs) a flip-flop that every assignment
        # of the counter (zero / inc below) updates with it
        ends = {}

        def last(cnt, n, name, key):
            if not ir:
                return cnt == n - 1
            flag = Signal(name=f"{name}_last", init=int(n == 1))
            ends.setdefault(key, []).append((flag, n))
            return flag

        def zero(key, cnt):
            return [cnt.eq(0)] + [f.eq(int(n == 1)) for f, n in ends.get(key, [])]

        def inc(key, cnt):
            return [cnt.eq(cnt + 1)] + [f.eq(cnt == n - 2) for f, n in ends.get(key, [])]

        c_last, h_last, q_last = last(c, Cs, "c", "c"), last(h, H, "h", "h"), last(q, Q, "q", "q")
        bu_last, mix_last = last(kk, 2 * Cs, "bu", "kk"), last(kk, NG, "mix", "kk")
        l_last, t_last = last(l, L, "l", "l"), last(t, T, "t", "t")
        m.d.comb += [
            self.pix.ready.eq(~pix_full),
            start.eq((phase == WAIT) & pix_full & timer_ok),
            fire_bu.eq((phase == BU) & (u_cnt >= u_need)),
            fire_upd.eq((phase == UPD) & (wait == 0)),
            fire_rd.eq((phase == RD) & (wait == 0)),
            fire_mix.eq((phase == MIX) & (g_cnt >= g_need) & (wait == 0)),
            self.enc_start.eq(start), self.enc_pixel.eq(pix_data), self.par.eq(par),
            iss.ssm.eq(fire_rd), iss.upd.eq(fire_upd), iss.mix.eq(fire_bu | fire_mix), iss.bu.eq(fire_bu),
            iss.first_step.eq(t == 0), iss.l.eq(l), iss.h.eq(h),
            iss.coef_addr.eq(coef_addr), iss.ssm_idx.eq(ssm_idx), iss.row.eq(row), iss.xidx.eq(xidx),
            iss.crow.eq(Mux(phase == RD, L * Cs, xidx)),
            iss.c_first.eq(c == 0), iss.c_last.eq(c_last),
            iss.q.eq(q), iss.q_first.eq(q == 0), iss.q_last.eq(q_last), iss.mixrow.eq(mixrow),
            iss.kslot.eq(Mux(phase == BU, kk[1:], Mux(phase == UPD, c, kk if half else kp))),
            iss.gate.eq(Mux(phase == BU, kk[0], Const(1) if half else kk[0])),
            iss.pairs.eq(Mux(rem >= P, P, rem)),
        ]

        # pixel buffer (with issue_regs the take decision reads a flip-flop of its own, not the
        # ready output's)
        pix_empty = Signal(init=1) if ir else ~pix_full
        with m.If(start):
            m.d.sync += [pix_full.eq(0)] + ([pix_empty.eq(1)] if ir else [])
        with m.Elif(self.pix.valid & pix_empty):
            m.d.sync += [pix_full.eq(1), pix_data.eq(self.pix.payload)] + ([pix_empty.eq(0)] if ir else [])
        # timer_ok rises pmin cycles after a start; with issue_regs the timer counts from 0
        with m.If(start):
            m.d.sync += [timer.eq(0 if ir else min(1, pmin)), timer_ok.eq(int(pmin <= 1))]
        with m.Elif(~timer_ok):
            m.d.sync += [timer.eq(timer + 1), timer_ok.eq(timer == (pmin - 2 if ir else pmin - 1))]
        with m.If(wait != 0):
            m.d.sync += wait.eq(wait - 1)

        # credits
        k1 = min(H, K)
        m.d.sync += [
            u_cnt.eq(u_cnt + self.enc_written + self.r_written - Mux(fire_bu & q_last & bu_last, H, 0)),
            g_cnt.eq(g_cnt + self.g_written - Mux(fire_mix & q_last & mix_last, H, 0)),
        ]
        for fire, need in ((fire_bu, u_need), (fire_mix, g_need)):
            with m.If(fire):
                m.d.sync += need.eq(Mux(q_last, k1, Mux(need + K > H, H, need + K)))

        with m.If(start):
            m.d.sync += [phase.eq(BU), *zero("l", l), *zero("h", h), *zero("c", c), *zero("kk", kk), kp.eq(0),
                         *zero("q", q), coef_addr.eq(0), ssm_idx.eq(0), row.eq(0), mixrow.eq(0), xidx.eq(0),
                         xbase.eq(0), rem.eq(H)]
        with m.If(fire_bu | fire_mix):
            m.d.sync += coef_addr.eq(coef_addr + 1)
            with m.If(q_last):
                m.d.sync += [*zero("q", q), mixrow.eq(mixrow + 1), *inc("kk", kk)]
            with m.Else():
                m.d.sync += inc("q", q)
        with m.If(fire_bu & q_last & bu_last):
            m.d.sync += [*zero("kk", kk), phase.eq(UPD), wait.eq(gu - 1)]
        with m.If(fire_upd):
            m.d.sync += [coef_addr.eq(coef_addr + 1), xidx.eq(xidx + 1), *inc("c", c)]
            with m.If(c_last):
                m.d.sync += [*zero("c", c), xidx.eq(xbase), phase.eq(RD), wait.eq(gx - 1)]
        with m.If(fire_rd):
            m.d.sync += [ssm_idx.eq(ssm_idx + 1), xidx.eq(xidx + 1), *inc("c", c)]
            if load:   # one C̃ word per readout slot (ROM: all read the identity word)
                m.d.sync += coef_addr.eq(coef_addr + 1)
            with m.If(c_last):
                m.d.sync += [*zero("c", c), xidx.eq(xbase), row.eq(row + 1), *inc("h", h)]
                with m.If(h_last):
                    # past the identity word (LOAD: the last C̃ word); the GLU passes start at kk = q = 0
                    # (left so by B̄u)
                    m.d.sync += [*zero("h", h), phase.eq(MIX), *([] if load else [coef_addr.eq(coef_addr + 1)]),
                                 wait.eq(gg)]
        with m.If(fire_mix & q_last):
            if half:
                m.d.sync += rem.eq(rem - P)
            else:
                with m.If(kk[0]):
                    m.d.sync += [kp.eq(kp + 1), rem.eq(rem - P)]
            with m.If(mix_last):
                m.d.sync += [*zero("kk", kk), kp.eq(0), rem.eq(H)]
                with m.If(l_last):
                    m.d.sync += [*zero("l", l), xbase.eq(0), xidx.eq(0)]
                    with m.If(t_last):
                        m.d.sync += [*zero("t", t), par.eq(0), phase.eq(DRAIN)]
                    with m.Else():
                        m.d.sync += [*inc("t", t), par.eq(~par), phase.eq(WAIT)]
                with m.Else():
                    m.d.sync += [*inc("l", l), phase.eq(BU), xbase.eq(xbase + Cs), xidx.eq(xbase + Cs)]
        with m.If((phase == DRAIN) & self.dec_done):
            m.d.sync += phase.eq(WAIT)
        return m
