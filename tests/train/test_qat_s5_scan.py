"""The S5 recurrence function (hwssm.train.qat_s5_scan): the CPU path equals the float64 loop the
QAT model ran before (states exactly, gradients to float64 rounding), with and without
saturation/wrap; the Triton kernels equal the CPU path (on CUDA, and under Triton's interpreter
where triton is installed); the check entry runs."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest
import torch

from hwssm.model.s5_config import Glu, S5Config
from hwssm.train.qat_ops import F64, Requant, pow2
from hwssm.train.qat_s5_scan import S5ScanConsts, s5_scan
from hwssm.train.qat_s5_scan_check import CheckSize, fwd_bwd, layer_case, main, run_check, saturating

T = 30
CASES = [
    (S5Config(H=5, P=6, L=1, n_classes=3), "uniform8"),
    (S5Config(H=4, P=5, L=1, n_classes=3, glu=Glu.FULL), "A8x6-B4C4D4-W4-a4-h-wrap"),
    (S5Config(H=4, P=4, L=1, n_classes=3), "A6x8-B6C6D6-W6-a6-floor"),
]


def _loop(bu_re, bu_im, A_re, A_im, ly):
    """The QAT model's former recurrence: float64 codes, Requant STE, step by step."""
    s = pow2(ly.x_sh.T, "cpu")
    rq = [Requant.of(ly.x_rq[:, i], "cpu") for i in range(2)]
    xr = torch.zeros(bu_re.shape[0], bu_re.shape[2], dtype=F64)
    xi = torch.zeros_like(xr)
    xrs, xis = [], []
    for t in range(bu_re.shape[1]):
        nr = rq[0](A_re * xr * s[0] - A_im * xi * s[1] + bu_re[:, t] * s[2])
        ni = rq[1](A_re * xi * s[3] + A_im * xr * s[4] + bu_im[:, t] * s[5])
        xr, xi = nr, ni
        xrs.append(xr), xis.append(xi)
    return torch.stack(xrs, 1), torch.stack(xis, 1)


def _grads(fn, case, seed=5):
    ins = [t.clone().requires_grad_(True) for t in (case.bu_re, case.bu_im, case.A_re, case.A_im)]
    g = torch.Generator().manual_seed(seed)
    Xr, Xi = fn(*ins)
    torch.autograd.backward([Xr, Xi], [torch.randn(Xr.shape, generator=g, dtype=F64) for _ in range(2)])
    return Xr.detach(), Xi.detach(), [t.grad for t in ins]


def _clipped(case) -> int:
    """How many state updates of the case saturated or wrapped (counted with the float loop's masks)."""
    ly = case.model.frame.lowering.layers[0]
    rq = [Requant.of(ly.x_rq[:, i], "cpu") for i in range(2)]
    s = pow2(ly.x_sh.T, "cpu")
    with torch.no_grad():
        Xr, Xi = _loop(case.bu_re, case.bu_im, case.A_re, case.A_im, ly)
        pr = torch.cat([torch.zeros_like(Xr[:, :1]), Xr[:, :-1]], 1)
        pi = torch.cat([torch.zeros_like(Xi[:, :1]), Xi[:, :-1]], 1)
        accr = case.A_re * pr * s[0] - case.A_im * pi * s[1] + case.bu_re * s[2]
        acci = case.A_re * pi * s[3] + case.A_im * pr * s[4] + case.bu_im * s[5]
        v = [torch.floor((a * r.up + r.rnd) * r.down) for a, r in ((accr, rq[0]), (acci, rq[1]))]
        return int(sum(((x < r.lo) | (x > r.hi)).sum() for x, r in zip(v, rq)))


@pytest.fixture(scope="module", params=range(len(CASES)))
def case(request):
    cfg, plan = CASES[request.param]
    return layer_case(cfg, plan, 5, T, seed=request.param)


@pytest.mark.parametrize("stress", [False, True])
def test_cpu_scan_equals_the_float64_loop(case, stress):
    c = saturating(case, 7) if stress else case
    if stress:
        assert _clipped(c) > 0                          # the masks matter in this case
    ly = c.model.frame.lowering.layers[0]
    ref = _grads(lambda *a: _loop(*a, ly), c)
    got = _grads(lambda *a: s5_scan(*a, c.k), c)
    assert torch.equal(ref[0], got[0]) and torch.equal(ref[1], got[1])
    for a, b in zip(ref[2], got[2]):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12 * float(a.abs().max()))
    assert any(float(g.abs().max()) > 0 for g in got[2])


