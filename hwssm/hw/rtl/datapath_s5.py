"""The S5 parts of the P-lane datapath (:class:`~hwssm.hw.rtl.datapath.Datapath` with ``cfg.s5``).

What an S5 core adds to the S4D datapath (:mod:`hwssm.hw.derive_s5` says what each slot computes):

- the **u banks**: the block input u = r_l of the B̄u passes, k = ``Pipeline.mix_cols`` banks
  (u[h] in bank h mod k, word h div k), written through the datapath's ``uw_*`` ports (encoder
  and GLU residuals) and multiplexed with the g banks onto the lanes' real-mode operands;
- per lane, the **bu buffers** (re, im; depth Cs): the B̄u passes write the lane's
  requantized row (address kk div 2), the updates read it (address c) into coefficient fields
  2, 3 (the B̄·u multipliers, whose other operand u is then 1);
- per lane, the **update-shift ROM** (rows l·Cs + c, and the readout identity row L·Cs);
- the **real-mode narrowing**: each lane output fitted to its row's own width (``vd``);
- with the half GLU, GELU's writes of g into the **value buffer** (the GLU's value is g).

Memory map additions: ``ub{b}`` (k × Q words of a bits), ``bur{p}``/``bui{p}`` (Cs words of
the BU widths), ``updc{p}`` ROM; the state RAM ``x{p}`` has L·Cs words (l·Cs + c).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import memory

from ..core_config import ceil_log2
from .interfaces import awidth, mem_depth, rom
from .ops import chain, delay, narrow, resize, wire

__all__ = ["S5Parts"]


class S5Parts:
    """Builds the S5 parts of one datapath's elaboration (in the datapath's module ``m``).

    Parameters
    ----------
    dp : Datapath
        The datapath being elaborated (its ports ``issue``, ``uw_*``, ``vrd_addr`` and its lanes).
    cfg : CoreConfig
        Its configuration (``cfg.s5`` set).
    m : Module

    Attributes
    ----------
    v : list
        Each lane's real-mode output, fitted to its row's width (filled by :meth:`lane_out`).
    x_zero : Value
        At the lanes' stage-0 inputs (τ+1+so): an update of the step's first step (its state
        reads as zero; set by :meth:`operands`).
    """

    def __init__(self, dp, cfg, m: Module):
        self._dp, self._cfg, self._m = dp, cfg, m
        self._buw = []
        self.v = []

    def operands(self, g_rd: list, so: int, mix_o):
        """The u banks (the block input of the B̄u passes: u[h] in bank h mod k, word h div k,
        k = ``Pipeline.mix_cols``, written in order h = 0..H-1 through ``uw_*``); returns the
        lanes' real-mode operands (u in B̄u passes, g otherwise; with k >= 6 the B̄·u
        multipliers' operands 4, 5 are 1 in complex mode) and the update flag at the lanes'
        stage-0 inputs, τ+1+so (``so`` = ``Pipeline.mem_stages - Pipeline.operand_regs``;
        ``mix_o``: a real-mode item there)."""
        dp, cfg, m = self._dp, self._cfg, self._m
        iss, a, hb, k = dp.issue, cfg.a, len(dp.uw_h), len(g_rd)
        kb = ceil_log2(k)
        if k & (k - 1) == 0:
            bank, word = dp.uw_h[:min(kb, hb)], (dp.uw_h[kb:] if hb > kb else 0)
        else:   # k = 6: a bank/word counter pair that follows the in-order writes (h = 0 restarts)
            bank, word = Signal(kb, name="ub_bank"), Signal(awidth(mem_depth(cfg.Q)), name="ub_word")
            nb, nw = Signal(kb, name="ub_nb"), Signal.like(word, name="ub_nw")
            m.d.comb += [bank.eq(Mux(dp.uw_h == 0, 0, nb)), word.eq(Mux(dp.uw_h == 0, 0, nw))]
            with m.If(dp.uw_en):
                m.d.sync += [nb.eq(Mux(bank == k - 1, 0, bank + 1)), nw.eq(Mux(bank == k - 1, word + 1, word))]
        ub = []
        for b in range(k):
            mem = memory.Memory(shape=a, depth=mem_depth(cfg.Q), init=[])
            m.submodules[f"ub{b}"] = mem
            wp, rp = mem.write_port(), mem.read_port()
            m.d.comb += [wp.en.eq(dp.uw_en & (bank == b)), wp.addr.eq(word), wp.data.eq(dp.uw_data), rp.addr.eq(iss.q)]
            ub.append(delay(m, rp.data, so, f"ub{b}_q", reset_less=True).as_signed())
        bu_o = delay(m, iss.bu, 1 + so, "buo")
        upd_o = delay(m, iss.upd, 1 + so, "updo")
        # an update of the first step reads its state as zero (one register: no gate before the mux)
        self.x_zero = delay(m, iss.first_step & iss.upd, 1 + so, "xzo")
        ops = [Mux(bu_o, u, g) for u, g in zip(ub, g_rd)]
        for b in (4, 5)[:max(0, k - 4)]:   # bu·1 through the B̄·u multipliers in complex mode
            ops[b] = Mux(mix_o, ops[b], 1)
        return [wire(m, op, f"op{i}") for i, op in enumerate(ops)], upd_o

    def bu(self, p: int, fields: list, upd_o, so: int) -> list:
        """Lane p's bu buffers (re, im; written at kk div 2 by the B̄u passes, read at c by the
        updates, read data registered ``so`` times as ``fields``, the lanes' stage-0 inputs);
        returns the coefficient fields with bu in fields 2, 3 during an update."""
        cfg, m, iss, fw = self._cfg, self._m, self._dp.issue, self._cfg.coef_field_widths
        out = list(fields)
        ports = []
        for part, width in enumerate(cfg.s5.bu_widths):
            name = f"bu{'ri'[part]}{p}"
            mem = memory.Memory(shape=signed(width), depth=mem_depth(cfg.Cs), init=[])
            m.submodules[name] = mem
            rp = mem.read_port()
            m.d.comb += rp.addr.eq(iss.kslot)
            rd = delay(m, rp.data, so, f"{name}_q", reset_less=True)
            out[2 + part] = Mux(upd_o, resize(rd, fw[2 + part]), fields[2 + part])
            ports.append((mem.write_port(), width))
        self._buw.append(ports)
        return out

    def update_table(self, p: int, lane, s: int) -> list:
        """Lane p's update shifts (table row ``crow``), indexed like the row constants: entry
        ``s + k`` is at lane stage k."""
        m, t = self._m, self._cfg.s5.upd_tables[p]
        raw = delay(m, rom(m, f"updc{p}", t.words(), t.width, self._dp.issue.crow), s, f"updc{p}_q", reset_less=True)
        return [None] * s + [t.unpack(x) for x in chain(m, raw, lane.stage_round, f"updc{p}_d", reset_less=True)]

    def lane_out(self, p: int, lane, mixc_t, mixc_raw) -> None:
        """Lane p's real-mode output fitted to its row's own width (``vd``, into :attr:`v`), and
        its bu buffer writes (B̄u passes: ``1 + s + latency_real`` after the issue)."""
        cfg, m, iss, lane0 = self._cfg, self._m, self._dp.issue, self._dp.lanes[0]
        s, q = cfg.pipe.mem_stages, cfg.pipe.requant_stages
        v = lane.v
        if "vd" in mixc_t.shifts:
            at_v = delay(m, mixc_raw, lane0.stage_vshift - lane0.stage_wshift + q + 1, f"mixco{p}", reset_less=True)
            amt = mixc_t.unpack(at_v)["vd"]
            d = Const(amt.lo, 6) + amt.var if amt.var is not None and len(amt.var) else Const(amt.lo, 6)
            v = narrow(m, v, d, cfg.lane.v_overflow, cfg.lane.v_width, f"nv{p}")
        LV = 1 + s + lane0.latency_real
        bu_v = delay(m, iss.bu, LV, f"bv{p}")
        part_v = delay(m, iss.gate, LV, f"bpv{p}")
        addr_v = delay(m, iss.kslot, LV, f"bav{p}")
        for part, (wp, width) in enumerate(self._buw[p]):
            m.d.comb += [wp.en.eq(lane.v_valid & bu_v & (part_v if part else ~part_v)), wp.addr.eq(addr_v),
                         wp.data.eq(v[:width])]
        self.v.append(v)

    def value_g(self, gw: dict, gelu, out) -> None:
        """Half GLU: the value buffer holds g itself, written by GELU (g[h] at word h div P,
        lane slot h mod P; the writes come in order h = 0..H-1)."""
        cfg, m = self._cfg, self._m
        a, P = cfg.a, cfg.P
        mem = memory.Memory(shape=P * a, depth=mem_depth(cfg.KP), init=[])
        m.submodules["vval"] = mem
        wp, rp = mem.write_port(granularity=a), mem.read_port()
        slot, word = Signal(awidth(P)), Signal(awidth(mem_depth(cfg.KP)))
        ns, nw = Signal.like(slot), Signal.like(word)
        m.d.comb += [slot.eq(Mux(gw["h"] == 0, 0, ns)), word.eq(Mux(gw["h"] == 0, 0, nw))]
        with m.If(gw["en"]):
            m.d.sync += [ns.eq(Mux(slot == P - 1, 0, slot + 1)), nw.eq(Mux(slot == P - 1, word + 1, word))]
        m.d.comb += [wp.en.eq(Cat(*[gw["en"] & (slot == i) for i in range(P)])), wp.addr.eq(word),
                     wp.data.eq(Cat(*[gelu] * P)), rp.addr.eq(self._dp.vrd_addr), out.eq(rp.data)]
