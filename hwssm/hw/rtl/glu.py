"""GLU, residual and sum-pool: one channel per cycle, in the order (t, l, h).

For channel h of block l: ``z = requant(v[h]·SIGMOID_l[v[H+h]], fv + fσ, Z)``, then
``r_{l+1}[h] = requant(align(z) + align(u[h]), F, R_{l+1})`` (u = r_l[h]), written in
place of r_l[h] (block 0 reads u from the encoder's double buffer), emitted on the
verification stream, and summed into the pool after the last block.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..core_config import CoreConfig, ceil_log2
from ..rom_table import Shift
from .interfaces import awidth, mem_depth, rom
from .act_width import fit_deficit
from .ops import ShiftAmt, chain, delay, requant, shl

__all__ = ["GluUnit"]


def _layer_shift(values, l) -> ShiftAmt:
    sh = Shift.of(values)
    if sh.const:
        return ShiftAmt(sh.lo, None)
    arr = Array([Const(v - sh.lo, sh.width) for v in values])
    return ShiftAmt(sh.lo, arr[l])


class GluUnit(wiring.Component):
    """The GLU / residual / pool unit (one channel per cycle, one multiplier).

    Members
    -------
    pass_done, pass_pairs : In
        Credits: a gate pass completed this many channels.
    vrd_addr : Out ; vrd_val, vrd_gate : In
        Value/gate buffer read (one P·a-bit word per pass pair).
    rb_addr, rb_data, r0_addr, r0_data : residual input u (r buffer / r0 double buffer).
    rw_en, rw_addr, rw_data : Out
        r buffer write of r_{l+1}[h].
    pool_raddr, pool_rdata, pool_wen, pool_waddr, pool_wdata : the pool RAM (read-modify-write).
    dbg : Out(stream, always ready)
        r_{l+1}[h] for every (t, l, h), in that order.
    r_written : Out(1)
        A residual of block l < L-1 was written (one credit for the sequencer).
    digit_done : Out(1)
        The last residual of the digit was pooled.

    Latency: an op issued at γ writes its outputs at γ + 5 + s + 2q, s = ``Pipeline.mem_stages``
    (a register after the sigmoid table and after the pool read), q = ``Pipeline.requant_stages``
    (a register inside each of the two requantizations). Throughput: one op per cycle.
    """

    def __init__(self, cfg: CoreConfig):
        self._cfg = cfg
        a, P, hb = cfg.a, cfg.P, awidth(cfg.H)
        super().__init__({
            "pass_done": In(1), "pass_pairs": In(awidth(P + 1)),
            "vrd_addr": Out(awidth(mem_depth(cfg.KP))), "vrd_val": In(P * a), "vrd_gate": In(P * a),
            "rb_addr": Out(hb), "rb_data": In(signed(a)),
            "r0_addr": Out(hb + 1), "r0_data": In(signed(a)),
            "rw_en": Out(1), "rw_addr": Out(hb), "rw_data": Out(signed(a)),
            "pool_raddr": Out(hb), "pool_rdata": In(signed(cfg.pool_width)),
            "pool_wen": Out(1), "pool_waddr": Out(hb), "pool_wdata": Out(signed(cfg.pool_width)),
            "dbg": Out(stream.Signature(signed(a), always_ready=True)),
            "r_written": Out(1), "digit_done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        H, L, P, T, a = cfg.H, cfg.L, cfg.P, cfg.T, cfg.a
        g = cfg.glu
        cnt = Signal(awidth(H + P + 1) + 1)
        fire = Signal()
        h = Signal(awidth(H))
        l = Signal(awidth(L))
        t = Signal(awidth(T))
        par = Signal()
        psel = Signal(awidth(P))
        kslot = Signal(awidth(mem_depth(cfg.KP)))
        h_last, l_last, t_last = h == H - 1, l == L - 1, t == T - 1
        # fire = (cnt != 0), registered from the next count (the op issue starts from a
        # flip-flop, not from a comparator)
        cnt_nz = Signal()
        cin = Signal(len(cnt))
        m.d.comb += [fire.eq(cnt_nz), cin.eq(cnt + Mux(self.pass_done, self.pass_pairs, 0))]
        m.d.sync += [cnt.eq(cin - fire), cnt_nz.eq(Mux(fire, cin != 1, cin != 0))]
        with m.If(fire):
            with m.If(h_last):
                m.d.sync += [h.eq(0), psel.eq(0), kslot.eq(0)]
                with m.If(l_last):
                    m.d.sync += l.eq(0)
                    with m.If(t_last):
                        m.d.sync += [t.eq(0), par.eq(0)]
                    with m.Else():
                        m.d.sync += [t.eq(t + 1), par.eq(~par)]
                with m.Else():
                    m.d.sync += l.eq(l + 1)
            with m.Else():
                m.d.sync += h.eq(h + 1)
                with m.If(psel == P - 1):
                    m.d.sync += [psel.eq(0), kslot.eq(kslot + 1)]
                with m.Else():
                    m.d.sync += psel.eq(psel + 1)
        m.d.comb += [self.vrd_addr.eq(kslot), self.rb_addr.eq(h), self.r0_addr.eq(Cat(h, par))]

        # context chain: γ .. γ+5+s+2q
        ds, q = cfg.pipe.mem_stages, cfg.pipe.requant_stages
        ctx = Cat(fire, t == 0, l_last, l == 0, t_last & l_last & h_last, h, l, psel)
        cx = chain(m, ctx, 5 + ds + 2 * q, "gctx")
        hb, lb, pb = len(h), len(l), len(psel)

        def f(i):
            c = cx[i]
            return {"v": c[0], "first": c[1], "lastl": c[2], "l0": c[3], "lastd": c[4],
                    "h": c[5:5 + hb], "l": c[5 + hb:5 + hb + lb], "psel": c[5 + hb + lb:5 + hb + lb + pb]}

        c1, c3, c4, c5 = f(1), f(3 + ds), f(4 + ds + q), f(5 + ds + 2 * q)
        # γ+1: select value and gate, fetch u, address the sigmoid table
        v1 = self.vrd_val.word_select(c1["psel"], a).as_signed()
        gate1 = self.vrd_gate.word_select(c1["psel"], a)
        u1 = Mux(c1["l0"], self.r0_data, self.rb_data)
        lbits = ceil_log2(L)
        sig = rom(m, "sigmoid", cfg.sig_words, cfg.sig_width,
                  Cat(gate1[:a - 1], ~gate1[a - 1], c1["l"][:lbits] if lbits else Const(0, 0)))
        v2, u2 = Signal(signed(a)), Signal(signed(a))
        m.d.sync += [v2.eq(v1), u2.eq(u1)]
        sig, v2, u2 = delay(m, sig, ds, "sig_q"), delay(m, v2, ds, "v2_q"), delay(m, u2, ds, "u2_q")
        # γ+2+s: v·σ
        prod3 = Signal(signed(g["prod_width"]))
        u3 = Signal(signed(a))
        m.d.sync += [prod3.eq(v2 * Cat(sig, Const(0, 1)).as_signed()), u3.eq(u2)]
        # γ+3+s: z (at γ+4+s+q)
        z4, u4 = Signal(signed(a)), Signal(signed(a))
        zq = requant(m, prod3, _layer_shift(g["z"], c3["l"]), g["z_rounding"], g["z_overflow"], a, stages=q, name="rq_z")
        if "zd" in g:   # per-layer activation widths: block l's Z_l
            zq = fit_deficit(m, zq, _layer_shift(g["zd"], f(3 + ds + q)["l"]), g["z_overflow"], a, "nw_z")
        m.d.sync += [z4.eq(zq),
                     u4.eq(delay(m, u3, q, "u3_q"))]
        # γ+4+s+q: residual (at γ+5+s+2q)
        rw = g["res_width"]
        res = shl(m, z4, _layer_shift(g["dz"], c4["l"]), rw) + shl(m, u4, _layer_shift(g["du"], c4["l"]), rw)
        r5 = Signal(signed(a))
        rq = requant(m, res, _layer_shift(g["r"], c4["l"]), g["r_rounding"], g["r_overflow"], a, stages=q, name="rq_r")
        if "rd" in g:   # per-layer activation widths: block l's R_{l+1}
            rq = fit_deficit(m, rq, _layer_shift(g["rd"], f(4 + ds + 2 * q)["l"]), g["r_overflow"], a, "nw_r")
        m.d.sync += r5.eq(rq)
        m.d.comb += self.pool_raddr.eq(f(4 + 2 * q)["h"])
        pool_q = delay(m, self.pool_rdata, ds, "pool_q")
        # γ+5+s+2q: write back, verification stream, pool
        m.d.comb += [
            self.rw_en.eq(c5["v"]), self.rw_addr.eq(c5["h"]), self.rw_data.eq(r5),
            self.dbg.valid.eq(c5["v"]), self.dbg.payload.eq(r5),
            self.pool_wen.eq(c5["v"] & c5["lastl"]), self.pool_waddr.eq(c5["h"]),
            self.pool_wdata.eq(Mux(c5["first"], 0, pool_q) + r5),
            self.r_written.eq(c5["v"] & ~c5["lastl"]),
            self.digit_done.eq(c5["v"] & c5["lastd"]),
        ]
        return m
