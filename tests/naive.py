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


def encode(qm, p) -> list[int]:
    """Encoder (§2.1) of one step: r0[h] for h = 0..H-1.

    ``p`` is a pixel int (C = 1), a sequence of C sample ints, or a token model's token id
    (the one-hot input: the sum is We[h, token]·1 + be[h], input frac 0)."""
    if qm.tokens:
        cols, fu = [(int(p), 1)], 0
    else:
        ps = [int(p)] if isinstance(p, (int,)) or getattr(p, "ndim", 1) == 0 else [int(v) for v in p]
        assert len(ps) == qm.C, (len(ps), qm.C)
        cols, fu = list(enumerate(ps)), 8
    r = []
    for h in range(qm.H):
        F = max(f(qm.enc_W, h) + fu, f(qm.enc_b, h))
        acc = sum(align(w(qm.enc_W, h, c) * v, F - f(qm.enc_W, h) - fu) for c, v in cols)
        acc += align(w(qm.enc_b, h), F - f(qm.enc_b, h))
        r.append(requant(acc, F, qm.r0))
    return r


def decode(qm, pool: list[int]) -> dict:
    """Decoder (§2.3) of the pooled sums: logits at the common frac, and the prediction."""
    fr = qm.r_final.frac
    outs, Fs = [], []
    for k in range(qm.n_classes):
        fW, fb = f(qm.dec_W, k), f(qm.dec_b, k)
        F = max(fW + fr, fb)
        s = sum(w(qm.dec_W, k, h) * pool[h] for h in range(qm.H))
        outs.append(align(s, F - fW - fr) + align(w(qm.dec_b, k), F - fb))
        Fs.append(F)
    Fmax = max(Fs)
    logits = [align(o, Fmax - F) for o, F in zip(outs, Fs)]
    pred = max(range(len(logits)), key=lambda k: (logits[k], -k))
    return {"logits": logits, "pred": pred, "logit_frac": Fmax, "pool": pool}


