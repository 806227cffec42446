"""QAT: the integer forward == the golden engine, exactly; STE gradients; training; export; CLI."""

import json
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hwssm.cli import main as cli_main  # noqa: E402
from hwssm.data.mnist import Split, load_mnist, sequences  # noqa: E402
from hwssm.errors import HwssmError  # noqa: E402
from hwssm.golden.engine import run as golden_run  # noqa: E402
from hwssm.model.checkpoint import init_params, save_checkpoint  # noqa: E402
from hwssm.model.config import Discretization, S4DConfig  # noqa: E402
from hwssm.quant.plan import NAMED_PLANS, parse_code  # noqa: E402
from hwssm.quant.ptq import ptq  # noqa: E402
from hwssm.quant.qmodel_io import load_qmodel  # noqa: E402
from hwssm.quant.random_qmodel import random_qmodel  # noqa: E402
from hwssm.train.qat_frame import build_frame  # noqa: E402
from hwssm.train.qat_model import AParam, QATModel  # noqa: E402
from hwssm.train.qat_ops import Requant, pow2  # noqa: E402
from hwssm.train.qat_scan import ScanConsts, scan_backward_ref, scan_forward_ref, ssm_scan  # noqa: E402
from hwssm.train.qat_export import export_qat  # noqa: E402
from hwssm.train.qat_train import FINAL_FILE, QATRecipe, prepare_frame, train_qat  # noqa: E402

pytestmark = pytest.mark.train

CFG = S4DConfig(H=4, N=4, L=2)
#: The middle 40 pixels of each digit: real strokes, short enough for the CPU loop.
WINDOW = slice(372, 412)
PLANS = {
    "uniform8": NAMED_PLANS["uniform8"],
    "hetero": NAMED_PLANS["hetero"],
    "per_head_asym": parse_code("A8x10-B4C6D5-W6-a6-h-asym"),
    "floor_wrap": parse_code("A6.8x8.10-W5-a5-floor-wrap"),
}


def _params(config=CFG, seed=0):
    p = init_params(config, seed)
    p["decoder.W"] = (p["decoder.W"] / 40).astype(np.float32)
    return p


@pytest.fixture(scope="module")
def digits():
    images, labels = load_mnist(Split.TRAIN)
    x = np.ascontiguousarray(sequences(images[:48])[:, WINDOW])
    return x, labels[:48].astype(np.int64)


def _model(plan, aparam, digits, config=CFG, seed=0):
    x, _ = digits
    params = _params(config, seed)
    qm = ptq(config, params, plan, x[:32])
    return QATModel(build_frame(qm, T=x.shape[1]), config, params, aparam), qm


def _steps(model, x, y, n=3, lr=3e-2):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(n):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


@pytest.mark.parametrize("aparam", list(AParam), ids=lambda a: a.value)
@pytest.mark.parametrize("name", sorted(PLANS))
def test_qat_forward_equals_golden_engine(digits, name, aparam):
    x, y = digits
    model, _ = _model(PLANS[name], aparam, digits)
    # move away from the PTQ starting point first, so the codes are the trained ones
    _steps(model, torch.from_numpy(x[:16]), torch.from_numpy(y[:16]), n=2)
    test = x[32:40]
    with torch.no_grad():
        _, tr = model(torch.from_numpy(test), trace=True)
    qm = model.to_qmodel()
    g = golden_run(qm, test, trace=True)
    np.testing.assert_array_equal(tr.r, g.r)
    np.testing.assert_array_equal(tr.y, g.y)
    np.testing.assert_array_equal(tr.v, g.v)
    np.testing.assert_array_equal(tr.logits, g.logits)
    assert tr.logit_frac == g.logit_frac


@pytest.mark.parametrize("aparam", [AParam.DISCRETE, AParam.FROZEN], ids=lambda a: a.value)
def test_starting_point_is_the_ptq_model(digits, aparam):
    model, qm = _model(PLANS["per_head_asym"], aparam, digits)
    assert model.to_qmodel().digest() == qm.digest()


