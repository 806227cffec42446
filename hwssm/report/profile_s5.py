"""Per-layer numerical profile of an S5 QModel (:mod:`hwssm.report.profile_stats` for S4D).

The same comparison (float values against the formats that stand for them: the fraction
clipped and rounded to zero), with the S5 pairs: encoder ``encoder.W/b`` → ``enc_W/enc_b``; per
block the folded float SSM (:func:`hwssm.model.s5_network.folded_layers`: BatchNorm folded into
B̄ and D) ``Re/Im Λ̄`` → ``A_re/A_im``, ``B̄`` → ``B_re/B_im``, the bu bias β → ``beta_re/beta_im``,
``C̃`` → ``C_re/C_im``, ``D``, the y bias δ → ``delta``, the GLU ``W``, ``b``; the activations of the
folded float forward pass ``B̄u + β`` → ``bu_re/bu_im``, ``y, g, v, z``, ``r`` (block output) →
``r_out``, the state ``x`` (real and imaginary parts, one format per mode, of the first
``state_digits`` digits) → ``x_re/x_im``; decoder ``decoder.W/b`` → ``dec_W/dec_b``.
"""

from __future__ import annotations

import numpy as np

from ..errors import HwssmError
from ..fixed import QFormat
from ..model.s5_config import S5Config
from ..quant.s5_qmodel import S5QModel
from .profile_stats import TensorProfile, _param, _profile, _thin, block_activations, end_params

__all__ = ["profile_s5_model"]


def _modes(block: str, name: str, values: np.ndarray, fmts: tuple[QFormat, ...], rng) -> TensorProfile:
    """``values`` (..., P) with one format per mode (the last axis; all of one width and signedness)."""
    P = values.shape[-1]
    if len(fmts) != P:
        raise HwssmError(f"block {block} {name}: {len(fmts)} formats for {P} modes")
    frac = np.array([f.frac for f in fmts], dtype=np.float64)
    return _profile(block, name, "activation", values, fmts[0].width, fmts[0].signed, frac, np.array(0), rng)


def profile_s5_model(qm: S5QModel, config: S5Config, params: dict, pixels: np.ndarray, *, state_digits: int = 2,
                     batch: int = 8, progress=None) -> list[TensorProfile]:
    """The :class:`~hwssm.report.profile_stats.TensorProfile` of every tensor of the S5 ``qm``, the
    float values from the checkpoint (``config``, ``params``) and its folded forward pass over
    ``pixels`` (n, T) uint8 (the states of the first ``state_digits`` digits only: (T, P) complex
    per digit and block)."""
    from ..model.s5_network import folded_layers, forward

    if (config.H, config.P, config.L) != (qm.H, qm.P, qm.L):
        raise HwssmError(f"the float checkpoint (H={config.H}, P={config.P}, L={config.L}) is not the QModel's "
                         f"(H={qm.H}, P={qm.P}, L={qm.L})")
    rng = np.random.default_rng(0)
    out = end_params(qm, params, "enc", rng)
    for l, d in enumerate(folded_layers(config, params)):
        q = qm.layers[l]
        for name, val in (("A_re", d.Lambda_bar.real), ("A_im", d.Lambda_bar.imag), ("B_re", d.B_bar.real),
                          ("B_im", d.B_bar.imag), ("beta_re", d.bu_bias.real), ("beta_im", d.bu_bias.imag),
                          ("C_re", d.C_tilde.real), ("C_im", d.C_tilde.imag), ("D", d.D), ("delta", d.y_bias),
                          ("W", params[f"layers.{l}.W"]), ("b", params[f"layers.{l}.b"])):
            out.append(_param(str(l), name, val, getattr(q, name), rng))
    acts: dict[tuple[int, str], list[np.ndarray]] = {}
    n = pixels.shape[0]
    for lo in range(0, n, batch):
        _, tr = forward(params, config, pixels[lo:lo + batch], trace=True, folded=True)
        keep = max(0, min(state_digits - lo, batch))      # digits of this batch whose state is kept
        for l in range(qm.L):
            for name in ("y", "g", "v", "z"):
                acts.setdefault((l, name), []).append(_thin(getattr(tr, name)[l], rng))
            acts.setdefault((l, "r_out"), []).append(_thin(tr.r[l + 1], rng))
            acts.setdefault((l, "bu_re"), []).append(_thin(tr.bu[l].real, rng))
            acts.setdefault((l, "bu_im"), []).append(_thin(tr.bu[l].imag, rng))
            if keep:
                acts.setdefault((l, "x"), []).append(np.asarray(tr.x[l][:keep]))
        if progress is not None:
            progress(min(lo + batch, n), n)
    out += block_activations(qm, acts, ("bu_re", "bu_im", "y", "g", "v", "z", "r_out"), _modes, rng)
    return out + end_params(qm, params, "dec", rng)
