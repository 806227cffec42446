"""QAT of the S5 family: float master parameters, the S5 golden engine's integer forward, STE backward.

The S5 analogue of :mod:`hwssm.train.qat_model`. A frame (:class:`S5Frame`) fixes the formats,
fracs, zero points and tables of a PTQ :class:`~hwssm.quant.s5_qmodel.S5QModel`; every forward
quantizes the master parameters into codes with those fracs (:func:`hwssm.train.qat_ops.quantize`,
straight-through) and runs ARITHMETIC.md §6 on float64 tensors holding integers (exact below
2**53, checked by :func:`build_s5_frame`): the encoder, per block B̄u + β requantized into the
``bu`` formats, the per-mode state update x' = requant(Λ̄x + bu) (:func:`hwssm.train.qat_s5_scan.s5_scan`:
a fused Triton kernel on CUDA, an int64 torch loop over the T steps elsewhere; the state saturates
or wraps in its format at every step, the contract's state clipping), the
readout y = requant(2·Re(C̃x') + D·u + δ), the GELU table, the GLU Linear, the gate (half GLU
g·σ(v), full GLU v₁·σ(v₂)), the residual, the sum-pool and the decoder. The integers are those of
:func:`hwssm.golden.s5_engine.run_s5` for :meth:`S5QATModel.to_qmodel`, bit for bit.

Λ̄ parameterizations (:class:`~hwssm.train.qat_model.AParam`), the prenorm BatchNorm folded
(s = γ/√(σ²+ε), c = β_bn − μs) into the masters:

DISCRETE
    Λ̄, B̄ (folded), β (folded bias of B̄u) trained directly.
CONTINUOUS
    Λ (``Lambda_re``, ``Lambda_im``), ``log_dt`` (P), B̃·diag(s) (``Bt_re``, ``Bt_im``) and B̃c
    (``bt_re``, ``bt_im``) trained; every forward discretizes (ZOH or bilinear, float64):
    Λ̄, B̄ = gain·B̃·diag(s), β = gain·B̃c.
FROZEN
    Λ̄ keeps the PTQ codes; B̄ and β trained directly.

C̃, D, δ (folded), the GLU, the encoder and the decoder are trained directly in all three.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn

from ..errors import HwssmError
from ..model.config import Discretization
from ..model.s5_config import Glu, Norm, S5Config
from ..model.s4d import layer_params
from ..quant.lowering import RQ_LSH
from ..quant.s5_lowering import S5Lowering, lower_s5
from ..quant.s5_qmodel import S5_LAYER_PARAMS, S5QModel
from .qat_frame import FLOAT64_EXACT_BITS, ParamFrame, derivative_table
from .qat_model import AParam
from .qat_ops import F64, Requant, lookup, pow2, quantize
from .qat_s5_scan import S5ScanConsts, s5_scan

#: Master parameters trained at the SSM learning rate (no weight decay), by parameterization.
S5_SSM_NAMES = {
    AParam.DISCRETE: ("A_re", "A_im", "B_re", "B_im", "beta_re", "beta_im"),
    AParam.CONTINUOUS: ("Lambda_re", "Lambda_im", "log_dt", "Bt_re", "Bt_im", "bt_re", "bt_im"),
    AParam.FROZEN: ("B_re", "B_im", "beta_re", "beta_im"),
}
#: Master parameters of a block trained directly in every parameterization.
_DIRECT = ("C_re", "C_im", "D", "delta", "W", "b")


@dataclasses.dataclass(frozen=True)
class S5Frame:
    """Formats, lowering and table derivatives of a QAT run (fixed for the run).

    template : S5QModel (the PTQ model), lowering : S5Lowering for ``T`` steps,
    dgelu / dsig : float64 per block, straight-through derivatives of the GELU and sigmoid tables.
    """

    template: S5QModel
    lowering: S5Lowering
    T: int
    dgelu: tuple[np.ndarray, ...]
    dsig: tuple[np.ndarray, ...]


def build_s5_frame(template: S5QModel, T: int) -> S5Frame:
    """The frame of ``template`` for ``T`` steps; HwssmError when a sum (its requantization
    pre-shift included) is wider than float64 holds exactly."""
    lw = lower_s5(template, T)
    rows = [r for ly in lw.layers for r in ly.rows] + list(lw.encoder.rows)
    widest = max([r.width + max(0, int(r.rq.record()[RQ_LSH])) for r in rows] + [lw.decoder.width])
    if widest > FLOAT64_EXACT_BITS:
        raise HwssmError(f"plan {template.plan.name}: an S5 accumulator needs {widest} bits; QAT carries integers "
                         f"in float64 and supports at most {FLOAT64_EXACT_BITS}")
    dgelu = tuple(derivative_table(ly.gelu.fin, ly.gelu.fout, ly.gelu.codes, "gelu") for ly in lw.layers)
    dsig = tuple(derivative_table(ly.sigmoid.fin, ly.sigmoid.fout, ly.sigmoid.codes, "sigmoid") for ly in lw.layers)
    return S5Frame(template, lw, int(T), dgelu, dsig)


@dataclasses.dataclass
class S5Consts:
    """Device tensors of a frame: parameter quantizers (scale 2**frac, zero, code range by
    name), encoder and decoder alignments (2**align) and records, and per block a dict of the
    alignments, requantizations and tables of :class:`~hwssm.quant.s5_lowering.S5LayerLowering`."""

    device: torch.device
    qscale: dict
    qzero: dict
    qrange: dict
    enc_s: torch.Tensor          # (2, H)
    enc_rq: Requant
    dec_s: torch.Tensor          # (3, K)
    logit_scale: float           # 2**-logit_frac
    layers: list


@dataclasses.dataclass
class S5Trace:
    """Integer outputs of a forward (int64 numpy), in :class:`~hwssm.golden.s5_engine.S5GoldenResult`'s
    layout: r (B, L+1, T, H), bu and x (B, L, T, 2, P), y (B, L, T, H), v (B, L, T, J), logits (B, K)."""

    r: np.ndarray
    bu: np.ndarray
    x: np.ndarray
    y: np.ndarray
    v: np.ndarray
    logits: np.ndarray
    logit_frac: int


def _f64(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def folded_masters(config: S5Config, params: dict, l: int) -> dict[str, np.ndarray]:
    """Block l's continuous arrays with the prenorm BatchNorm folded (no norm: s = 1, c = 0):
    Λ, log Δ, B̃·diag(s), B̃c, C̃, D⊙s, δ = D⊙c (float64 / complex128)."""
    if config.norm is Norm.LAYER:
        raise HwssmError("an S5 model with LayerNorm has no integer form (QAT trains the integer network): "
                         "train with BatchNorm or no norm")
    p = layer_params(params, l)
    H = config.H
    s, c = np.ones(H), np.zeros(H)
    if config.norm is Norm.BATCH:
        s = np.asarray(p["norm_scale"], np.float64) / np.sqrt(np.asarray(p["norm_var"], np.float64) + config.eps)
        c = np.asarray(p["norm_bias"], np.float64) - np.asarray(p["norm_mean"], np.float64) * s
    Bt = np.asarray(p["B_re"], np.float64) + 1j * np.asarray(p["B_im"], np.float64)
    D = np.asarray(p["D"], np.float64)
    return {"Lambda_re": p["Lambda_re"], "Lambda_im": p["Lambda_im"], "log_dt": p["log_dt"],
            "Bt": Bt * s, "bt": Bt @ c, "C_re": p["C_re"], "C_im": p["C_im"], "D": D * s, "delta": D * c,
            "W": p["W"], "b": p["b"]}


def _discrete(m: dict, disc: Discretization) -> tuple[np.ndarray, np.ndarray]:
    """(Λ̄, gain) complex128 (P,): ZOH Λ̄ = exp(ΛΔ), gain (Λ̄ − 1)/Λ; bilinear
    Λ̄ = (1 + ΔΛ/2)/(1 − ΔΛ/2), gain Δ/(1 − ΔΛ/2) (as :func:`hwssm.model.s5.discretize`)."""
    lam = np.asarray(m["Lambda_re"], np.float64) + 1j * np.asarray(m["Lambda_im"], np.float64)
    dt = np.exp(np.asarray(m["log_dt"], np.float64))
    if disc is Discretization.ZOH:
        lam_bar = np.exp(lam * dt)
        return lam_bar, (lam_bar - 1.0) / lam
    inv = 1.0 / (1.0 - dt / 2.0 * lam)
    return inv * (1.0 + dt / 2.0 * lam), inv * dt


class S5QATModel(nn.Module):
    """An S5 classifier trained in the integer network of ``frame`` (see the module docstring).

    Parameters
    ----------
    frame : S5Frame
    config : S5Config
    params : dict of name -> float array (the float checkpoint, the starting point)
    aparam : AParam
    """

    def __init__(self, frame: S5Frame, config: S5Config, params: dict, aparam: AParam):
        super().__init__()
        qm = frame.template
        if (qm.H, qm.P, qm.L, qm.n_classes, qm.glu) != (config.H, config.P, config.L, config.n_classes, config.glu):
            raise ValueError("the frame's S5QModel and the float config differ in shape")
        self.frame, self.config, self.aparam = frame, config, aparam
        for name, key in (("enc_W", "encoder.W"), ("enc_b", "encoder.b"), ("dec_W", "decoder.W"),
                          ("dec_b", "decoder.b")):
            setattr(self, name, nn.Parameter(_f64(params[key])))
        self.layers = nn.ModuleList()
        for l in range(config.L):
            m = folded_masters(config, params, l)
            blk = nn.Module()
            for name in _DIRECT:
                setattr(blk, name, nn.Parameter(_f64(m[name])))
            if aparam is AParam.CONTINUOUS:
                for name in ("Lambda_re", "Lambda_im", "log_dt"):
                    setattr(blk, name, nn.Parameter(_f64(m[name])))
                blk.Bt_re, blk.Bt_im = nn.Parameter(_f64(m["Bt"].real)), nn.Parameter(_f64(m["Bt"].imag))
                blk.bt_re, blk.bt_im = nn.Parameter(_f64(m["bt"].real)), nn.Parameter(_f64(m["bt"].imag))
            else:
                lam_bar, g = _discrete(m, config.discretization)
                Bbar, beta = g[:, None] * m["Bt"], g * m["bt"]
                blk.B_re, blk.B_im = nn.Parameter(_f64(Bbar.real)), nn.Parameter(_f64(Bbar.imag))
                blk.beta_re, blk.beta_im = nn.Parameter(_f64(beta.real)), nn.Parameter(_f64(beta.imag))
                if aparam is AParam.DISCRETE:
                    blk.A_re, blk.A_im = nn.Parameter(_f64(lam_bar.real)), nn.Parameter(_f64(lam_bar.imag))
                else:
                    ly = qm.layers[l]
                    blk.register_buffer("A_codes", _f64(np.stack([ly.A_re.effective(), ly.A_im.effective()])),
                                        persistent=False)
            self.layers.append(blk)
        self._k = None


    # -- constants ------------------------------------------------------------------------
    def consts(self) -> "S5Consts":
        """Device tensors of the frame (built once per device)."""
        dev = self.enc_W.device
        if self._k is not None and self._k.device == dev:
            return self._k
        lw, qm = self.frame.lowering, self.frame.template
        k = S5Consts(dev, {}, {}, {}, pow2(lw.encoder.sh.T, dev), Requant.of(lw.encoder.rq, dev),
                     pow2(lw.decoder.sh.T, dev), float(2.0 ** -lw.decoder.logit_frac), [])
        for name, p in qm.params():
            shape = (-1,) + (1,) * (p.codes.ndim - 1)
            k.qscale[name] = pow2(p.frac, dev).reshape(shape)
            k.qzero[name] = _f64(p.zero).to(dev).reshape(shape)
            pf = ParamFrame.of(p)
            k.qrange[name] = (pf.lo, pf.hi)
        t = lambda a: _f64(a).to(dev)  # noqa: E731
        for l, ly in enumerate(lw.layers):
            k.layers.append({
                "bu_s": [pow2(ly.bu_sh[i].T, dev) for i in range(2)],             # (2, P) each
                "bu_rq": [Requant.of(ly.bu_rq[i], dev) for i in range(2)],
                "scan": S5ScanConsts.of(ly, dev),                                   # the state update
                "y_s": [2.0 * pow2(ly.y_sh[..., i], dev) for i in range(2)],       # (H, P): 2·2**align
                "yd_s": pow2(ly.yd_sh.T, dev), "y_rq": Requant.of(ly.y_rq, dev),
                "gelu": t(ly.gelu.codes), "dgelu": t(self.frame.dgelu[l]), "gelu_min": ly.gelu.min_code,
                "v_s": pow2(ly.v_sh.T, dev), "v_rq": Requant.of(ly.v_rq, dev),
                "sig": t(ly.sigmoid.codes), "dsig": t(self.frame.dsig[l]), "sig_min": ly.sigmoid.min_code,
                "z_rq": Requant.of(ly.z_rq, dev), "res_s": pow2(ly.res_sh, dev), "res_rq": Requant.of(ly.res_rq, dev),
            })
        self._k = k
        return k

    # -- parameters -> codes --------------------------------------------------------------
    def _q(self, k: "S5Consts", name: str, w: torch.Tensor) -> torch.Tensor:
        lo, hi = k.qrange[name]
        return quantize(w, k.qscale[name], k.qzero[name], lo, hi)

    def discrete_ssm(self, l: int) -> dict[str, torch.Tensor]:
        """Float64 Λ̄, B̄, β parts of block l before quantization (no Λ̄ when FROZEN)."""
        blk = self.layers[l]
        if self.aparam is not AParam.CONTINUOUS:
            names = S5_SSM_NAMES[self.aparam]
            return {n: getattr(blk, n) for n in names}
        lam = torch.complex(blk.Lambda_re, blk.Lambda_im)
        dt = torch.exp(blk.log_dt)
        if self.config.discretization is Discretization.ZOH:
            lam_bar = torch.exp(lam * dt)
            gain = (lam_bar - 1.0) / lam
        else:
            inv = 1.0 / (1.0 - dt / 2.0 * lam)
            lam_bar, gain = inv * (1.0 + dt / 2.0 * lam), inv * dt
        B = gain[:, None] * torch.complex(blk.Bt_re, blk.Bt_im)
        beta = gain * torch.complex(blk.bt_re, blk.bt_im)
        return {"A_re": lam_bar.real, "A_im": lam_bar.imag, "B_re": B.real, "B_im": B.imag,
                "beta_re": beta.real, "beta_im": beta.imag}

    def quantized(self) -> dict[str, torch.Tensor]:
        """Effective integer codes (``code - zero``) of every S5QModel parameter, float64, with
        straight-through gradients to the masters. Keys as :meth:`S5QModel.params`."""
        k = self.consts()
        q = {n: self._q(k, n, getattr(self, n)) for n in ("enc_W", "enc_b", "dec_W", "dec_b")}
        for l, blk in enumerate(self.layers):
            pre = f"layers.{l}."
            ssm = self.discrete_ssm(l)
            if self.aparam is AParam.FROZEN:
                q[pre + "A_re"], q[pre + "A_im"] = blk.A_codes[0], blk.A_codes[1]
            for name, w in ssm.items():
                q[pre + name] = self._q(k, pre + name, w)
            for name in _DIRECT:
                q[pre + name] = self._q(k, pre + name, getattr(blk, name))
        return q

    # -- forward ----------------------------------------------------------------------------
    def forward(self, pixels: torch.Tensor, trace: bool = False):
        """Real-valued logits (B, K) float64 of uint8 pixel sequences (B, T); with ``trace``
        also an :class:`S5Trace` of the integer outputs."""
        k = self.consts()
        q = self.quantized()
        H = self.config.H
        half = self.config.glu is Glu.HALF
        p = pixels.to(F64)                                                          # (B, T)
        r = k.enc_rq((p[..., None] * q["enc_W"][:, 0]) * k.enc_s[0] + q["enc_b"] * k.enc_s[1])
        keep = {n: [] for n in ("r", "bu", "x", "y", "v")}
        keep["r"].append(r)
        for l in range(self.config.L):
            pre, c = f"layers.{l}.", k.layers[l]
            u = r                                                                    # (B, T, H)
            bu = [c["bu_rq"][i](torch.matmul(u, q[pre + B].T) * c["bu_s"][i][0] + q[pre + b] * c["bu_s"][i][1])
                  for i, (B, b) in enumerate((("B_re", "beta_re"), ("B_im", "beta_im")))]   # (B, T, P) re, im
            Xr, Xi = s5_scan(bu[0], bu[1], q[pre + "A_re"], q[pre + "A_im"], c["scan"])  # (B, T, P) each
            acc = (torch.matmul(Xr, (q[pre + "C_re"] * c["y_s"][0]).T) - torch.matmul(Xi, (q[pre + "C_im"] * c["y_s"][1]).T)
                   + (q[pre + "D"] * u) * c["yd_s"][0] + q[pre + "delta"] * c["yd_s"][1])
            y = c["y_rq"](acc)                                                       # (B, T, H)
            g = lookup(y, c["gelu"], c["dgelu"], c["gelu_min"])
            v = c["v_rq"](torch.matmul(g, q[pre + "W"].T) * c["v_s"][0] + q[pre + "b"] * c["v_s"][1])
            if half:
                z = c["z_rq"](g * lookup(v, c["sig"], c["dsig"], c["sig_min"]))
            else:
                z = c["z_rq"](v[..., :H] * lookup(v[..., H:], c["sig"], c["dsig"], c["sig_min"]))
            r = c["res_rq"](z * c["res_s"][0] + u * c["res_s"][1])
            if trace:
                keep["r"].append(r), keep["y"].append(y), keep["v"].append(v)
                keep["bu"].append(torch.stack(bu, 2)), keep["x"].append(torch.stack([Xr, Xi], 2))
        S = r.sum(dim=1)                                                             # (B, H) sum-pool
        o = torch.matmul(S, q["dec_W"].T) * k.dec_s[0] + q["dec_b"] * k.dec_s[1]
        logits_int = o * k.dec_s[2]
        logits = logits_int * k.logit_scale
        if not trace:
            return logits
        i64 = lambda xs: torch.stack(xs, dim=1).detach().cpu().numpy().astype(np.int64)  # noqa: E731
        return logits, S5Trace(i64(keep["r"]), i64(keep["bu"]), i64(keep["x"]), i64(keep["y"]), i64(keep["v"]),
                               logits_int.detach().cpu().numpy().astype(np.int64),
                               int(self.frame.lowering.decoder.logit_frac))

    # -- export -----------------------------------------------------------------------------
    @torch.no_grad()
    def to_qmodel(self, meta: dict | None = None) -> S5QModel:
        """The S5QModel whose integers this model computes: the frame's formats and tables with
        the codes of the current parameters (exactly those the forward uses)."""
        qm = self.frame.template
        q = self.quantized()

        def qp(name, old):
            z = old.zero.reshape((-1,) + (1,) * (old.codes.ndim - 1))
            codes = np.rint(q[name].detach().cpu().numpy()).astype(np.int64) + z
            return dataclasses.replace(old, codes=codes, frac=old.frac.copy(), zero=old.zero.copy())

        layers = tuple(dataclasses.replace(ly, **{n: qp(f"layers.{l}.{n}", getattr(ly, n)) for n in S5_LAYER_PARAMS})
                       for l, ly in enumerate(qm.layers))
        out = dataclasses.replace(qm, enc_W=qp("enc_W", qm.enc_W), enc_b=qp("enc_b", qm.enc_b), layers=layers,
                                  dec_W=qp("dec_W", qm.dec_W), dec_b=qp("dec_b", qm.dec_b),
                                  meta={**qm.meta, **(meta or {})})
        out.validate()
        return out