def test_bilinear_continuous_parameterization_matches_golden(digits):
    config = S4DConfig(H=4, N=4, L=1, discretization=Discretization.BILINEAR)
    x, _ = digits
    model, _ = _model(PLANS["uniform8"], AParam.CONTINUOUS, digits, config=config)
    with torch.no_grad():
        _, tr = model(torch.from_numpy(x[:4]), trace=True)
    np.testing.assert_array_equal(tr.logits, golden_run(model.to_qmodel(), x[:4]).logits)


@pytest.mark.parametrize("name, extreme", [("uniform8", False), ("uniform8", True), ("per_head_asym", True),
                                           ("floor_wrap", True)])
def test_scan_backward_is_the_straight_through_gradient(name, extreme):
    """The hand-written reverse-time backward == autograd through a loop of STE requantizations."""
    H, M, Bn, T = 3, 4, 2, 10
    qm = random_qmodel(H, M, 1, PLANS[name], seed=3, extreme=extreme)
    frame = build_frame(qm, T=T)
    k = ScanConsts.of(frame, 0, "cpu")
    lw0 = frame.lowering.layers[0]
    rng = np.random.default_rng(0)
    a = PLANS[name].act.bits
    u = torch.from_numpy(rng.integers(-(1 << (a - 1)), 1 << (a - 1), (Bn, T, H)).astype(np.float64)).requires_grad_()
    ly = qm.layers[0]
    P = torch.from_numpy(np.stack([ly.A_re.effective(), ly.A_im.effective(), ly.B_re.effective(),
                                   ly.B_im.effective(), ly.C_re.effective(), ly.C_im.effective()]).astype(np.float64))
    P.requires_grad_()
    gs = torch.from_numpy(rng.standard_normal((Bn, T, H)))
    (ssm_scan(u, P, k) * gs).sum().backward()
    gu, gP = u.grad.clone(), P.grad.clone()
    u.grad = P.grad = None
    # the same recurrence as a loop of differentiable STE requantizations; state (B, M, H)
    rqr, rqi = Requant.of(lw0.x_rq[:, 0], "cpu"), Requant.of(lw0.x_rq[:, 1], "cpu")
    sh, c = pow2(lw0.x_sh.T, "cpu"), pow2(lw0.y_sh[:, :2].T, "cpu")
    Ar, Ai, Br, Bi, Cr, Ci = (P[j].T for j in range(6))
    xr = torch.zeros(Bn, M, H, dtype=torch.float64)
    xi = torch.zeros_like(xr)
    outs = []
    for t in range(T):
        ut = u[:, t][:, None, :]
        accr = Ar * xr * sh[0] - Ai * xi * sh[1] + Br * ut * sh[2]
        acci = Ar * xi * sh[3] + Ai * xr * sh[4] + Bi * ut * sh[5]
        xr, xi = rqr(accr), rqi(acci)
        outs.append((Cr * xr * c[0]).sum(1) - (Ci * xi * c[1]).sum(1))
    s = torch.stack(outs, 1)
    (s * gs).sum().backward()
    np.testing.assert_allclose(u.grad.numpy(), gu.numpy(), rtol=1e-12, atol=1e-12 * float(gu.abs().max()))
    np.testing.assert_allclose(P.grad.numpy(), gP.numpy(), rtol=1e-12, atol=1e-12 * float(gP.abs().max()))
    if extreme:  # the masks did something
        _, xs_r, _ = scan_forward_ref(u.detach().long(), P.detach().long(), k, True)
        top = (1 << (qm.layers[0].x_re[0].width - 1)) - 1
        assert (xs_r.abs() >= top).any()


@pytest.mark.parametrize("aparam", list(AParam), ids=lambda a: a.value)
def test_ste_gradients_are_finite_and_nonzero(digits, aparam):
    x, y = digits
    model, _ = _model(PLANS["hetero"], aparam, digits)
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x[:16])), torch.from_numpy(y[:16]))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("aparam", list(AParam), ids=lambda a: a.value)
def test_a_few_steps_lower_the_loss(digits, aparam):
    x, y = digits
    model, _ = _model(PLANS["uniform8"], aparam, digits, seed=1)
    xb, yb = torch.from_numpy(x[:16]), torch.from_numpy(y[:16])
    losses = _steps(model, xb, yb, n=8, lr=2e-2)
    assert losses[-1] < 0.9 * losses[0], losses


