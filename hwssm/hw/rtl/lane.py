"""One complex-MAC lane: an S4D mode update per cycle, or four real MACs per cycle.

Complex mode (one mode m of channel h per cycle)::

    x' = fit(rshift(Ā·x + B̄·u))            re: Ar·xr - Ai·xi + Br·u ; im: Ar·xi + Ai·xr + Bi·u
    part = Cr·xr'·2^cr - Ci·xi'·2^ci       the mode's share of Re(C̄x'), aligned to Gc

The complex product Ā·x is the four real multiplies re·re, im·im, re·im, im·re; B̄·u
takes two more and the readout two more (8 multipliers per lane). Real mode (mixing
layer) uses k = ``LaneConfig.mix_cols`` of them as a k-wide dot product ``Σ_j w_j·g_j``
that accumulates over the ``first..last`` cycles of one output row, then aligns, adds the
pre-aligned bias and requantizes: ``v = fit(rshift(acc·2^w + bias, v))``:

- k = 4: the four complex multipliers (the B̄·u and readout multipliers idle);
- k = 6: also the B̄·u multipliers, which read coefficient fields 2, 3 and ``g[4]``,
  ``g[5]`` in both modes (the datapath puts u on those two g inputs in complex mode), so
  they need no operand multiplexer here;
- k = 8: also the readout multipliers, whose operands are then multiplexed between
  (C̄, x') of a complex item ``stage_c`` cycles old and (w, g) of the real item at stage
  0. The sequencer never issues a real item exactly ``stage_c`` cycles after a complex
  one, so the two uses never meet.

Multiplies with a narrow operand may be built from LUT adders instead of DSPs
(``LaneConfig.soft_mul_bits``, :func:`~hwssm.hw.rtl.ops.mul`).

Only the control bits (``ctl*``, ``x_valid``, ``v_valid``) are reset; the data registers
are not (no reset logic per data bit): every consumer qualifies them by a control bit,
and real-mode accumulation restarts on ``first``.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..core_config import LaneConfig
from ..options import mix_field
from .ops import ShiftAmt, delay, mul, narrow, requant, resize, shl

__all__ = ["Lane"]

_ALIGN = ("ar", "ai", "br", "ax", "ia", "bi")


def complex_layout(re_width: int, im_width: int) -> data.StructLayout:
    """A complex code: ``{"re": signed(re_width), "im": signed(im_width)}``."""
    return data.StructLayout({"re": signed(re_width), "im": signed(im_width)})


class Lane(wiring.Component):
    """A complex-MAC lane.

    Parameters
    ----------
    config : LaneConfig
        Widths, per-row shift ranges, rounding and overflow (from :func:`hwssm.hw.derive.derive`).

    Members
    -------
    cplx, real : In(1)
        A complex-mode (S4D mode update) or real-mode (mixing MAC) item is at stage 0.
    first, last : In(1)
        Real mode: this item starts / ends an output row.
    f0 .. f{k-1} : In(signed)
        Coefficients: (Ār, Āi, B̄r, B̄i) in f0-f3 in complex mode, the chunk's k weights in
        real mode (column j in field :func:`~hwssm.hw.options.mix_field`).
    x : In(complex)
        Previous state (complex mode).
    u : In(signed)
        The channel input u[h] (complex mode).
    g : In(ArrayLayout(signed, k))
        The chunk's k activations (real mode); with k >= 6, ``g[4]`` and ``g[5]`` carry u
        in complex mode.
    sh_<name> : In(unsigned)
        Variable parts of per-row shifts (only those that vary); each is sampled at its
        stage: ar..bi at :attr:`stage_align`; re, im at :attr:`stage_round`; w at :attr:`stage_wshift`;
        v at :attr:`stage_vshift`; cr, ci at :attr:`stage_readout_align`.
    bias : In(signed)
        Real mode: pre-aligned bias, sampled at :attr:`stage_fin` of the ``last`` item.
    c : In(complex)
        C̄ of the mode, sampled at :attr:`stage_c` (when the new state is at ``x_out``).
    x_out, x_valid : Out
        New state, :attr:`latency_state` cycles after the operands.
    part : Out(signed)
        Readout share, :attr:`latency_partial` cycles after the operands.
    v, v_valid : Out
        Real-mode output code, :attr:`latency_real` cycles after the ``last`` item.

    With ``LaneConfig.operand_regs`` the stage-0 inputs (``cplx``, ``real``, ``first``,
    ``last``, ``f*``, ``x``, ``u``, ``g``) come one cycle early and the lane registers its
    multiplexed multiplier operands; every stage and latency below is unchanged (counted from
    that register).

    Throughput: one item per cycle, either mode, in any order.
    """

    def __init__(self, config: LaneConfig):
        self._cfg = c = config
        members = {
            "cplx": In(1), "real": In(1), "first": In(1), "last": In(1),
            **{f"f{i}": In(signed(w)) for i, w in enumerate(c.f_widths)},
            "x": In(complex_layout(c.xr_width, c.xi_width)),
            "u": In(signed(c.u_width)),
            "g": In(data.ArrayLayout(signed(max(c.g_width, c.u_width) if c.mix_cols >= 6 else c.g_width), c.mix_cols)),
            "bias": In(signed(c.bias_width)),
            "c": In(complex_layout(c.cr_width, c.ci_width)),
            "x_out": Out(complex_layout(c.xr_width, c.xi_width)),
            "x_valid": Out(1),
            "part": Out(signed(c.part_width)),
            "v": Out(signed(c.v_width)),
            "v_valid": Out(1),
        }
        for name, sh in c.shifts.items():
            if sh.width:
                members[f"sh_{name}"] = In(sh.width)
        super().__init__(members)

    # -- timing (read-only) ------------------------------------------------------------
    @property
    def config(self) -> LaneConfig:
        return self._cfg

    @property
    def mul_stages(self) -> int:
        return self._cfg.mul_stages

    @property
    def stage_align(self) -> int:
        """Cycle (after the operands) when the state-update alignment shifts are sampled: 1,
        right after the first product register (with ``mul_stages >= 2`` the aligned terms
        and their partial sums are registered there, the final sums come at ``mul_stages``)."""
        return 1

    @property
    def stage_round(self) -> int:
        """Cycle of the state requant shifts (re, im); the real-mode accumulate."""
        return self.mul_stages + 1

    @property
    def acc_stages(self) -> int:
        return self._cfg.acc_stages

    @property
    def align_stages(self) -> int:
        return self._cfg.align_stages

    @property
    def stage_wshift(self) -> int:
        """Cycle of the real-mode row finish's alignment: its w shift is sampled."""
        return self.mul_stages + 1 + self.acc_stages

    @property
    def stage_fin(self) -> int:
        """Cycle of the real-mode row finish's bias add: the bias is sampled (= stage_wshift,
        + 1 with ``align_stages``)."""
        return self.mul_stages + 1 + self.acc_stages + self.align_stages

    @property
    def requant_stages(self) -> int:
        return self._cfg.requant_stages

    @property
    def stage_c(self) -> int:
        """Cycle when C̄ is sampled (= latency_state)."""
        return self.mul_stages + 2 + self.requant_stages

    @property
    def stage_vshift(self) -> int:
        """Cycle of the real-mode requant shift v."""
        return self.mul_stages + 2 + self.acc_stages + self.align_stages

    @property
    def stage_readout_align(self) -> int:
        """Cycle of the readout alignment shifts cr, ci: right after the first register of
        the readout products (``stage_c + 1``)."""
        return self.stage_c + 1

    @property
    def latency_state(self) -> int:
        """Operands → new state at x_out."""
        return self.mul_stages + 2 + self.requant_stages

    @property
    def latency_partial(self) -> int:
        """Operands → readout share at part."""
        return 2 * self.mul_stages + 3 + self.requant_stages

    @property
    def latency_real(self) -> int:
        """Operands of the ``last`` real-mode item → v."""
        return self.mul_stages + 3 + self.requant_stages + self.acc_stages + self.align_stages

    @property
    def latency(self) -> int:
        """The longest path: operands → part."""
        return self.latency_partial

    def _amt(self, name: str) -> ShiftAmt:
        sh = self._cfg.shifts[name]
        return ShiftAmt(sh.lo, getattr(self, f"sh_{name}") if sh.width else None)

    def elaborate(self, platform):
        m = Module()
        c = self._cfg
        ms = c.mul_stages
        op = c.operand_regs  # with 1 the stage-0 inputs arrive at stage -1 (see operand_regs)
        real = self.real

        # stage 0 (the inputs; with operand_regs stage -1): six of the eight multipliers (k of
        # all eight serve real mode)
        k = c.mix_cols
        g = self.g
        f = [getattr(self, f"f{i}") for i in range(k)]
        a0, b0 = f[0], Mux(real, g[0], self.x.re)
        a1, b1 = f[1], Mux(real, g[1], self.x.im)
        a2, b2 = Mux(real, f[mix_field(k, 2)], f[0]), Mux(real, g[2], self.x.im)
        a3, b3 = Mux(real, f[mix_field(k, 3)], f[1]), Mux(real, g[3], self.x.re)
        sb = c.soft_mul_bits
        if k >= 6:
            # B̄·u in complex mode, w·g in real mode: fields 2, 3 and g[4], g[5] either way
            bu = [(f[2], g[4]), (f[3], g[5])]
        else:
            # B̄·u: only B̄'s own bits when the config says f2, f3 are wider (sign-extended B̄)
            bw = c.b_widths or (c.f_widths[2], c.f_widths[3])
            b_re = self.f2[:bw[0]].as_signed() if bw[0] < c.f_widths[2] else self.f2
            b_im = self.f3[:bw[1]].as_signed() if bw[1] < c.f_widths[3] else self.f3
            u = None if c.unit_u else self.u   # (S5: u = 1, the product is B̄u itself)
            bu = [(b_re, u), (b_im, u)]
        operands = [(a0, b0), (a1, b1), (a2, b2), (a3, b3)] + bu
        if op:
            # operand_regs: the inputs came at stage -1; the multiplexed operands are registered
            # here, so every multiplier starts from a flip-flop (stage 0)
            operands = [(delay(m, x, op, f"opa{i}", reset_less=True),
                         None if y is None else delay(m, y, op, f"opb{i}", reset_less=True))
                        for i, (x, y) in enumerate(operands)]
        # (built first: the Verilog keeps its order)
        bu = [x if y is None else mul(m, x, y, sb) for x, y in operands[4:]]
        prods = [mul(m, x, y, sb) for x, y in operands[:4]] + bu
        # p1: the products after their first register (stage 1). With mul_stages >= 2 the
        # alignment shifts and the first level of the sums are done there and registered
        # mul_stages - 1 more times; with 1 everything is done at stage 1 (= mul_stages)
        p1 = [delay(m, v, 1, f"p{i}", reset_less=True) for i, v in enumerate(prods)]
        real_d = delay(m, Cat(self.real, self.first, self.last, self.cplx), op + ms, "ctl")
        p = p1
        r_real, r_first, r_last, r_cplx = real_d[0], real_d[1], real_d[2], real_d[3]

        xo = Signal(complex_layout(c.xr_width, c.xi_width), reset_less=True)

        def readout(select_real: bool):
            """The readout multipliers (registered ``ms`` times): C̄·x' of the complex item
            ``stage_c`` cycles old; with ``select_real`` also w·g of the real item at stage 0
            (the sequencer keeps the two apart)."""
            if select_real:
                # (with operand_regs the real item's operands and mode at stage 0, registered)
                r0, f6, f7, g6, g7 = (delay(m, v, op, f"opr{i}", reset_less=i > 0)
                                      for i, v in enumerate((real, f[6], f[7], g[6], g[7])))
                rd = [mul(m, Mux(r0, f6, self.c.re), Mux(r0, g6, xo.re), sb),
                      mul(m, Mux(r0, f7, self.c.im), Mux(r0, g7, xo.im), sb)]
            else:
                rd = [mul(m, self.c.re, xo.re, sb), mul(m, self.c.im, xo.im, sb)]
            return delay(m, rd[0], 1, "pc", reset_less=True), delay(m, rd[1], 1, "pi", reset_less=True)

        if k == 8:
            pc, pi = readout(True)

        # stage ms: alignment and sums
        W_re, W_im = c.acc_re_width, c.acc_im_width
        acc_re = Signal(signed(W_re), reset_less=True)
        acc_im = Signal(signed(W_im), reset_less=True)
        dot = Signal(signed(c.racc_width), name=f"s{k}", reset_less=True)  # real mode: Σ_j w_j·g_j
        terms = (p1 + [pc, pi])[:k] if k == 8 else p1[:k]
        re_terms = [shl(m, p1[0], self._amt("ar"), W_re), -shl(m, p1[1], self._amt("ai"), W_re),
                    shl(m, p1[4], self._amt("br"), W_re)]
        im_terms = [shl(m, p1[2], self._amt("ax"), W_im), shl(m, p1[3], self._amt("ia"), W_im),
                    shl(m, p1[5], self._amt("bi"), W_im)]
        if ms >= 2:
            # first level of each sum at stage 1, registered ms - 1 times, the rest at stage ms;
            # with ms >= 3 the aligned terms are registered first (stage 2), so that no shift and
            # adder share a cycle, and the first level is at stage 2, registered ms - 2 times
            def split(ts, width, name):
                if ms >= 3:
                    ts = [delay(m, v, 1, f"{name}a{i}", reset_less=True) for i, v in enumerate(ts)]
                pairs = [sum(ts[i:i + 2]) if i + 1 < len(ts) else ts[i] for i in range(0, len(ts), 2)]
                if width is not None:
                    pairs = [resize(v, width) for v in pairs]
                return [delay(m, v, ms - 1 - (ms >= 3), f"{name}{i}", reset_less=True) for i, v in enumerate(pairs)]
            re_terms = split(re_terms, W_re, "sre")
            im_terms = split(im_terms, W_im, "sim")
            terms = split(terms, None, "sdot")
        dot_sum = terms[0]
        for t in terms[1:]:
            dot_sum = dot_sum + t
        m.d.sync += [
            acc_re.eq(sum(re_terms[1:], re_terms[0])),
            acc_im.eq(sum(im_terms[1:], im_terms[0])),
            dot.eq(dot_sum),
        ]
        ctl1 = Signal(4)
        m.d.sync += ctl1.eq(Cat(r_real, r_first, r_last, r_cplx))

        # stage ms+1: state requant; real-mode accumulate and align
        q = c.requant_stages  # registers inside each requantization (shift | round, saturate)
        x_re = requant(m, acc_re, self._amt("re"), c.xr_rounding, c.xr_overflow, c.xr_width, stages=q, name="rq_re")
        x_im = requant(m, acc_im, self._amt("im"), c.xi_rounding, c.xi_overflow, c.xi_width, stages=q, name="rq_im")
        # per-layer state widths: a narrower block's state is fitted to its own width (sampled with re, im)
        if "xdr" in c.shifts and c.shifts["xdr"].width:
            x_re = narrow(m, x_re, delay(m, self.sh_xdr, q, "xdr", reset_less=True), c.xr_overflow, c.xr_width, "nw_re")
        if "xdi" in c.shifts and c.shifts["xdi"].width:
            x_im = narrow(m, x_im, delay(m, self.sh_xdi, q, "xdi", reset_less=True), c.xi_overflow, c.xi_width, "nw_im")
        m.d.sync += [xo.re.eq(x_re), xo.im.eq(x_im)]
        racc = Signal(signed(c.racc_width), reset_less=True)
        acc_new = Signal(signed(c.racc_width))
        m.d.comb += acc_new.eq(Mux(ctl1[1], dot, racc + dot))
        with m.If(ctl1[0]):
            m.d.sync += racc.eq(acc_new)
        fin = Signal(signed(c.fin_width), reset_less=True)
        # the row sum: acc_new (same cycle) or, with acc_stages, racc one cycle later (w and
        # bias are constant over a row, so the next row's first item may overwrite racc then)
        row = acc_new if not c.acc_stages else racc
        # with align_stages the aligned row sum is registered before the bias add (w at
        # stage_wshift, the bias one cycle later at stage_fin)
        aligned = delay(m, shl(m, row, self._amt("w"), c.fin_width), c.align_stages, "walign", reset_less=True)
        m.d.sync += fin.eq(aligned + resize(self.bias, c.fin_width))
        fin_v = Signal()  # the row finish is in fin
        m.d.sync += fin_v.eq(delay(m, ctl1[0] & ctl1[2], c.acc_stages + c.align_stages, "finv"))
        ctl2 = Signal()  # the new state is in xo
        m.d.sync += ctl2.eq(ctl1[3])

        # stage ms+2+q: new state out; readout products (built above with k = 8). Stage
        # ms+2+acc_stages: real-mode requant
        m.d.comb += [self.x_out.eq(xo), self.x_valid.eq(delay(m, ctl2, q, "xv"))]
        if k != 8:
            pc, pi = readout(False)
        part = Signal(signed(c.part_width), reset_less=True)
        # the readout shifts at stage_readout_align (after the products' first register),
        # registered ms - 1 more times
        pw = c.part_width
        pcs = delay(m, shl(m, pc, self._amt("cr"), pw), ms - 1, "pcs", reset_less=True)
        pis = delay(m, shl(m, pi, self._amt("ci"), pw), ms - 1, "pis", reset_less=True)
        m.d.sync += part.eq(pcs - pis)
        m.d.comb += self.part.eq(part)
        v = Signal(signed(c.v_width), reset_less=True)
        vv = Signal()
        m.d.sync += [v.eq(requant(m, fin, self._amt("v"), c.v_rounding, c.v_overflow, c.v_width, stages=q, name="rq_v")),
                     vv.eq(delay(m, fin_v, q, "vv"))]
        m.d.comb += [self.v.eq(v), self.v_valid.eq(vv)]
        return m

