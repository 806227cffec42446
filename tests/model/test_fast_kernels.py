"""The float pass's private kernels (hwssm.model._fast_kernels): the written-out exp is within
1 ulp of numpy's, and the GLU kernel equals its float64 formula rounded once to float32."""

import math

import numpy as np
from numba import njit

from hwssm.model._fast_kernels import _exp, glu_residual_rows


@njit
def _exp_all(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = _exp(x[i])
    return out


def test_exp_within_one_ulp_and_clamped():
    x = np.concatenate([np.linspace(-708, 709, 100001), np.random.default_rng(0).normal(0, 4, 100000), [0.0]])
    got, want = _exp_all(x), np.exp(x)
    assert np.all(np.abs(got - want) <= np.spacing(want))
    assert _exp_all(np.array([0.0]))[0] == 1.0
    tails = _exp_all(np.array([-1e30, -800.0, 800.0, 1e30]))
    assert tails[0] == tails[1] and tails[2] == tails[3]
    assert abs(tails[0] - math.exp(-708.0)) <= np.spacing(tails[0]) and abs(tails[2] - math.exp(709.0)) <= np.spacing(tails[2])


def test_glu_kernel_is_its_float64_formula():
    rng = np.random.default_rng(1)
    H, n, m, c0 = 5, 7, 20, 9
    v = rng.normal(0, 6, (2 * H, n)).astype(np.float32)
    b = rng.normal(0, 1, 2 * H).astype(np.float32)
    r = rng.normal(0, 1, (H, m)).astype(np.float32)
    want = r.astype(np.float64)
    a = (v[H:] + b[H:, None]).astype(np.float64)                      # the gate's sum, in float32, then widened
    want[:, c0:c0 + n] += (v[:H] + b[:H, None]).astype(np.float64) / (1.0 + np.exp(-a))
    glu_residual_rows(v, b, r, c0)
    np.testing.assert_array_equal(r, want.astype(np.float32))