def test_gradient_flows_through_saturation_masks_only(digits):
    """A code stuck at its saturated limit gets no gradient from the parameter quantizer."""
    x, y = digits
    model, _ = _model(PLANS["uniform8"], AParam.DISCRETE, digits)
    with torch.no_grad():
        model.layers[0].W[0, 0] = 1e6   # far outside the fixed format: saturated
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x[:8])), torch.from_numpy(y[:8]))
    loss.backward()
    assert model.layers[0].W.grad[0, 0] == 0
    assert model.layers[0].W.grad.abs().sum() > 0


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "tiny"
    save_checkpoint(path, CFG, _params(), {"test_accuracy": 0.1})
    return path


RECIPE = QATRecipe(epochs=2, batch_size=16, lr=1e-2, ssm_lr=1e-3, train_limit=64, val_limit=32, test_limit=40,
                   calib_digits=32, window=40)


def test_train_resume_export_and_golden_agreement(tmp_path, tiny_checkpoint):
    plan = PLANS["hetero"]
    work = tmp_path / "work"
    quiet = lambda _line: None  # noqa: E731
    first = train_qat(tiny_checkpoint, plan, AParam.CONTINUOUS, RECIPE, work, device="cpu", stop_after=1, say=quiet)
    assert not first.done and first.epoch == 1
    with pytest.raises(HwssmError, match="another run"):
        train_qat(tiny_checkpoint, plan, AParam.DISCRETE, RECIPE, work, device="cpu", say=quiet)
    second = train_qat(tiny_checkpoint, plan, AParam.CONTINUOUS, RECIPE, work, device="cpu", say=quiet)
    assert second.done and second.epoch == 2 and [e["epoch"] for e in second.log] == [1, 2]
    # the same run without the interruption gives the same parameters
    straight = train_qat(tiny_checkpoint, plan, AParam.CONTINUOUS, RECIPE, tmp_path / "w2", device="cpu", say=quiet)
    for (n, a), (_, b) in zip(second.model.state_dict().items(), straight.model.state_dict().items()):
        assert torch.equal(a, b), n
    res = export_qat(second, tmp_path / "out" / "m", say=quiet)
    qm = load_qmodel(tmp_path / "out" / "m.qmodel.json")
    assert qm.meta["golden_qat_agreement"] == 1.0 and qm.meta["golden_qat_logits_equal"] == 1.0
    assert qm.meta["parameterization"] == "continuous" and qm.meta["quantization"] == "qat"
    assert res["compression"] == pytest.approx(qm.compression)
    with np.load(work / FINAL_FILE) as z:
        qat_pred = z["logits"].argmax(1)
    test = np.ascontiguousarray(sequences(load_mnist(Split.TEST)[0][:40])[:, WINDOW])
    np.testing.assert_array_equal(golden_run(qm, test).pred, qat_pred)
    assert json.loads((tmp_path / "out" / "m.result.json").read_text())["golden_test_accuracy"] == \
        qm.meta["golden_test_accuracy"]
    assert (tmp_path / "out" / "m.training.png").stat().st_size > 0


def test_state_headroom_raises_the_state_fracs_and_frames_are_reused(tmp_path, tiny_checkpoint):
    plain = QATRecipe(calib_digits=16, window=24)
    roomy = QATRecipe(calib_digits=16, window=24, state_headroom=2)
    a = prepare_frame(tiny_checkpoint, PLANS["uniform8"], plain, tmp_path / "a", say=lambda _: None)
    b = prepare_frame(tiny_checkpoint, PLANS["uniform8"], roomy, tmp_path / "b", say=lambda _: None)
    for la, lb in zip(a.layers, b.layers):
        assert [f.frac + 2 for f in la.x_re + la.x_im] == [f.frac for f in lb.x_re + lb.x_im]
    assert a.layers[0].y == b.layers[0].y
    said = []
    again = prepare_frame(tiny_checkpoint, PLANS["uniform8"], roomy, tmp_path / "b", say=said.append)
    assert again.digest() == b.digest() and not said          # reused, not calibrated again
    other = prepare_frame(tiny_checkpoint, PLANS["uniform8"], plain, tmp_path / "b", say=said.append)
    assert other.digest() == a.digest() and said               # another identity: calibrated again


