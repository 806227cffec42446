"""The LayerNorm unit (ARITHMETIC.md §7): one H-channel vector at a time, sequential.

Per vector (block l of step t, blocks in order):

1. **input**: the H codes x[h] arrive in channel order (``in_en``, any spacing), are stored
   in a private H-word RAM and summed into S1 = Σ x and S2 = Σ x²;
2. **V** (2 cycles): V = H·Q + E_l with Q = Σ d² = H·(H·S2 − S1²), the same integer as §7's
   sum of squares of d = H·x − S1 (Σ(H·x − S1)² = H²·S2 − 2H·S1·S1 + H·S1²), so no pass over
   the channels is needed before the normalization;
3. **normalization** (:attr:`~hwssm.hw.norm_config.NormConfig.iterations` cycles): m = V,
   j = 0, then per cycle ``m ≥ 2^22: m >>= 2, j += 1``, ``m < 2^20: m <<= 2, j −= 1``
   (so m = V >> 2j, truncated, in [2^20, 2^22) as §7 defines it);
4. **reciprocal square root** (1 + 22 cycles): ρ = the largest integer with m·ρ² ≤ 2^62,
   one bit per cycle from bit 21 down (= isqrt(⌊2^62/m⌋), §7), by the digit recurrence on
   R = 2^62 − m·ρ²: bit k is accepted when ``m·(2ρ·2^k + 2^(2k)) ≤ R`` (shifted registers,
   one subtract per cycle on the critical path);
5. **output pass** (H cycles + 6): ν = rshift(d·H·ρ, 15 + j, rounding of O),
   o = fit(floor((cg·ν + add) / 2^rsh), O), one channel per cycle (five registers).

Members
-------
in_en, in_data : In
    One input code (channel order).
out_en, out_h, out_data, out_l, out_first, out_last : Out
    One output code: channel, block, and whether the step is the first / last of the digit.
u_addr : In ; u_data : Out
    Read port of the output buffer (the last vector's outputs; data one cycle after the
    address): the S4D input of a prenorm core.
pool_raddr : Out
    The channel of the output written ``1 + mem_stages`` cycles later (a pool read ahead of
    its write, postnorm; ``mem_stages`` ≤ 4).

Latency: last input at τ → output h written at τ + ``NormConfig.latency`` + h; the next
vector's first input may come from τ + ``NormConfig.busy`` on (the unit is sequential).
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ...fixed import Rounding
from ..norm_config import REC_BITS, RHO_BITS, NormConfig
from .interfaces import awidth, mem_depth, rom
from .ops import chain, delay, requant

__all__ = ["LayerNormUnit"]

IN, VV, VV2, NRM, RS0, RS, OUT = range(7)
#: Registers of the output pass (read → d → d·H·ρ → ν → cg·ν + add → requant).
OUT_STAGES = 6


def _cmul(v, c: int):
    """``v·c`` for a constant ``c >= 1`` as a sum of shifted copies of ``v`` (no ``$mul`` cell,
    so synthesis never spends a hard multiplier on it)."""
    terms = [v << k for k in range(c.bit_length()) if (c >> k) & 1]
    return sum(terms[1:], terms[0])


class LayerNormUnit(wiring.Component):
    """The sequential integer LayerNorm of :mod:`hwssm.hw.rtl.layernorm` (see there)."""

    def __init__(self, nc: NormConfig, T: int, mem_stages: int = 0):
        if nc.H < 2:
            raise ValueError("the LayerNorm unit needs H >= 2")
        self._nc, self._T, self._ds = nc, int(T), int(mem_stages)
        hb = awidth(nc.H)
        super().__init__({
            "in_en": In(1), "in_data": In(signed(nc.a)),
            "out_en": Out(1), "out_h": Out(hb), "out_data": Out(signed(nc.a)), "out_l": Out(awidth(nc.L)),
            "out_first": Out(1), "out_last": Out(1),
            "u_addr": In(hb), "u_data": Out(signed(nc.a)),
            "pool_raddr": Out(hb),
        })

    def elaborate(self, platform):
        m = Module()
        nc = self._nc
        H, L, a, T = nc.H, nc.L, nc.a, self._T
        hb = awidth(H)
        state = Signal(range(OUT + 1), init=IN)
        cnt = Signal(hb)            # inputs taken
        i = Signal(hb)              # read counter of the output pass
        n = Signal(range(max(nc.iterations, RHO_BITS) + 1))
        lv = Signal(awidth(L))      # block of the vector
        tv = Signal(awidth(T))      # step of the vector
        S1 = Signal(signed(nc.s1_width))
        S2 = Signal(unsigned(nc.s2_width))
        s1sq = Signal(unsigned(2 * nc.s1_width))
        hs2 = Signal(unsigned(nc.s2_width + H.bit_length()))
        mw = max(nc.v_width - 1, 22)
        mm = Signal(unsigned(mw))
        j = Signal(signed(8))
        # the ρ recurrence at bit k: R = 2^62 − m·ρ², Pp = m·ρ·2^(k+1), M2 = m·2^(2k),
        # F = 5·m·2^(2k−2), inc = Pp + M2 (the trial's increment m·(2ρ·2^k + 2^(2k)))
        rw = REC_BITS
        R, Pp, M2, F, inc = (Signal(unsigned(rw), name=f"ln_{x}") for x in ("R", "P", "M2", "F", "inc"))
        rho = Signal(unsigned(RHO_BITS))
        s_sh = Signal(range(nc.s_max + 1))   # 15 + j

        xmem = memory.Memory(shape=signed(a), depth=mem_depth(H), init=[])
        m.submodules.ln_x = xmem
        xw, xr = xmem.write_port(), xmem.read_port()
        m.d.comb += [xw.en.eq(self.in_en & (state == IN)), xw.addr.eq(cnt), xw.data.eq(self.in_data),
                     xr.addr.eq(i)]

        # 1. input
        x2 = Signal(unsigned(2 * a))
        m.d.comb += x2.eq(self.in_data * self.in_data)
        with m.If(self.in_en & (state == IN)):
            m.d.sync += [S1.eq(Mux(cnt == 0, self.in_data, S1 + self.in_data)), S2.eq(Mux(cnt == 0, x2, S2 + x2))]
            with m.If(cnt == H - 1):
                m.d.sync += [cnt.eq(0), state.eq(VV)]
            with m.Else():
                m.d.sync += cnt.eq(cnt + 1)
        E = Array([Const(e, unsigned(max(1, e.bit_length()))) for e in nc.E])
        with m.Switch(state):
            # 2. V = H²·(H·S2 − S1²) + E (two cycles: the products, then V)
            with m.Case(VV):
                m.d.sync += [s1sq.eq(S1 * S1), hs2.eq(_cmul(S2, H)), state.eq(VV2)]
            with m.Case(VV2):
                m.d.sync += [mm.eq(_cmul(hs2 - s1sq, H * H) + E[lv]), j.eq(0), state.eq(NRM), n.eq(0), i.eq(0)]
            # 3. normalization of V to m ∈ [2^20, 2^22)
            with m.Case(NRM):
                m.d.sync += n.eq(n + 1)
                with m.If(mm >= (1 << 22)):
                    m.d.sync += [mm.eq(mm >> 2), j.eq(j + 1)]
                with m.Elif(mm < (1 << 20)):
                    m.d.sync += [mm.eq(mm << 2), j.eq(j - 1)]
                with m.If(n == nc.iterations - 1):
                    m.d.sync += state.eq(RS0)
            with m.Case(RS0):
                k0 = 2 * (RHO_BITS - 1)
                m.d.sync += [R.eq(1 << 62), Pp.eq(0), M2.eq(mm[:22] << k0), F.eq(_cmul(mm[:22], 5) << (k0 - 2)),
                             inc.eq(mm[:22] << k0), rho.eq(0), s_sh.eq(15 + j), n.eq(0), state.eq(RS)]
            # 4. ρ, bit 21 down to 0: accept when m·(ρ + 2^k)² ≤ 2^62, i.e. inc ≤ R (one subtract;
            #    every other sum comes from registers and is selected by the outcome)
            with m.Case(RS):
                diff = Signal(signed(rw + 1))
                m.d.comb += diff.eq(R - inc)
                ok = ~diff[-1]
                ph = Pp >> 1
                m.d.sync += [n.eq(n + 1), rho.eq(Cat(ok, rho[:-1])), M2.eq(M2 >> 2), F.eq(F >> 2),
                             R.eq(Mux(ok, diff[:rw], R)), Pp.eq(Mux(ok, ph + M2, ph)),
                             inc.eq(Mux(ok, ph + F, ph + (M2 >> 2)))]
                with m.If(n == RHO_BITS - 1):
                    m.d.sync += [state.eq(OUT), i.eq(0)]
            # 5. output pass
            with m.Case(OUT):
                m.d.sync += i.eq(i + 1)
                with m.If(i == H - 1):
                    m.d.sync += [state.eq(IN), i.eq(0), lv.eq(Mux(lv == L - 1, 0, lv + 1))]
                    with m.If(lv == L - 1):
                        m.d.sync += tv.eq(Mux(tv == T - 1, 0, tv + 1))

        # output pipeline: stage k at o0 + i + k
        lb = len(lv)
        ctx = Cat(state == OUT, i, lv, tv == 0, tv == T - 1)
        cx = chain(m, ctx, OUT_STAGES, "ln_ctx")

        def f(k):
            c = cx[k]
            return {"v": c[0], "h": c[1:1 + hb], "l": c[1 + hb:1 + hb + lb], "first": c[1 + hb + lb],
                    "last": c[2 + hb + lb]}

        tab = nc.table
        word = rom(m, "ln_rom", tab.words(), tab.width, _cmul(lv, H) + i if L > 1 else i)   # at stage 1
        w4 = delay(m, word, 3, "ln_rom_q", reset_less=True)
        w5 = delay(m, w4, 1, "ln_rom_r", reset_less=True)
        f4, f5 = tab.unpack(w4), tab.unpack(w5)
        # stage 1: d = H·x − S1
        d2 = Signal(signed(nc.d_width), reset_less=True)
        m.d.sync += d2.eq(_cmul(xr.data, H) - S1)
        # stage 2: p = d·H·ρ
        p3 = Signal(signed(nc.d_width + (H.bit_length()) + RHO_BITS + 2), reset_less=True)
        m.d.sync += p3.eq(_cmul(d2, H) * Cat(rho, Const(0, 1)).as_signed())
        # stage 3: ν = rshift(p, 15 + j, rounding)
        nu4 = Signal(signed(nc.nu_width), reset_less=True)
        half = Array([Const(int(h), 1) for h in nc.half_up])[f(3)["l"]] if len(set(nc.half_up)) > 1 else \
            Const(int(nc.half_up[0]), 1)
        w = (p3 << 1) >> s_sh
        m.d.sync += nu4.eq(Mux(half, (w + 1) >> 1, p3 >> s_sh))
        # stage 4: cg·ν + add
        acc5 = Signal((f4["cg"] * nu4 + f4["add"]).shape(), reset_less=True)
        m.d.sync += acc5.eq(f4["cg"] * nu4 + f4["add"])
        # stage 5: floor shift and fit (the rounding addend is in add)
        out6 = Signal(signed(a), reset_less=True)
        m.d.sync += out6.eq(requant(m, acc5, f5["rsh"], Rounding.FLOOR, nc.overflow, a, name="ln_rq"))
        co = f(OUT_STAGES)
        ubuf = memory.Memory(shape=signed(a), depth=mem_depth(H), init=[])
        m.submodules.ln_u = ubuf
        uw, ur = ubuf.write_port(), ubuf.read_port()
        m.d.comb += [
            self.out_en.eq(co["v"]), self.out_h.eq(co["h"]), self.out_data.eq(out6), self.out_l.eq(co["l"]),
            self.out_first.eq(co["first"]), self.out_last.eq(co["last"]),
            uw.en.eq(co["v"]), uw.addr.eq(co["h"]), uw.data.eq(out6),
            ur.addr.eq(self.u_addr), self.u_data.eq(ur.data),
            self.pool_raddr.eq(f(OUT_STAGES - 1 - self._ds)["h"]),
        ]
        return m
