"""The S5 family's derivation: an :class:`~hwssm.quant.s5_qmodel.S5QModel` on the S4D lanes.

The arithmetic is ARITHMETIC.md §6, lowered once by :func:`hwssm.quant.s5_lowering.lower_s5`;
this module maps its sums onto the same P complex-MAC lanes, tree, row finish, GELU, GLU and
decoder as the S4D core (:func:`hwssm.hw.derive.derive`), with four slot kinds per block
(the issue order of :mod:`hwssm.hw.cycle_s5`):

- **B̄u** (real mode): ``2·Cs`` passes of ``Q`` column chunks; pass kk, lane p computes row
  (part kk mod 2, mode m = (kk div 2)·P + p) of ``B̄·u + β`` over the block input u = r_l
  (broadcast from the datapath's u banks) and requantizes it into ``BU_re``/``BU_im``; the
  lane keeps it in its own bu buffer (address kk div 2).
- **update** (complex mode): ``Cs`` slots; lane p updates mode m = c·P + p with Λ̄ in
  coefficient fields 0, 1 and its bu re/im in fields 2, 3 (the B̄·u multipliers, u = 1).
- **readout** (complex mode, the S4D readout path): ``H·Cs`` slots (h, c); lane p reads the
  new state of mode c·P + p and passes it through the update unchanged (Λ̄ = 1, an exact
  identity: shift 0, the state already fits its format) to the readout multipliers with
  C̃'[h, m]; the tree, the row sum over c, the row finish (+ D·u + δ) give y[h], then GELU.
- **GLU** (real mode): half GLU ``KP`` gate passes (the value is g itself, written into the
  value buffer by GELU), full GLU ``2·KP`` passes as the S4D mixing.

RTL rewrites (exact, ARITHMETIC.md allows any rewrite with the same integers):

- **Readout alignment folded into C̃.** The term of mode p in row h is aligned by
  ``e[h, p] = align + 1 + lsh`` (the 2 of 2·Re and the requantization pre-shift included),
  which varies by mode when the state formats are per mode. The C̃ ROM holds
  ``C̃'[h, p] = C̃[h, p] << (e[h, p] - base[h])``, ``base[h] = min_p e[h, p]``; the row finish
  shifts the mode sum by ``base[h]`` (``es``), so the lanes' readout shifts are 0.
- **Per-lane update shifts.** State formats are per mode, so the update's alignments and
  requantization shifts come from a per-lane table (rows l·Cs + c, and row L·Cs: the readout
  slots' identity).
- **LOAD storage** (:mod:`hwssm.hw.storage`): the coefficient words go to the load memories
  with one C̃' word per readout slot (h, c) where the ROM design has its identity word and C̄
  ROM; the lanes then take Λ̄ = 1, B̄u = 0 as constants (:mod:`hwssm.hw.rtl.load_memories`).
- **One real-mode output width.** The lanes requantize real-mode rows to
  ``max(a, width(BU))`` bits; a narrower row is fitted to its own width afterwards (the
  mixing table's ``vd`` field; nested clamps and low bits of low bits are exact), so the
  rounding and overflow of V, BU_re and BU_im must agree.
"""

from __future__ import annotations

import dataclasses

from ..errors import HwssmError
from ..fixed import signed_width
from ..model.s5_config import Glu
from ..quant.lowering_sum import SumRow
from ..quant.s5_lowering import lower_s5
from ..quant.s5_qmodel import S5QModel
from .core_config import MAX_ACT_BITS, MAX_OPERAND_BITS, CoreConfig, LaneConfig, S5Layout, mix_output_row
from .derive import _decoder, _eff_width, _encoder, _uniform, check_rtl_encoder
from .options import DesignPoint, ParamStorage, mix_field
from .rom_table import Shift, Table, pack_fields
from .storage import MIX_FIELDS, S5_READOUT_FIELDS, S5_UPDATE_FIELDS, LoadLayout
from .row_constants import GUARD, mix_row_constants, rtl_width, shifts

