"""Seeded random QModels, for tests of the golden engine, the RTL and the simulator.

They are valid integer networks with random codes and fracs. With
``extreme=True`` parameters sit at the ends of their ranges and the state and
activations saturate often, to exercise every rounding and overflow path.
"""

from __future__ import annotations

import numpy as np

from ..fixed import QFormat
from .layernorm import QNorm, eps_code
from .luts import gelu_table, sigmoid_format, sigmoid_table, table_format
from .plan import Granularity, PrecisionPlan, Scheme, Spec
from .plan_norm import norm_specs
from .qmodel import QLayer, QModel, QParam


def _param(rng, shape, spec: Spec, frac_lo: int, frac_hi: int, extreme: bool) -> QParam:
    rows = shape[0]
    per_head = spec.granularity is Granularity.PER_HEAD
    if per_head:
        frac = rng.integers(frac_lo, frac_hi + 1, size=rows)
    else:
        frac = np.full(rows, rng.integers(frac_lo, frac_hi + 1))
    signed = spec.scheme is Scheme.SYMMETRIC
    fmt = QFormat(spec.bits, 0, signed)
    if extreme:
        codes = rng.choice([fmt.min_code, fmt.max_code, fmt.min_code + 1, fmt.max_code - 1, 0 if signed else 1], size=shape)
        codes = np.clip(codes, fmt.min_code, fmt.max_code)
    else:
        codes = rng.integers(fmt.min_code, fmt.max_code + 1, size=shape)
    if signed:
        zero = np.zeros(rows, dtype=np.int64)
    else:
        if per_head:
            zero = rng.integers(0, fmt.max_code + 1, size=rows)
        else:
            zero = np.full(rows, rng.integers(0, fmt.max_code + 1))
    return QParam(codes.astype(np.int64), spec.bits, signed, frac.astype(np.int64), zero.astype(np.int64))


def _act(rng, bits: int, plan: PrecisionPlan, lo: int, hi: int) -> QFormat:
    return QFormat(bits, int(rng.integers(lo, hi + 1)), True, plan.rounding, plan.overflow)


def _norm(rng, H: int, lp: PrecisionPlan, plan: PrecisionPlan, prenorm: bool, r_in: QFormat, extreme: bool,
          amid: int) -> QNorm:
    """A random LayerNorm: γ around 1, β small, N_l an activation format, ε = 1e-5·2^[-4, 4]."""
    gs, bs = norm_specs(lp)
    gamma = _param(rng, (H,), gs, gs.bits - 2, gs.bits, extreme)
    beta = _param(rng, (H,), bs, bs.bits - 3, bs.bits, extreme)
    n = _act(rng, lp.act.bits, plan, amid - 1, amid + 1)
    eps = 1e-5 * 2.0 ** int(rng.integers(-4, 5))
    return QNorm(prenorm, gamma, beta, eps_code(eps, H, r_in if prenorm else n), n)


def random_qmodel(H: int, M: int, L: int, plan: PrecisionPlan | None = None, seed: int = 0, *,
                  n_classes: int = 10, extreme: bool = False, C: int = 1, vocab: int | None = None,
                  prenorm: bool | None = None) -> QModel:
    """A random valid QModel of shape (H, M, L) under ``plan`` (default uniform 8 bits), with
    ``C`` input channels per step, or a token model of vocabulary ``vocab``; with a LayerNorm
    per block (ARITHMETIC.md §7) before the S4D layer (``prenorm=True``) or after the residual
    (False), none when None. The draws of a C = 1 linear model without LayerNorm are those of
    earlier versions (same seed, same model)."""
    plan = plan or PrecisionPlan.uniform(8)
    plan.check_layers(L)
    rng = np.random.default_rng(seed)
    a = plan.act.bits
    amid = a - 3  # activations of magnitude up to ~4
    r0 = _act(rng, a, plan, amid - 1, amid + 1)
    enc_W = _param(rng, (H, vocab if vocab is not None else C), plan.weight, plan.weight.bits - 2, plan.weight.bits + 1, extreme)
    enc_b = _param(rng, (H,), plan.bias, plan.bias.bits - 3, plan.bias.bits, extreme)
    layers = []
    r_in = r0
    for l in range(L):
        lp = plan.for_layer(l)  # the block's plan (per-layer overrides); the plan itself without any
        a = lp.act.bits
        amid = a - 3
        # Ā: frac = bits - 1, so |Ā| < 1 (stable), but extreme models may use bits - 2 (|Ā| up to 2).
        def a_param(spec):
            lo = spec.bits - (2 if extreme else 1)
            return _param(rng, (H, M), spec, lo, spec.bits - 1, extreme)

        A_re, A_im = a_param(lp.A_re), a_param(lp.A_im)
        B_re = _param(rng, (H, M), lp.B, lp.B.bits, lp.B.bits + 3, extreme)
        B_im = _param(rng, (H, M), lp.B, lp.B.bits, lp.B.bits + 3, extreme)
        C_re = _param(rng, (H, M), lp.C, lp.C.bits, lp.C.bits + 3, extreme)
        C_im = _param(rng, (H, M), lp.C, lp.C.bits, lp.C.bits + 3, extreme)
        D = _param(rng, (H,), lp.D, lp.D.bits - 2, lp.D.bits, extreme)
        W = _param(rng, (2 * H, H), lp.weight, lp.weight.bits, lp.weight.bits + 2, extreme)
        b = _param(rng, (2 * H,), lp.bias, lp.bias.bits - 3, lp.bias.bits, extreme)

        def x_fmts(spec):
            if spec.granularity is Granularity.PER_HEAD:
                fr = rng.integers(spec.bits - 4, spec.bits - 1, size=H)
            else:
                fr = np.full(H, rng.integers(spec.bits - 4, spec.bits - 1))
            return tuple(QFormat(spec.bits, int(f), True, plan.rounding, plan.overflow) for f in fr)

        x_re, x_im = x_fmts(lp.x_re), x_fmts(lp.x_im)
        y = _act(rng, a, plan, amid - 1, amid + 1)
        g = table_format(_act(rng, a, plan, amid, amid + 1))  # table output: always saturates
        v = _act(rng, a, plan, amid - 1, amid + 1)
        z = _act(rng, a, plan, amid - 1, amid + 1)
        r_out = _act(rng, a, plan, amid - 1, amid)
        sig = sigmoid_format(a, v)
        norm = None if prenorm is None else _norm(rng, H, lp, plan, prenorm, r_in, extreme, amid)
        layers.append(QLayer(A_re, A_im, B_re, B_im, C_re, C_im, D, W, b, x_re, x_im, y, g, v, z, r_out, sig,
                             gelu_table(y, g), sigmoid_table(v, sig), norm))
        r_in = r_out
    dec_W = _param(rng, (n_classes, H), plan.weight, plan.weight.bits - 1, plan.weight.bits + 2, extreme)
    dec_b = _param(rng, (n_classes,), plan.bias, plan.bias.bits - 3, plan.bias.bits, extreme)
    qm = QModel(H, M, L, n_classes, plan, enc_W, enc_b, r0, tuple(layers), dec_W, dec_b,
                meta={"source": "random", "seed": seed, "extreme": extreme}, C=C, vocab=vocab)
    qm.validate()
    return qm
