"""The legality check of an S4D QModel (ARITHMETIC.md §5): :func:`check_qmodel`.

The data lives in :mod:`hwssm.quant.qmodel`; its ``validate`` calls this check.
"""

from __future__ import annotations

from ..fixed import Overflow
from .qmodel import QModel, QModelError

__all__ = ["check_qmodel"]


def check_qmodel(qm: QModel) -> None:
    """Refuse ``qm`` when it lies outside the contract (ARITHMETIC.md §5), with one QModelError line.

    Checks shapes, code ranges, table sizes and formats, then lowers the model
    (:func:`hwssm.quant.lowering.lower`), which refuses sums whose shifts or accumulators
    exceed 64 bits. The decoder's pooled sum depends on the sequence length: it is checked
    here for one step and again when the model is lowered for its T.
    """
    H, M = qm.H, qm.M
    for what, v in (("C", qm.C), ("vocab", 1 if qm.vocab is None else qm.vocab)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise QModelError(f"QModel {what} must be a positive integer, not {v!r}")
    if qm.tokens and qm.C != 1:
        raise QModelError(f"a token QModel reads one token per step, not C={qm.C}")
    expect = {"enc_W": (H, qm.enc_inputs), "enc_b": (H,), "dec_W": (qm.n_classes, H), "dec_b": (qm.n_classes,)}
    for l in range(qm.L):
        for n in ("A_re", "A_im", "B_re", "B_im", "C_re", "C_im"):
            expect[f"layers.{l}.{n}"] = (H, M)
        expect[f"layers.{l}.D"] = (H,)
        expect[f"layers.{l}.W"] = (2 * H, H)
        expect[f"layers.{l}.b"] = (2 * H,)
        expect[f"layers.{l}.norm_scale"] = expect[f"layers.{l}.norm_bias"] = (H,)
    if len(qm.layers) != qm.L:
        raise QModelError(f"QModel has {len(qm.layers)} layers, expected L={qm.L}")
    try:
        qm.plan.check_layers(qm.L)
    except ValueError as exc:
        raise QModelError(str(exc)) from None
    for name, p in qm.params():
        if p.codes.shape != expect[name]:
            raise QModelError(f"{name}: shape {p.codes.shape}, expected {expect[name]}")
        p.validate(name)
    for l, layer in enumerate(qm.layers):
        if len(layer.x_re) != H or len(layer.x_im) != H:
            raise QModelError(f"layers.{l}: state formats must have one entry per head ({H})")
        if layer.sig.signed:
            raise QModelError(f"layers.{l}: sigmoid format must be unsigned")
        for what, f in (("GELU output format g", layer.g), ("sigmoid format", layer.sig)):
            if f.overflow is not Overflow.SATURATE:
                raise QModelError(f"layers.{l}: the {what} {f.name} wraps; table formats always saturate "
                                  "(ARITHMETIC.md §5): quantize the model again")
        if layer.gelu_lut.shape != (1 << layer.y.width,) or not layer.g.contains(layer.gelu_lut):
            raise QModelError(f"layers.{l}: GELU table must have 2^{layer.y.width} codes of {layer.g.name}")
        if layer.sigmoid_lut.shape != (1 << layer.v.width,) or not layer.sig.contains(layer.sigmoid_lut):
            raise QModelError(f"layers.{l}: sigmoid table must have 2^{layer.v.width} codes of {layer.sig.name}")
    from .lowering import lower  # the lowering imports hwssm.quant.qmodel

    lower(qm, T=1)