__all__ = ["derive_s5"]

_UPD = ("ar", "ai", "br", "ax", "ia", "bi", "re", "im")


@dataclasses.dataclass(frozen=True)
class _Rows:
    """The lowered sums of one block, split by operation (from ``S5LayerLowering.rows``)."""

    bu_re: tuple[SumRow, ...]
    bu_im: tuple[SumRow, ...]
    xr: tuple[SumRow, ...]
    xi: tuple[SumRow, ...]
    y: tuple[SumRow, ...]
    mix: tuple[SumRow, ...]
    gate: SumRow
    res: SumRow

    @classmethod
    def of(cls, ly, P: int, H: int) -> "_Rows":
        r = ly.rows
        return cls(r[:P], r[P:2 * P], r[2 * P:3 * P], r[3 * P:4 * P], r[4 * P:4 * P + H], r[4 * P + H:-2], r[-2], r[-1])


def _check(qm: S5QModel, design: DesignPoint) -> None:
    """Refuse (HwssmError, one line) a legal S5QModel or design the S5 RTL does not build."""
    check_rtl_encoder(qm)
    if not 2 <= qm.n_classes <= 16:
        raise HwssmError(f"the RTL supports 2..16 classes (out_class is 4 bits), not {qm.n_classes}")
    a = qm.r0.width
    if a > MAX_ACT_BITS:
        raise HwssmError(f"plan {qm.plan.name}: activations of {a} bits need GELU/sigmoid tables of 2^{a} "
                         f"entries per layer; the RTL supports at most {MAX_ACT_BITS} bits")
    acts = [qm.r0] + [f for ly in qm.layers for f in (ly.y, ly.g, ly.v, ly.z, ly.r_out)]
    if any(f.width != a or not f.signed for f in acts):
        raise HwssmError("the RTL needs every activation format (r, y, g, v, z) signed and of one width "
                         f"(plan {qm.plan.name}: per-layer activation widths run in the golden engine and QAT only)")
    for ly in qm.layers:
        if ly.sig.signed or ly.sig.width > 16:
            raise HwssmError("the RTL needs unsigned sigmoid codes of at most 16 bits")
        for f in (*ly.x_re, *ly.x_im, ly.bu_re, ly.bu_im):
            if f.width > MAX_OPERAND_BITS or not f.signed:
                raise HwssmError(f"the S5 RTL needs signed state and bu codes of at most {MAX_OPERAND_BITS} bits")
    for name, p in qm.params():
        if name.endswith((".b", ".beta_re", ".beta_im", ".delta", "enc_b", "dec_b")):
            continue
        if _eff_width(p) > MAX_OPERAND_BITS:
            raise HwssmError(f"{name}: {_eff_width(p)}-bit effective parameters exceed the RTL's "
                             f"{MAX_OPERAND_BITS}-bit multipliers")


