"""QModel: the integer S4D network, the contract that golden engine, RTL and QAT share.

Every number here is an integer code or a format; ``hwssm/quant/ARITHMETIC.md``
defines what the network computes with them and which QModels are legal (§5). A QModel
is produced by PTQ (:mod:`hwssm.quant.ptq`) or QAT export, checked by :meth:`QModel.validate`
(also at load), lowered once by :func:`hwssm.quant.lowering.lower` and consumed by
everything downstream.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import TYPE_CHECKING

import numpy as np

from ..errors import HwssmError
from ..fixed import QFormat, Overflow, Rounding
from .plan import PrecisionPlan

if TYPE_CHECKING:  # the LayerNorm module imports this one
    from .layernorm import QNorm

__all__ = ["QParam", "QLayer", "QModel", "QModelError", "U0_FORMAT", "TOKEN_FORMAT"]


class QModelError(HwssmError, ValueError):
    """A QModel outside the contract (ARITHMETIC.md §5): one line naming the tensor or sum.

    A :class:`~hwssm.errors.HwssmError` (the CLI's one-line error) and, for callers that
    catch the ValueError of malformed input (the QModel loader adds the file name), a ValueError.
    """

#: Input pixel format: unsigned 8-bit code p standing for p / 256.
U0_FORMAT = QFormat(8, 8, signed=False)
#: The encoder input of a token model: the one-hot indicator of the step's token (value 1,
#: ``u1.0``), so that ``r0[h] = requant(We[h, token] + be[h], F, R_0)`` (ARITHMETIC.md §2.1).
TOKEN_FORMAT = QFormat(1, 0, signed=False)


@dataclasses.dataclass(frozen=True, eq=False)
class QParam:
    """A stored parameter tensor.

    Attributes
    ----------
    codes : int64 ndarray
        Stored codes, ``bits`` wide: signed when ``signed`` (symmetric), else unsigned.
    bits : int
        Stored width.
    signed : bool
        True for symmetric tensors (zero points all 0).
    frac : int64 ndarray, shape (rows,)
        Fractional bits per row (the first axis); all equal when per tensor.
    zero : int64 ndarray, shape (rows,)
        Zero point per row; the arithmetic uses ``codes - zero[row]``.
    """

    codes: np.ndarray
    bits: int
    signed: bool
    frac: np.ndarray
    zero: np.ndarray

    @property
    def rows(self) -> int:
        return self.codes.shape[0]

    @property
    def storage(self) -> QFormat:
        """Format of the stored codes (frac of row 0; rows may differ)."""
        return QFormat(self.bits, int(self.frac[0]), self.signed)

    def effective(self) -> np.ndarray:
        """``codes - zero`` per row, int64, same shape as codes."""
        z = self.zero.reshape((-1,) + (1,) * (self.codes.ndim - 1))
        return self.codes - z

    def effective_format(self, row: int) -> QFormat:
        """A signed format that holds every effective value of ``row`` (for accumulator sizing)."""
        bits = self.bits if self.signed else self.bits + 1
        return QFormat(bits, int(self.frac[row]), True)

    def dequantize(self) -> np.ndarray:
        """Real values (float64) of the effective codes."""
        f = self.frac.reshape((-1,) + (1,) * (self.codes.ndim - 1)).astype(np.float64)
        return self.effective().astype(np.float64) * np.exp2(-f)

    @property
    def n_bits(self) -> int:
        """Storage in bits: codes at ``bits`` each, plus one zero point per row when asymmetric."""
        return int(self.codes.size * self.bits + (0 if self.signed else self.rows * self.bits))

    def validate(self, name: str) -> None:
        if self.codes.dtype != np.int64 or self.frac.dtype != np.int64 or self.zero.dtype != np.int64:
            raise QModelError(f"{name}: codes, frac and zero must be int64")
        if self.frac.shape != (self.rows,) or self.zero.shape != (self.rows,):
            raise QModelError(f"{name}: frac and zero must have shape ({self.rows},)")
        fmt = QFormat(self.bits, 0, self.signed)
        if not fmt.contains(self.codes):
            raise QModelError(f"{name}: codes outside {fmt.name}")
        if self.signed and np.any(self.zero != 0):
            raise QModelError(f"{name}: a signed (symmetric) tensor must have zero points 0")
        if not fmt.contains(self.zero):
            raise QModelError(f"{name}: zero points outside {fmt.name}")
        for f in self.frac:
            try:
                QFormat(self.bits, int(f), self.signed)
            except ValueError as exc:
                raise QModelError(f"{name}: {exc}") from None

    # serialization helpers
    def meta(self) -> dict:
        return {"bits": self.bits, "signed": self.signed, "frac": self.frac.tolist(), "zero": self.zero.tolist()}

    @classmethod
    def from_parts(cls, codes, meta: dict) -> "QParam":
        return cls(
            np.asarray(codes, dtype=np.int64),
            int(meta["bits"]),
            bool(meta["signed"]),
            np.asarray(meta["frac"], dtype=np.int64),
            np.asarray(meta["zero"], dtype=np.int64),
        )


def fmt_json(f: QFormat) -> dict:
    return {"width": f.width, "frac": f.frac, "signed": f.signed, "rounding": f.rounding.value, "overflow": f.overflow.value}


def fmt_from_json(d: dict) -> QFormat:
    return QFormat(int(d["width"]), int(d["frac"]), bool(d["signed"]), Rounding(d["rounding"]), Overflow(d["overflow"]))


#: Names of the QParams of a layer, in storage order.
LAYER_PARAMS = ("A_re", "A_im", "B_re", "B_im", "C_re", "C_im", "D", "W", "b")
#: Names of the activation formats of a layer.
LAYER_ACTS = ("y", "g", "v", "z", "r_out", "sig")
#: Names of the QParams of a layer's LayerNorm (γ, β), stored only when it has one.
NORM_PARAMS = ("norm_scale", "norm_bias")


@dataclasses.dataclass(frozen=True, eq=False)
class QLayer:
    """One S4D block in integers (ARITHMETIC.md §2.2).

    Ā, B̄, C̄ parts are (H, M); D is (H,); the mixing W is (2H, H) and b (2H,).
    ``x_re``/``x_im`` hold the state format of each head (H entries).
    ``gelu_lut`` has 2**y.width entries of format g; ``sigmoid_lut`` 2**v.width entries of format sig.
    ``norm`` is the block's LayerNorm (ARITHMETIC.md §7, :class:`~hwssm.quant.layernorm.QNorm`) or None.
    """

    A_re: QParam
    A_im: QParam
    B_re: QParam
    B_im: QParam
    C_re: QParam
    C_im: QParam
    D: QParam
    W: QParam
    b: QParam
    x_re: tuple[QFormat, ...]
    x_im: tuple[QFormat, ...]
    y: QFormat
    g: QFormat
    v: QFormat
    z: QFormat
    r_out: QFormat
    sig: QFormat
    gelu_lut: np.ndarray
    sigmoid_lut: np.ndarray
    norm: "QNorm | None" = None


@dataclasses.dataclass(frozen=True, eq=False)
class QModel:
    """The integer S4D classifier.

    Attributes
    ----------
    H, M, L, n_classes : int
        Channels, complex modes per channel (N/2), blocks, classes.
    plan : PrecisionPlan
        The plan it was quantized with.
    enc_W, enc_b : QParam
        Encoder (H, C), (H,); a token model's enc_W is (H, V): column v is the embedding of token v.
    r0 : QFormat
        Format of the residual stream entering block 0.
    layers : tuple[QLayer, ...]
    dec_W, dec_b : QParam
        Decoder (n_classes, H), (n_classes,).
    meta : dict
        Provenance (source checkpoint hash, calibration, Ā parameterization, ...).
    C : int
        Input channels per step (u8.8 samples each); 1 unless stated (the serialized header
        names it only when not 1, so C = 1 models keep their bytes and digests).
    vocab : int or None
        Token vocabulary V of a token model (one token id per step, C = 1), else None.
    """

    H: int
    M: int
    L: int
    n_classes: int
    plan: PrecisionPlan
    enc_W: QParam
    enc_b: QParam
    r0: QFormat
    layers: tuple[QLayer, ...]
    dec_W: QParam
    dec_b: QParam
    meta: dict = dataclasses.field(default_factory=dict)
    C: int = 1
    vocab: int | None = None

    @property
    def N(self) -> int:
        return 2 * self.M

    @property
    def tokens(self) -> bool:
        """True for a token model (embedding encoder, one token id per step)."""
        return self.vocab is not None

    @property
    def enc_inputs(self) -> int:
        """Columns of enc_W: C, or V for a token model."""
        return self.vocab if self.tokens else self.C

    @property
    def u0(self) -> QFormat:
        """Format of one encoder input: a u8.8 sample, or a token model's one-hot indicator."""
        return TOKEN_FORMAT if self.tokens else U0_FORMAT

    def r_in(self, l: int) -> QFormat:
        """Format of the residual stream entering block l (the S4D input u)."""
        return self.r0 if l == 0 else self.layers[l - 1].r_out

    @property
    def r_final(self) -> QFormat:
        return self.r_in(self.L)

    def ssm_in(self, l: int) -> QFormat:
        """Format of block l's S4D input: N_l after a prenorm LayerNorm, else R_l."""
        norm = self.layers[l].norm
        return norm.n if norm is not None and norm.prenorm else self.r_in(l)

    def res_out(self, l: int) -> QFormat:
        """Format the residual sum of block l is requantized to: N_l before a postnorm LayerNorm, else R_{l+1}."""
        norm = self.layers[l].norm
        return norm.n if norm is not None and not norm.prenorm else self.layers[l].r_out

    @property
    def has_norm(self) -> bool:
        """True when some block has a LayerNorm (ARITHMETIC.md §7)."""
        return any(ly.norm is not None for ly in self.layers)

    # -- sizes -------------------------------------------------------------
    def params(self):
        """(name, QParam) for every stored parameter tensor."""
        yield "enc_W", self.enc_W
        yield "enc_b", self.enc_b
        for l, layer in enumerate(self.layers):
            for name in LAYER_PARAMS:
                yield f"layers.{l}.{name}", getattr(layer, name)
            if layer.norm is not None:
                yield f"layers.{l}.norm_scale", layer.norm.gamma
                yield f"layers.{l}.norm_bias", layer.norm.beta
        yield "dec_W", self.dec_W
        yield "dec_b", self.dec_b

    @property
    def state_bits(self) -> int:
        """Bits of the recurrent state of one sequence."""
        return sum(self.M * (x.width + y.width) for layer in self.layers for x, y in zip(layer.x_re, layer.x_im))

    @property
    def footprint_bits(self) -> int:
        """Exact memory footprint: parameters (+ zero points) and one sequence's state, in bits."""
        return sum(p.n_bits for _, p in self.params()) + self.state_bits

    @property
    def float32_bits(self) -> int:
        """The same parameters and state stored as float32 (complex as two floats)."""
        n = sum(p.codes.size for _, p in self.params()) + sum(2 * self.H * self.M for _ in self.layers)
        return 32 * n

    @property
    def lut_bits(self) -> int:
        """Bits of the GELU and sigmoid tables (not part of footprint_bits)."""
        return sum(l.gelu_lut.size * l.g.width + l.sigmoid_lut.size * l.sig.width for l in self.layers)

    @property
    def compression(self) -> float:
        return self.float32_bits / self.footprint_bits

    @property
    def macs_per_step(self) -> int:
        """Useful multiplies per time step: 8 per complex mode update, plus every linear-layer multiply."""
        H, M = self.H, self.M
        per_layer = 8 * H * M + 2 * H * H + H  # SSM, mixing, GLU product
        enc = 0 if self.tokens else H * self.C  # a token model's encoder is a table read
        norms = 3 * H * sum(ly.norm is not None for ly in self.layers)  # LayerNorm: d², d·H·ρ, γ·ν
        return enc + self.L * per_layer + norms  # encoder; the decoder runs once per sequence

    # -- validation & identity ---------------------------------------------
    def validate(self) -> None:
        """Refuse a QModel outside the contract (ARITHMETIC.md §5) with one QModelError line
        (:func:`hwssm.quant.qmodel_check.check_qmodel`: shapes, code ranges, tables, formats, lowering)."""
        from .qmodel_check import check_qmodel  # that module imports this one

        check_qmodel(self)

    def to_parts(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able header, arrays) — the serialized form (see hwssm.quant.qmodel_io)."""
        arrays: dict[str, np.ndarray] = {}
        params: dict[str, dict] = {}
        for name, p in self.params():
            arrays[name] = p.codes
            params[name] = p.meta()
        layers = []
        for l, layer in enumerate(self.layers):
            arrays[f"layers.{l}.gelu_lut"] = layer.gelu_lut
            arrays[f"layers.{l}.sigmoid_lut"] = layer.sigmoid_lut
            d = {n: fmt_json(getattr(layer, n)) for n in LAYER_ACTS}
            d["x_re"] = [fmt_json(f) for f in layer.x_re]
            d["x_im"] = [fmt_json(f) for f in layer.x_im]
            if layer.norm is not None:   # absent without a LayerNorm: older QModels keep their digests
                d["norm"] = layer.norm.to_json()
            layers.append(d)
        header = {
            "H": self.H, "M": self.M, "L": self.L, "n_classes": self.n_classes,
            "plan": self.plan.to_json(), "r0": fmt_json(self.r0),
            "params": params, "layers": layers, "meta": self.meta,
        }
        if self.C != 1:
            header["C"] = self.C
        if self.vocab is not None:
            header["vocab"] = self.vocab
        return header, arrays

    @classmethod
    def from_parts(cls, header: dict, arrays: dict[str, np.ndarray]) -> "QModel":
        p = {name: QParam.from_parts(arrays[name], meta) for name, meta in header["params"].items()}
        layers = []
        for l, d in enumerate(header["layers"]):
            kw = {n: p[f"layers.{l}.{n}"] for n in LAYER_PARAMS}
            kw.update({n: fmt_from_json(d[n]) for n in LAYER_ACTS})
            kw["x_re"] = tuple(fmt_from_json(f) for f in d["x_re"])
            kw["x_im"] = tuple(fmt_from_json(f) for f in d["x_im"])
            kw["gelu_lut"] = np.asarray(arrays[f"layers.{l}.gelu_lut"], dtype=np.int64)
            kw["sigmoid_lut"] = np.asarray(arrays[f"layers.{l}.sigmoid_lut"], dtype=np.int64)
            if "norm" in d:
                from .layernorm import QNorm  # the LayerNorm module imports this one

                kw["norm"] = QNorm.from_parts(d["norm"], p[f"layers.{l}.norm_scale"], p[f"layers.{l}.norm_bias"])
            layers.append(QLayer(**kw))
        return cls(
            H=int(header["H"]), M=int(header["M"]), L=int(header["L"]), n_classes=int(header["n_classes"]),
            plan=PrecisionPlan.from_json(header["plan"]), enc_W=p["enc_W"], enc_b=p["enc_b"],
            r0=fmt_from_json(header["r0"]), layers=tuple(layers), dec_W=p["dec_W"], dec_b=p["dec_b"],
            meta=dict(header.get("meta", {})), C=int(header.get("C", 1)),
            vocab=None if header.get("vocab") is None else int(header["vocab"]),
        )

    def digest(self) -> str:
        """SHA-256 of the canonical serialization (header without meta + arrays): the model hash."""
        header, arrays = self.to_parts()
        header = {k: v for k, v in header.items() if k != "meta"}
        h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
        for name in sorted(arrays):
            a = np.ascontiguousarray(arrays[name], dtype=np.int64)
            h.update(name.encode())
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
        return h.hexdigest()
