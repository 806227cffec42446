"""A slow, obviously correct integer reference of hwssm/quant/ARITHMETIC.md.

Plain Python integers (unbounded), one scalar operation at a time, no numpy
arithmetic. The golden engine and the RTL are tested equal to this.
"""

from __future__ import annotations

from hwssm.fixed import Overflow, QFormat, Rounding
from hwssm.quant.qmodel import QModel, QParam


def rshift(v: int, s: int, rounding: Rounding) -> int:
    if s <= 0:
        return v * (1 << -s)
    if rounding is Rounding.HALF_UP:
        v += 1 << (s - 1)
    return v >> s  # Python's >> on negative ints is floor division by 2**s


def fit(v: int, fmt: QFormat) -> int:
    if fmt.overflow is Overflow.SATURATE:
        return max(fmt.min_code, min(fmt.max_code, v))
    low = v & ((1 << fmt.width) - 1)
    if fmt.signed and low >= 1 << (fmt.width - 1):
        low -= 1 << fmt.width
    return low


def requant(acc: int, F: int, out: QFormat) -> int:
    return fit(rshift(acc, F - out.frac, out.rounding), out)


def align(v: int, d: int) -> int:
    assert d >= 0, d
    return v * (1 << d)


def w(p: QParam, *idx) -> int:
    """Effective integer of a parameter element: code - zero[row]."""
    return int(p.codes[idx]) - int(p.zero[idx[0]])


def f(p: QParam, row: int) -> int:
    return int(p.frac[row])


def run_sequence(qm: QModel, pixels) -> dict:
    """Run one sequence (iterable of pixel ints 0..255). Returns logits, pred and traces.

    traces: r[l][t][h] for l = 0..L (r[0] is the encoder output), y/g/z[l][t][h], v[l][t][j].
    """
    H, M, L = qm.H, qm.M, qm.L
    pixels = [int(p) for p in pixels]
    T = len(pixels)
    xr = [[[0] * M for _ in range(H)] for _ in range(L)]
    xi = [[[0] * M for _ in range(H)] for _ in range(L)]
    tr = {k: [[] for _ in range(L + (k == "r"))] for k in ("r", "y", "g", "v", "z")}
    pool = [0] * H
    for t in range(T):
        p = pixels[t]
        # encoder
        r = []
        for h in range(H):
            F = max(f(qm.enc_W, h) + 8, f(qm.enc_b, h))
            acc = align(w(qm.enc_W, h, 0) * p, F - f(qm.enc_W, h) - 8) + align(w(qm.enc_b, h), F - f(qm.enc_b, h))
            r.append(requant(acc, F, qm.r0))
        tr["r"][0].append(r)
        for l, ly in enumerate(qm.layers):
            u = r
            fu = qm.r_in(l).frac
            y = []
            for h in range(H):
                Xr, Xi = ly.x_re[h], ly.x_im[h]
                fAr, fAi, fBr, fBi = f(ly.A_re, h), f(ly.A_im, h), f(ly.B_re, h), f(ly.B_im, h)
                fCr, fCi, fD = f(ly.C_re, h), f(ly.C_im, h), f(ly.D, h)
                for m in range(M):
                    ar, ai = w(ly.A_re, h, m), w(ly.A_im, h, m)
                    br, bi = w(ly.B_re, h, m), w(ly.B_im, h, m)
                    pr, pi = xr[l][h][m], xi[l][h][m]
                    Fre = max(fAr + Xr.frac, fAi + Xi.frac, fBr + fu)
                    acc = (align(ar * pr, Fre - fAr - Xr.frac) - align(ai * pi, Fre - fAi - Xi.frac)
                           + align(br * u[h], Fre - fBr - fu))
                    nr = requant(acc, Fre, Xr)
                    Fim = max(fAr + Xi.frac, fAi + Xr.frac, fBi + fu)
                    acc = (align(ar * pi, Fim - fAr - Xi.frac) + align(ai * pr, Fim - fAi - Xr.frac)
                           + align(bi * u[h], Fim - fBi - fu))
                    ni = requant(acc, Fim, Xi)
                    xr[l][h][m], xi[l][h][m] = nr, ni
                G = max(fCr + Xr.frac, fCi + Xi.frac, fD + fu)
                s = 0
                for m in range(M):
                    s += align(w(ly.C_re, h, m) * xr[l][h][m], G - fCr - Xr.frac)
                    s -= align(w(ly.C_im, h, m) * xi[l][h][m], G - fCi - Xi.frac)
                acc = align(s, 1) + align(w(ly.D, h) * u[h], G - fD - fu)
                y.append(requant(acc, G, ly.y))
            g = [int(ly.gelu_lut[yh - ly.y.min_code]) for yh in y]
            v = []
            for j in range(2 * H):
                fW, fb = f(ly.W, j), f(ly.b, j)
                F = max(fW + ly.g.frac, fb)
                s = sum(w(ly.W, j, h) * g[h] for h in range(H))
                acc = align(s, F - fW - ly.g.frac) + align(w(ly.b, j), F - fb)
                v.append(requant(acc, F, ly.v))
            z = []
            for h in range(H):
                sig = int(ly.sigmoid_lut[v[H + h] - ly.v.min_code])
                z.append(requant(v[h] * sig, ly.v.frac + ly.sig.frac, ly.z))
            r = []
            for h in range(H):
                F = max(ly.z.frac, fu)
                acc = align(z[h], F - ly.z.frac) + align(u[h], F - fu)
                r.append(requant(acc, F, ly.r_out))
            for k, val in (("y", y), ("g", g), ("v", v), ("z", z)):
                tr[k][l].append(val)
            tr["r"][l + 1].append(r)
        for h in range(H):
            pool[h] += r[h]
    fr = qm.r_final.frac
    outs, Fs = [], []
    for k in range(qm.n_classes):
        fW, fb = f(qm.dec_W, k), f(qm.dec_b, k)
        F = max(fW + fr, fb)
        s = sum(w(qm.dec_W, k, h) * pool[h] for h in range(H))
        outs.append(align(s, F - fW - fr) + align(w(qm.dec_b, k), F - fb))
        Fs.append(F)
    Fmax = max(Fs)
    logits = [align(o, Fmax - F) for o, F in zip(outs, Fs)]
    pred = max(range(len(logits)), key=lambda k: (logits[k], -k))
    return {"logits": logits, "pred": pred, "logit_frac": Fmax, "pool": pool, "traces": tr}