def _readout(qm: S5QModel, lw, rows: list[_Rows]):
    """Folded C̃' (per layer (H, P) re and im), the row-finish table (rows l·H + h) and widths."""
    H, P, L = qm.H, qm.P, qm.L
    Cf, es, ed, sy, dl, D = [], [], [], [], [], []
    part = rowsum = fin = 2
    for l, (ly, low, rw) in enumerate(zip(qm.layers, lw.layers, rows)):
        cr, ci = low.C
        fr = [[0] * P for _ in range(H)]
        fi = [[0] * P for _ in range(H)]
        for h, y in enumerate(rw.y):
            al = shifts(y)
            e = [(al[2 * p] + 1, al[2 * p + 1] + 1) for p in range(P)]
            base = min(min(x) for x in e)
            lo_sum = hi_sum = 0
            for p in range(P):
                fr[h][p] = int(cr[h, p]) << (e[p][0] - base)
                fi[h][p] = int(ci[h, p]) << (e[p][1] - base)
                xr, xi = ly.x_re[p], ly.x_im[p]
                pr = [fr[h][p] * v for v in (xr.min_code, xr.max_code)]
                pi = [fi[h][p] * v for v in (xi.min_code, xi.max_code)]
                lo, hi = min(pr) - max(pi), max(pr) - min(pi)
                part = max(part, signed_width(lo, hi) + GUARD)
                lo_sum += min(lo, 0)
                hi_sum += max(hi, 0)
            rowsum = max(rowsum, signed_width(lo_sum, hi_sum) + GUARD)
            es.append(base)
            ed.append(al[2 * P])
            dl.append(int(low.delta[h]) << al[2 * P + 1])
            sy.append(y.rq.rsh)
            D.append(int(low.D[h]))
            fin = max(fin, rtl_width(y))
        Cf.append((fr, fi))
    table = Table(L * H)
    for name, vals in (("es", es), ("ed", ed), ("sy", sy)):
        table.shift(name, vals)
    d_width = max(_eff_width(ly.D) for ly in qm.layers)
    table.value("D", D, d_width)
    table.value("dl", dl)
    return Cf, table, {"part": part, "rowsum": rowsum, "fin": fin, "d": d_width, "delta": any(dl)}


def _update_tables(qm: S5QModel, rows: list[_Rows], P: int, Cs: int, xr_width: int, xi_width: int):
    """Per-lane update shift tables (rows l·Cs + c; row L·Cs: the readout identity) and widths."""
    L, Pm = qm.L, qm.P
    vals = {n: [[] for _ in range(P)] for n in _UPD + ("xdr", "xdi")}
    for l, rw in enumerate(rows):
        for p in range(P):
            for c in range(Cs):
                m = c * P + p
                if m < Pm:
                    sr, si = shifts(rw.xr[m]), shifts(rw.xi[m])
                    v = (*sr, *si, rw.xr[m].rq.rsh, rw.xi[m].rq.rsh,
                         xr_width - qm.layers[l].x_re[m].width, xi_width - qm.layers[l].x_im[m].width)
                else:
                    v = (None,) * 10
                for n, x in zip(_UPD + ("xdr", "xdi"), v):
                    vals[n][p].append(x)
    ident = {"ar": 0, "ax": 0, "re": 0, "im": 0, "xdr": 0, "xdi": 0}   # x' = 1·x, shift 0: the identity
    for n in vals:
        for p in range(P):
            vals[n][p].append(ident.get(n))
    rng = {}
    for n in vals:
        flat = [x for col in vals[n] for x in col if x is not None]
        rng[n] = Shift.of(flat)
    tables = []
    for p in range(P):
        t = Table(L * Cs + 1)
        for n in vals:
            if n in ("xdr", "xdi") and rng[n].const and rng[n].lo == 0:
                continue
            t.shift(n, [rng[n].lo if x is None else x for x in vals[n][p]], rng[n])
        tables.append(t)
    acc_re = max([rtl_width(r) for rw in rows for r in rw.xr] + [xr_width + 1 + GUARD])
    acc_im = max([rtl_width(r) for rw in rows for r in rw.xi] + [xi_width + 1 + GUARD])
    return tuple(tables), {n: rng[n] for n in tables[0].shifts}, acc_re, acc_im


