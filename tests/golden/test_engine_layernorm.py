"""The integer LayerNorm (ARITHMETIC.md §7): golden engine == the naive reference, exactly."""

import math

import numpy as np
import pytest

from hwssm.golden._norm_kernels import isqrt, layer_norm
from hwssm.golden.engine import run
from hwssm.golden.norm_tables import build_norm_tables
from hwssm.quant.layernorm import rsqrt
from hwssm.quant.lowering import lower_layer_norm
from hwssm.quant.random_qmodel import random_qmodel
from tests.golden.test_engine import PLANS, _check
from tests.naive import layer_norm as naive_layer_norm

PLANS_LN = {**PLANS, "ln_narrow": PLANS["hetero"].__class__.from_json({**PLANS["hetero"].to_json(), "name": "",
                                                                        "ln_g": 4, "ln_b": 6})}


@pytest.mark.parametrize("prenorm", [False, True], ids=["postnorm", "prenorm"])
@pytest.mark.parametrize("name", sorted(PLANS_LN))
@pytest.mark.parametrize("extreme", [False, True])
def test_engine_with_layernorm_equals_naive(name, prenorm, extreme):
    for seed in range(2):
        qm = random_qmodel(3, 2, 2, PLANS_LN[name], seed=seed, extreme=extreme, prenorm=prenorm)
        assert qm.has_norm
        pix = np.random.default_rng(seed).integers(0, 256, (3, 10)).astype(np.uint8)
        pix[0] = 255
        _check(qm, pix)


@pytest.mark.parametrize("prenorm", [False, True], ids=["postnorm", "prenorm"])
def test_layernorm_over_chunks_blocks_and_odd_shapes(prenorm):
    # 17 sequences (two kernel blocks, the second partial), 40 steps (two time chunks), H = 5
    qm = random_qmodel(5, 3, 2, PLANS["uniform8"], seed=7, n_classes=4, prenorm=prenorm)
    pix = np.random.default_rng(1).integers(0, 256, (17, 40)).astype(np.uint8)
    _check(qm, pix)


def test_layernorm_changes_the_output_and_normalizes():
    qm = random_qmodel(8, 2, 1, PLANS["uniform16"], seed=3, prenorm=False)
    plain = random_qmodel(8, 2, 1, PLANS["uniform16"], seed=3)
    pix = np.random.default_rng(2).integers(0, 256, (2, 12)).astype(np.uint8)
    r = run(qm, pix, trace=True).r[:, 1]                       # LN outputs, R_1 codes
    assert not np.array_equal(r, run(plain, pix, trace=True).r[:, 1])
    nl = lower_layer_norm(qm, 0)
    real = r * 2.0 ** -nl.O.frac                              # γ·n + β: undo γ, β per channel
    g = nl.gamma * 2.0 ** -qm.layers[0].norm.gamma.frac.astype(float)
    b = nl.beta * 2.0 ** -qm.layers[0].norm.beta.frac.astype(float)
    n = (real - b) / g
    assert np.allclose(n.mean(axis=-1), 0, atol=0.05) and np.allclose(n.std(axis=-1), 1, atol=0.05)


def test_rsqrt_is_the_floor_of_the_exact_function():
    rng = np.random.default_rng(0)
    for V in [1, 2, 3, (1 << 20) - 1, 1 << 20, (1 << 22) + 1, (1 << 62) + 12345, (1 << 63) - 1,
              *[int(v) for v in rng.integers(1, 1 << 62, 200)]]:
        rho, j = rsqrt(V)
        m = V >> (2 * j) if j >= 0 else V << (-2 * j)
        assert (1 << 20) <= m < (1 << 22)
        assert rho * rho * m <= 1 << 62 < (rho + 1) * (rho + 1) * m        # rho = floor(2^31/√m)
        assert abs(rho * 2.0 ** -(31 + j) * math.sqrt(V) - 1) < 2 ** -19
    for n in [0, 1, 3, 4, 15, 16, (1 << 42) - 1, 1 << 42, 12345678987]:
        assert isqrt(np.int64(n)) == math.isqrt(n)


@pytest.mark.parametrize("extreme", [False, True])
def test_kernel_equals_naive_on_constant_and_extreme_steps(extreme):
    """Every channel equal (d = 0, V = E), the code range's ends, and random steps."""
    qm = random_qmodel(6, 1, 1, PLANS["uniform8"], seed=4, extreme=extreme, prenorm=True)
    nm, nl = build_norm_tables(qm), lower_layer_norm(qm, 0)
    X = nl.X
    steps = [[5] * 6, [X.min_code] * 6, [X.max_code] * 6, [X.min_code, X.max_code] * 3,
             [X.max_code] + [X.min_code] * 5, [0] * 6]
    steps += np.random.default_rng(0).integers(X.min_code, X.max_code + 1, (20, 6)).tolist()
    src = np.array(steps, np.int64).T[None]                    # (1, H, B)
    dst = np.zeros_like(src)
    layer_norm(src, 0, dst, nm.E[0], nm.half_up[0], nm.cg[0], nm.q[0])
    for b, x in enumerate(steps):
        assert list(dst[0, :, b]) == naive_layer_norm(qm, qm.layers[0].norm, x, X, nl.O)
