"""Self-check and timing of the fused S5 recurrence: ``python -m hwssm.train.qat_s5_scan_check``.

Builds one Q-S5-size block (default B = 64 sequences, T = 784, P = 64 modes, H = 96 channels,
plan uniform8: an S5 model with random weights, PTQ-calibrated on random pixels), takes the
block's real B̄u codes and Λ̄ codes from the QAT model's integer trace, then on the device
(CUDA when there is one, else the CPU):

- times a forward + backward of :func:`hwssm.train.qat_s5_scan.s5_scan` on the batch
  (milliseconds per batch, mean of ``reps`` after one warm-up run that compiles the kernels);
- checks the device path against the torch CPU path on the first ``n_check`` sequences, for the
  real inputs and for saturating ones (:func:`saturating`): states equal bit for bit, gradients
  equal to float64 rounding (largest relative error printed);
- times a forward + backward of the whole one-block QAT model (cross-entropy loss) on the batch.

Prints one JSON object; exit status 1 when a check failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

import numpy as np
import torch

from ..model.s5_config import S5Config
from ..model.s5_network import init_params
from ..quant.plan import resolve_plan
from ..quant.s5_ptq import ptq_s5
from .qat_model import AParam
from .qat_s5_model import S5QATModel, build_s5_frame
from .qat_s5_scan import S5ScanConsts, s5_scan

#: Relative tolerance of the gradient comparison (both paths accumulate in float64).
GRAD_RTOL = 1e-9


@dataclasses.dataclass(frozen=True)
class CheckSize:
    """Shape of the check: B sequences of T steps, P modes, H channels; ``n_check`` sequences
    compared with the CPU path; ``reps`` timed runs; ``plan`` a precision-plan name."""

    B: int = 64
    T: int = 784
    P: int = 64
    H: int = 96
    n_check: int = 4
    reps: int = 3
    plan: str = "uniform8"
    seed: int = 0


@dataclasses.dataclass
class ScanCase:
    """One block's recurrence inputs: the QAT model, its scan constants (CPU), the B̄u codes
    ``bu_re, bu_im`` float64 (B, T, P) and Λ̄ codes ``A_re, A_im`` float64 (P,) of block ``l``."""

    model: S5QATModel
    k: S5ScanConsts
    pixels: torch.Tensor
    bu_re: torch.Tensor
    bu_im: torch.Tensor
    A_re: torch.Tensor
    A_im: torch.Tensor


def layer_case(cfg: S5Config, plan: str, B: int, T: int, seed: int, l: int = 0) -> ScanCase:
    """A PTQ-calibrated random S5 model of ``cfg`` (CONTINUOUS QAT form) and block ``l``'s real
    recurrence inputs for ``B`` random pixel sequences of ``T`` steps (all on the CPU)."""
    rng = np.random.default_rng(seed)
    params = init_params(cfg, seed)
    pix = rng.integers(0, 256, (B, T)).astype(np.uint8)
    template = ptq_s5(cfg, params, resolve_plan(plan), pix[: min(B, 8)])
    frame = build_s5_frame(template, T)
    model = S5QATModel(frame, cfg, params, AParam.CONTINUOUS)
    with torch.no_grad():
        _, tr = model(torch.as_tensor(pix), trace=True)
        q = model.quantized()
    bu = torch.as_tensor(tr.bu[:, l], dtype=torch.float64)                 # (B, T, 2, P)
    return ScanCase(model, S5ScanConsts.of(frame.lowering.layers[l], "cpu"), torch.as_tensor(pix),
                    bu[:, :, 0].contiguous(), bu[:, :, 1].contiguous(),
                    q[f"layers.{l}.A_re"].detach().clone(), q[f"layers.{l}.A_im"].detach().clone())


def saturating(case: ScanCase, seed: int, l: int = 0) -> ScanCase:
    """``case`` pushed into saturation (or wrap): B̄u codes drawn uniformly over the full BU_re,
    BU_im ranges of block ``l`` and Λ̄r at its largest code (|Λ̄| near or above 1), so that the
    states hit their format's bounds often."""
    rng = np.random.default_rng(seed)
    ly = case.model.frame.template.layers[l]
    draw = lambda f: torch.as_tensor(rng.integers(f.min_code, f.max_code + 1, case.bu_re.shape),  # noqa: E731
                                     dtype=torch.float64)
    k = case.model.consts()
    name = f"layers.{l}.A_re"
    A_re = (k.qrange[name][1] - k.qzero[name]).reshape(-1).to(torch.float64).cpu()
    return dataclasses.replace(case, bu_re=draw(ly.bu_re), bu_im=draw(ly.bu_im), A_re=A_re.clone())


