"""S5QModel: the integer S5 network (ARITHMETIC.md §6), beside the S4D :class:`~hwssm.quant.qmodel.QModel`.

It shares the S4D contract's vocabulary (:class:`~hwssm.quant.qmodel.QParam`, formats, the
encoder, GELU/sigmoid tables, residual, sum-pool and decoder) and differs in the block's SSM:
one MIMO system of P complex modes shared by the H channels, B̄u as a GEMV requantized into
the ``bu`` format, per-mode state formats, folded-BatchNorm biases β (into bu) and δ (into y).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np

from ..fixed import QFormat, Overflow
from ..model.config import Family
from ..model.s5_config import Glu
from .plan import PrecisionPlan
from .qmodel import U0_FORMAT, QModelError, QParam, fmt_from_json, fmt_json

#: Names of the QParams of an S5 block, in storage order.
S5_LAYER_PARAMS = ("A_re", "A_im", "B_re", "B_im", "beta_re", "beta_im", "C_re", "C_im", "D", "delta", "W", "b")
#: Names of the per-tensor activation formats of an S5 block.
S5_LAYER_ACTS = ("bu_re", "bu_im", "y", "g", "v", "z", "r_out", "sig")


@dataclasses.dataclass(frozen=True, eq=False)
class S5QLayer:
    """One S5 block in integers (ARITHMETIC.md §6).

    Λ̄ parts ``A_re``, ``A_im`` (P,); B̄ parts (P, H); the bu bias β parts (P,); C̃ parts (H, P);
    D and the y bias δ (H,); GLU W (H or 2H, H), b (H or 2H,). ``x_re``/``x_im`` hold the state
    format of each mode (P entries); ``bu_re``/``bu_im`` the formats of B̄u + β.
    """

    A_re: QParam
    A_im: QParam
    B_re: QParam
    B_im: QParam
    beta_re: QParam
    beta_im: QParam
    C_re: QParam
    C_im: QParam
    D: QParam
    delta: QParam
    W: QParam
    b: QParam
    x_re: tuple[QFormat, ...]
    x_im: tuple[QFormat, ...]
    bu_re: QFormat
    bu_im: QFormat
    y: QFormat
    g: QFormat
    v: QFormat
    z: QFormat
    r_out: QFormat
    sig: QFormat
    gelu_lut: np.ndarray
    sigmoid_lut: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class S5QModel:
    """The integer S5 classifier: H channels, P modes per block, L blocks, half or full GLU."""

    H: int
    P: int
    L: int
    n_classes: int
    glu: Glu
    plan: PrecisionPlan
    enc_W: QParam
    enc_b: QParam
    r0: QFormat
    layers: tuple[S5QLayer, ...]
    dec_W: QParam
    dec_b: QParam
    meta: dict = dataclasses.field(default_factory=dict)

    @property
    def family(self) -> Family:
        return Family.S5

    @property
    def u0(self) -> QFormat:
        return U0_FORMAT

    #: One u8.8 sample per step, linear encoder (the S4D encoder's lowering applies): S5 models
    #: take neither C > 1 channels nor tokens yet.
    C = 1
    vocab = None
    tokens = False

    @property
    def glu_rows(self) -> int:
        return self.H if self.glu is Glu.HALF else 2 * self.H

    def r_in(self, l: int) -> QFormat:
        """Format of the residual stream entering block l."""
        return self.r0 if l == 0 else self.layers[l - 1].r_out

    @property
    def r_final(self) -> QFormat:
        return self.r_in(self.L)

    def params(self):
        """(name, QParam) for every stored parameter tensor."""
        yield "enc_W", self.enc_W
        yield "enc_b", self.enc_b
        for l, layer in enumerate(self.layers):
            for name in S5_LAYER_PARAMS:
                yield f"layers.{l}.{name}", getattr(layer, name)
        yield "dec_W", self.dec_W
        yield "dec_b", self.dec_b

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape of every stored tensor, by name."""
        H, P, J = self.H, self.P, self.glu_rows
        out = {"enc_W": (H, 1), "enc_b": (H,), "dec_W": (self.n_classes, H), "dec_b": (self.n_classes,)}
        per = {"A_re": (P,), "A_im": (P,), "B_re": (P, H), "B_im": (P, H), "beta_re": (P,), "beta_im": (P,),
               "C_re": (H, P), "C_im": (H, P), "D": (H,), "delta": (H,), "W": (J, H), "b": (J,)}
        for l in range(self.L):
            out.update({f"layers.{l}.{k}": v for k, v in per.items()})
        return out

    @property
    def state_bits(self) -> int:
        """Bits of the recurrent state of one sequence."""
        return sum(x.width + y.width for layer in self.layers for x, y in zip(layer.x_re, layer.x_im))

    @property
    def footprint_bits(self) -> int:
        """Parameters (+ zero points) and one sequence's state, in bits."""
        return sum(p.n_bits for _, p in self.params()) + self.state_bits

    @property
    def float32_bits(self) -> int:
        """The same parameters and state as float32 (complex as two floats)."""
        return 32 * (sum(p.codes.size for _, p in self.params()) + 2 * self.P * self.L)

    @property
    def lut_bits(self) -> int:
        """Bits of the GELU and sigmoid tables (not part of footprint_bits)."""
        return sum(ly.gelu_lut.size * ly.g.width + ly.sigmoid_lut.size * ly.sig.width for ly in self.layers)

    @property
    def compression(self) -> float:
        return self.float32_bits / self.footprint_bits

    @property
    def macs_per_step(self) -> int:
        """Multiplies per step: B̄u (2PH), Λ̄x (4P), C̃x (2HP), D·u (H), GLU Linear and product."""
        H, P = self.H, self.P
        per_layer = 2 * P * H + 4 * P + 2 * H * P + H + self.glu_rows * H + H
        return H + self.L * per_layer

    def validate(self) -> None:
        """Refuse a model outside ARITHMETIC.md §5/§6 with one QModelError line (shapes, codes,
        tables, then every sum lowered by :func:`hwssm.quant.s5_lowering.lower_s5`)."""
        if not isinstance(self.glu, Glu):
            raise QModelError(f"glu must be a Glu, not {self.glu!r}")
        if len(self.layers) != self.L:
            raise QModelError(f"S5QModel has {len(self.layers)} layers, expected L={self.L}")
        expect = self.shapes()
        for name, p in self.params():
            if p.codes.shape != expect[name]:
                raise QModelError(f"{name}: shape {p.codes.shape}, expected {expect[name]}")
            p.validate(name)
        for l, layer in enumerate(self.layers):
            if len(layer.x_re) != self.P or len(layer.x_im) != self.P:
                raise QModelError(f"layers.{l}: state formats must have one entry per mode ({self.P})")
            if layer.sig.signed:
                raise QModelError(f"layers.{l}: sigmoid format must be unsigned")
            for what, f in (("GELU output format g", layer.g), ("sigmoid format", layer.sig)):
                if f.overflow is not Overflow.SATURATE:
                    raise QModelError(f"layers.{l}: the {what} {f.name} wraps; table formats always saturate")
            if layer.gelu_lut.shape != (1 << layer.y.width,) or not layer.g.contains(layer.gelu_lut):
                raise QModelError(f"layers.{l}: GELU table must have 2^{layer.y.width} codes of {layer.g.name}")
            if layer.sigmoid_lut.shape != (1 << layer.v.width,) or not layer.sig.contains(layer.sigmoid_lut):
                raise QModelError(f"layers.{l}: sigmoid table must have 2^{layer.v.width} codes of {layer.sig.name}")
        from .s5_lowering import lower_s5

        lower_s5(self, T=1)

    def header(self) -> dict:
        """The JSON-able description (formats, plan, parameter metadata), without codes or meta."""
        layers = []
        for layer in self.layers:
            d = {n: fmt_json(getattr(layer, n)) for n in S5_LAYER_ACTS}
            d["x_re"] = [fmt_json(f) for f in layer.x_re]
            d["x_im"] = [fmt_json(f) for f in layer.x_im]
            layers.append(d)
        return {"family": Family.S5.value, "H": self.H, "P": self.P, "L": self.L, "n_classes": self.n_classes,
                "glu": self.glu.value, "plan": self.plan.to_json(), "r0": fmt_json(self.r0),
                "params": {name: p.meta() for name, p in self.params()}, "layers": layers}

    def to_parts(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able header with meta, integer arrays): the serialized form (:mod:`hwssm.quant.s5_qmodel_io`)."""
        arrays = {name: p.codes for name, p in self.params()}
        for l, layer in enumerate(self.layers):
            arrays[f"layers.{l}.gelu_lut"] = layer.gelu_lut
            arrays[f"layers.{l}.sigmoid_lut"] = layer.sigmoid_lut
        return {**self.header(), "meta": self.meta}, arrays

    @classmethod
    def from_parts(cls, header: dict, arrays: dict[str, np.ndarray]) -> "S5QModel":
        """The model of :meth:`to_parts`' output (checked by the loader, validated by the caller)."""
        p = {name: QParam.from_parts(arrays[name], meta) for name, meta in header["params"].items()}
        layers = []
        for l, d in enumerate(header["layers"]):
            kw = {n: p[f"layers.{l}.{n}"] for n in S5_LAYER_PARAMS}
            kw.update({n: fmt_from_json(d[n]) for n in S5_LAYER_ACTS})
            kw["x_re"] = tuple(fmt_from_json(f) for f in d["x_re"])
            kw["x_im"] = tuple(fmt_from_json(f) for f in d["x_im"])
            kw["gelu_lut"] = np.asarray(arrays[f"layers.{l}.gelu_lut"], dtype=np.int64)
            kw["sigmoid_lut"] = np.asarray(arrays[f"layers.{l}.sigmoid_lut"], dtype=np.int64)
            layers.append(S5QLayer(**kw))
        return cls(H=int(header["H"]), P=int(header["P"]), L=int(header["L"]), n_classes=int(header["n_classes"]),
                   glu=Glu(header["glu"]), plan=PrecisionPlan.from_json(header["plan"]), enc_W=p["enc_W"],
                   enc_b=p["enc_b"], r0=fmt_from_json(header["r0"]), layers=tuple(layers), dec_W=p["dec_W"],
                   dec_b=p["dec_b"], meta=dict(header.get("meta", {})))

    def digest(self) -> str:
        """SHA-256 of the header and every integer array (codes and tables): the model hash."""
        h = hashlib.sha256(json.dumps(self.header(), sort_keys=True).encode())
        arrays = {name: p.codes for name, p in self.params()}
        for l, layer in enumerate(self.layers):
            arrays[f"layers.{l}.gelu_lut"] = layer.gelu_lut
            arrays[f"layers.{l}.sigmoid_lut"] = layer.sigmoid_lut
        for name in sorted(arrays):
            a = np.ascontiguousarray(arrays[name], dtype=np.int64)
            h.update(name.encode())
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
        return h.hexdigest()
