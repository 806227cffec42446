"""Fast batched inference of the float S4D classifier: logits and predictions only.

The same network as :func:`hwssm.model.network.forward` (its CONV and RECURRENT modes stay the
reference; this agrees with both to about 1e-12 relative on the logits, tested to 1e-6), laid
out for throughput over many sequences:

* **channel-major layout** ``(H, B, T)``: the S4D convolution's FFTs run along the last,
  contiguous axis over all H·B rows at once, and each mixing layer is one 2-D matrix product
  ``W (2H, H) @ g (H, B·T)`` (one BLAS call, no transposes, no broadcast stacks);
* **kernels once**: K[h, k] = 2·Re(Σ_m C̄ Ā^k B̄) and its real FFT (length
  :func:`~hwssm.model.s4d.fft_size` (2T), 1600 for T = 784) are computed when the model is built;
* **first layer from the pixels**: the encoder's output is rank one in (time, channel),
  r0[h, b, t] = W_enc[h]·u0[b, t] + b_enc[h], so the first convolution needs one forward FFT per
  sequence (not per channel) plus the kernel's running sum times b_enc[h];
* **fused activations**: GELU, and the GLU with its bias and residual add, as numba kernels
  (:mod:`hwssm.model._fast_kernels`: GELU with libm's ``erf`` as :mod:`hwssm.model.network`,
  the GLU's sigmoid with a vectorizable exp within 1 ulp of libm's), applied while the data is
  in cache: GELU per few channels right after their FFTs, the GLU per mixing product;
* **small mixing products** (:data:`MIX_MACS`), each on one thread;
* **threads**: batches of sequences run on a thread pool (numpy's FFT, BLAS and the numba
  kernels release the GIL).

Memory: about 16·H·B·T bytes per batch in flight (the stream r and GELU(y); 51 MB for B = 64,
H = 64, T = 784) plus a few MB of FFT buffers, per thread.

Measured (``hwssm bench float --digits 1000``, the shipped float model, 2 cores shared with
other work): 4.7× less wall time and 5.6× less CPU time than the reference classifier, the same
predictions, logits within 1e-15 relative; the full 10k float-agreement pass of ``hwssm golden
eval`` took 162 s there (CPU about 76 s), against about 420 s of CPU before.
:attr:`Precision.FLOAT32` (what ``hwssm golden eval`` uses): 1.4x less CPU again (81.4 CPU-s
float64 for the 10k here), the same 10k predictions. The vectorized GLU kernel: 5.7 -> 4.4
CPU-ms per digit in float32 on one thread (512 test digits; per digit: FFTs about 2 ms, GELU
0.8, mixing products 0.5, GLU 0.6).
"""

from __future__ import annotations

import enum
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import HwssmError
from .config import Norm, S4DConfig
from .network import S4DClassifier, _layers, check_inputs, encode
from .s4d import fft_size, kernel

__all__ = ["FastClassifier", "Precision", "Cancelled", "DEFAULT_BATCH"]


class Cancelled(Exception):
    """:meth:`FastClassifier.predict` stopped by its ``stop`` event (not an error of the input)."""


class Precision(enum.Enum):
    """Floating-point type of the batched float model's activations, FFTs and mixing products.

    Members
    -------
    FLOAT64
        The reference precision (logits within about 1e-12 relative of
        :func:`hwssm.model.network.forward`).
    FLOAT32
        Half the memory traffic and twice the SIMD width of BLAS and the FFTs. The kernels
        (K and its FFT) are computed in float64 and rounded once; GELU and the GLU gate are
        evaluated in float64 per element and stored as float32. Logits agree with FLOAT64 to
        about 1e-6 relative; on the 10k sMNIST test digits the shipped float model's
        predictions are identical (measured over all 10k), so predictions can differ
        only on a digit whose two largest logits are within that tolerance.
    """

    FLOAT64 = "float64"
    FLOAT32 = "float32"

