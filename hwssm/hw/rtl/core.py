"""The S4D classifier core: sequencer, encoder, P-lane datapath, GLU/residual, decoder.

:class:`S4DCore` has stream interfaces (``lib.stream``); :class:`HwssmCore` is the same
core with the flat top-level ports that the generated Verilog module ``hwssm_core`` and
the simulation and synthesis helpers rely on.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, ResetSignal, Shape, signed
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from ...quant.qmodel import QModel
from .. import cycle_model
from ..core_config import CoreConfig
from ..derive import derive
from ..options import DesignPoint
from ..storage import LOAD_WORD_BITS, ParamStorage
from .datapath import Datapath
from .decoder import Decoder
from .encoder import Encoder
from .framer import InputFramer
from .glu import GluUnit
from .contract import PORT_NOTES
from .integration import CoreInterface
from .interfaces import awidth, mem_depth
from .loader import ParamLoader
from .norm_wiring import wire_norm
from .ops import delay
from .sequencer import Sequencer
from .sequencer_s5 import S5Sequencer
from .token_encoder import TokenEncoder

__all__ = ["S4DCore", "HwssmCore", "TOP_NAME"]

TOP_NAME = "hwssm_core"


def _config(qm: QModel | CoreConfig, design: DesignPoint | None) -> CoreConfig:
    """A core's CoreConfig: ``qm`` itself (a CoreConfig, ``design`` None), or
    :func:`~hwssm.hw.derive.derive` of a QModel built as ``design``."""
    if isinstance(qm, CoreConfig):
        if design is not None:
            raise TypeError("a core from a CoreConfig takes no DesignPoint (the config holds its own)")
        return qm
    if design is None:
        raise TypeError("a core from a QModel needs its DesignPoint")
    return derive(qm, design)


class _Properties:
    """Read-only properties shared by the two core views."""

    _cfg: CoreConfig

    @property
    def config(self) -> CoreConfig:
        return self._cfg

    @property
    def design(self) -> DesignPoint:
        """The design point the core was built as (lanes, T, pipeline, storage, soft multipliers)."""
        c = self._cfg
        return DesignPoint(c.P, c.T, c.pipe, c.storage, c.soft_mul_bits)

    @property
    def storage(self) -> ParamStorage:
        """Where the coefficients live (:class:`~hwssm.hw.storage.ParamStorage`)."""
        return self._cfg.storage

    @property
    def load_words(self) -> int:
        """Words of the load image (0 with ROM storage)."""
        return self._cfg.load.image_words if self._cfg.load is not None else 0

    @property
    def lanes(self) -> int:
        return self._cfg.P

    @property
    def seq_len(self) -> int:
        return self._cfg.T

    @property
    def act_width(self) -> int:
        return self._cfg.a

    @property
    def logit_width(self) -> int:
        return self._cfg.logit_width

    @property
    def logit_frac(self) -> int:
        return self._cfg.logit_frac

    @property
    def cycles_per_step(self) -> int:
        """Clock cycles per time step (steady state; pixels always available)."""
        return cycle_model.cycles_per_step(self._cfg)

    @property
    def cycles_per_digit(self) -> int:
        """Clock cycles per digit of T steps (the digit period; see :mod:`~hwssm.hw.cycle_model`)."""
        return cycle_model.cycles_per_digit(self._cfg)

    @property
    def utilization(self) -> float:
        """Useful lane-cycles / (P · cycles_per_step)."""
        return cycle_model.utilization(self._cfg)


class S4DCore(wiring.Component, _Properties):
    """The integer S4D network of a QModel on P complex-MAC lanes.

    Parameters
    ----------
    qm : QModel or CoreConfig
        The model (then ``design`` is required), or a CoreConfig from
        :func:`~hwssm.hw.derive.derive` (then ``design`` is None).
    design : DesignPoint
        P lanes (need not divide H·M), T pixels per digit (784 for sMNIST), the pipeline
        depths, the storage (ROM, or LOAD: coefficients streamed in through ``load``) and
        the soft-multiplier width (:class:`~hwssm.hw.options.DesignPoint`).

    Members
    -------
    i : In(stream.Signature(8))
        Pixels, T per digit, digits back to back (state restarts at zero every digit).
        With LOAD storage no pixel is taken before the whole load image has been written.
    load : In(stream.Signature(16))
        LOAD storage only: the load image (:attr:`load_words` words, in the order of
        :mod:`hwssm.hw.storage`), streamed once after every reset.
    o : Out(stream.Signature(4))
        The class of each digit.
    dbg : Out(stream.Signature(signed(act_width), always_ready=True))
        r_{l+1}[h] for every (t, l, h), in that order.
    logit : Out(stream.Signature(signed(logit_width), always_ready=True))
        The n_classes logits of each digit, in class order, before ``o``.

    Throughput: one digit per :attr:`cycles_per_digit` cycles.
    """

    def __init__(self, qm: QModel | CoreConfig, design: DesignPoint | None = None):
        self._cfg = _config(qm, design)
        cfg = self._cfg
        members = {
            "i": In(stream.Signature(cfg.in_width)),
            "o": Out(stream.Signature(4)),
            "dbg": Out(stream.Signature(signed(cfg.a), always_ready=True)),
            "logit": Out(stream.Signature(signed(cfg.logit_width), always_ready=True)),
        }
        if cfg.storage is ParamStorage.LOAD:
            members["load"] = In(stream.Signature(LOAD_WORD_BITS))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        sched = cycle_model.step_schedule(cfg)
        m.submodules.seq = seq = (Sequencer if cfg.s5 is None else S5Sequencer)(cfg, sched.p_min)
        m.submodules.enc = enc = Encoder(cfg) if cfg.enc_rom is None else TokenEncoder(cfg)
        m.submodules.dp = dp = Datapath(cfg)
        m.submodules.glu = glu = GluUnit(cfg)
        m.submodules.dec = dec = Decoder(cfg)
        a, H = cfg.a, cfg.H

        if cfg.storage is ParamStorage.LOAD:
            m.submodules.loader = ld = ParamLoader(cfg.load)
            wiring.connect(m, wiring.flipped(self.load), ld.i)
            m.d.comb += [
                dp.ld_wen.eq(ld.wen), dp.ld_seg.eq(ld.seg), dp.ld_addr.eq(ld.addr), dp.ld_data.eq(ld.data),
                dp.par.eq(seq.par),
                seq.pix.valid.eq(self.i.valid & ld.done), self.i.ready.eq(seq.pix.ready & ld.done),
                seq.pix.payload.eq(self.i.payload),
            ]
        else:
            wiring.connect(m, wiring.flipped(self.i), seq.pix)
        wiring.connect(m, seq.issue, dp.issue)
        m.d.comb += [
            enc.start.eq(seq.enc_start), enc.pixel.eq(seq.enc_pixel), enc.par.eq(seq.par),
            seq.enc_written.eq(enc.wr_en), seq.g_written.eq(dp.g_written), seq.r_written.eq(glu.r_written),
            seq.dec_done.eq(dec.done),
            glu.pass_done.eq(dp.pass_done), glu.pass_pairs.eq(dp.pass_pairs),
            dp.vrd_addr.eq(glu.vrd_addr), glu.vrd_val.eq(dp.vrd_val), glu.vrd_gate.eq(dp.vrd_gate),
            dec.start.eq(glu.digit_done),
        ]

        # r buffer: r_l[h] in place (written by the GLU; read by S4D slots and the GLU)
        rbuf = memory.Memory(shape=signed(a), depth=mem_depth(H), init=[])
        r0buf = memory.Memory(shape=signed(a), depth=mem_depth(1 << (awidth(H) + 1)), init=[])
        pool = memory.Memory(shape=signed(cfg.pool_width), depth=mem_depth(H), init=[])
        m.submodules.rbuf, m.submodules.r0buf, m.submodules.pool = rbuf, r0buf, pool
        rb_w, rb_s, rb_g = rbuf.write_port(), rbuf.read_port(), rbuf.read_port()
        r0_w, r0_s, r0_g = r0buf.write_port(), r0buf.read_port(), r0buf.read_port()
        pl_w, pl_r = pool.write_port(), pool.read_port()
        iss = seq.issue
        # u reaches the lanes 1 + ds cycles after issue (with operand_regs one cycle earlier:
        # the lanes register it, so the layer's source multiplexer is not on a multiplier path)
        ds = cfg.pipe.mem_stages - cfg.pipe.operand_regs
        l0 = delay(m, iss.l == 0, 1 + ds, "u_l0")
        m.d.comb += [
            rb_w.en.eq(glu.rw_en), rb_w.addr.eq(glu.rw_addr), rb_w.data.eq(glu.rw_data),
            rb_s.addr.eq(iss.h), rb_g.addr.eq(glu.rb_addr), glu.rb_data.eq(rb_g.data),
            r0_w.en.eq(enc.wr_en), r0_w.addr.eq(enc.wr_addr), r0_w.data.eq(enc.wr_data),
            r0_s.addr.eq(Cat(iss.h, seq.par)), r0_g.addr.eq(glu.r0_addr), glu.r0_data.eq(r0_g.data),
            dp.u.eq(Mux(l0, delay(m, r0_s.data, ds, "u_r0q"), delay(m, rb_s.data, ds, "u_rbq"))),
            pl_w.en.eq(glu.pool_wen), pl_w.addr.eq(glu.pool_waddr), pl_w.data.eq(glu.pool_wdata),
            pl_r.addr.eq(Mux(dec.busy, dec.pool_raddr, glu.pool_raddr)),
            glu.pool_rdata.eq(pl_r.data), dec.pool_rdata.eq(pl_r.data),
        ]
        if cfg.s5 is not None:   # the u banks of the B̄u passes: r0 from the encoder, r_{l+1} (l < L-1) from the GLU
            m.d.comb += [dp.uw_en.eq(enc.wr_en | glu.r_written),
                         dp.uw_h.eq(Mux(enc.wr_en, enc.wr_addr[:len(dp.uw_h)], glu.rw_addr)),
                         dp.uw_data.eq(Mux(enc.wr_en, enc.wr_data, glu.rw_data))]
        wiring.connect(m, glu.dbg, wiring.flipped(self.dbg))
        wiring.connect(m, dec.logit, wiring.flipped(self.logit))
        wiring.connect(m, dec.out, wiring.flipped(self.o))
        if cfg.norm is not None:   # the LayerNorm unit overrides the routes it takes over
            wire_norm(m, cfg, seq, enc, glu, dec, dp, rb_w, pl_w, pl_r, self.dbg)
        return m


class HwssmCore(wiring.Component, _Properties):
    """:class:`S4DCore` with the flat top-level ports of the ``hwssm_core`` Verilog module.

    Ports: ``clk``, ``rst`` (synchronous, active high; added by the sync domain),
    ``in_valid``, ``in_ready``, ``in_data[7:0]``, ``out_valid``, ``out_ready``,
    ``out_class[3:0]``, ``dbg_valid``, ``dbg_data[act_width-1:0]`` (signed; no
    backpressure), ``logit_valid``, ``logit_data[logit_width-1:0]`` (signed); with LOAD
    storage also ``load_valid``, ``load_ready``, ``load_data[15:0]`` (the load image); with
    ``interface.last`` also ``in_last`` and ``frame_error`` (:mod:`hwssm.hw.rtl.framer`).
    ``in_ready`` and ``load_ready`` are low while ``rst`` is high (nothing is taken in reset).

    ``interface`` (:class:`~hwssm.hw.rtl.integration.CoreInterface`) names the module prefix
    (used by :func:`hwssm.hw.emit.generate`) and the optional ``last`` marker.
    """

    def __init__(self, qm: QModel | CoreConfig, design: DesignPoint | None = None,
                 interface: CoreInterface = CoreInterface()):
        self._cfg = _config(qm, design)
        self._interface = interface
        cfg = self._cfg
        members = {
            "in_valid": In(1), "in_ready": Out(1), "in_data": In(cfg.in_width),
            "out_valid": Out(1), "out_ready": In(1), "out_class": Out(4),
            "dbg_valid": Out(1), "dbg_data": Out(signed(cfg.a)),
            "logit_valid": Out(1), "logit_data": Out(signed(cfg.logit_width)),
        }
        if cfg.storage is ParamStorage.LOAD:
            members.update({"load_valid": In(1), "load_ready": Out(1), "load_data": In(LOAD_WORD_BITS)})
        if interface.last:
            members.update({"in_last": In(1), "frame_error": Out(1)})
        super().__init__(members)

    @property
    def interface(self) -> CoreInterface:
        return self._interface

    def ports(self) -> list[dict]:
        """Manifest port list: name, dir, width, role (clk and rst first)."""
        out = [{"name": "clk", "dir": "in", "width": 1, "role": "clk"},
               {"name": "rst", "dir": "in", "width": 1, "role": "rst"}]
        debug = {"dbg_valid", "dbg_data", "logit_valid", "logit_data"}
        for name, member in self.signature.members.items():
            out.append({"name": name, "dir": "in" if member.flow is In else "out",
                        "width": Shape.cast(member.shape).width, "role": "debug" if name in debug else "data"})
        return out

    def port_notes(self) -> list[dict]:
        """For each port of :meth:`ports`, in order: name, signed (two's complement data) and
        desc (what it carries; :data:`~hwssm.hw.rtl.contract.PORT_NOTES`)."""
        shapes = {name: Shape.cast(member.shape) for name, member in self.signature.members.items()}
        return [{"name": p["name"], "signed": p["name"] in shapes and shapes[p["name"]].signed,
                 "desc": PORT_NOTES[p["name"]]} for p in self.ports()]

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = S4DCore(self._cfg)
        run = ~ResetSignal()  # nothing is taken while rst is high
        if self._interface.last:
            m.submodules.framer = fr = InputFramer(self._cfg.T, self._cfg.in_width)
            wiring.connect(m, fr.o, core.i)
            pix = fr.i
            m.d.comb += [fr.last.eq(self.in_last), self.frame_error.eq(fr.error & run)]
        else:
            pix = core.i
        m.d.comb += [
            pix.valid.eq(self.in_valid & run), self.in_ready.eq(pix.ready & run), pix.payload.eq(self.in_data),
            self.out_valid.eq(core.o.valid), core.o.ready.eq(self.out_ready), self.out_class.eq(core.o.payload),
            self.dbg_valid.eq(core.dbg.valid), self.dbg_data.eq(core.dbg.payload),
            self.logit_valid.eq(core.logit.valid), self.logit_data.eq(core.logit.payload),
        ]
        if self._cfg.storage is ParamStorage.LOAD:
            m.d.comb += [core.load.valid.eq(self.load_valid & run), self.load_ready.eq(core.load.ready & run),
                         core.load.payload.eq(self.load_data)]
        return m