def test_cli_runs_and_reports_bad_input(tmp_path, tiny_checkpoint, capsys):
    args = ["qat", "--model", str(tiny_checkpoint), "--plan", "A6x8-B4C4D4-W6-a6-h", "--param", "frozen",
            "--out", str(tmp_path / "m"), "--work", str(tmp_path / "w"), "--epochs", "1", "--batch-size", "32",
            "--train-limit", "32", "--val-limit", "16", "--test-limit", "16", "--calib-digits", "16",
            "--window", "24", "--device", "cpu", "--golden-digits", "8"]
    assert cli_main(args) == 0
    qm = load_qmodel(tmp_path / "m.qmodel.json")
    assert qm.meta["golden_digits"] == 8 and qm.meta["golden_qat_agreement"] == 1.0
    assert cli_main(args[:4] + ["not-a-plan"] + args[5:]) == 2
    assert "cannot parse plan code" in capsys.readouterr().err


def test_cli_without_torch_is_a_one_line_error(monkeypatch, tmp_path, tiny_checkpoint, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    code = cli_main(["qat", "--model", str(tiny_checkpoint), "--plan", "uniform8", "--out", str(tmp_path / "m"),
                     "--work", str(tmp_path / "w")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hwssm: error: torch is not installed") and "\n" not in err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (run on the GPU machine)")
@pytest.mark.parametrize("name, M, extreme", [("uniform8", 32, False), ("per_head_asym", 5, True),
                                              ("floor_wrap", 3, True), ("uniform16", 8, False)])
def test_gpu_kernels_equal_the_reference(name, M, extreme):
    plan = PLANS.get(name) or NAMED_PLANS[name]
    H, Bn, T = 6, 5, 50
    qm = random_qmodel(H, M, 1, plan, seed=5, extreme=extreme)
    frame = build_frame(qm, T=T)
    rng = np.random.default_rng(1)
    a = plan.act.bits
    u = torch.from_numpy(rng.integers(-(1 << (a - 1)), 1 << (a - 1), (Bn, T, H)))
    ly = qm.layers[0]
    P = torch.from_numpy(np.stack([ly.A_re.effective(), ly.A_im.effective(), ly.B_re.effective(),
                                   ly.B_im.effective(), ly.C_re.effective(), ly.C_im.effective()]))
    gs = torch.from_numpy(rng.standard_normal((Bn, T, H)))
    kc = ScanConsts.of(frame, 0, "cpu")
    s0, xr0, xi0 = scan_forward_ref(u, P, kc, True)
    gu0, gP0 = scan_backward_ref(u, P, xr0, xi0, gs, kc)
    from hwssm.train.qat_triton import scan_backward_gpu, scan_forward_gpu

    kg = ScanConsts.of(frame, 0, "cuda")
    ity = torch.int64 if kg.acc64 else torch.int32
    ug, Pg = u.to(ity).cuda(), P.to(ity).cuda()
    s1, xr1, xi1 = scan_forward_gpu(ug, Pg, kg, True)
    s2, _, _ = scan_forward_gpu(ug, Pg, kg, False)
    assert torch.equal(s1.cpu(), s0) and torch.equal(s2.cpu(), s0)
    assert torch.equal(xr1.cpu().long(), xr0.long()) and torch.equal(xi1.cpu().long(), xi0.long())
    gu1, gP1 = scan_backward_gpu(ug, Pg, xr1, xi1, gs.float().cuda(), kg)
    np.testing.assert_allclose(gu1.cpu().double().numpy(), gu0.numpy(), rtol=1e-4, atol=1e-5 * float(gu0.abs().max()))
    np.testing.assert_allclose(gP1.cpu().double().numpy(), gP0.numpy(), rtol=1e-4, atol=1e-5 * float(gP0.abs().max()))