def _real_rows(qm: S5QModel, lw, rows: list[_Rows], P: int, Cs: int, KP: int, NG: int):
    """Per layer, per real pass, per lane: the lowered row (or None) and its weights; kind per pass."""
    H, Pm, half = qm.H, qm.P, qm.glu is Glu.HALF
    out = []   # [l][pass] -> (kind, [lane -> (SumRow, weights, bias, width) | None])
    for l, (ly, low, rw) in enumerate(zip(qm.layers, lw.layers, rows)):
        passes = []
        for kk in range(2 * Cs):
            part = kk % 2
            B, beta = low.B[part], low.beta[part]
            lanes = []
            for p in range(P):
                m = (kk // 2) * P + p
                if m >= Pm:
                    lanes.append(None)
                    continue
                row = (rw.bu_re if part == 0 else rw.bu_im)[m]
                lanes.append((row, [int(x) for x in B[m]], int(beta[m]), (ly.bu_re, ly.bu_im)[part].width))
            passes.append(lanes)
        for kk in range(NG):
            lanes = []
            for p in range(P):
                j = (kk * P + p if kk * P + p < H else None) if half else mix_output_row(H, P, p, kk)
                lanes.append(None if j is None else (rw.mix[j], [int(x) for x in low.W[j]], int(low.b[j]), ly.v.width))
            passes.append(lanes)
        out.append(passes)
    return out


def _mix_tables(real, P: int, v_width: int):
    """Per-lane real-mode row tables (rows l·passes + pass): shifts w, v, the pre-aligned bias,
    and ``vd`` (bits the row's format is narrower than the lanes' output) when it varies."""
    sums = [e[0] for passes in real for lanes in passes for e in lanes if e is not None]
    sh, wd = mix_row_constants(sums)
    w_all, v_all = Shift.of(sh["w"]), Shift.of(sh["v"])
    cols = {n: [[] for _ in range(P)] for n in ("w", "v", "bias", "vd")}
    for passes in real:
        for lanes in passes:
            for p, e in enumerate(lanes):
                if e is None:
                    for n, x in (("w", w_all.lo), ("v", v_all.lo), ("bias", 0), ("vd", 0)):
                        cols[n][p].append(x)
                    continue
                row, _, b, width = e
                wsh, bsh = shifts(row)
                for n, x in (("w", wsh), ("v", row.rq.rsh), ("bias", b << bsh), ("vd", v_width - width)):
                    cols[n][p].append(x)
    biases = [x for col in cols["bias"] for x in col]
    bias_width = max(2, signed_width(min(biases + [0]), max(biases + [0])))
    vd_all = Shift.of([x for col in cols["vd"] for x in col])
    tables = []
    for p in range(P):
        t = Table(len(cols["w"][p]))
        t.shift("w", cols["w"][p], w_all)
        t.shift("v", cols["v"][p], v_all)
        t.value("bias", cols["bias"][p], bias_width, stored=True)
        if not vd_all.const or vd_all.lo:
            t.shift("vd", cols["vd"][p], vd_all)
        tables.append(t)
    return tuple(tables), w_all, v_all, bias_width, wd


def _words(qm: S5QModel, lw, real, Cf, P: int, Cs: int, Q: int, fw: tuple, cw: tuple):
    """Per lane: coefficient words in issue order (per layer: B̄u passes, updates, the identity,
    GLU passes; real-mode column i of a chunk in field :func:`~hwssm.hw.options.mix_field`), C̃'
    words ((l·H + h)·Cs + c) and the LOAD words (``(kind, values)`` in address order: kinds
    update 0, readout 1, real 2; one C̃' word per readout slot (h, c) in place of the identity)."""
    H, Pm, k = qm.H, qm.P, len(fw)
    coef, cwords, load = [], [], []
    for p in range(P):
        words, cws, ld = [], [], []
        for l, low in enumerate(lw.layers):
            passes = real[l]
            for kk in range(2 * Cs):
                for q in range(Q):
                    words.append(pack_fields(_real_vals(passes[kk][p], q, k, H), fw))
                    ld.append((2, _real_vals(passes[kk][p], q, k, H)))
            for c in range(Cs):
                m = c * P + p
                lam = (int(low.A[0][m]), int(low.A[1][m])) if m < Pm else (0, 0)
                words.append(pack_fields(lam + (0,) * (k - 2), fw) if m < Pm else 0)
                ld.append((0, lam))
            words.append(pack_fields((1,) + (0,) * (k - 1), fw))
            fr, fi = Cf[l]
            for h in range(H):
                for c in range(Cs):
                    m = c * P + p
                    cws.append(pack_fields((fr[h][m], fi[h][m]), cw) if m < Pm else 0)
                    ld.append((1, (fr[h][m], fi[h][m]) if m < Pm else (0, 0)))
            for kk in range(2 * Cs, len(passes)):
                for q in range(Q):
                    words.append(pack_fields(_real_vals(passes[kk][p], q, k, H), fw))
                    ld.append((2, _real_vals(passes[kk][p], q, k, H)))
        coef.append(words)
        cwords.append(cws)
        load.append(dict(enumerate(ld)))
    return tuple(coef), tuple(cwords), load


def _real_vals(entry, q: int, k: int, H: int) -> list:
    """The k field values (in field order) of real-mode chunk q of a lane's row ``entry``."""
    vals = [0] * k
    if entry is not None:
        for i in range(k):
            if k * q + i < H:
                vals[mix_field(k, i)] = entry[1][k * q + i]
    return vals


def _rounding(qm: S5QModel) -> dict:
    lys = qm.layers
    return {"xr": _uniform([f for ly in lys for f in ly.x_re], "state (re)"),
            "xi": _uniform([f for ly in lys for f in ly.x_im], "state (im)"),
            "y": _uniform([ly.y for ly in lys], "readout y"),
            "v": _uniform([f for ly in lys for f in (ly.v, ly.bu_re, ly.bu_im)], "GLU v and B̄u bu"),
            "z": _uniform([ly.z for ly in lys], "GLU z"),
            "r": _uniform([ly.r_out for ly in lys], "residual r")}


def derive_s5(qm: S5QModel, design: DesignPoint) -> CoreConfig:
    """Check that the RTL can realise the S5 model ``qm`` built as ``design`` and derive its
    :class:`CoreConfig` (with :attr:`CoreConfig.s5` set). HwssmError (one line) otherwise."""
    P, T, pipe = design.lanes, design.seq_len, design.pipeline
    _check(qm, design)
    lw = lower_s5(qm, T)
    H, L, Pm, a, k = qm.H, qm.L, qm.P, qm.r0.width, pipe.mix_cols
    Cs, KP, Q = -(-Pm // P), -(-H // P), -(-H // k)
    half = qm.glu is Glu.HALF
    NG = KP if half else 2 * KP
    rows = [_Rows.of(ly, Pm, H) for ly in lw.layers]
    rnd = _rounding(qm)
    xr_width = max(f.width for ly in qm.layers for f in ly.x_re)
    xi_width = max(f.width for ly in qm.layers for f in ly.x_im)
    bw = (max(ly.bu_re.width for ly in qm.layers), max(ly.bu_im.width for ly in qm.layers))
    v_width = max(a, *bw)

    Cf, ssm_table, rd = _readout(qm, lw, rows)
    cr_width = max(2, *(signed_width(min(min(r) for r in fr), max(max(r) for r in fr)) for fr, _ in Cf))
    ci_width = max(2, *(signed_width(min(min(r) for r in fi), max(max(r) for r in fi)) for _, fi in Cf))
    if max(cr_width, ci_width) > MAX_OPERAND_BITS:
        raise HwssmError(f"the readout's C̃ aligned to its row needs {max(cr_width, ci_width)} bits, more than the "
                         f"RTL's {MAX_OPERAND_BITS}-bit multipliers (state fracs too far apart across modes)")
    upd_tables, upd_sh, acc_re, acc_im = _update_tables(qm, rows, P, Cs, xr_width, xi_width)
    real = _real_rows(qm, lw, rows, P, Cs, KP, NG)
    mix_tables, w_all, v_all, bias_width, mwd = _mix_tables(real, P, v_width)

    def widest(*names) -> int:
        return max(_eff_width(getattr(ly, n)) for ly in qm.layers for n in names)

    wreal = widest("B_re", "B_im", "W")
    fw = (max(widest("A_re"), wreal, 2), max(widest("A_im"), wreal), max(bw[0], wreal), max(bw[1], wreal)) + (wreal,) * (k - 4)
    coef_words, c_words, load_words = _words(qm, lw, real, Cf, P, Cs, Q, fw, (cr_width, ci_width))
    load = None
    if design.storage is ParamStorage.LOAD:
        load = LoadLayout.of((("update", S5_UPDATE_FIELDS, (widest("A_re"), widest("A_im"))),
                              ("readout", S5_READOUT_FIELDS, (cr_width, ci_width)),
                              ("mix", MIX_FIELDS[:k], (wreal,) * k)), load_words)

    lane = LaneConfig(
        mul_stages=pipe.mul_stages, f_widths=fw, xr_width=xr_width, xi_width=xi_width, u_width=a, g_width=a,
        cr_width=cr_width, ci_width=ci_width,
        shifts={**upd_sh, "cr": Shift(0, 0), "ci": Shift(0, 0), "w": w_all, "v": v_all},
        acc_re_width=acc_re, acc_im_width=acc_im, part_width=rd["part"],
        xr_rounding=rnd["xr"][0], xr_overflow=rnd["xr"][1], xi_rounding=rnd["xi"][0], xi_overflow=rnd["xi"][1],
        racc_width=mwd["racc"], bias_width=bias_width, fin_width=mwd["fin"], v_width=v_width,
        v_rounding=rnd["v"][0], v_overflow=rnd["v"][1], soft_mul_bits=design.soft_mul_bits,
        requant_stages=pipe.requant_stages, acc_stages=pipe.acc_stages, mix_cols=k, align_stages=pipe.align_stages,
        operand_regs=pipe.operand_regs, unit_u=True,
    )
    amask = (1 << a) - 1
    gate = [rw.gate for rw in rows]
    glu = {"z": [g.rq.shift for g in gate], "dz": [shifts(rw.res)[0] for rw in rows],
           "du": [shifts(rw.res)[1] for rw in rows], "r": [rw.res.rq.rsh for rw in rows],
           "res_width": max(rtl_width(rw.res) for rw in rows),
           "prod_width": a + max(ly.sig.width for ly in qm.layers) + 1,
           "z_rounding": rnd["z"][0], "z_overflow": rnd["z"][1], "r_rounding": rnd["r"][0], "r_overflow": rnd["r"][1]}
    enc_table, enc = _encoder(qm, lw)
    dec_table, dec, logit_w = _decoder(qm, lw)
    layout = S5Layout(Pm=Pm, half=half, glu_passes=NG, upd_tables=upd_tables, bu_widths=bw, delta=rd["delta"])
    return CoreConfig(
        qm=qm, P=P, T=T, pipe=pipe, a=a, Cs=Cs, KP=KP, Q=Q, lane=lane, ssm_table=ssm_table,
        mix_tables=mix_tables, enc_table=enc_table, dec_table=dec_table, coef_words=coef_words,
        coef_field_widths=fw, c_words=c_words, xr_width=xr_width, xi_width=xi_width,
        du_width=rd["d"] + a, d_width=rd["d"], rowsum_width=rd["rowsum"], fin_width=rd["fin"],
        y_rounding=rnd["y"][0], y_overflow=rnd["y"][1],
        gelu_words=[int(c) & amask for ly in lw.layers for c in ly.gelu.codes],
        sig_words=[int(c) for ly in lw.layers for c in ly.sigmoid.codes],
        sig_width=max(ly.sig.width for ly in qm.layers), glu=glu, enc=enc, dec=dec,
        pool_width=lw.decoder.S.width, logit_width=logit_w, logit_frac=lw.decoder.logit_frac,
        storage=design.storage, soft_mul_bits=design.soft_mul_bits, s5=layout, load=load,
    )
