"""The complex-MAC lane against the arithmetic contract, on random vectors (exact).

Each vector has its own row formats (fracs drawn per row, as per-head plans have), so
every alignment and rounding shift is exercised as a variable; extreme vectors put every
operand at the ends of its range so that state and outputs saturate (or wrap).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from hwssm.fixed import Overflow, QFormat, Rounding
from hwssm.hw.core_config import LaneConfig
from hwssm.hw.rom_table import Shift
from hwssm.hw.row_constants import MixRow, SsmRow, mix_row_constants, ssm_row_constants
from hwssm.quant.lowering import mix_row, ssm_row
from hwssm.hw.rtl.lane import Lane
from tests.naive import align, requant

Q = 3  # real-mode row: 4·Q inputs over Q cycles


def _code(rng, fmt: QFormat, extreme: bool) -> int:
    if extreme and rng.random() < 0.7:
        return int(rng.choice([fmt.min_code, fmt.max_code, fmt.min_code + 1, fmt.max_code - 1]))
    return int(rng.integers(fmt.min_code, fmt.max_code + 1))


def _setup(seed: int, rounding: Rounding, overflow: Overflow, n: int, extreme: bool):
    rng = np.random.default_rng(seed)
    wa, wb, wc, ww = (int(rng.integers(3, 17)) for _ in range(4))   # effective widths
    wxr, wxi, act, wd = int(rng.integers(4, 17)), int(rng.integers(4, 17)), int(rng.integers(3, 13)), int(rng.integers(3, 17))
    wbias = int(rng.integers(4, 20))

    def f(w, lo=-3, hi=4):
        return QFormat(w, w + int(rng.integers(lo, hi)), True, rounding, overflow)

    srows, mrows = [], []
    for _ in range(n):
        srows.append(SsmRow(Ar=f(wa, -3, 1), Ai=f(wa, -3, 1), Br=f(wb, -1, 5), Bi=f(wb, -1, 5), Cr=f(wc, -1, 5),
                            Ci=f(wc, -1, 5), D=f(wd), Xr=f(wxr, -6, 0), Xi=f(wxi, -6, 0), U=f(act, -5, -1),
                            Y=f(act, -5, -1), M=1))
        mrows.append(MixRow(W=f(ww, -1, 3), b=f(wbias, -4, 1), G=f(act, -5, -1), V=f(act, -5, -1), K=4 * Q))
    s_sh, s_wd = ssm_row_constants([ssm_row(r) for r in srows])
    m_sh, m_wd = mix_row_constants([mix_row(r) for r in mrows])
    raw = [_code(rng, r.b, extreme) for r in mrows]
    bias = [(b, b << m_sh["bshift"][i]) for i, b in enumerate(raw)]  # (code, pre-aligned as the ROM holds it)
    bias_width = max(2, max(int(b[1]).bit_length() + 1 for b in bias))
    shifts = {k: Shift.of(s_sh[k]) for k in ("ar", "ai", "br", "ax", "ia", "bi", "re", "im", "cr", "ci")}
    shifts["w"], shifts["v"] = Shift.of(m_sh["w"]), Shift.of(m_sh["v"])
    cfg = LaneConfig(
        mul_stages=int(rng.integers(1, 3)), f_widths=(max(wa, ww), max(wa, ww), max(wb, ww), max(wb, ww)),
        xr_width=wxr, xi_width=wxi, u_width=act, g_width=act, cr_width=wc, ci_width=wc, shifts=shifts,
        acc_re_width=s_wd["acc_re"], acc_im_width=s_wd["acc_im"], part_width=s_wd["part"],
        xr_rounding=rounding, xr_overflow=overflow, xi_rounding=rounding, xi_overflow=overflow,
        racc_width=m_wd["racc"], bias_width=bias_width, fin_width=m_wd["fin"], v_width=act,
        v_rounding=rounding, v_overflow=overflow)
    return rng, cfg, srows, mrows, s_sh, m_sh, bias


def _expected_complex(r: SsmRow, o: dict) -> tuple[int, int, int]:
    fAr, fAi, fBr, fBi = r.Ar.frac, r.Ai.frac, r.Br.frac, r.Bi.frac
    fxr, fxi, fu = r.Xr.frac, r.Xi.frac, r.U.frac
    Fre = max(fAr + fxr, fAi + fxi, fBr + fu)
    acc = align(o["ar"] * o["xr"], Fre - fAr - fxr) - align(o["ai"] * o["xi"], Fre - fAi - fxi) + align(o["br"] * o["u"], Fre - fBr - fu)
    nr = requant(acc, Fre, r.Xr)
    Fim = max(fAr + fxi, fAi + fxr, fBi + fu)
    acc = align(o["ar"] * o["xi"], Fim - fAr - fxi) + align(o["ai"] * o["xr"], Fim - fAi - fxr) + align(o["bi"] * o["u"], Fim - fBi - fu)
    ni = requant(acc, Fim, r.Xi)
    Gc = max(r.Cr.frac + fxr, r.Ci.frac + fxi)
    part = align(o["cr"] * nr, Gc - r.Cr.frac - fxr) - align(o["ci"] * ni, Gc - r.Ci.frac - fxi)
    return nr, ni, part


def _expected_real(r: MixRow, ws, gs, b: int) -> int:
    F = max(r.W.frac + r.G.frac, r.b.frac)
    acc = align(sum(w * g for w, g in zip(ws, gs)), F - r.W.frac - r.G.frac) + align(b, F - r.b.frac)
    return requant(acc, F, r.V)


def _run(seed, rounding, overflow, extreme, n=40, acc_stages=0):
    rng, cfg, srows, mrows, s_sh, m_sh, bias = _setup(seed, rounding, overflow, n, extreme)
    cfg = dataclasses.replace(cfg, acc_stages=acc_stages)
    dut = Lane(cfg)
    # A stream of items: complex items and real rows of Q items, interleaved at random.
    items = []  # (kind, row index, payload)
    for i in range(n):
        if rng.random() < 0.5:
            r = srows[i]
            o = {k: _code(rng, getattr(r, {"ar": "Ar", "ai": "Ai", "br": "Br", "bi": "Bi", "cr": "Cr", "ci": "Ci",
                                           "xr": "Xr", "xi": "Xi", "u": "U"}[k]), extreme)
                 for k in ("ar", "ai", "br", "bi", "cr", "ci", "xr", "xi", "u")}
            items.append(("c", i, o))
        else:
            r = mrows[i]
            b, b_rom = bias[i]
            ws = [_code(rng, r.W, extreme) for _ in range(4 * Q)]
            gs = [_code(rng, r.G, extreme) for _ in range(4 * Q)]
            for q in range(Q):
                items.append(("r", i, {"q": q, "w": ws[4 * q:4 * q + 4], "g": gs[4 * q:4 * q + 4], "b": b_rom,
                                       "exp": _expected_real(r, ws, gs, b) if q == Q - 1 else None}))
            if rng.random() < 0.3:
                items.append(("idle", None, None))
    got = {"x": [], "part": [], "v": []}

    def stage_inputs(ctx, n_cycle):
        def at(s):
            k = n_cycle - s
            return items[k] if 0 <= k < len(items) else ("idle", None, None)

        kind, i, o = at(0)
        ctx.set(dut.cplx, kind == "c")
        ctx.set(dut.real, kind == "r")
        if kind == "c":
            ctx.set(dut.f0, o["ar"]); ctx.set(dut.f1, o["ai"]); ctx.set(dut.f2, o["br"]); ctx.set(dut.f3, o["bi"])
            ctx.set(dut.x.re, o["xr"]); ctx.set(dut.x.im, o["xi"]); ctx.set(dut.u, o["u"])
        elif kind == "r":
            ctx.set(dut.first, o["q"] == 0); ctx.set(dut.last, o["q"] == Q - 1)
            for j, port in enumerate((dut.f0, dut.f1, dut.f2, dut.f3)):
                ctx.set(port, o["w"][j])
            for j in range(4):
                ctx.set(dut.g[j], o["g"][j])
        shift_stage = {**{k: dut.stage_align for k in ("ar", "ai", "br", "ax", "ia", "bi")},
                       "re": dut.stage_round, "im": dut.stage_round, "w": dut.stage_fin,
                       "v": dut.stage_vshift, "cr": dut.stage_readout_align, "ci": dut.stage_readout_align}
        for name, s in shift_stage.items():
            sh = cfg.shifts[name]
            if not sh.width:
                continue
            kind, i, _ = at(s)
            table = s_sh if name not in ("w", "v") else m_sh
            want = "c" if name not in ("w", "v") else "r"
            val = table[name][i] - sh.lo if kind == want else 0
            ctx.set(getattr(dut, f"sh_{name}"), val)
        kind, i, o = at(dut.stage_fin)
        ctx.set(dut.bias, o["b"] if kind == "r" else 0)
        kind, i, o = at(dut.stage_c)
        if kind == "c":
            ctx.set(dut.c.re, o["cr"]); ctx.set(dut.c.im, o["ci"])

    async def tb(ctx):
        for n_cycle in range(len(items) + dut.latency + 2):
            stage_inputs(ctx, n_cycle)
            if ctx.get(dut.x_valid):
                got["x"].append((ctx.get(dut.x_out.re), ctx.get(dut.x_out.im)))
            k = n_cycle - dut.latency_partial
            if 0 <= k < len(items) and items[k][0] == "c":
                got["part"].append(ctx.get(dut.part))
            if ctx.get(dut.v_valid):
                got["v"].append(ctx.get(dut.v))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    exp_c = [_expected_complex(srows[i], o) for kind, i, o in items if kind == "c"]
    exp_v = [o["exp"] for kind, i, o in items if kind == "r" and o["exp"] is not None]
    assert got["x"] == [(a, b) for a, b, _ in exp_c]
    assert got["part"] == [p for _, _, p in exp_c]
    assert got["v"] == exp_v
    return exp_c, exp_v, cfg


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("overflow", list(Overflow))
@pytest.mark.parametrize("extreme", [False, True])
def test_lane_matches_contract(rounding, overflow, extreme):
    seed = 100 * list(Rounding).index(rounding) + 10 * list(Overflow).index(overflow) + int(extreme)
    exp_c, exp_v, cfg = _run(seed, rounding, overflow, extreme)
    assert exp_c and exp_v
    if extreme and overflow is Overflow.SATURATE:
        # saturation must actually have happened somewhere
        lim = {(1 << (cfg.xr_width - 1)) - 1, -(1 << (cfg.xr_width - 1))}
        assert any(a in lim for a, _, _ in exp_c)


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_lane_with_registered_row_finish_matches_contract(seed):
    """``acc_stages=1``: the real-mode finish starts from the registered row sum, one cycle
    later; back-to-back rows, complex items in between, same integers."""
    exp_c, exp_v, cfg = _run(seed, Rounding.HALF_UP, Overflow.SATURATE, True, acc_stages=1)
    assert exp_v and cfg.acc_stages == 1
    lane = Lane(cfg)
    assert lane.latency_real == cfg.mul_stages + 4 and lane.stage_fin == lane.stage_round + 1
    Fragment.get(lane, None)  # elaborates


def test_lane_latency_properties():
    _, cfg, *_ = _setup(1, Rounding.HALF_UP, Overflow.SATURATE, 2, False)
    lane = Lane(cfg)
    ms = cfg.mul_stages
    assert (lane.latency_state, lane.latency_partial, lane.latency_real) == (ms + 2, 2 * ms + 3, ms + 3)
    assert lane.latency == lane.latency_partial
    with pytest.raises(AttributeError):
        lane.latency = 3
    Fragment.get(lane, None)  # elaborates
