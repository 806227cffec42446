"""What the RTL is made of, derived from a QModel: widths, per-row shift tables, ROM contents.

This is the software half of the hardware (the ``.compute()`` beside the Components'
``.create()``): every number the Amaranth code bakes in comes from here, and here only.

The arithmetic comes from the contract's lowering (:func:`hwssm.quant.lowering.lower`:
term alignments, accumulator fracs and widths, requantization shifts), computed once for
golden, QAT and RTL alike. This module adds only the RTL's documented exact rewrites
(:mod:`hwssm.hw.row_constants`: ``F' = max(F, out.frac)``, the guard bit, the readout
alignment ``Gc``, pre-aligned biases) and the ROM packing (:mod:`hwssm.hw.rom_table`):

- **Effective parameters are pre-subtracted.** ROMs hold ``w = code - zero`` as signed
  two's complement, ``bits`` wide for symmetric tensors and ``bits + 1`` for asymmetric
  ones. No zero point reaches the hardware.
- **Shift amounts** vary by row (per-head fracs) and by layer. A shift whose value is the
  same for every row is a constant (no hardware); otherwise the ROM stores ``value - lo``.

A plan the RTL cannot realise raises :class:`~hwssm.errors.HwssmError` here (one line).
"""

from __future__ import annotations

from ..errors import HwssmError
from ..fixed import Overflow, Rounding, signed_width
from ..model.config import Family
from ..quant.lowering import Lowering, lower
from ..quant.qmodel import QModel, QParam
from .core_config import MAX_ACT_BITS, MAX_OPERAND_BITS, CoreConfig, LaneConfig, ceil_log2, mix_output_row
from .norm_config import check_norm_placement, norm_config
from .options import DesignPoint, mix_field
from .rom_table import Shift, Table, pack_fields
from .row_constants import mix_row_constants, rtl_width, shifts, ssm_row_constants, sum_width
from .storage import LoadLayout, ParamStorage

__all__ = ["derive"]


def _eff_width(p: QParam) -> int:
    return p.bits if p.signed else p.bits + 1


def _uniform(fmts, what: str) -> tuple[Rounding, Overflow]:
    kinds = {(f.rounding, f.overflow) for f in fmts}
    if len(kinds) != 1:
        raise HwssmError(f"the RTL needs one rounding/overflow per operation; {what} formats mix {sorted((r.value, o.value) for r, o in kinds)}")
    return kinds.pop()


def check_rtl_encoder(qm) -> None:
    """Refuse (HwssmError, one line) an encoder the RTL does not build: more than 8 input
    channels per step (the input word is C·8 bits), or a token vocabulary of more than 256
    (the input stream's 8-bit word carries the token id); and a LayerNorm placement it does not
    build (:func:`~hwssm.hw.norm_config.check_norm_placement`)."""
    check_norm_placement(qm)
    if getattr(qm, "vocab", None) is not None and qm.vocab > 256:
        raise HwssmError(f"the RTL input stream carries 8-bit token ids; a vocabulary of {qm.vocab} tokens "
                         "is more than 256")
    if getattr(qm, "C", 1) > 8:
        raise HwssmError(f"the RTL input stream carries at most 8 samples per step (64 bits), not C={qm.C}")


def token_rom(lw: Lowering, H: int, width: int | None = None) -> tuple[int, ...]:
    """The embedding ROM of a token model: word ``token · 2^hb + h`` (hb = address bits of H)
    holds r0[token, h] (the lowering's R_0 codes, ARITHMETIC.md §2.1) as a ``width``-bit two's
    complement word (default R_0's width; the RTL passes its activation width a, which is
    wider with per-layer activation widths); the padding words of each token are 0."""
    width = lw.encoder.rows[0].rq.out.width if width is None else width
    stride = 1 << max(1, ceil_log2(H))
    words = [0] * (lw.encoder.table.shape[0] * stride)
    for k, row in enumerate(lw.encoder.table):
        for h, v in enumerate(row):
            words[k * stride + h] = int(v) & ((1 << width) - 1)
    return tuple(words)


def _act_formats(qm: QModel) -> list:
    return [qm.r0] + [f for ly in qm.layers for f in (ly.y, ly.g, ly.v, ly.z, ly.r_out)]


