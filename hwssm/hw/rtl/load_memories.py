"""The lanes' memories of :attr:`~hwssm.hw.storage.ParamStorage.LOAD` storage (single-port,
16-bit-sliced RAMs without init, SPRAM-mappable; written once by
:class:`~hwssm.hw.rtl.loader.ParamLoader`, then only read), built into a
:class:`~hwssm.hw.rtl.datapath.Datapath`'s module.

- :func:`load_coef`: lane p's coefficient slices ``coef{p}_s{s}`` (the layout of
  :class:`~hwssm.hw.storage.LoadLayout`), unpacked into the lane's coefficient fields and C̄.
  An S4D slot's word is {Ār, Āi, B̄r, B̄i, C̄r, C̄i}; an S5 core's words are its update slots'
  {Λ̄r, Λ̄i}, its readout slots' {C̃r, C̃i} (the lane then takes Λ̄ = 1, B̄u = 0: the identity
  of :mod:`hwssm.hw.derive_s5`) and its real-mode slots' k weights. C̄ (C̃) is read with the
  slot and delayed to the readout stage.
- :func:`state_banks`: S4D's two state banks ``x{p}_b0``/``x{p}_b1`` (step t reads bank t mod 2
  and writes the other). An S5 core's state (L·Cs words a lane) stays in the ROM design's
  two-port RAM.

Timing: as the ROM design's memories (read data registered ``mem_stages - operand_regs``
times, at the lanes' stage-0 inputs); LOAD costs no cycle.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import memory

from .interfaces import awidth, mem_depth
from .ops import delay, resize

__all__ = ["SPRAM_ATTRS", "single_port", "load_coef", "state_banks"]

#: Attributes of a single-port RAM meant for iCE40 SPRAM (LOAD storage): its initial contents
#: are don't-care, so the Verilog emitter drops its all-zero init (SPRAM has none), and the
#: synthesis flow (``hwssm synth --spram``) forces it into SPRAM.
SPRAM_ATTRS = {"hwssm_spram": 1}


def single_port(m: Module, name: str, width: int, depth: int, we, waddr, wdata, raddr):
    """A single-port RAM without init (SPRAM-mappable): one address, written when
    ``we``, else read (``raddr``; data one cycle later, held during writes)."""
    mem = memory.Memory(shape=width, depth=mem_depth(depth), init=[], attrs=SPRAM_ATTRS)
    m.submodules[name] = mem
    rp, wp = mem.read_port(), mem.write_port()
    addr = Signal(awidth(mem_depth(depth)), name=f"{name}_addr")
    m.d.comb += [
        addr.eq(Mux(we, waddr, raddr)),
        wp.addr.eq(addr), wp.en.eq(we), wp.data.eq(wdata),
        rp.addr.eq(addr), rp.en.eq(~we),
    ]
    return rp.data


def load_coef(dp, m: Module, p: int, mix_o, stage_c: int, ssm_o=None):
    """Lane p's coefficient slices in datapath ``dp``; returns the lane's coefficient fields (at
    τ+1+s, with operand_regs τ+s, with ``mix_o``, the real-mode flag there, and for an S5 core
    ``ssm_o``, the readout flag there) and C̄ (``stage_c`` cycles later)."""
    cfg, ld, iss = dp._cfg, dp._cfg.load, dp.issue
    parts = []
    for k, w in enumerate(ld.slices):
        we = dp.ld_wen & (dp.ld_seg == ld.segment(p, k))
        data = single_port(m, f"coef{p}_s{k}", w, ld.depth, we, dp.ld_addr, dp.ld_data[:w], iss.coef_addr)
        parts.append(delay(m, data, cfg.pipe.mem_stages - cfg.pipe.operand_regs, f"coef{p}_s{k}_q", reset_less=True))
    word = Cat(*parts)

    def field(pos_w):
        pos, w = pos_w
        return word[pos:pos + w].as_signed()

    if cfg.s5 is None:
        s4d = [field(f) for f in ld.s4d_fields]
        cplx, c = s4d[:4], s4d[4:]
    else:   # update: (Λ̄r, Λ̄i, 0, 0) (the datapath puts bu in fields 2, 3); readout: (1, 0, 0, 0)
        lam, c = [field(f) for f in ld.fields("update")], [field(f) for f in ld.fields("readout")]
        cplx = [Mux(ssm_o, 1, lam[0]), Mux(ssm_o, 0, lam[1]), 0, 0]
    mix = [field(f) for f in ld.mix_fields]
    fw = cfg.coef_field_widths
    fields = [Mux(mix_o, resize(mix[k], fw[k]), resize(cplx[k], fw[k])) if k < 4 else resize(mix[k], fw[k])
              for k in range(len(fw))]
    cbar = delay(m, Cat(c[0], c[1]), stage_c, f"cbar{p}", reset_less=True)
    return fields, cbar


def state_banks(dp, m: Module, p: int, x_valid, wdata, waddr, par_w, par1, depth: int):
    """Lane p's two state banks in datapath ``dp``; returns the previous state read at τ (data
    at τ+1+s, with operand_regs τ+s)."""
    iss, pipe = dp.issue, dp._cfg.pipe
    width = len(wdata)
    data = []
    for b in range(2):
        we = x_valid & (par_w != b)  # a step of parity q writes bank 1 - q
        rd = single_port(m, f"x{p}_b{b}", width, depth, we, waddr, wdata, iss.ssm_idx)
        data.append(delay(m, rd, pipe.mem_stages - pipe.operand_regs, f"x{p}_b{b}_q", reset_less=True))
    return Mux(par1, data[1], data[0])
