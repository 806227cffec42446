"""A straightforward numpy implementation of the integer network, one time step at a time.

Vectorized over sequences, channels and modes with int64 numpy arrays; no
numba. It is the benchmark's baseline (``hwssm bench golden``) and a third,
independent implementation of ARITHMETIC.md that the tests compare with the engine.
"""

from __future__ import annotations

import numpy as np

from ..quant.qmodel import QModel
from .tables import Tables, build_tables


def _rq(acc: np.ndarray, rq: np.ndarray) -> np.ndarray:
    """Apply requant records ``rq`` (..., 6) broadcast against ``acc``."""
    lsh, rnd, rsh, lo, hi, wrap = (rq[..., i] for i in range(6))
    v = ((acc << lsh) + rnd) >> rsh
    sat = np.minimum(np.maximum(v, lo), hi)
    wrapped = (v << wrap) >> wrap
    return np.where(wrap != 0, wrapped, sat)


def run_numpy(qm: QModel, pixels: np.ndarray, tables: Tables | None = None) -> np.ndarray:
    """Integer logits (n, n_classes) of ``pixels`` (n, T) uint8."""
    tb = tables or build_tables(qm, T=pixels.shape[1])
    n, T = pixels.shape
    L, H, M = qm.L, qm.H, qm.M
    xr = np.zeros((L, n, H, M), np.int64)
    xi = np.zeros((L, n, H, M), np.int64)
    pool = np.zeros((n, H), np.int64)
    Ar, Ai, Br, Bi = (tb.A[:, i] for i in range(4))   # (L, H, M)
    Cr, Ci = tb.C[:, 0], tb.C[:, 1]
    for t in range(T):
        p = pixels[:, t].astype(np.int64)[:, None]                      # (n, 1)
        acc = ((tb.enc_w * p) << tb.enc_sh[:, 0]) + (tb.enc_b << tb.enc_sh[:, 1])
        r = _rq(acc, tb.enc_rq)                                          # (n, H)
        for l in range(L):
            u = r[:, :, None]                                            # (n, H, 1)
            sh = tb.x_sh[l]                                              # (H, 6)
            pr, pi = xr[l], xi[l]
            accr = ((Ar[l] * pr) << sh[:, 0, None]) - ((Ai[l] * pi) << sh[:, 1, None]) + ((Br[l] * u) << sh[:, 2, None])
            acci = ((Ar[l] * pi) << sh[:, 3, None]) + ((Ai[l] * pr) << sh[:, 4, None]) + ((Bi[l] * u) << sh[:, 5, None])
            xr[l] = _rq(accr, tb.x_rq[l, :, 0][:, None, :])
            xi[l] = _rq(acci, tb.x_rq[l, :, 1][:, None, :])
            ys = ((Cr[l] * xr[l]) << tb.y_sh[l, :, 0, None]) - ((Ci[l] * xi[l]) << tb.y_sh[l, :, 1, None])
            acc = (ys.sum(axis=2) << 1) + ((tb.D[l] * r) << tb.y_sh[l, :, 2])
            y = _rq(acc, tb.y_rq[l])                                     # (n, H)
            g = tb.gelu[l][y - tb.y_min[l]]
            acc = ((g @ tb.W[l].T) << tb.v_sh[l, :, 0]) + (tb.b[l] << tb.v_sh[l, :, 1])
            v = _rq(acc, tb.v_rq[l])                                     # (n, 2H)
            sig = tb.sig[l][v[:, H:] - tb.v_min[l]]
            z = _rq(v[:, :H] * sig, tb.z_rq[l])
            r = _rq((z << tb.res_sh[l, 0]) + (r << tb.res_sh[l, 1]), tb.res_rq[l])
        pool += r
    o = ((pool @ tb.dec_w.T) << tb.dec_sh[:, 0]) + (tb.dec_b << tb.dec_sh[:, 1])
    return o << tb.dec_sh[:, 2]
