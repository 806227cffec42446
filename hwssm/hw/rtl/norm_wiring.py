"""The LayerNorm unit's place in the S4D core (ARITHMETIC.md §7), wired after the core's own
connections (a later combinational assignment takes precedence in Amaranth, so the core
without LayerNorm is left exactly as it is).

- **prenorm**: the unit takes r_l as it is written (r0 by the encoder, r_{l+1} by the GLU for
  l < L-1) and writes n = LN(r_l) into its output buffer; the S4D slots' u (state update and
  D·u) reads that buffer, and their credits are the unit's writes. The GLU's residual still
  reads r_l (r buffer, r0 double buffer).
- **postnorm**: the unit takes the GLU's residual sums (format N_l) and its outputs r_{l+1}
  take the GLU's place: r buffer write, credits, verification stream, sum-pool (read
  ``1 + mem_stages`` cycles ahead of the write) and the decoder's start.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux

from ..core_config import CoreConfig
from .layernorm import LayerNormUnit
from .ops import delay

__all__ = ["wire_norm"]


def wire_norm(m: Module, cfg: CoreConfig, seq, enc, glu, dec, dp, rb_w, pl_w, pl_r, dbg) -> LayerNormUnit:
    """Add the LayerNorm unit of ``cfg`` to the core module ``m`` and route it (see above).

    ``rb_w`` is the r buffer's write port, ``pl_w``/``pl_r`` the pool's ports, ``dbg`` the
    core's verification stream."""
    nc = cfg.norm
    ds = cfg.pipe.mem_stages
    m.submodules.ln = ln = LayerNormUnit(nc, cfg.T, ds)
    L, H = cfg.L, cfg.H
    if nc.prenorm:
        m.d.comb += [
            ln.in_en.eq(enc.wr_en | glu.r_written), ln.in_data.eq(Mux(enc.wr_en, enc.wr_data, glu.rw_data)),
            seq.enc_written.eq(ln.out_en & (ln.out_l == 0)), seq.r_written.eq(ln.out_en & (ln.out_l != 0)),
            # u reaches the lanes as in the core: 1 + mem_stages - operand_regs cycles after issue
            ln.u_addr.eq(seq.issue.h), dp.u.eq(delay(m, ln.u_data, ds - cfg.pipe.operand_regs, "u_lnq")),
        ]
        return ln
    last = ln.out_l == L - 1
    pool_q = delay(m, pl_r.data, ds, "ln_pool_q")
    m.d.comb += [
        ln.in_en.eq(glu.rw_en), ln.in_data.eq(glu.rw_data),
        rb_w.en.eq(ln.out_en), rb_w.addr.eq(ln.out_h), rb_w.data.eq(ln.out_data),
        seq.r_written.eq(ln.out_en & ~last),
        dbg.valid.eq(ln.out_en), dbg.payload.eq(ln.out_data),
        pl_w.en.eq(ln.out_en & last), pl_w.addr.eq(ln.out_h),
        pl_w.data.eq(Mux(ln.out_first, 0, pool_q) + ln.out_data),
        pl_r.addr.eq(Mux(dec.busy, dec.pool_raddr, ln.pool_raddr)),
        dec.start.eq(ln.out_en & last & ln.out_last & (ln.out_h == H - 1)),
        ln.u_addr.eq(0),
    ]
    return ln