def test_gradients_flow_only_where_asked(case):
    bu_re = case.bu_re.clone().requires_grad_(True)
    Xr, Xi = s5_scan(bu_re, case.bu_im, case.A_re, case.A_im, case.k)
    (Xr.sum() - 2 * Xi.sum()).backward()
    assert bu_re.grad is not None and bu_re.grad.shape == bu_re.shape
    with torch.no_grad():
        Yr, _ = s5_scan(case.bu_re, case.bu_im, case.A_re, case.A_im, case.k)
    assert not Yr.requires_grad and torch.equal(Yr, Xr.detach())


def test_unsigned_wrapping_state_is_refused():
    import dataclasses

    import numpy as np

    from hwssm.errors import HwssmError
    from hwssm.quant.lowering import RQ_LO, RQ_WRAP

    c = layer_case(*CASES[1], 2, 8, seed=1)
    ly = c.model.frame.lowering.layers[0]
    rq = ly.x_rq.copy()
    assert np.all(rq[:, :, RQ_WRAP] != 0)
    rq[0, 0, RQ_LO] = 0
    with pytest.raises(HwssmError, match="unsigned"):
        S5ScanConsts.of(dataclasses.replace(ly, x_rq=rq), "cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (the Triton kernels)")
@pytest.mark.parametrize("stress", [False, True])
def test_triton_equals_cpu_path(case, stress):
    c = saturating(case, 7) if stress else case
    dev = torch.device("cuda")
    k = S5ScanConsts(c.k.sh.to(dev), c.k.rq.to(dev), c.k.coef.to(dev))
    ref = fwd_bwd(c, c.k, torch.device("cpu"), slice(None))
    got = fwd_bwd(c, k, dev, slice(None))
    assert torch.equal(ref[0], got[0]) and torch.equal(ref[1], got[1])
    for a, b in zip(ref[2:], got[2:]):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12 * float(a.abs().max()))


_INTERPRET = """
import json, torch
from hwssm.train.qat_s5_scan import s5_forward_ref, s5_backward_ref
from hwssm.train.qat_s5_scan_check import layer_case, saturating
from hwssm.train.qat_s5_triton import s5_backward_gpu, s5_forward_gpu
from tests.train.test_qat_s5_scan import CASES
out = []
runs = [(n, cfg, plan, T) for n, (cfg, plan) in enumerate(CASES) for T in ((12, 1, 2) if n == 0 else (12,))]
for n, cfg, plan, T in runs:
    base = layer_case(cfg, plan, 3, T, seed=n)
    for c in (base, saturating(base, 7)):
        A = torch.stack([c.A_re, c.A_im]).contiguous()
        i = lambda x: x.to(torch.int64)
        Xr, Xi = s5_forward_ref(i(c.bu_re), i(c.bu_im), i(A), c.k)
        Yr, Yi = s5_forward_gpu(c.bu_re, c.bu_im, A, c.k)
        g = torch.Generator().manual_seed(3)
        gr, gi = (torch.randn(Xr.shape, generator=g, dtype=torch.float64) for _ in range(2))
        a = s5_backward_ref(i(c.bu_re), i(c.bu_im), i(A), Xr, Xi, gr, gi, c.k)
        b = s5_backward_gpu(c.bu_re, c.bu_im, A, Yr, Yi, gr, gi, c.k)
        out.append({"exact": torch.equal(Xr.double(), Yr) and torch.equal(Xi.double(), Yi),
                    "rel": max(float((x - y).abs().max() / x.abs().max().clamp_min(1e-300)) for x, y in zip(a, b))})
print(json.dumps(out))
"""


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")
def test_triton_kernels_equal_cpu_path_in_the_interpreter():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    r = subprocess.run([sys.executable, "-c", _INTERPRET], cwd=root, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(res) == 2 * (len(CASES) + 2)
    assert all(x["exact"] for x in res), res
    assert max(x["rel"] for x in res) < 1e-12, res


def test_check_entry_runs_and_passes(capsys):
    assert main(["--batch", "3", "--steps", "16", "--modes", "4", "--channels", "5", "--n-check", "2",
                 "--reps", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["states_exact"] and out["B"] == 3 and out["T"] == 16
    assert run_check(CheckSize(B=2, T=8, P=3, H=4, reps=1))["ok"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (the Triton kernels)")
def test_cuda_model_trace_equals_golden(case):
    import numpy as np

    from hwssm.golden.s5_engine import run_s5

    pix = case.pixels.numpy()
    model = case.model.to("cuda")
    with torch.no_grad():
        _, tr = model(case.pixels.to("cuda"), trace=True)
    ref = run_s5(model.to_qmodel(), pix, trace=True)
    np.testing.assert_array_equal(tr.x, ref.x)
    np.testing.assert_array_equal(tr.logits, ref.logits)
    model.to("cpu")