def isqrt(n: int) -> int:
    """floor(sqrt(n)) of a non-negative integer, by bisection (no floating point)."""
    lo, hi = 0, 1 << ((n.bit_length() + 1) // 2 + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mid * mid <= n:
            lo = mid
        else:
            hi = mid
    return lo


def layer_norm(qm: QModel, qn, x: list[int], X: QFormat, O: QFormat) -> list[int]:
    """The integer LayerNorm (§7) of one step's H codes ``x`` of format X, to codes of O."""
    H = qm.H
    S1 = sum(x)
    d = [H * xh - S1 for xh in x]
    Q = sum(dh * dh for dh in d)
    V = H * Q + int(qn.eps)
    j = (V.bit_length() - 21) // 2
    m = V // (4 ** j) if j >= 0 else V * (4 ** -j)
    assert (1 << 20) <= m < (1 << 22), m
    rho = isqrt((1 << 62) // m)
    out = []
    for h in range(H):
        nu = rshift(d[h] * H * rho, 31 + j - 16, O.rounding)
        fg, fb = f(qn.gamma, h), f(qn.beta, h)
        F = max(fg + 16, fb)
        acc = align(w(qn.gamma, h) * nu, F - fg - 16) + align(w(qn.beta, h), F - fb)
        out.append(requant(acc, F, O))
    return out


def run_sequence(qm: QModel, pixels) -> dict:
    """Run one sequence (iterable of pixel ints 0..255, of C-sample steps, or of token ids).
    Returns logits, pred and traces.

    traces: r[l][t][h] for l = 0..L (r[0] is the encoder output), y/g/z[l][t][h], v[l][t][j].
    """
    H, M, L = qm.H, qm.M, qm.L
    pixels = [int(p) if qm.tokens or qm.C == 1 else [int(v) for v in p] for p in pixels]
    T = len(pixels)
    xr = [[[0] * M for _ in range(H)] for _ in range(L)]
    xi = [[[0] * M for _ in range(H)] for _ in range(L)]
    tr = {k: [[] for _ in range(L + (k == "r"))] for k in ("r", "y", "g", "v", "z")}
    pool = [0] * H
    for t in range(T):
        p = pixels[t]
        r = encode(qm, p)
        tr["r"][0].append(r)
        for l, ly in enumerate(qm.layers):
            u = r
            fu = qm.r_in(l).frac
            qn = ly.norm
            if qn is not None and qn.prenorm:          # the S4D input is LN(r_l) (§7)
                u = layer_norm(qm, qn, r, qm.r_in(l), qn.n)
                fu = qn.n.frac
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
            res, fres = (r, qm.r_in(l).frac)            # the residual adds r_l (not LN(r_l))
            out = qn.n if qn is not None and not qn.prenorm else ly.r_out
            r = []
            for h in range(H):
                F = max(ly.z.frac, fres)
                acc = align(z[h], F - ly.z.frac) + align(res[h], F - fres)
                r.append(requant(acc, F, out))
            if qn is not None and not qn.prenorm:      # r_{l+1} = LN(z + r_l) (§7)
                r = layer_norm(qm, qn, r, qn.n, ly.r_out)
            for k, val in (("y", y), ("g", g), ("v", v), ("z", z)):
                tr[k][l].append(val)
            tr["r"][l + 1].append(r)
        for h in range(H):
            pool[h] += r[h]
    return {**decode(qm, pool), "traces": tr}


def run_sequence_s5(qm, pixels) -> dict:
    """Run one sequence through an S5QModel (ARITHMETIC.md §6). Returns logits, pred and traces.

    traces: r[l][t][h] for l = 0..L, bu_re/bu_im/xr/xi[l][t][p], y/g/z[l][t][h], v[l][t][j].
    """
    H, P, L = qm.H, qm.P, qm.L
    half = qm.glu.value == "half"
    xr = [[0] * P for _ in range(L)]
    xi = [[0] * P for _ in range(L)]
    tr = {k: [[] for _ in range(L + (k == "r"))] for k in ("r", "bu_re", "bu_im", "xr", "xi", "y", "g", "v", "z")}
    pool = [0] * H
    for p_t in (int(p) for p in pixels):
        r = encode(qm, p_t)
        tr["r"][0].append(r)
        for l, ly in enumerate(qm.layers):
            u = r
            fu = qm.r_in(l).frac
            bu = {}
            for part, B, beta, BU in (("re", ly.B_re, ly.beta_re, ly.bu_re), ("im", ly.B_im, ly.beta_im, ly.bu_im)):
                bu[part] = []
                for p in range(P):
                    Fb = max(f(B, p) + fu, f(beta, p))
                    s = sum(w(B, p, h) * u[h] for h in range(H))
                    acc = align(s, Fb - f(B, p) - fu) + align(w(beta, p), Fb - f(beta, p))
                    bu[part].append(requant(acc, Fb, BU))
            fbr, fbi = ly.bu_re.frac, ly.bu_im.frac
            for p in range(P):
                Xr, Xi = ly.x_re[p], ly.x_im[p]
                ar, ai, fAr, fAi = w(ly.A_re, p), w(ly.A_im, p), f(ly.A_re, p), f(ly.A_im, p)
                pr, pi = xr[l][p], xi[l][p]
                Fre = max(fAr + Xr.frac, fAi + Xi.frac, fbr)
                acc = (align(ar * pr, Fre - fAr - Xr.frac) - align(ai * pi, Fre - fAi - Xi.frac)
                       + align(bu["re"][p], Fre - fbr))
                nr = requant(acc, Fre, Xr)
                Fim = max(fAr + Xi.frac, fAi + Xr.frac, fbi)
                acc = (align(ar * pi, Fim - fAr - Xi.frac) + align(ai * pr, Fim - fAi - Xr.frac)
                       + align(bu["im"][p], Fim - fbi))
                ni = requant(acc, Fim, Xi)
                xr[l][p], xi[l][p] = nr, ni
            y = []
            for h in range(H):
                fCr, fCi, fD, fd = f(ly.C_re, h), f(ly.C_im, h), f(ly.D, h), f(ly.delta, h)
                G = max([fCr + ly.x_re[p].frac for p in range(P)] + [fCi + ly.x_im[p].frac for p in range(P)]
                        + [fD + fu, fd])
                acc = 0
                for p in range(P):
                    acc += align(2 * w(ly.C_re, h, p) * xr[l][p], G - fCr - ly.x_re[p].frac)
                    acc -= align(2 * w(ly.C_im, h, p) * xi[l][p], G - fCi - ly.x_im[p].frac)
                acc += align(w(ly.D, h) * u[h], G - fD - fu) + align(w(ly.delta, h), G - fd)
                y.append(requant(acc, G, ly.y))
            g = [int(ly.gelu_lut[yh - ly.y.min_code]) for yh in y]
            v = []
            for j in range(qm.glu_rows):
                fW, fb = f(ly.W, j), f(ly.b, j)
                F = max(fW + ly.g.frac, fb)
                s = sum(w(ly.W, j, h) * g[h] for h in range(H))
                acc = align(s, F - fW - ly.g.frac) + align(w(ly.b, j), F - fb)
                v.append(requant(acc, F, ly.v))
            z = []
            for h in range(H):
                if half:   # g·σ(v)
                    sig = int(ly.sigmoid_lut[v[h] - ly.v.min_code])
                    z.append(requant(g[h] * sig, ly.g.frac + ly.sig.frac, ly.z))
                else:      # v[:H]·σ(v[H:])
                    sig = int(ly.sigmoid_lut[v[H + h] - ly.v.min_code])
                    z.append(requant(v[h] * sig, ly.v.frac + ly.sig.frac, ly.z))
            r = []
            for h in range(H):
                F = max(ly.z.frac, fu)
                r.append(requant(align(z[h], F - ly.z.frac) + align(u[h], F - fu), F, ly.r_out))
            for k, val in (("bu_re", bu["re"]), ("bu_im", bu["im"]), ("xr", list(xr[l])), ("xi", list(xi[l])),
                           ("y", y), ("g", g), ("v", v), ("z", z)):
                tr[k][l].append(val)
            tr["r"][l + 1].append(r)
        for h in range(H):
            pool[h] += r[h]
    return {**decode(qm, pool), "traces": tr}