def _consts_on(k: S5ScanConsts, dev) -> S5ScanConsts:
    return S5ScanConsts(k.sh.to(dev), k.rq.to(dev), k.coef.to(dev))


def fwd_bwd(case: ScanCase, k: S5ScanConsts, dev, rows: slice, gseed: int = 1):
    """States and gradients of ``s5_scan`` on ``rows`` of the case, on ``dev``: (Xr, Xi, gbu_re,
    gbu_im, gA_re, gA_im) as CPU tensors; the upstream gradients are seeded normals."""
    g = torch.Generator().manual_seed(gseed)
    ins = [t.to(dev).requires_grad_(True) for t in (case.bu_re[rows], case.bu_im[rows], case.A_re, case.A_im)]
    gX = [torch.randn(ins[0].shape, generator=g, dtype=torch.float64).to(dev) for _ in range(2)]
    Xr, Xi = s5_scan(*ins, k)
    torch.autograd.backward([Xr, Xi], gX)
    return [t.detach().cpu() for t in (Xr, Xi)] + [t.grad.detach().cpu() for t in ins]


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def _time(fn, dev, reps: int) -> float:
    fn()                                              # warm-up (kernel compilation)
    _sync(dev)
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    _sync(dev)
    return (time.perf_counter() - t0) / reps * 1e3


def run_check(size: CheckSize) -> dict:
    """The checks and timings of the module docstring, as a JSON-ready dict (``ok`` the verdict)."""
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    cfg = S5Config(H=size.H, P=size.P, L=1, n_classes=10)
    t0 = time.perf_counter()
    case = layer_case(cfg, size.plan, size.B, size.T, size.seed)
    setup_s = time.perf_counter() - t0
    k = _consts_on(case.k, dev)
    n = min(size.n_check, size.B)
    exact, rel = True, 0.0
    for c in (case, saturating(case, size.seed + 1)):
        ref = fwd_bwd(c, c.k, torch.device("cpu"), slice(0, n))
        got = fwd_bwd(c, k, dev, slice(0, n))
        exact = exact and all(torch.equal(a, b) for a, b in zip(ref[:2], got[:2]))
        rel = max([rel] + [float((a - b).abs().max() / max(float(a.abs().max()), 1e-300))
                           for a, b in zip(ref[2:], got[2:])])
        full = fwd_bwd(c, k, dev, slice(0, size.B))  # lanes are independent: rows [:n] equal the subset's
        exact = exact and all(torch.equal(a[:n], b) for a, b in zip(full[:2], ref[:2]))

    ins = [t.to(dev).requires_grad_(True) for t in (case.bu_re, case.bu_im, case.A_re, case.A_im)]
    gX = [torch.randn_like(ins[0]) for _ in range(2)]

    def fwd():
        with torch.no_grad():
            return s5_scan(*ins, k)

    def both():
        Xr, Xi = s5_scan(*ins, k)
        torch.autograd.backward([Xr, Xi], gX)

    fwd_ms = _time(fwd, dev, size.reps)
    both_ms = _time(both, dev, size.reps)
    model = case.model.to(dev)
    pix = case.pixels.to(dev)
    labels = torch.randint(0, cfg.n_classes, (size.B,), generator=torch.Generator().manual_seed(2)).to(dev)

    def step():
        model.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(pix), labels).backward()

    model_ms = _time(step, dev, size.reps)
    ok = exact and rel <= GRAD_RTOL
    return {"device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
            "path": "triton" if dev.type == "cuda" else "torch", **dataclasses.asdict(size),
            "setup_s": round(setup_s, 2), "states_exact": bool(exact), "grad_max_rel_err": rel,
            "scan_fwd_ms": round(fwd_ms, 3), "scan_fwd_bwd_ms": round(both_ms, 3),
            "model_1block_fwd_bwd_ms": round(model_ms, 3), "ok": bool(ok)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hwssm.train.qat_s5_scan_check", description=__doc__.splitlines()[0])
    d = CheckSize()
    for flag, name in (("--batch", "B"), ("--steps", "T"), ("--modes", "P"), ("--channels", "H"),
                       ("--n-check", "n_check"), ("--reps", "reps"), ("--plan", "plan"), ("--seed", "seed")):
        ap.add_argument(flag, dest=name, type=type(getattr(d, name)), default=getattr(d, name))
    size = CheckSize(**vars(ap.parse_args(argv)))
    out = run_check(size)
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