def act_width(qm: QModel) -> int:
    """The RTL's activation width a: the widest activation format (r, y, g, v, z) of any block.

    Per-layer activation widths (per-layer precision) share this width: every activation
    register, memory and table word is a bits, a narrower block's codes sign-extended; each
    requantization to a narrower format is fitted to it after the fit to a bits
    (:func:`hwssm.hw.rtl.ops.narrow`, a deficit ``a - width`` per row or block)."""
    return max(f.width for f in _act_formats(qm))


def _deficits(a: int, widths) -> list[int] | None:
    """``a - width`` for each entry of ``widths``; None when all are 0 (no narrowing hardware)."""
    d = [a - w for w in widths]
    return d if any(d) else None


def _lut_words(lut, a: int, signed_out: bool) -> list[int]:
    """One block's table as 2^a words in the RTL's address order (the a-bit input code in offset
    binary): entry ``i`` is the table's code for input ``i - 2^(a-1)``; inputs outside the
    block's narrower input format never occur (its codes are fitted to it) and repeat the
    nearest end of the table. Signed output codes as a-bit two's complement."""
    codes = [int(c) for c in lut.codes]
    lo = lut.fin.min_code
    n = 1 << a
    words = [codes[min(max(i - (n >> 1) - lo, 0), len(codes) - 1)] for i in range(n)]
    return [w & (n - 1) for w in words] if signed_out else words


def _check(qm: QModel) -> None:
    """Refuse (HwssmError, one line) a legal QModel that the RTL generator does not support."""
    check_rtl_encoder(qm)
    nc = qm.n_classes
    if nc < 2 or nc > 16:
        raise HwssmError(f"the RTL supports 2..16 classes (out_class is 4 bits), not {nc}")
    a = act_width(qm)
    if a > MAX_ACT_BITS:
        raise HwssmError(f"plan {qm.plan.name}: activations of {a} bits need GELU/sigmoid tables of 2^{a} "
                         f"entries per layer; the RTL supports at most {MAX_ACT_BITS} bits")
    if not all(f.signed for f in _act_formats(qm)):
        raise HwssmError(f"the RTL needs every activation format (r, y, g, v, z) signed (plan {qm.plan.name})")
    for ly in qm.layers:
        if ly.sig.signed or ly.sig.width > 16:
            raise HwssmError("the RTL needs unsigned sigmoid codes of at most 16 bits")
    for name, p in qm.params():
        if name.endswith((".b", "enc_b", "dec_b")):
            continue
        if _eff_width(p) > MAX_OPERAND_BITS:
            raise HwssmError(f"{name}: {_eff_width(p)}-bit effective parameters exceed the RTL's {MAX_OPERAND_BITS}-bit multipliers")
    for ly in qm.layers:
        for f in ly.x_re + ly.x_im:
            if f.width > MAX_OPERAND_BITS:
                raise HwssmError(f"{f.width}-bit state exceeds the RTL's {MAX_OPERAND_BITS}-bit multipliers")


def _mix_tables(lw: Lowering, H: int, P: int, KP: int, m_sh: dict, vd: list[int] | None = None) -> tuple[tuple, Shift, Shift, int]:
    """Per-lane row tables of the mixing (shifts w, v and the pre-aligned bias, rows l*2KP + kk;
    with per-layer activation widths also ``vd``, block l's deficit ``a - width(V_l)``)."""
    L = len(lw.layers)
    bias_pre = [int(ly.b[j]) << m_sh["bshift"][l * 2 * H + j] for l, ly in enumerate(lw.layers) for j in range(2 * H)]
    sh_w_all, sh_v_all = Shift.of(m_sh["w"]), Shift.of(m_sh["v"])
    bias_width = max(2, signed_width(min(bias_pre + [0]), max(bias_pre + [0])))
    tables = []
    for p in range(P):
        t = Table(L * 2 * KP)
        ws, vs, bs = [], [], []
        for l in range(L):
            for kk in range(2 * KP):
                j = mix_output_row(H, P, p, kk)
                i = None if j is None else l * 2 * H + j
                ws.append(sh_w_all.lo if i is None else m_sh["w"][i])
                vs.append(sh_v_all.lo if i is None else m_sh["v"][i])
                bs.append(0 if i is None else bias_pre[i])
        t.shift("w", ws, sh_w_all)
        t.shift("v", vs, sh_v_all)
        t.value("bias", bs, bias_width, stored=True)
        if vd is not None:
            t.shift("vd", [vd[l] for l in range(L) for _ in range(2 * KP)], Shift.of(vd))
        tables.append(t)
    return tuple(tables), sh_w_all, sh_v_all, bias_width


