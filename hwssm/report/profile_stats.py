"""Per-layer numerical profile: float weights and activations against their fixed-point formats.

For every tensor of the integer network (a QModel's parameters and activation formats),
:func:`profile_model` takes the float values the format stands for (the float checkpoint's
discretized weights; the float model's activations on calibration digits) and quantizes them
the way PTQ does (round to nearest at the format's frac, per row for per-head tensors), to
count the fraction **clipped** (outside the representable range: saturated) and **rounded to
zero** (non-zero values whose code is 0: underflow). It keeps a sample of the magnitudes for
the plot (:mod:`hwssm.report.profile`).

Pairs (float → format): encoder ``encoder.W/b`` → ``enc_W/enc_b``; per block ``Re/Im Ā, B̄,
C̄``, ``D``, ``W``, ``b`` → ``A_re`` … ``b``; the activations ``y, g, v, z`` → their formats,
``r`` (block output) → ``r_out``, the state ``x`` (real and imaginary parts, per head) →
``x_re``/``x_im``; decoder ``decoder.W/b`` → ``dec_W/dec_b``. For a QAT model the float values
are those of its source checkpoint (the start of QAT), not the weights QAT ended with.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import HwssmError
from ..fixed import QFormat
from ..model.config import Family, S4DConfig
from ..quant.qmodel import QModel, QParam

__all__ = ["TensorProfile", "profile_model", "block_activations", "SAMPLE"]

#: Magnitudes kept per tensor for the plot (a deterministic random subset beyond this).
SAMPLE = 20_000


@dataclasses.dataclass(frozen=True)
class TensorProfile:
    """One tensor's float values against its format.

    Attributes
    ----------
    block : str
        ``"enc"``, ``"0"`` … ``"L-1"`` or ``"dec"``.
    name : str
        Component (``A_re``, ``W``, ``y``, ``x_re`` ...).
    kind : str
        ``"weight"`` or ``"activation"``.
    fmt : str
        The format, e.g. ``s8 frac 6..7`` (the range of fracs over rows or heads).
    n : int
        Float values compared.
    clipped, zeroed : float
        Fraction of the values outside the representable range; fraction of the non-zero
        values that quantize to code 0.
    max_abs : float
        Largest |float value|.
    step_lo, step_hi : float
        Resolution 2^-frac, smallest and largest over rows/heads.
    top_lo, top_hi : float
        Largest representable magnitude, smallest and largest over rows/heads.
    sample : float64 ndarray
        Up to :data:`SAMPLE` magnitudes |value| (zeros dropped), for the plot.
    """

    block: str
    name: str
    kind: str
    fmt: str
    n: int
    clipped: float
    zeroed: float
    max_abs: float
    step_lo: float
    step_hi: float
    top_lo: float
    top_hi: float
    sample: np.ndarray

    def row(self) -> dict:
        """JSON form without the sample."""
        return {k: getattr(self, k) for k in ("block", "name", "kind", "fmt", "n", "clipped", "zeroed", "max_abs",
                                              "step_lo", "step_hi", "top_lo", "top_hi")}


def _code_range(bits: int, signed: bool) -> tuple[int, int]:
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def _profile(block: str, name: str, kind: str, values: np.ndarray, bits: int, signed: bool, frac: np.ndarray,
             zero: np.ndarray, rng: np.random.Generator) -> TensorProfile:
    """``values`` and ``frac``/``zero`` broadcastable to them (per element)."""
    v = np.asarray(values, dtype=np.float64)
    f = np.broadcast_to(np.asarray(frac, dtype=np.float64), v.shape)
    z = np.broadcast_to(np.asarray(zero, dtype=np.float64), v.shape)
    lo, hi = _code_range(bits, signed)
    q = np.rint(v * np.exp2(f))
    code = q + z
    clipped = (code < lo) | (code > hi)
    nonzero = v != 0
    zeroed = nonzero & (q == 0) & ~clipped
    mags = np.abs(v[nonzero]).ravel()
    if mags.size > SAMPLE:
        mags = rng.choice(mags, SAMPLE, replace=False)
    fr = np.unique(np.asarray(frac).ravel())
    zs = np.unique(np.asarray(zero).ravel())
    top = np.maximum(np.abs(lo - zs), np.abs(hi - zs)).astype(np.float64)
    tops = np.concatenate([top[:, None] * np.exp2(-fr)[None, :]]).ravel()
    fmt = f"{'s' if signed else 'u'}{bits} frac {int(fr.min())}" + (f"..{int(fr.max())}" if fr.size > 1 else "")
    return TensorProfile(block, name, kind, fmt, int(v.size), float(clipped.mean()) if v.size else 0.0,
                         float(zeroed.sum() / max(1, nonzero.sum())), float(np.abs(v).max()) if v.size else 0.0,
                         float(np.exp2(-fr.max())), float(np.exp2(-fr.min())), float(tops.min()), float(tops.max()),
                         mags)


def _param(block: str, name: str, values, p: QParam, rng) -> TensorProfile:
    values = np.asarray(values, dtype=np.float64)
    if values.shape != p.codes.shape:
        raise HwssmError(f"block {block} {name}: the float tensor has shape {values.shape}, the QModel's "
                         f"{p.codes.shape} (another model?)")
    shape = (-1,) + (1,) * (values.ndim - 1)
    return _profile(block, name, "weight", values, p.bits, p.signed, p.frac.reshape(shape), p.zero.reshape(shape), rng)


def _act(block: str, name: str, values, f: QFormat, rng) -> TensorProfile:
    return _profile(block, name, "activation", values, f.width, f.signed, np.array(f.frac), np.array(0), rng)


def _heads(block: str, name: str, values: np.ndarray, fmts: tuple[QFormat, ...], rng) -> TensorProfile:
    """``values`` (..., H, M) with one format per head (all of one width and signedness)."""
    H = values.shape[-2]
    if len(fmts) != H:
        raise HwssmError(f"block {block} {name}: {len(fmts)} formats for {H} heads")
    frac = np.array([f.frac for f in fmts], dtype=np.float64)[:, None]
    return _profile(block, name, "activation", values, fmts[0].width, fmts[0].signed, frac, np.array(0), rng)


def end_params(qm, params: dict, block: str, rng) -> list[TensorProfile]:
    """The encoder's (``block`` ``"enc"``) or the decoder's (``"dec"``) W and b, either family."""
    src = {"enc": "encoder", "dec": "decoder"}[block]
    return [_param(block, n, params[f"{src}.{n}"], getattr(qm, f"{block}_{n}"), rng) for n in ("W", "b")]


def profile_model(qm: QModel, config: S4DConfig, params: dict, pixels: np.ndarray, *, state_digits: int = 2,
                  batch: int = 8, progress=None) -> list[TensorProfile]:
    """The :class:`TensorProfile` of every tensor of ``qm``, the float values from the checkpoint
    (``config``, ``params``) and its forward pass over ``pixels`` (n, T) uint8 (states of the
    first ``state_digits`` digits only: (T, H, M) complex per digit and block). An S5 QModel
    goes to :func:`hwssm.report.profile_s5.profile_s5_model`."""
    from ..model.network import S4DClassifier
    from ..quant.s5_qmodel import S5QModel

    if isinstance(qm, S5QModel):
        from .profile_s5 import profile_s5_model

        if getattr(config, "family", None) is not qm.family:
            raise HwssmError("the float checkpoint is not an S5 model, the QModel is (another model?)")
        return profile_s5_model(qm, config, params, pixels, state_digits=state_digits, batch=batch, progress=progress)
    if getattr(config, "family", None) is not Family.S4D:
        raise HwssmError("the float checkpoint is not an S4D model, the QModel is (another model?)")
    if (config.H, config.L) != (qm.H, qm.L):
        raise HwssmError(f"the float checkpoint (H={config.H}, L={config.L}) is not the QModel's "
                         f"(H={qm.H}, L={qm.L})")
    rng = np.random.default_rng(0)
    model = S4DClassifier(config, params, T=pixels.shape[1])
    out = end_params(qm, params, "enc", rng)
    for l, (Abar, Bbar, Cbar, D, W, b) in enumerate(model._cache["layers"]):
        q = qm.layers[l]
        for name, val in (("A_re", Abar.real), ("A_im", Abar.imag), ("B_re", Bbar.real), ("B_im", Bbar.imag),
                          ("C_re", Cbar.real), ("C_im", Cbar.imag), ("D", D), ("W", W), ("b", b)):
            out.append(_param(str(l), name, val, getattr(q, name), rng))
    acts: dict[tuple[int, str], list[np.ndarray]] = {}
    n = pixels.shape[0]
    for lo in range(0, n, batch):
        rows = [i - lo for i in range(lo, min(lo + batch, n)) if i < state_digits]
        _, tr = model.forward(pixels[lo:lo + batch], trace=True, state_of=rows or None)
        for l in range(qm.L):
            for name in ("y", "g", "v", "z"):
                acts.setdefault((l, name), []).append(_thin(getattr(tr, name)[l], rng))
            acts.setdefault((l, "r_out"), []).append(_thin(tr.r[l + 1], rng))
            if rows and tr.x:
                acts.setdefault((l, "x"), []).append(np.asarray(tr.x[l]))
        if progress is not None:
            progress(min(lo + batch, n), n)
    out += block_activations(qm, acts, ("y", "g", "v", "z", "r_out"), _heads, rng)
    return out + end_params(qm, params, "dec", rng)


def block_activations(qm, acts: dict[tuple[int, str], list[np.ndarray]], names: tuple[str, ...], state,
                      rng) -> list[TensorProfile]:
    """Per block l of ``qm`` (either family): the activations ``names`` (in that order; the kept
    values ``acts[(l, name)]``, concatenated) against the block's formats of those names, then,
    when ``acts`` holds the state ``(l, "x")``, its real and imaginary parts against ``x_re`` /
    ``x_im`` by ``state`` (:func:`_heads`: per head, S4D; per mode, S5)."""
    out = []
    for l in range(qm.L):
        q = qm.layers[l]
        for name in names:
            out.append(_act(str(l), name, np.concatenate(acts[(l, name)]), getattr(q, name), rng))
        if (l, "x") in acts:
            x = np.concatenate(acts[(l, "x")])
            out.append(state(str(l), "x_re", x.real, q.x_re, rng))
            out.append(state(str(l), "x_im", x.imag, q.x_im, rng))
    return out


#: Activation values kept per batch and point (the counts use these; the whole trace of many
#: digits would not fit in memory: 784 steps x H channels per digit and point).
_KEEP = 200_000


def _thin(a: np.ndarray, rng) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64).ravel()
    return rng.choice(a, _KEEP, replace=False) if a.size > _KEEP else a
