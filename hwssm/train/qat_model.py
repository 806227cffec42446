"""The QAT network: float master parameters, the golden engine's integer forward, STE backward.

Every forward quantizes the master parameters into codes with the frame's fixed fracs and
zero points (:mod:`hwssm.train.qat_frame`), then runs ARITHMETIC.md exactly: the encoder
(linear over C samples per step, or a token model's embedding: ``E`` (V, H) trained as the
encoder ``We = E.T`` of the one-hot token with bias ``be``, as PTQ quantizes it, so r_0 is
the lowering's embedding-ROM entry),
per block the recurrence (:mod:`hwssm.train.qat_scan`, a fused kernel on CUDA), the readout,
the GELU table, the mixing Linear, the GLU (sigmoid table), the residual, the sum-pool and the
decoder. Batched tensors have shape (B, T, channels) and carry integer codes in float64
(exact, see :mod:`hwssm.train.qat_ops`). The integer logits are those of the golden engine
for the exported QModel (:meth:`QATModel.to_qmodel`), bit for bit; the loss reads them as
real numbers, ``logit · 2**-logit_frac``.

Ā parameterizations (:class:`AParam`):

DISCRETE
    Ā and B̄ (real and imaginary parts) are trained directly.
CONTINUOUS
    ``log_dt``, ``log_A_real``, ``A_imag``, ``B_re``, ``B_im`` are trained; every forward
    discretizes them (ZOH or bilinear, float64, as :func:`hwssm.model.s4d.discretize`) and
    quantizes Ā and B̄.
FROZEN
    Ā keeps the codes of the PTQ model (quantized once); B̄ is trained directly.

C̄, D, the encoder, mixing and decoder weights and biases are trained directly in all three.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np
import torch
from torch import nn

from ..errors import HwssmError
from ..model.config import Discretization, S4DConfig
from ..model.s4d import discretize, layer_params
from ..quant.qmodel import LAYER_PARAMS, NORM_PARAMS, QModel
from .qat_frame import Frame, ParamFrame
from .qat_norm import NormConsts, layer_norm
from .qat_ops import F64, Requant, lookup, pow2, quantize
from .qat_scan import P_ORDER, ScanConsts, ssm_scan


class AParam(enum.Enum):
    """How Ā is parameterized during QAT (see the module docstring)."""

    DISCRETE = "discrete"
    CONTINUOUS = "continuous"
    FROZEN = "frozen"


#: Parameters trained at the SSM learning rate (no weight decay), by parameterization.
SSM_NAMES = {
    AParam.DISCRETE: ("Abar_re", "Abar_im", "Bbar_re", "Bbar_im"),
    AParam.CONTINUOUS: ("log_dt", "log_A_real", "A_imag", "B_re", "B_im"),
    AParam.FROZEN: ("Bbar_re", "Bbar_im"),
}


@dataclasses.dataclass
class _Consts:
    """Device tensors of the frame (built once per device)."""

    device: torch.device
    qscale: dict
    qzero: dict
    qrange: dict
    enc_s: torch.Tensor          # (2, H)
    enc_rq: Requant
    scan: list
    c3: list                     # (H,) per layer
    y_rq: list
    gelu: list
    dgelu: list
    v_s: list                    # (2, 2H) per layer
    v_rq: list
    sig: list
    dsig: list
    z_rq: list
    res_s: list                  # (2,) per layer
    res_rq: list
    dec_s: torch.Tensor          # (3, K)
    logit_scale: float
    norm: list                   # NormConsts or None per layer (LayerNorm, ARITHMETIC.md §7)


@dataclasses.dataclass
class Trace:
    """Integer outputs of a forward (int64 numpy), in the golden engine's layout.

    r (B, L+1, T, H), y (B, L, T, H), v (B, L, T, 2H), logits (B, K) at ``logit_frac``.
    """

    r: np.ndarray
    y: np.ndarray
    v: np.ndarray
    logits: np.ndarray
    logit_frac: int


def _f64(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


class QATModel(nn.Module):
    """An S4D classifier trained in the integer network of ``frame``.

    Parameters
    ----------
    frame : Frame
        Formats, fracs and tables (fixed).
    config : S4DConfig
        Shape and discretization of the float model.
    params : dict of name -> float array
        Float checkpoint arrays (the starting point).
    aparam : AParam
        Ā parameterization.
    """

    def __init__(self, frame: Frame, config: S4DConfig, params: dict, aparam: AParam):
        super().__init__()
        qm = frame.template
        if (qm.H, qm.M, qm.L, qm.n_classes) != (config.H, config.M, config.L, config.n_classes):
            raise ValueError("the frame's QModel and the float config differ in shape")
        if (qm.tokens, qm.vocab, qm.C) != (config.tokens, config.vocab, config.C):
            raise HwssmError(f"the frame's QModel (C={qm.C}, vocab {qm.vocab}) and the checkpoint (C={config.C}, "
                             f"vocab {config.vocab}) have different encoders")
        self.frame, self.config, self.aparam = frame, config, aparam
        if config.tokens:   # the embedding E (V, H) as the encoder of the one-hot token (as PTQ): We = E.T, be = 0
            self.enc_W = nn.Parameter(_f64(np.asarray(params["encoder.E"]).T))            # (H, V)
            self.enc_b = nn.Parameter(_f64(np.zeros(config.H)))
        else:
            self.enc_W = nn.Parameter(_f64(params["encoder.W"]))                           # (H, C)
            self.enc_b = nn.Parameter(_f64(params["encoder.b"]))
        self.dec_W = nn.Parameter(_f64(params["decoder.W"]))
        self.dec_b = nn.Parameter(_f64(params["decoder.b"]))
        self.layers = nn.ModuleList()
        for l in range(config.L):
            p = layer_params(params, l)
            block = nn.Module()
            for name in ("C_re", "C_im", "D", "W", "b"):
                setattr(block, name, nn.Parameter(_f64(p[name])))
            if qm.layers[l].norm is not None:   # LayerNorm γ, β
                for name in NORM_PARAMS:
                    setattr(block, name, nn.Parameter(_f64(params[f"layers.{l}.{name}"])))
            if aparam is AParam.CONTINUOUS:
                for name in SSM_NAMES[aparam]:
                    setattr(block, name, nn.Parameter(_f64(p[name])))
            else:
                Abar, Bbar, _, _ = discretize(p, config.discretization)
                block.Bbar_re = nn.Parameter(_f64(Bbar.real))
                block.Bbar_im = nn.Parameter(_f64(Bbar.imag))
                if aparam is AParam.DISCRETE:
                    block.Abar_re = nn.Parameter(_f64(Abar.real))
                    block.Abar_im = nn.Parameter(_f64(Abar.imag))
                else:
                    ly = qm.layers[l]
                    block.register_buffer("A_codes", _f64(np.stack([ly.A_re.effective(), ly.A_im.effective()])),
                                          persistent=False)
            self.layers.append(block)
        self._consts: _Consts | None = None

    # -- constants ------------------------------------------------------------------------
    def consts(self) -> _Consts:
        dev = self.enc_W.device
        if self._consts is not None and self._consts.device == dev:
            return self._consts
        fr, lw, qm = self.frame, self.frame.lowering, self.frame.template
        qscale, qzero, qrange = {}, {}, {}
        for name, p in qm.params():
            shape = (-1,) + (1,) * (p.codes.ndim - 1)
            qscale[name] = pow2(p.frac, dev).reshape(shape)
            qzero[name] = _f64(p.zero).to(dev).reshape(shape)
            pf = ParamFrame.of(p)
            qrange[name] = (pf.lo, pf.hi)
        t = lambda a: _f64(a).to(dev)  # noqa: E731
        L, lys = qm.L, lw.layers
        self._consts = _Consts(
            device=dev, qscale=qscale, qzero=qzero, qrange=qrange,
            enc_s=pow2(lw.encoder.sh.T, dev), enc_rq=Requant.of(lw.encoder.rq, dev),
            scan=[ScanConsts.of(fr, l, dev) for l in range(L)],
            c3=[pow2(ly.y_sh[:, 2], dev) for ly in lys],
            y_rq=[Requant.of(ly.y_rq, dev) for ly in lys],
            gelu=[t(ly.gelu.codes) for ly in lys], dgelu=[t(fr.dgelu[l]) for l in range(L)],
            v_s=[pow2(ly.v_sh.T, dev) for ly in lys],
            v_rq=[Requant.of(ly.v_rq, dev) for ly in lys],
            sig=[t(ly.sigmoid.codes) for ly in lys], dsig=[t(fr.dsig[l]) for l in range(L)],
            z_rq=[Requant.of(ly.z_rq, dev) for ly in lys],
            res_s=[pow2(ly.res_sh, dev) for ly in lys],
            res_rq=[Requant.of(ly.res_rq, dev) for ly in lys],
            dec_s=pow2(lw.decoder.sh.T, dev), logit_scale=float(2.0 ** -lw.decoder.logit_frac),
            norm=[None if ly.norm is None else NormConsts.of(ly.norm, dev) for ly in lys],
        )
        return self._consts

    # -- parameters -> codes --------------------------------------------------------------
    def _q(self, K: _Consts, name: str, w: torch.Tensor) -> torch.Tensor:
        lo, hi = K.qrange[name]
        return quantize(w, K.qscale[name], K.qzero[name], lo, hi)

    def discrete_ssm(self, l: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Float64 (Ā_re, Ā_im, B̄_re, B̄_im) of block l before quantization (Ā None when FROZEN)."""
        blk = self.layers[l]
        if self.aparam is AParam.CONTINUOUS:
            dt = torch.exp(blk.log_dt)[:, None]                                   # (H, 1) Δ
            A = torch.complex(-torch.exp(blk.log_A_real), blk.A_imag)              # (H, M)
            B = torch.complex(blk.B_re, blk.B_im)
            dtA = dt * A
            if self.config.discretization is Discretization.ZOH:
                Abar = torch.exp(dtA)
                Bbar = (Abar - 1.0) / A * B
            else:
                Abar = (1.0 + dtA / 2) / (1.0 - dtA / 2)
                Bbar = dt / (1.0 - dtA / 2) * B
            return Abar.real, Abar.imag, Bbar.real, Bbar.imag
        if self.aparam is AParam.DISCRETE:
            return blk.Abar_re, blk.Abar_im, blk.Bbar_re, blk.Bbar_im
        return None, None, blk.Bbar_re, blk.Bbar_im

    def quantized(self) -> dict[str, torch.Tensor]:
        """Effective integer codes (``code - zero``) of every QModel parameter, float64, with
        straight-through gradients to the master parameters. Keys as :meth:`QModel.params`."""
        K = self.consts()
        q = {"enc_W": self._q(K, "enc_W", self.enc_W), "enc_b": self._q(K, "enc_b", self.enc_b)}
        for l, blk in enumerate(self.layers):
            pre = f"layers.{l}."
            Ar, Ai, Br, Bi = self.discrete_ssm(l)
            if self.aparam is AParam.FROZEN:
                q[pre + "A_re"], q[pre + "A_im"] = blk.A_codes[0], blk.A_codes[1]
            else:
                q[pre + "A_re"], q[pre + "A_im"] = self._q(K, pre + "A_re", Ar), self._q(K, pre + "A_im", Ai)
            q[pre + "B_re"], q[pre + "B_im"] = self._q(K, pre + "B_re", Br), self._q(K, pre + "B_im", Bi)
            for name in ("C_re", "C_im", "D", "W", "b") + (NORM_PARAMS if K.norm[l] is not None else ()):
                q[pre + name] = self._q(K, pre + name, getattr(blk, name))
        q["dec_W"] = self._q(K, "dec_W", self.dec_W)
        q["dec_b"] = self._q(K, "dec_b", self.dec_b)
        return q

    # -- forward ----------------------------------------------------------------------------
    def _encoder_sum(self, x: torch.Tensor, q: dict, K: _Consts) -> torch.Tensor:
        """The encoder's accumulator (B, T, H) at F (ARITHMETIC.md §2.1), before the requantization to R_0.

        Linear: ``Σ_c We[h, c]·p[c] << sh0 + be[h] << sh1`` of uint8 samples (B, T) or (B, T, C).
        Token model: the same sum of the one-hot token, ``We[h, token] << sh0 + be[h] << sh1``
        of token ids (B, T): requantized, the embedding ROM entry the lowering tabulates.
        """
        W, b = q["enc_W"], q["enc_b"] * K.enc_s[1]                               # (H, C|V), (H,)
        if self.config.tokens:
            if x.ndim == 3:
                x = x[..., 0]
            return W.T[x.long()] * K.enc_s[0] + b                                 # gather (B, T, H)
        p = x.to(F64)
        if p.ndim == 2:
            p = p[..., None]                                                      # (B, T, 1)
        if self.config.C == 1:
            return (p * W[:, 0]) * K.enc_s[0] + b
        return torch.matmul(p, W.T) * K.enc_s[0] + b                               # exact: integers < 2**53

    def forward(self, pixels: torch.Tensor, trace: bool = False):
        """Real-valued logits (B, K) float64 of uint8 pixel sequences (B, T) or (B, T, C),
        or of token ids (B, T) of a token model.

        With ``trace`` also returns a :class:`Trace` of the integer outputs.
        """
        K = self.consts()
        q = self.quantized()
        H = self.config.H
        r = K.enc_rq(self._encoder_sum(pixels, q, K))                             # (B, T, H) r_0
        rs, ys, vs = [r], [], []
        for l in range(self.config.L):
            pre = f"layers.{l}."
            nk = K.norm[l]
            prenorm = nk is not None and self.frame.template.layers[l].norm.prenorm
            u = layer_norm(r, q[pre + "norm_scale"], q[pre + "norm_bias"], nk) if prenorm else r   # S4D input
            P = torch.stack([q[pre + n] for n in P_ORDER])                       # (6, H, M)
            s = ssm_scan(u, P, K.scan[l])                                         # (B, T, H)
            y = K.y_rq[l](2.0 * s + (q[pre + "D"] * u) * K.c3[l])
            g = lookup(y, K.gelu[l], K.dgelu[l], self.frame.lowering.layers[l].gelu.min_code)
            acc = torch.matmul(g, q[pre + "W"].T) * K.v_s[l][0] + q[pre + "b"] * K.v_s[l][1]
            v = K.v_rq[l](acc)                                                    # (B, T, 2H)
            sg = lookup(v[..., H:], K.sig[l], K.dsig[l], self.frame.lowering.layers[l].sigmoid.min_code)
            z = K.z_rq[l](v[..., :H] * sg)
            r = K.res_rq[l](z * K.res_s[l][0] + r * K.res_s[l][1])              # the residual adds r_l
            if nk is not None and not prenorm:                                    # r_{l+1} = LN(z + r_l)
                r = layer_norm(r, q[pre + "norm_scale"], q[pre + "norm_bias"], nk)
            if trace:
                rs.append(r), ys.append(y), vs.append(v)
        S = r.sum(dim=1)                                                          # (B, H) sum-pool
        o = torch.matmul(S, q["dec_W"].T) * K.dec_s[0] + q["dec_b"] * K.dec_s[1]
        logits_int = o * K.dec_s[2]
        logits = logits_int * K.logit_scale
        if not trace:
            return logits
        i64 = lambda xs: torch.stack(xs, dim=1).detach().cpu().numpy().astype(np.int64)  # noqa: E731
        tr = Trace(i64(rs), i64(ys), i64(vs), logits_int.detach().cpu().numpy().astype(np.int64),
                   int(self.frame.lowering.decoder.logit_frac))
        return logits, tr

    # -- export -----------------------------------------------------------------------------
    @torch.no_grad()
    def to_qmodel(self, meta: dict | None = None) -> QModel:
        """The QModel whose integers this model computes: the frame's formats and tables with
        the codes of the current parameters (exactly those the forward uses)."""
        qm = self.frame.template
        q = self.quantized()

        def qp(name, old):
            eff = q[name].detach().cpu().numpy()
            z = old.zero.reshape((-1,) + (1,) * (old.codes.ndim - 1))
            codes = np.rint(eff).astype(np.int64) + z
            return dataclasses.replace(old, codes=codes, frac=old.frac.copy(), zero=old.zero.copy())

        layers = []
        for l, ly in enumerate(qm.layers):
            kw = {n: qp(f"layers.{l}.{n}", getattr(ly, n)) for n in LAYER_PARAMS}
            if ly.norm is not None:
                kw["norm"] = dataclasses.replace(ly.norm, gamma=qp(f"layers.{l}.norm_scale", ly.norm.gamma),
                                                 beta=qp(f"layers.{l}.norm_bias", ly.norm.beta))
            layers.append(dataclasses.replace(ly, **kw))
        out = dataclasses.replace(qm, enc_W=qp("enc_W", qm.enc_W), enc_b=qp("enc_b", qm.enc_b), layers=tuple(layers),
                                  dec_W=qp("dec_W", qm.dec_W), dec_b=qp("dec_b", qm.dec_b), meta=dict(meta or {}))
        out.validate()
        return out