def _coef_roms(qm: QModel, lw: Lowering, P: int, k: int, Cs: int, KP: int, Q: int, f_widths, cr_width, ci_width):
    """Per lane: coefficient words (S4D slots then mixing slots), C̄ words, and the LOAD layouts."""
    H, M = qm.H, qm.M
    coef_words, c_words, load_s4d, load_mix = [], [], [], []  # load_*: per lane {address: field values}
    for p in range(P):
        cw, ccw, ls, lm = [], [], {}, {}
        for ly in lw.layers:
            Ar, Ai, Br, Bi = ly.A
            Cr, Ci = ly.C
            for h in range(H):
                for c in range(Cs):
                    m = c * P + p
                    if m < M:
                        ls[len(cw)] = tuple(int(x[h, m]) for x in (Ar, Ai, Br, Bi, Cr, Ci))
                        cw.append(pack_fields((Ar[h, m], Ai[h, m], Br[h, m], Bi[h, m]), f_widths))
                        ccw.append(pack_fields((Cr[h, m], Ci[h, m]), (cr_width, ci_width)))
                    else:
                        ls[len(cw)] = (0,) * 6
                        cw.append(0)
                        ccw.append(0)
            for kk in range(2 * KP):
                j = mix_output_row(H, P, p, kk)
                for q in range(Q):
                    if j is None:
                        lm[len(cw)] = (0,) * k
                        cw.append(0)
                        continue
                    vals = [0] * k  # in field order: column i's weight in field mix_field(k, i)
                    for i in range(k):
                        if k * q + i < H:
                            vals[mix_field(k, i)] = int(ly.W[j, k * q + i])
                    lm[len(cw)] = tuple(vals)
                    cw.append(pack_fields(vals, f_widths))
        coef_words.append(cw)
        c_words.append(ccw)
        load_s4d.append(ls)
        load_mix.append(lm)
    return tuple(coef_words), tuple(c_words), load_s4d, load_mix


def _glu(lw: Lowering, a: int, sig_width: int, z_rnd, r_rnd) -> dict:
    """Per-layer constants of GLU (z: requant shift of v·σ) and residual (dz, du: alignments at
    F' = F + lsh; r: rounding shift; res_width); with per-layer activation widths also ``zd``
    and ``rd``, each block's deficit ``a - width`` of Z_l and R_{l+1}."""
    glu = {"z": [], "dz": [], "du": [], "r": [], "res_width": 0}
    for ly in lw.layers:
        glu["z"].append(ly.glu.rq.shift)
        dz, du = shifts(ly.residual)
        glu["dz"].append(dz)
        glu["du"].append(du)
        glu["r"].append(ly.residual.rq.rsh)
        glu["res_width"] = max(glu["res_width"], rtl_width(ly.residual))
    for name, part in (("zd", "glu"), ("rd", "residual")):
        d = _deficits(a, [getattr(ly, part).rq.out.width for ly in lw.layers])
        if d is not None:
            glu[name] = d
    glu["prod_width"] = a + sig_width + 1
    glu["z_rounding"], glu["z_overflow"] = z_rnd
    glu["r_rounding"], glu["r_overflow"] = r_rnd
    return glu


def _encoder(qm: QModel, lw: Lowering, a: int | None = None) -> tuple[Table, dict]:
    """The encoder's row table (W, pre-aligned bias, shifts w and s) and constants (``width``:
    R_0's width, only when narrower than the activation width ``a``)."""
    enc = lw.encoder
    table = Table(qm.H)
    e_w, e_s, e_bp = [], [], []
    for h, row in enumerate(enc.rows):
        w_sh, b_sh = shifts(row)
        e_w.append(w_sh)
        e_s.append(row.rq.rsh)
        e_bp.append(int(enc.b[h]) << b_sh)
    if qm.C == 1:
        table.value("W", [int(x) for x in enc.W], _eff_width(qm.enc_W))
    else:   # one weight field per input channel
        for c in range(qm.C):
            table.value(f"W{c}", [int(x) for x in enc.Wc[:, c]], _eff_width(qm.enc_W))
    table.value("bias", e_bp)
    table.shift("w", e_w)
    table.shift("s", e_s)
    consts = {"fin_width": max(rtl_width(r) for r in enc.rows), "prod_width": _eff_width(qm.enc_W) + 9 + ceil_log2(qm.C),
              "rounding": qm.r0.rounding, "overflow": qm.r0.overflow}
    if a is not None and qm.r0.width != a:
        consts["width"] = qm.r0.width
    return table, consts