#: Sequences per batch (per thread).
DEFAULT_BATCH = 64
#: Channels whose FFTs are done together (4 × 64 sequences × 1600 points: a few MB, cache-resident).
_CHANNELS = 4
#: Multiply-adds of one mixing product: (2H, H) @ (H, columns) with 2H·H·columns at most this.
#: Below OpenBLAS's threading threshold (measured: single-threaded up to 786k, threaded from 1M),
#: so each product runs on the calling thread: OpenBLAS's worker threads spin and, on a busy
#: machine, cost up to ten times the CPU time of the same product on one thread.
MIX_MACS = 1 << 19

class FastClassifier:
    """The float S4D classifier for batched inference (see the module docstring).

    Parameters
    ----------
    config : S4DConfig
    params : dict of name -> float array
        As :func:`hwssm.model.network.forward` takes them (float32 or float64).
    T : int
        Sequence length of the inputs (784 for sMNIST); the kernels and their FFTs are built
        for it.
    precision : Precision
        Floating-point type of the computation (default FLOAT64; logits are float64 either way).
    """

    def __init__(self, config: S4DConfig, params: dict[str, np.ndarray], T: int = 784,
                 precision: Precision = Precision.FLOAT64):
        if T < 1:
            raise HwssmError(f"the sequence length T must be >= 1, not {T}")
        if not isinstance(precision, Precision):
            raise HwssmError(f"precision must be a Precision, not {precision!r}")
        self.config, self.T, self.precision = config, T, precision
        f, c = (np.float64, np.complex128) if precision is Precision.FLOAT64 else (np.float32, np.complex64)
        self.dtype = f
        #: (sequence, step) columns per mixing product (64 for H = 64).
        self.columns = max(1, MIX_MACS // (2 * config.H * config.H))
        self.n = fft_size(2 * T)
        self.layers = []
        for l, (Abar, Bbar, Cbar, D, W, b) in enumerate(_layers(params, config)):
            K = kernel(Abar, Bbar, Cbar, T)                                  # (H, T)
            Kf = np.fft.rfft(K, n=self.n, axis=-1)[:, None, :]               # (H, 1, n/2+1)
            self.layers.append((K, Kf.astype(c), D[:, None, None].astype(f), np.ascontiguousarray(W, dtype=f),
                                np.ascontiguousarray(b, dtype=f)))
        self.params = params
        #: A LayerNorm model (not laid out here) runs on the reference classifier, at float64.
        self._reference = S4DClassifier(config, params, T) if config.norm is Norm.LAYER else None
        #: the rank-one first-layer shortcut holds for one sample per step (C = 1, linear encoder);
        #: C > 1 channels and token embeddings go through :func:`~hwssm.model.network.encode`.
        self.rank_one = not config.tokens and config.C == 1
        self.decW = np.asarray(params["decoder.W"], dtype=np.float64)        # (n_classes, H)
        self.decb = np.asarray(params["decoder.b"], dtype=np.float64)        # (n_classes,)
        if not self.rank_one:
            return
        self.encW = np.asarray(params["encoder.W"], dtype=np.float64)[:, 0]  # (H,)
        self.encb = np.asarray(params["encoder.b"], dtype=np.float64)        # (H,)
        K0 = self.layers[0][0]
        Kf0 = np.fft.rfft(K0, n=self.n, axis=-1)[:, None, :]                # float64 before rounding
        # first layer: the kernel scaled by W_enc (for the pixel FFT) and the running sum of K
        self.Kf0_enc = (Kf0[:, 0, :] * self.encW[:, None]).astype(c)       # (H, n/2+1)
        self.K0_cum_b = (np.cumsum(K0, axis=1) * self.encb[:, None])[:, None, :].astype(f)  # (H, 1, T)
        self._encW, self._encb = self.encW.astype(f), self.encb.astype(f)

    def logits(self, pixels: np.ndarray) -> np.ndarray:
        """Logits of a batch of pixel sequences, float64 (B, n_classes); ``pixels`` uint8 (B, T)
        (or (B, T, C), or token ids: :func:`~hwssm.model.network.check_inputs`)."""
        pixels = check_inputs(pixels, self.config)
        if self._reference is not None:
            return self._reference.forward(pixels)
        Bn, T = pixels.shape[:2]
        if T != self.T:
            raise HwssmError(f"this model was built for T = {self.T} steps, not {T}")
        H, n = self.config.H, self.n
        from ._fast_kernels import gelu_rows as gelu, glu_residual_rows as glu

        ft = self.dtype
        first = self.rank_one                                                # layer 0 from the pixel FFT
        if first:
            u0 = pixels.astype(ft) / ft(256.0)                                # (B, T)
            r = u0[None, :, :] * self._encW[:, None, None] + self._encb[:, None, None]   # (H, B, T)
        else:
            r = np.ascontiguousarray(encode(self.params, self.config, pixels).transpose(2, 0, 1), dtype=ft)
        g = np.empty_like(r)                                                 # GELU(y), (H, B, T)
        y = np.empty((_CHANNELS, Bn, T), ft)
        g2, r2 = g.reshape(H, Bn * T), r.reshape(H, Bn * T)
        for l, (K, Kf, D, W, b) in enumerate(self.layers):
            if l == 0 and first:
                uf = np.fft.rfft(u0, n=n, axis=-1)                           # (B, n/2+1)
            for h0 in range(0, H, _CHANNELS):                                # a few channels at a time: in cache
                h1 = min(H, h0 + _CHANNELS)
                if l == 0 and first:
                    f = uf[None, :, :] * self.Kf0_enc[h0:h1, None, :]
                else:
                    f = np.fft.rfft(r[h0:h1], n=n, axis=-1)
                    f *= Kf[h0:h1]
                yc = y[:h1 - h0]
                np.add(np.fft.irfft(f, n=n, axis=-1)[..., :T], D[h0:h1] * r[h0:h1], out=yc)
                if l == 0 and first:
                    yc += self.K0_cum_b[h0:h1]
                gelu(yc.reshape(h1 - h0, Bn * T), g2[h0:h1])
            for c0 in range(0, Bn * T, self.columns):                        # mixing + GLU + residual
                c1 = min(Bn * T, c0 + self.columns)
                glu(W @ g2[:, c0:c1], b, r2, c0)                            # r += GLU(W g + b)
        s = r.sum(axis=2, dtype=np.float64)                                  # (H, B) sum-pool
        return (self.decW @ s).T + self.decb

    def predict(self, pixels: np.ndarray, batch_size: int = DEFAULT_BATCH, threads: int | None = None,
                progress=None, stop=None) -> np.ndarray:
        """Predicted class per sequence, int64 (B,).

        ``batch_size`` sequences per batch, ``threads`` batches at a time (default: the CPU
        count); ``progress(done, total)`` after each batch, in order. ``stop``: a
        :class:`threading.Event`; once it is set no further batch starts and :class:`Cancelled`
        is raised (within one batch's time: how a caller on another thread abandons the pass).
        """
        pixels = check_inputs(pixels, self.config)
        if batch_size < 1:
            raise HwssmError(f"batch_size must be >= 1, not {batch_size}")
        threads = threads or os.cpu_count() or 1
        starts = list(range(0, len(pixels), batch_size))
        out = [None] * len(starts)
        if not starts:
            return np.zeros(0, dtype=np.int64)

        def one(i):
            if stop is not None and stop.is_set():
                raise Cancelled("float-model pass stopped")
            return self.logits(pixels[starts[i]:starts[i] + batch_size]).argmax(axis=1)

        if threads == 1:
            for i in range(len(starts)):
                out[i] = one(i)
                if progress:
                    progress(min(starts[i] + batch_size, len(pixels)), len(pixels))
            return np.concatenate(out).astype(np.int64)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for i, pred in enumerate(pool.map(one, range(len(starts)))):
                out[i] = pred
                if progress:
                    progress(min(starts[i] + batch_size, len(pixels)), len(pixels))
        return np.concatenate(out).astype(np.int64)
