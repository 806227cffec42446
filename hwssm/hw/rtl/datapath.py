"""The P-lane datapath: lanes, their parameter ROMs and state RAMs, the reduction tree,
the row finish (readout → y), GELU, and the g and value/gate buffers.

Memory map (every memory has a synchronous read port, so Yosys infers block RAM):

========================  =====================================  =================================
memory (per lane p)       address                                word
========================  =====================================  =================================
``coef{p}`` ROM           issue order: per layer, H·Cs S4D slots  {Ār, Āi, B̄r, B̄i} of mode c·P+p,
                          then 2·KP·Q mixing slots               or k = mix_cols mixing weights
``cbar{p}`` ROM           (l·H + h)·Cs + c                       {C̄r, C̄i}
``x{p}`` RAM              (l·H + h)·Cs + c                       {xr, xi} (zero-initialised)
``mixc{p}`` ROM           l·2KP + kk                             bias (pre-aligned), shifts
========================  =====================================  =================================

With :attr:`~hwssm.hw.storage.ParamStorage.LOAD` the coefficient ROM and the C̄ ROM of a
lane become single-port 16-bit RAM slices ``coef{p}_s{s}`` (no init; written by the
loader, then only read), whose word packs {Ār, Āi, B̄r, B̄i, C̄r, C̄i} or k weights (C̄ is
delayed from the operand stage to the readout stage), and the state RAM becomes two
single-port banks ``x{p}_b0``/``x{p}_b1``: step t reads bank t mod 2 and writes the other
(see :mod:`hwssm.hw.storage`; built by :mod:`.load_memories`). An S5 core's LOAD words are its
B̄u/GLU rows, Λ̄ and one C̃ word per readout slot; its state RAM stays as with ROM storage.

Shared: ``rowc`` ROM (S4D row constants, l·H + h), ``gelu`` ROM (l, y code), k = mix_cols
``g`` banks (g[h] at bank h mod k, word h div k; with k >= 6 banks 4 and 5 reach the lanes
through a multiplexer that gives u in complex mode), ``vval`` / ``vgate`` RAMs (one P·a-bit word
per pass pair: lane p's v at bits p·a). Parameters are effective integers (code - zero),
pre-subtracted at generation (signed, b+1 bits for asymmetric tensors).

An S5 core (``cfg.s5``, :mod:`hwssm.hw.derive_s5`) runs the same lanes, tree, row finish,
GELU and buffers with four slot kinds (B̄u, update, readout, GLU) and adds the parts of
:mod:`.datapath_s5` (u banks, bu buffers, per-lane update-shift ROMs, real-mode narrowing);
its state RAM ``x{p}`` has L·Cs words (l·Cs + c), written by the updates only, and the row
finish adds the y bias δ.

Data registers (memory read registers, the S4D row-constant chain, lane and tree data,
the row finish) are not reset; the control that qualifies them is.

Timing (τ = issue cycle, s = ``Pipeline.mem_stages``, q = ``Pipeline.requant_stages``):
memory data at τ+1, registered s times; lane operands at τ+1+s (with ``Pipeline.operand_regs`` the
last of the s registers is the lanes' operand register, behind their multiplexers); state write at τ+3+ms+s+q;
tree output τ_R = τ+4+2ms+T+s+q; y at τ_R+2+q+a; g written at τ_R+3+q+a; value/gate rows
written at τ+4+ms+s+q+a (a = ``Pipeline.acc_stages`` + ``Pipeline.align_stages``).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..core_config import CoreConfig, ceil_log2
from ..storage import LOAD_WORD_BITS, ParamStorage, bank_depth
from .act_width import deficit_at, fit_deficit
from .banks import banked_ram, rom_q
from .interfaces import awidth, issue_signature, mem_depth, rom
from .lane import Lane
from .load_memories import load_coef, state_banks
from .datapath_s5 import S5Parts
from .ops import chain, delay, mul, requant, resize, shl
from .tree import AdderTree

__all__ = ["Datapath"]


class Datapath(wiring.Component):
    """P complex-MAC lanes with their memories, the tree, row finish, GELU and buffers.

    Members
    -------
    issue : In(issue_signature)
        The slot issued this cycle (from the sequencer).
    u : In(signed(a))
        u[h] of the S4D slot issued ``1 + mem_stages - operand_regs`` cycles before.
    g_written : Out(1)
        One g value was written this cycle (in order l, h).
    pass_done, pass_pairs : Out
        A gate pass wrote its rows this cycle, completing ``pass_pairs`` channels.
    vrd_addr : In ; vrd_val, vrd_gate : Out
        Read port of the value/gate buffers (data one cycle after the address).
    ld_wen, ld_seg, ld_addr, ld_data : In
        LOAD storage only: a load-image word for coefficient slice ``ld_seg`` (from
        :class:`~hwssm.hw.rtl.loader.ParamLoader`).
    par : In(1)
        LOAD storage only: parity of the step whose slot issues this cycle (state bank).
    """

    def __init__(self, cfg: CoreConfig):
        self._cfg = cfg
        a, P = cfg.a, cfg.P
        members = {
            "issue": In(issue_signature(cfg)),
            "u": In(signed(a)),
            "g_written": Out(1),
            "pass_done": Out(1),
            "pass_pairs": Out(awidth(P + 1)),
            "vrd_addr": In(awidth(mem_depth(cfg.KP))),
            "vrd_val": Out(P * a),
            "vrd_gate": Out(P * a),
        }
        if cfg.storage is ParamStorage.LOAD:
            members.update({
                "ld_wen": In(1), "ld_seg": In(awidth(len(cfg.load.segments))),
                "ld_addr": In(awidth(cfg.load.depth)), "ld_data": In(LOAD_WORD_BITS),
                "par": In(1),
            })
        if cfg.s5 is not None:
            members.update({"uw_en": In(1), "uw_h": In(awidth(cfg.H)), "uw_data": In(signed(a))})
        super().__init__(members)
        self.lanes = [Lane(cfg.lane) for _ in range(P)]
        self.tree = AdderTree(P, cfg.rowsum_width, cfg.pipe.tree_levels_per_stage)

    @property
    def latency_tree_out(self) -> int:
        """Issue → tree output (τ_R - τ)."""
        return 1 + self._cfg.pipe.mem_stages + self.lanes[0].latency_partial + self.tree.latency

    def elaborate(self, platform):
        m = Module()
        cfg, a, P = self._cfg, self._cfg.a, self._cfg.P
        lc = cfg.lane
        ms = lc.mul_stages
        iss = self.issue
        lane0 = self.lanes[0]
        s = cfg.pipe.mem_stages  # registers after each memory read
        # with operand_regs the last of them is the lanes' operand register (behind the
        # operand multiplexers): the lanes' stage-0 inputs and u come at τ+so, the
        # registered operands at τ+1+s as without
        op = cfg.pipe.operand_regs
        so = s - op
        bk = cfg.pipe.bank_words  # deep coefficient ROMs split into banks (0: not)
        for p, lane in enumerate(self.lanes):
            m.submodules[f"lane{p}"] = lane
        m.submodules.tree = self.tree

        # -- shared S4D row constants, chained to the stages that use them ------------
        TR = self.latency_tree_out  # τ_R - τ
        row_raw = rom(m, "rowc", cfg.ssm_table.words(), cfg.ssm_table.width, iss.row)
        fa = cfg.pipe.acc_stages  # registers before the row finish (as in the lanes)
        fl = cfg.pipe.align_stages  # registers between its alignment and its add (as in the lanes)
        rtaps = chain(m, row_raw, TR + fa + fl, "rowc_d", reset_less=True)  # rtaps[k] is at τ+1+k; lane stage k at rc[s+k]
        rc = [cfg.ssm_table.unpack(t) for t in rtaps]

        # context at τ+1
        ssm1 = delay(m, iss.ssm, 1, "ssm1")
        mix1 = delay(m, iss.mix, 1, "mix1")
        first_step1 = delay(m, iss.first_step, 1, "fs1")
        q_first1 = delay(m, iss.q_first, 1, "qf1")
        q_last1 = delay(m, iss.q_last, 1, "ql1")
        # lane stage 0 (operands) at τ+1+s (their inputs at τ+1+so)
        ssm_o, mix_o, first_step_o = delay(m, ssm1, so, "ssmo"), delay(m, mix1, so, "mixo"), delay(m, first_step1, so, "fso")
        q_first_o, q_last_o = delay(m, q_first1, so, "qfo"), delay(m, q_last1, so, "qlo")

        # g banks (broadcast to every lane in real mode): g[h] in bank h mod k, word h div k
        k = cfg.pipe.mix_cols
        gw = {"en": Signal(), "h": Signal.like(iss.h), "data": Signal(a)}
        hb = len(iss.h)
        kb = ceil_log2(k)
        if k & (k - 1) == 0:
            g_bank, g_word = gw["h"][:min(kb, hb)], (gw["h"][kb:] if hb > kb else 0)
        else:
            # k = 6: a bank/word counter pair that follows the in-order writes (h = 0 restarts)
            g_bank, g_word = Signal(kb), Signal(awidth(mem_depth(cfg.Q)))
            nb, nw = Signal(kb), Signal.like(g_word)
            m.d.comb += [g_bank.eq(Mux(gw["h"] == 0, 0, nb)), g_word.eq(Mux(gw["h"] == 0, 0, nw))]
            with m.If(gw["en"]):
                m.d.sync += [nb.eq(Mux(g_bank == k - 1, 0, g_bank + 1)), nw.eq(Mux(g_bank == k - 1, g_word + 1, g_word))]
        g_rd = []
        for b in range(k):
            mem = memory.Memory(shape=a, depth=mem_depth(cfg.Q), init=[])
            m.submodules[f"g{b}"] = mem
            wp = mem.write_port()
            rp = mem.read_port()
            m.d.comb += [
                wp.en.eq(gw["en"] & (g_bank == b)),
                wp.addr.eq(g_word),
                wp.data.eq(gw["data"]),
                rp.addr.eq(iss.q),
            ]
            g_rd.append(delay(m, rp.data, so, f"g{b}_q", reset_less=True).as_signed())
        s5 = cfg.s5
        if k >= 6 and s5 is None:
            # the B̄·u multipliers' second operand: u in complex mode (one mux for all lanes)
            for b in (4, 5):
                g_rd[b] = Mux(mix_o, g_rd[b], self.u)
        if s5 is not None:
            s5p = S5Parts(self, cfg, m)
            g_rd, upd_o = s5p.operands(g_rd, so, mix_o)  # at the lanes' stage-0 inputs (τ+1+so)

        # -- lanes -----------------------------------------------------------------------
        fw = cfg.coef_field_widths
        xr_w, xi_w = cfg.xr_width, cfg.xi_width
        xdepth = mem_depth(cfg.L * cfg.H * cfg.Cs) if s5 is None else mem_depth(cfg.L * cfg.Cs)
        x_addr = iss.ssm_idx if s5 is None else iss.xidx
        idx_x_wr = delay(m, x_addr, 1 + s + lane0.latency_state, "xwa")
        idx_c = delay(m, iss.ssm_idx, lane0.stage_c, "cra")
        # mixc at the row finish's alignment (w), its bias add (bias) and the requant (v)
        mixrow_a = delay(m, iss.mixrow, lane0.stage_wshift, "mra")
        load = cfg.storage is ParamStorage.LOAD
        if s5 is not None:
            upd_w = delay(m, upd_o, op + lane0.latency_state, "updw")   # with the lanes' x_valid
        if load and s5 is None:
            par1 = delay(m, self.par, 1 + so, "xpar1")                     # read bank, with the operands
            par_w = delay(m, self.par, 1 + s + lane0.latency_state, "xparw")  # with idx_x_wr
        v_fit = []   # each lane's v fitted to its row's width (per-layer activation widths only)
        for p, lane in enumerate(self.lanes):
            xw_data = Cat(lane.x_out.re, lane.x_out.im)
            if load:   # S5: the lanes' fields with Λ̄ = 1, B̄u = 0 in readout slots (ssm_o)
                fields, cbar = load_coef(self, m, p, mix_o, op + lane0.stage_c, ssm_o)
            if load and s5 is None:
                xdata = Mux(first_step_o, 0, state_banks(self, m, p, lane.x_valid, xw_data, idx_x_wr, par_w, par1, xdepth))
            else:
                if not load:
                    coef = rom_q(m, f"coef{p}", cfg.coef_words[p], sum(fw), iss.coef_addr, so, f"coef{p}_q", bk)
                    fields, pos = [], 0
                    for w in fw:
                        fields.append(coef[pos:pos + w].as_signed())
                        pos += w
                    cbar = rom_q(m, f"cbar{p}", cfg.c_words[p], lc.cr_width + lc.ci_width, idx_c, s, f"cbar{p}_q", bk)
                # S5: only the updates write the state (a readout slot passes it through) and
                # only they read the first step's state as zero
                x_en = lane.x_valid if s5 is None else lane.x_valid & upd_w
                x_zero = first_step_o if s5 is None else s5p.x_zero
                if bk and so >= 1 and xdepth > bank_depth(xr_w + xi_w, bk):
                    xdata = Mux(x_zero, 0, banked_ram(m, f"x{p}", xr_w + xi_w, xdepth, bk, x_addr, idx_x_wr,
                                                       x_en, xw_data, so))
                else:
                    xmem = memory.Memory(shape=xr_w + xi_w, depth=xdepth, init=[])
                    m.submodules[f"x{p}"] = xmem
                    xr = xmem.read_port()
                    xw = xmem.write_port()
                    m.d.comb += [
                        xr.addr.eq(x_addr),
                        xw.addr.eq(idx_x_wr), xw.en.eq(x_en),
                        xw.data.eq(xw_data),
                    ]
                    xdata = Mux(x_zero, 0, delay(m, xr.data, so, f"x{p}_q", reset_less=True))
                if s5 is not None:
                    fields = s5p.bu(p, fields, upd_o, so)
            mixc_t = cfg.mix_tables[p]
            mixc_raw = delay(m, rom(m, f"mixc{p}", mixc_t.words(), mixc_t.width, mixrow_a), s, f"mixc{p}_q", reset_less=True)
            mixc = mixc_t.unpack(mixc_raw)
            mixc_b = (mixc_t.unpack(delay(m, mixc_raw, lane0.align_stages, f"mixcb{p}", reset_less=True))
                      if lane0.align_stages else mixc)
            mixc_v = mixc_t.unpack(delay(m, mixc_raw, lane0.stage_vshift - lane0.stage_wshift, f"mixcv{p}",
                                         reset_less=True))
            if s5 is not None:
                s5p.lane_out(p, lane, mixc_t, mixc_raw)
            elif "vd" in mixc_t.shifts:   # per-layer activation widths: the row's V_l (at v)
                vd = mixc_t.unpack(delay(m, mixc_raw, lane0.latency_real - lane0.stage_wshift, f"mixcd{p}",
                                         reset_less=True))["vd"]
                v_fit.append(fit_deficit(m, lane.v, vd, lc.v_overflow, lc.v_width, f"nw_v{p}"))
            m.d.comb += [
                lane.cplx.eq(ssm_o if s5 is None else ssm_o | upd_o), lane.real.eq(mix_o), lane.first.eq(q_first_o),
                lane.last.eq(q_last_o),
                *[getattr(lane, f"f{i}").eq(fields[i]) for i in range(k)],
                lane.x.re.eq(xdata[:xr_w].as_signed()), lane.x.im.eq(xdata[xr_w:].as_signed()),
                lane.u.eq(self.u if s5 is None else 1),  # S5: the B̄·u multipliers take bu·1
                lane.c.re.eq(cbar[:lc.cr_width].as_signed()), lane.c.im.eq(cbar[lc.cr_width:].as_signed()),
                lane.bias.eq(mixc_b["bias"]),
            ]
            for i in range(k):
                m.d.comb += lane.g[i].eq(g_rd[i])
            uc = rc if s5 is None else s5p.update_table(p, lane, s)
            for name, sh in lc.shifts.items():
                if not sh.width:
                    continue
                port = getattr(lane, f"sh_{name}")
                if name in ("ar", "ai", "br", "ax", "ia", "bi"):
                    m.d.comb += port.eq(uc[s + lane.stage_align][name].var)
                elif name in ("re", "im", "xdr", "xdi"):
                    m.d.comb += port.eq(uc[s + lane.stage_round][name].var)
                elif name in ("cr", "ci"):
                    m.d.comb += port.eq(rc[s + lane.stage_readout_align][name].var)
                elif name == "w":
                    m.d.comb += port.eq(mixc["w"].var)
                elif name == "v":
                    m.d.comb += port.eq(mixc_v["v"].var)
            m.d.comb += self.tree.i[p].eq(lane.part)

        # -- D·u, carried to the row finish ----------------------------------------------
        du = Signal(signed(cfg.du_width))
        # (with operand_regs u comes at τ+so from the core's source multiplexer: registered
        # here like the lanes' operands, so that D·u too starts from a flip-flop)
        u_d = delay(m, self.u, op, "u_op", reset_less=True)
        m.d.comb += du.eq(mul(m, rc[s]["D"], u_d, cfg.soft_mul_bits))  # at τ+1+s
        du_f = delay(m, du, TR - 1 - s + fa, "du", reset_less=True)  # at τ_R + fa

        # -- row accumulate and finish (τ_R) ---------------------------------------------
        ctl = Cat(iss.ssm, iss.c_first, iss.c_last)
        ctl_r = delay(m, ctl, TR, "rctl")
        lh = Cat(iss.h, iss.l)
        q = cfg.pipe.requant_stages
        lh_r = chain(m, delay(m, lh, TR, "rlh"), 3 + q + fa + fl, "rlh_f")
        valid_r, cfirst_r, clast_r = ctl_r[0], ctl_r[1], ctl_r[2]
        rowsum = Signal(signed(cfg.rowsum_width), reset_less=True)
        acc_new = Signal(signed(cfg.rowsum_width))
        m.d.comb += acc_new.eq(Mux(cfirst_r, self.tree.o, rowsum + self.tree.o))
        with m.If(valid_r):
            m.d.sync += rowsum.eq(acc_new)
        fin = Signal(signed(cfg.fin_width), reset_less=True)
        fin_v = Signal()
        row = rowsum if fa else acc_new  # with fa: the registered row sum, one cycle later
        # with fl = align_stages the two aligned terms are registered before their add
        rf = rc[TR - 1 + fa]
        al = [delay(m, shl(m, row, rf["es"], cfg.fin_width), fl, "ralign", reset_less=True),
              delay(m, shl(m, du_f, rf["ed"], cfg.fin_width), fl, "dalign", reset_less=True)]
        if s5 is not None and s5.delta:   # S5: + δ, pre-aligned in the row table
            al.append(delay(m, resize(rf["dl"], cfg.fin_width), fl, "dlalign", reset_less=True))
        m.d.sync += [
            fin.eq(sum(al[1:], al[0])),
            fin_v.eq(delay(m, valid_r & clast_r, fa + fl, "finv")),
        ]
        y = Signal(signed(a), reset_less=True)
        y_v = Signal()
        yq = requant(m, fin, rc[TR + fa + fl]["sy"], cfg.y_rounding, cfg.y_overflow, a, stages=q, name="rq_y")
        if "yd" in cfg.ssm_table.shifts:   # per-layer activation widths: the row's Y_l
            yq = fit_deficit(m, yq, deficit_at(m, rc[TR + fa + fl]["yd"], q, "yd"), cfg.y_overflow, a, "nw_y")
        m.d.sync += [y.eq(yq),
                     y_v.eq(delay(m, fin_v, q, "yv"))]

        # -- GELU (τ_R+2+q+a address, τ_R+3+q+a data) and g write ------------------------
        hbits = len(iss.h)
        lb = ceil_log2(cfg.L)
        l_at_y = lh_r[2 + q + fa + fl][hbits:hbits + lb] if lb else Const(0, 0)
        gelu = rom(m, "gelu", cfg.gelu_words, a, Cat(y[:a - 1], ~y[a - 1], l_at_y))
        g_v = delay(m, y_v, 1, "gv")
        m.d.comb += [
            gw["en"].eq(g_v), gw["h"].eq(lh_r[3 + q + fa + fl][:hbits]), gw["data"].eq(gelu),
            self.g_written.eq(g_v),
        ]

        # -- value/gate buffers ----------------------------------------------------------
        LV = 1 + s + lane0.latency_real  # issue → v
        kslot_v = delay(m, iss.kslot, LV, "kv")
        gate_v = delay(m, iss.gate, LV, "gtv")
        pairs_v = delay(m, iss.pairs, LV, "prv")
        if s5 is None:
            vword = Cat(*(v_fit or [lane.v for lane in self.lanes]))
            v_ok = lane0.v_valid
        else:   # S5: B̄u rows go to the lanes' bu buffers, GLU rows (a bits) to these buffers
            vword = Cat(*[v[:a] for v in s5p.v])
            v_ok = lane0.v_valid & ~delay(m, iss.bu, LV, "buv")
        for name, en, out in (("vval", v_ok & ~gate_v, self.vrd_val),
                              ("vgate", v_ok & gate_v, self.vrd_gate)):
            if s5 is not None and s5.half and name == "vval":
                s5p.value_g(gw, gelu, out)
                continue
            mem = memory.Memory(shape=P * a, depth=mem_depth(cfg.KP), init=[])
            m.submodules[name] = mem
            wp, rp = mem.write_port(), mem.read_port()
            m.d.comb += [wp.en.eq(en), wp.addr.eq(kslot_v), wp.data.eq(vword),
                         rp.addr.eq(self.vrd_addr), out.eq(rp.data)]
        m.d.comb += [self.pass_done.eq(v_ok & gate_v), self.pass_pairs.eq(pairs_v)]
        return m
