"""S4D kernel: discretization formulas, stability, recurrent vs convolution mode."""

import cmath
import math

import numpy as np
import pytest

from hwssm.model.config import Discretization, Init
from hwssm.model.s4d import discretize, fft_size, init_A, init_ssm, kernel, ssm_convolution, ssm_recurrent


def _layer(H=8, N=16, init=Init.LIN, seed=0, dt_min=1e-3, dt_max=1e-1):
    return init_ssm(H, N, init, dt_min, dt_max, np.random.default_rng(seed))


def _scalar_layer(A: complex, dt: float, B: complex, C: complex = 1.0, D: float = 0.0):
    a = lambda v: np.array([[v]])  # noqa: E731  (H=1, M=1)
    return {"log_dt": np.array([math.log(dt)]), "log_A_real": a(math.log(-A.real)), "A_imag": a(A.imag),
            "B_re": a(B.real), "B_im": a(B.imag), "C_re": a(complex(C).real), "C_im": a(complex(C).imag),
            "D": np.array([D])}


def test_init_A_formulas():
    lr, im = init_A(8, Init.LIN)
    np.testing.assert_allclose(-np.exp(lr), -0.5)
    np.testing.assert_allclose(im, [0, math.pi, 2 * math.pi, 3 * math.pi])
    _, im = init_A(8, Init.INV)
    np.testing.assert_allclose(im, [8 / math.pi * (8 / (2 * n + 1) - 1) for n in range(4)])


def test_init_ssm_stats_and_seed():
    p = _layer(H=64, N=64, seed=3)
    assert p["B_re"].shape == (64, 32) and (p["B_re"] == 1).all() and (p["B_im"] == 0).all()
    assert np.log(1e-3) <= p["log_dt"].min() and p["log_dt"].max() <= np.log(1e-1)
    assert abs(p["C_re"].var() - 0.5) < 0.05 and abs(p["C_im"].var() - 0.5) < 0.05
    q = _layer(H=64, N=64, seed=3)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    assert not np.array_equal(p["C_re"], _layer(H=64, N=64, seed=4)["C_re"])


def test_zoh_scalar_closed_form():
    A, dt, B = complex(-0.5, 3.0), 0.1, complex(0.7, -0.2)
    Abar, Bbar, _, _ = discretize(_scalar_layer(A, dt, B), Discretization.ZOH)
    assert Abar[0, 0] == pytest.approx(math.exp(-0.05) * complex(math.cos(0.3), math.sin(0.3)), rel=1e-14)
    # B̄ = ∫_0^Δ e^{As} ds · B, by Simpson's rule on the real and imaginary parts.
    s = np.linspace(0.0, dt, 2001)
    f = np.exp(A.real * s) * (np.cos(A.imag * s) + 1j * np.sin(A.imag * s))
    integral = (s[1] - s[0]) / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())
    assert Bbar[0, 0] == pytest.approx(integral * B, rel=1e-10)
    # ZOH is exact for a constant input: x[t] = x((t+1)Δ) = (e^{A(t+1)Δ} - 1)/A · B.
    u = np.ones((1, 50, 1))
    _, x = ssm_recurrent(u, Abar, Bbar, np.ones((1, 1), complex), np.zeros(1), return_state=True)
    exact = [(cmath.exp(A * (t + 1) * dt) - 1) / A * B for t in range(50)]
    np.testing.assert_allclose(x[0, :, 0, 0], exact, rtol=1e-12)


def test_bilinear_scalar_closed_form():
    A, dt, B = complex(-0.5, 3.0), 0.1, complex(0.7, -0.2)
    Abar, Bbar, _, _ = discretize(_scalar_layer(A, dt, B), Discretization.BILINEAR)
    a, b = A.real * dt / 2, A.imag * dt / 2                      # ΔA/2 = a + ib
    den = (1 - a) ** 2 + b ** 2
    assert Abar[0, 0] == pytest.approx(complex(1 - a * a - b * b, 2 * b) / den, rel=1e-14)
    assert Bbar[0, 0] == pytest.approx(dt * complex(1 - a, b) / den * B, rel=1e-14)


@pytest.mark.parametrize("init", list(Init))
@pytest.mark.parametrize("disc", list(Discretization))
def test_abar_inside_unit_circle(init, disc):
    for dt_max in (1e-1, 10.0):
        Abar, _, _, _ = discretize(_layer(H=16, N=64, init=init, dt_max=dt_max), disc)
        assert np.abs(Abar).max() < 1.0


@pytest.mark.parametrize("init", list(Init))
@pytest.mark.parametrize("disc", list(Discretization))
def test_recurrent_equals_convolution(init, disc):
    rng = np.random.default_rng(1)
    Abar, Bbar, Cbar, D = discretize(_layer(init=init, seed=2), disc)
    u = rng.normal(size=(3, 300, 8))
    y_rec = ssm_recurrent(u, Abar, Bbar, Cbar, D)
    y_conv = ssm_convolution(u, kernel(Abar, Bbar, Cbar, 300), D)
    assert y_rec.shape == y_conv.shape == (3, 300, 8)
    assert np.abs(y_rec - y_conv).max() <= 1e-5 * np.abs(y_rec).max()


def test_override_arrays_replace_discretization():
    p = _layer(seed=5)
    Abar, Bbar, Cbar, D = discretize(p, Discretization.ZOH)
    q = dict(p, Abar_re=0.9 * Abar.real, Abar_im=0.9 * Abar.imag, Bbar_re=Bbar.real, Bbar_im=Bbar.imag)
    A2, B2, C2, D2 = discretize(q, Discretization.ZOH)
    np.testing.assert_array_equal(A2, 0.9 * Abar)
    np.testing.assert_array_equal(B2, Bbar)
    with pytest.raises(ValueError, match="all of"):
        discretize(dict(p, Abar_re=Abar.real), Discretization.ZOH)
    u = np.random.default_rng(0).normal(size=(2, 100, 8))
    y_rec = ssm_recurrent(u, A2, B2, C2, D2)
    assert np.abs(y_rec - ssm_convolution(u, kernel(A2, B2, C2, 100), D2)).max() <= 1e-5 * np.abs(y_rec).max()


def test_kernel_taps_and_zero_abar():
    Abar = np.array([[0.5 + 0.5j, 0.0]])
    Bbar, Cbar = np.array([[1.0 + 0j, 2.0]]), np.array([[1.0 - 1j, 3.0]])
    K = kernel(Abar, Bbar, Cbar, 4)
    expect = [2 * (Cbar[0] * Abar[0] ** k * Bbar[0]).sum().real for k in range(4)]
    np.testing.assert_allclose(K[0], expect, rtol=1e-14, atol=1e-14)
    assert np.isfinite(K).all()


def test_fft_size_is_next_5_smooth():
    def smooth(m):
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        return m == 1

    for n in range(1, 2000):
        m = fft_size(n)
        assert m >= n and smooth(m) and not any(smooth(k) for k in range(n, m))
    assert fft_size(2 * 784) == 1600