def _decoder(qm: QModel, lw: Lowering) -> tuple[Table, dict, int]:
    """The decoder's row table (shift w to max F_k, pre-aligned bias), constants and logit width.

    RTL rewrite: each class's sum is aligned directly to ``max_k F_k`` (the contract's
    alignment to F_k followed by the final alignment, in one exact shift)."""
    dec = lw.decoder
    table = Table(qm.n_classes)
    dw, dbp, acc_w, logit_w = [], [], 0, 0
    for k, row in enumerate(dec.rows):
        fin = int(dec.sh[k, 2])
        (t_w, t_b), (a_w, a_b) = (t.term for t in row.terms), row.aligns
        dw.append(a_w + fin)
        dbp.append(int(dec.b[k]) << (a_b + fin))
        acc_w = max(acc_w, sum_width([(1, t_w)], t_w.frac, 0, Rounding.FLOOR))
        logit_w = max(logit_w, sum_width([(1, t_w), (1, t_b)], dec.logit_frac, 0, Rounding.FLOOR))
    table.shift("w", dw)
    table.value("bias", dbp)
    wd = _eff_width(qm.dec_W)
    consts = {"W_words": [int(x) & ((1 << wd) - 1) for x in dec.W.ravel()], "W_width": wd, "acc_width": acc_w}
    return table, consts, logit_w


