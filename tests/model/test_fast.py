"""The batched FFT float model (hwssm.model.fast) against the reference modes of hwssm.model.network.

The reference stays :func:`hwssm.model.network.forward` (CONV and RECURRENT); the fast path
must give the same logits to 1e-6 relative (it does to about 1e-12) and the same predictions.
"""

from pathlib import Path

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.model.checkpoint import init_params
from hwssm.model.config import Discretization, Init, S4DConfig
from hwssm.model.fast import FastClassifier, Precision
from hwssm.model.network import Mode, S4DClassifier, forward
from hwssm.model.s4d import discretize, layer_params

RTOL = 1e-6
TINY = S4DConfig(H=4, N=6, L=2, n_classes=3)
SHIPPED = Path(__file__).resolve().parents[2] / "models" / "s4d_float.json"


def _pixels(B, T, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(B, T), dtype=np.uint8)


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize("config", [TINY, S4DConfig(H=3, N=4, L=1, n_classes=2, init=Init.INV,
                                                     discretization=Discretization.BILINEAR),
                                    S4DConfig(H=8, N=8, L=3, n_classes=10)])
@pytest.mark.parametrize("T", [1, 25, 130])
def test_logits_match_both_reference_modes(config, T):
    params = init_params(config, seed=7)
    pix = _pixels(5, T)
    fast = FastClassifier(config, params, T=T).logits(pix)
    assert fast.shape == (5, config.n_classes) and fast.dtype == np.float64
    for mode in (Mode.RECURRENT, Mode.CONV):
        ref = forward(params, config, pix, mode)
        assert _rel(fast, ref) <= RTOL, (mode, _rel(fast, ref))


def test_discrete_overrides_and_float32_params():
    params = init_params(TINY, seed=4)
    over = {k: v.astype(np.float32) for k, v in params.items()}
    for l in range(TINY.L):
        Abar, Bbar, _, _ = discretize(layer_params(params, l), TINY.discretization)
        over.update({f"layers.{l}.Abar_re": Abar.real, f"layers.{l}.Abar_im": Abar.imag,
                     f"layers.{l}.Bbar_re": Bbar.real, f"layers.{l}.Bbar_im": Bbar.imag})
    pix = _pixels(3, 40)
    assert _rel(FastClassifier(TINY, over, T=40).logits(pix), forward(over, TINY, pix, Mode.RECURRENT)) <= RTOL


def test_predict_batches_threads_and_progress():
    params = init_params(TINY, seed=5)
    pix = _pixels(23, 30)
    expect = forward(params, TINY, pix).argmax(axis=1)
    clf = FastClassifier(TINY, params, T=30)
    for batch, threads in ((1, 1), (4, 2), (64, None), (5, 3)):
        seen = []
        pred = clf.predict(pix, batch_size=batch, threads=threads, progress=lambda d, t: seen.append((d, t)))
        np.testing.assert_array_equal(pred, expect)
        assert pred.dtype == np.int64
        assert seen[-1] == (23, 23) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert clf.predict(pix[:0]).shape == (0,)


def test_bad_input():
    clf = FastClassifier(TINY, init_params(TINY, 0), T=10)
    with pytest.raises(HwssmError, match="pixels must be uint8"):
        clf.logits(np.zeros((2, 10), np.int32))
    with pytest.raises(HwssmError, match="built for T = 10"):
        clf.logits(_pixels(2, 11))
    with pytest.raises(HwssmError, match="batch_size"):
        clf.predict(_pixels(2, 10), batch_size=0)
    params = init_params(TINY, 0)
    del params["layers.1.C_im"]
    with pytest.raises(HwssmError, match="layers.1.C_im"):
        FastClassifier(TINY, params, T=10)


def test_the_shipped_float_model_on_mnist_digits():
    """The real network (H=64, N=64, L=4) on 784-step digits: the mixing products are split
    into several BLAS calls per batch, the first layer takes its FFT from the pixels."""
    from hwssm.model.checkpoint import load_checkpoint

    ck = load_checkpoint(SHIPPED)
    pix = _pixels(6, 784, seed=3)
    pix[:3] = np.where(_pixels(3, 784, seed=4) > 200, 255, 0)  # digit-like: mostly 0, some 255
    fast = FastClassifier(ck.config, ck.params, T=784)
    assert fast.columns < 6 * 784
    ref = S4DClassifier(ck.config, ck.params, T=784)
    assert _rel(fast.logits(pix), ref.forward(pix, Mode.CONV)) <= RTOL
    assert _rel(fast.logits(pix[:2]), ref.forward(pix[:2], Mode.RECURRENT)) <= RTOL


def test_float32_precision_on_the_shipped_model():
    """Precision.FLOAT32 (the float-agreement pass of ``hwssm golden eval``): float64 logits out,
    within 1e-5 relative of the float64 path, same predictions; float64 stays bit-identical."""
    from hwssm.model.checkpoint import load_checkpoint

    ck = load_checkpoint(SHIPPED)
    pix = np.where(_pixels(8, 784, seed=5) > 220, 255, 0).astype(np.uint8)
    f64 = FastClassifier(ck.config, ck.params, T=784).logits(pix)
    f32 = FastClassifier(ck.config, ck.params, T=784, precision=Precision.FLOAT32).logits(pix)
    assert f32.dtype == np.float64 and _rel(f32, f64) <= 1e-5
    np.testing.assert_array_equal(f32.argmax(axis=1), f64.argmax(axis=1))
    np.testing.assert_array_equal(FastClassifier(ck.config, ck.params, T=784, precision=Precision.FLOAT64).logits(pix),
                                  f64)
    with pytest.raises(HwssmError, match="precision must be a Precision"):
        FastClassifier(TINY, init_params(TINY, 0), T=10, precision="float32")


def test_a_set_stop_event_cancels_the_pass():
    """predict(stop=...) (how golden eval abandons its float thread on SIGINT/SIGTERM): no batch
    starts once the event is set, on one thread or several."""
    import threading

    from hwssm.model.fast import Cancelled

    clf = FastClassifier(TINY, init_params(TINY, 0), T=10)
    stop = threading.Event()
    assert clf.predict(_pixels(9, 10), batch_size=2, threads=2, stop=stop).shape == (9,)
    stop.set()
    for threads in (1, 2):
        with pytest.raises(Cancelled):
            clf.predict(_pixels(9, 10), batch_size=2, threads=threads, stop=stop)