def derive(qm: QModel, design: DesignPoint) -> CoreConfig:
    """Check that the RTL can realise ``qm`` built as ``design`` and derive its :class:`CoreConfig`.

    ``design`` (:class:`~hwssm.hw.options.DesignPoint`, already validated) gives P, T, the
    pipeline and the generation options ``storage`` and ``soft_mul_bits``.
    Raises HwssmError (one line) for a model or lane count the generator does not support.
    """
    if not isinstance(design, DesignPoint):
        raise HwssmError(f"derive needs a DesignPoint, not {type(design).__name__}")
    if getattr(qm, "family", None) is Family.S5:
        from .derive_s5 import derive_s5

        return derive_s5(qm, design)
    P, T, pipe = design.lanes, design.seq_len, design.pipeline
    storage, soft_mul_bits = design.storage, design.soft_mul_bits
    H, M, L = qm.H, qm.M, qm.L
    _check(qm)
    lw = lower(qm, T)
    a = act_width(qm)
    k = pipe.mix_cols
    Cs, KP, Q = -(-M // P), -(-H // P), -(-H // k)
    xr_width = max(f.width for ly in qm.layers for f in ly.x_re)
    xi_width = max(f.width for ly in qm.layers for f in ly.x_im)
    xr_rnd = _uniform([f for ly in qm.layers for f in ly.x_re], "state (re)")
    xi_rnd = _uniform([f for ly in qm.layers for f in ly.x_im], "state (im)")
    y_rnd = _uniform([ly.y for ly in qm.layers], "readout y")
    v_rnd = _uniform([ly.v for ly in qm.layers], "mixing v")
    z_rnd = _uniform([ly.z for ly in qm.layers], "GLU z")
    # (the residual's output is N_l before a postnorm LayerNorm)
    r_rnd = _uniform([ly.norm.n if ly.norm is not None and not ly.norm.prenorm else ly.r_out for ly in qm.layers],
                     "residual r")

    # -- S4D rows (rows l*H + h) ---------------------------------------------------------
    s_sh, s_wd = ssm_row_constants([s for ly in lw.layers for s in ly.ssm])
    # per-layer state widths (per-layer precision): each row's deficit to the shared width
    # (the lane fits its state to it, hw.rtl.ops.narrow); absent when every row has the same width
    for name, width, part in (("xdr", xr_width, "x_re"), ("xdi", xi_width, "x_im")):
        deficit = [width - f.width for ly in qm.layers for f in getattr(ly, part)]
        if any(deficit):
            s_sh[name] = deficit
    # per-layer activation widths: each row's y deficit to the activation width a
    yd = _deficits(a, [ly.y.width for ly in qm.layers for _ in range(H)])
    if yd is not None:
        s_sh["yd"] = yd
    ssm_table = Table(L * H)
    for name, vals in s_sh.items():
        ssm_table.shift(name, vals)
    d_width = max(_eff_width(ly.D) for ly in qm.layers)
    ssm_table.value("D", [int(d) for ly in lw.layers for d in ly.D], d_width)

    # -- mixing rows (per lane tables, rows l*2H + j) ------------------------------------
    m_sh, m_wd = mix_row_constants([r for ly in lw.layers for r in ly.mix])
    mix_tables, sh_w_all, sh_v_all, bias_width = _mix_tables(lw, H, P, KP, m_sh,
                                                             _deficits(a, [ly.v.width for ly in qm.layers]))

    # -- coefficient and C̄ ROMs --------------------------------------------------------
    def widest(name: str) -> int:
        return max(_eff_width(getattr(ly, name)) for ly in qm.layers)

    wW = widest("W")
    f_widths = tuple(max(widest(n), wW) for n in ("A_re", "A_im", "B_re", "B_im")) + (wW,) * (k - 4)
    cr_width, ci_width = widest("C_re"), widest("C_im")
    coef_words, c_words, load_s4d, load_mix = _coef_roms(qm, lw, P, k, Cs, KP, Q, f_widths, cr_width, ci_width)
    b_widths = (widest("B_re"), widest("B_im"))
    load = None
    if storage is ParamStorage.LOAD:
        load = LoadLayout.build((widest("A_re"), widest("A_im"), *b_widths, cr_width, ci_width),
                                (wW,) * k, load_s4d, load_mix)

    lane = LaneConfig(
        mul_stages=pipe.mul_stages, f_widths=f_widths, xr_width=xr_width, xi_width=xi_width, u_width=a,
        g_width=a, cr_width=cr_width, ci_width=ci_width,
        shifts={**{n: ssm_table.shifts[n] for n in ("ar", "ai", "br", "ax", "ia", "bi", "re", "im", "cr", "ci",
                                                     "xdr", "xdi") if n in ssm_table.shifts},
                "w": sh_w_all, "v": sh_v_all},
        acc_re_width=s_wd["acc_re"], acc_im_width=s_wd["acc_im"], part_width=s_wd["part"],
        xr_rounding=xr_rnd[0], xr_overflow=xr_rnd[1], xi_rounding=xi_rnd[0], xi_overflow=xi_rnd[1],
        racc_width=m_wd["racc"], bias_width=bias_width, fin_width=m_wd["fin"], v_width=a,
        v_rounding=v_rnd[0], v_overflow=v_rnd[1],
        # with mix_cols >= 6 the B̄·u multipliers also take real-mode weights from fields 2, 3
        b_widths=b_widths if storage is ParamStorage.LOAD and k == 4 else None, soft_mul_bits=soft_mul_bits,
        requant_stages=pipe.requant_stages, acc_stages=pipe.acc_stages, mix_cols=k,
        align_stages=pipe.align_stages, operand_regs=pipe.operand_regs,
    )

    # -- lookup tables (the QModel's codes, 2^a per block; GELU codes as a-bit two's complement) --
    sig_width = max(ly.sig.width for ly in qm.layers)
    gelu_words = [w for ly in lw.layers for w in _lut_words(ly.gelu, a, True)]
    sig_words = [w for ly in lw.layers for w in _lut_words(ly.sigmoid, a, False)]

    enc_table, enc = _encoder(qm, lw, a)
    dec_table, dec, logit_w = _decoder(qm, lw)
    if qm.tokens and storage is ParamStorage.LOAD:
        raise HwssmError("a token model's embedding ROM is built with ROM storage only (not --storage load)")
    return CoreConfig(
        qm=qm, P=P, T=T, pipe=pipe, a=a, Cs=Cs, KP=KP, Q=Q, lane=lane, ssm_table=ssm_table,
        mix_tables=mix_tables, enc_table=enc_table, dec_table=dec_table, coef_words=coef_words,
        coef_field_widths=f_widths, c_words=c_words, xr_width=xr_width, xi_width=xi_width,
        du_width=d_width + a, d_width=d_width, rowsum_width=s_wd["rowsum"], fin_width=s_wd["fin"],
        y_rounding=y_rnd[0], y_overflow=y_rnd[1], gelu_words=gelu_words, sig_words=sig_words,
        sig_width=sig_width, glu=_glu(lw, a, sig_width, z_rnd, r_rnd), enc=enc, dec=dec,
        pool_width=lw.decoder.S.width, logit_width=logit_w, logit_frac=lw.decoder.logit_frac,
        storage=storage, soft_mul_bits=soft_mul_bits, load=load,
        enc_rom=token_rom(lw, H, a) if qm.tokens else None, norm=norm_config(qm, a, L, H),
    )
