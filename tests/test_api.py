"""The Python API (:mod:`hwssm.api`, re-exported at the top level): each stage on small inputs,
equal to the library calls it sits on; bad input is one HwssmError line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import hwssm
from hwssm import api
from hwssm.errors import HwssmError
from hwssm.model.checkpoint import init_params, save_checkpoint
from hwssm.model.config import S4DConfig
from hwssm.quant.random_qmodel import random_qmodel


@pytest.fixture(scope="module")
def ckpt_path(tmp_path_factory):
    cfg = S4DConfig(H=4, N=4, L=1)
    return save_checkpoint(tmp_path_factory.mktemp("ck") / "tiny", cfg, init_params(cfg, 0))


@pytest.fixture(scope="module")
def qm():
    return random_qmodel(3, 2, 1, seed=21)


@pytest.fixture(scope="module")
def digits():
    return api.mnist_digits("test", range(5))


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg
    return msg


# -- the package ------------------------------------------------------------------------------

def test_import_hwssm_is_cheap_and_the_api_is_lazy():
    code = ("import sys, hwssm; heavy = [m for m in ('numpy', 'numba', 'amaranth', 'hwssm.api') if m in sys.modules]; "
            "hwssm.evaluate; print(heavy, 'hwssm.api' in sys.modules, "
            "[m for m in ('numba', 'amaranth', 'cocotb', 'torch', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[] True []"


def test_top_level_names_are_the_api():
    assert set(hwssm.API) == set(api.__all__) and len(hwssm.API) == len(api.__all__)
    for name in api.__all__:
        assert getattr(hwssm, name) is getattr(api, name)
    assert hwssm.__version__ and "evaluate" in dir(hwssm)
    with pytest.raises(AttributeError):
        hwssm.no_such_name


# -- models -----------------------------------------------------------------------------------

def test_load_model_by_shipped_name_and_path(ckpt_path):
    qm = hwssm.load_model("s4d_hetero")
    assert isinstance(qm, hwssm.QModel) and (qm.H, qm.L) == (64, 4)
    assert hwssm.load_model(hwssm.model_path("s4d_hetero")).digest() == qm.digest()
    assert isinstance(hwssm.load_model("s4d_float"), hwssm.Checkpoint)
    ck = hwssm.load_model(ckpt_path.with_suffix(""))  # a stem
    assert isinstance(ck, hwssm.Checkpoint) and ck.config.H == 4


def test_save_model_round_trip(qm, tmp_path):
    path = hwssm.save_model(qm, tmp_path / "m")
    assert path.name == "m.qmodel.json" and hwssm.load_model(path).digest() == qm.digest()


def test_quantize_is_the_cli_ptq(ckpt_path, tmp_path):
    from hwssm.cli import main
    from hwssm.quant.qmodel_io import load_qmodel

    assert main(["ptq", "--model", str(ckpt_path), "--plan", "uniform8", "--calib-digits", "8",
                 "--out", str(tmp_path / "cli")]) == 0
    qm = hwssm.quantize(ckpt_path, "uniform8", hwssm.PTQOptions(calib_digits=8))
    assert qm.digest() == load_qmodel(tmp_path / "cli").digest()
    assert qm.meta["source_checkpoint"] == str(ckpt_path) and qm.meta["calibration_digits"] == 8


def test_quantize_plans_checkpoints_and_own_data(ckpt_path):
    ck = hwssm.load_model(ckpt_path)
    by_code = hwssm.quantize(ck, "A8x12-B4C4D4-W8-a6", hwssm.PTQOptions(calib_digits=4))
    plan = hwssm.PrecisionPlan.uniform(6)
    by_plan = hwssm.quantize(ck, plan, hwssm.PTQOptions(calib_digits=4, calibration="percentile", percentile=99.0))
    assert by_code.plan.code == "A8x12-B4C4D4-W8-a6" and by_plan.plan == plan
    assert by_plan.meta["calibration"] == "percentile" and "source_checkpoint" not in by_plan.meta
    own = hwssm.Digits(np.full((3, 20), 200, np.uint8), np.arange(3))
    short = hwssm.quantize(ck, "uniform8", hwssm.PTQOptions(data=own))
    assert short.meta["calibration_digits"] == 3


# -- data -------------------------------------------------------------------------------------

def test_mnist_digits():
    d = hwssm.mnist_digits(hwssm.Split.VAL, [0, 7])
    assert d.pixels.shape == (2, 784) and d.pixels.dtype == np.uint8 and list(d.indices) == [0, 7]
    p = hwssm.mnist_digits("val", [0, 7], permutation_seed=1)
    assert np.array_equal(np.sort(p.pixels, axis=1), np.sort(d.pixels, axis=1)) and not np.array_equal(p.pixels, d.pixels)
    assert np.array_equal(p.labels, d.labels) and hwssm.check_data().test == 10_000


# -- golden -----------------------------------------------------------------------------------

def test_evaluate_equals_the_golden_engine(qm, digits):
    from hwssm.golden.engine import run

    ref = run(qm, digits.pixels, trace=True)
    res = hwssm.evaluate(qm, digits, hwssm.EvalOptions(trace=True))
    assert np.array_equal(res.pred, ref.pred) and np.array_equal(res.logits, ref.logits)
    assert res.logit_frac == ref.logit_frac and res.digits == 5
    assert res.accuracy == pytest.approx(np.mean(ref.pred == digits.labels))
    for k in ("r", "y", "v"):
        assert np.array_equal(getattr(res.trace, k), getattr(ref, k))
    assert res.trace.r.shape == (5, 2, 784, 3) and res.float_agreement is None
    assert json.loads(json.dumps(res.to_json()))["digits"] == 5
    plain = hwssm.evaluate(qm, hwssm.Digits(digits.pixels, digits.indices))  # no labels
    assert plain.trace is None and plain.accuracy is None and np.array_equal(plain.pred, ref.pred)


def test_evaluate_against_a_float_reference(ckpt_path, digits):
    ck = hwssm.load_model(ckpt_path)
    qm = hwssm.quantize(ck, "uniform16", hwssm.PTQOptions(calib_digits=4))
    res = hwssm.evaluate(qm, digits, hwssm.EvalOptions(reference=ck))
    assert 0.0 <= res.float_agreement <= 1.0 and res.float_accuracy is not None


# -- hardware ---------------------------------------------------------------------------------

def test_design_for_is_the_device_profile():
    from hwssm.targets import UP5K

    d = hwssm.design_for("up5k", 1)
    assert d == UP5K.profile.design(1) and d.storage is hwssm.ParamStorage.LOAD
    assert hwssm.design_for(UP5K, 2, seq_len=100).seq_len == 100


def test_generate_rtl_and_estimate(qm, tmp_path):
    from hwssm.hw.cost import estimate
    from hwssm.hw.cycle_model import cycles_per_digit
    from hwssm.targets import ECP5_25K, UP5K

    rtl = hwssm.generate_rtl(qm, hwssm.DesignPoint(2), tmp_path / "rtl")
    assert rtl.verilog.is_file() and rtl.manifest["model_digest"] == qm.digest()
    assert rtl.design.lanes == 2 and rtl.cycles_per_digit == rtl.manifest["cycles_per_digit"] > 0
    assert rtl.cycles_per_digit == cycles_per_digit(qm, hwssm.DesignPoint(2))
    design = hwssm.design_for("up5k", 1)
    est = hwssm.estimate_cost(qm, design, "up5k")
    assert est.total == estimate(qm, design, UP5K, dsp=True, spram=True).total and est.spram
    no_dsp = hwssm.estimate_cost(qm, hwssm.DesignPoint(1), ECP5_25K, hwssm.SynthOptions(dsp=False))
    assert no_dsp.total.dsp == 0 and no_dsp.total.lut > hwssm.estimate_cost(qm, hwssm.DesignPoint(1), ECP5_25K).total.lut


@pytest.mark.verilator
def test_simulate_is_bit_exact(qm, tmp_path):
    rtl = hwssm.generate_rtl(qm, hwssm.DesignPoint(2), tmp_path / "rtl")
    res = hwssm.simulate(qm, rtl, [0, 1], hwssm.SimOptions(jobs=1))
    assert res.ok and res.digits == 2 and res.mismatches == 0 and res.rtl == rtl.path
    assert res.cycles_per_digit == rtl.cycles_per_digit


@pytest.mark.synth
@pytest.mark.slow
def test_synthesize_a_tiny_core(tmp_path, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    tiny = random_qmodel(2, 1, 1, plan=hwssm.PrecisionPlan.uniform(4), seed=3)
    rtl = hwssm.generate_rtl(tiny, hwssm.design_for("hx8k", 1, seq_len=16), tmp_path / "rtl")
    rep = hwssm.synthesize(rtl, "hx8k")
    s = rep.summary()
    assert s["device"] == "hx8k" and s["fits"] and s["lut"] > 0 and s["dsp"] == 0 and rep.fmax_mhz > 0
    assert hwssm.synthesize(rtl.path, "hx8k").cached


# -- sweep ------------------------------------------------------------------------------------

def test_sweep_accuracy_only(ckpt_path, tmp_path, monkeypatch):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    spec = hwssm.SweepSpec(model=ckpt_path, plans=(hwssm.PrecisionPlan.uniform(8), hwssm.PrecisionPlan.uniform(4)),
                           limit=4, calib_digits=4)
    res = hwssm.sweep(spec)
    assert len(res.points) == 2 and res.failed == 0 and res.computed == 2
    assert hwssm.sweep(spec).cached == 2


def test_quantize_and_sweep_an_s5_checkpoint(tmp_path, monkeypatch):
    """The model helpers and the sweep take the S5 family (issue 15): PTQ gives an S5QModel, the
    sweep's points are the same integers, and every hardware helper takes it."""
    from hwssm.explore.sweep import model_digest
    from hwssm.model.checkpoint import init_params, save_checkpoint
    from hwssm.model.s5_config import S5Config
    from hwssm.quant.s5_qmodel import S5QModel

    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "cache"))
    cfg = S5Config(H=4, P=3, L=1)
    ck = save_checkpoint(tmp_path / "s5", cfg, init_params(cfg, 0))
    qm = hwssm.quantize(ck, "uniform8", hwssm.PTQOptions(calib_digits=4))
    assert isinstance(qm, S5QModel) and qm.meta["source_checkpoint"] == str(ck)
    res = hwssm.sweep(hwssm.SweepSpec(model=ck, plans=(hwssm.PrecisionPlan.uniform(8),), limit=4, calib_digits=4))
    assert res.failed == 0 and res.points[0]["qmodel_digest"] == model_digest(qm) and res.points[0]["P"] == 3
    est = hwssm.estimate_cost(qm, hwssm.design_for("ecp5-25k", 1), "ecp5-25k")
    assert est.total.lut > 0 and hwssm.save_model(qm, tmp_path / "q").is_file()


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("call, fragment", [
    (lambda qm, ck: hwssm.load_model("no_such_model"), "neither a file nor a shipped model"),
    (lambda qm, ck: hwssm.load_model(3), "not int"),
    (lambda qm, ck: hwssm.quantize(ck, "bogus"), "cannot parse plan code"),
    (lambda qm, ck: hwssm.quantize(ck, 8), "not int"),
    (lambda qm, ck: hwssm.quantize("s4d_hetero", "hetero"), "already a QModel"),
    (lambda qm, ck: hwssm.PTQOptions(calibration="median"), "unknown calibration 'median'"),
    (lambda qm, ck: hwssm.PTQOptions(calib_digits=0), "calib_digits must be a positive integer"),
    (lambda qm, ck: hwssm.PTQOptions(percentile=0), "percentile must be in (0, 100]"),
    (lambda qm, ck: hwssm.mnist_digits("dev"), "unknown MNIST split 'dev'"),
    (lambda qm, ck: hwssm.mnist_digits("test", [10_000]), "index 10000 is out of range for the test split"),
    (lambda qm, ck: hwssm.mnist_digits("test", []), "at least one digit"),
    (lambda qm, ck: hwssm.mnist_digits("test", [0], permutation_seed=-1), "seed must be >= 0"),
    (lambda qm, ck: hwssm.evaluate(ck), "needs a QModel, not a float checkpoint"),
    (lambda qm, ck: hwssm.evaluate(qm, np.zeros((2, 3))), "digits must be Digits"),
    (lambda qm, ck: hwssm.evaluate(qm, hwssm.Digits(np.zeros((1, 4), np.uint8), [0], [10])), "labels must be classes in [0, 10)"),
    (lambda qm, ck: hwssm.evaluate(hwssm.load_model("s4d_hetero"), hwssm.mnist_digits(), hwssm.EvalOptions(trace=True)), "trace fewer sequences"),
    (lambda qm, ck: hwssm.EvalOptions(reference=qm), "reference must be a float Checkpoint"),
    (lambda qm, ck: hwssm.design_for("virtex", 1), "unknown device 'virtex'"),
    (lambda qm, ck: hwssm.design_for("up5k", 0), "lanes P must be in [1, 1024]"),
    (lambda qm, ck: hwssm.generate_rtl(qm, 2, "x"), "design must be a DesignPoint"),
    (lambda qm, ck: hwssm.estimate_cost(qm, hwssm.DesignPoint(1), "up5k", {"dsp": False}), "options must be SynthOptions"),
    (lambda qm, ck: hwssm.simulate(qm, hwssm.DesignPoint(1, seq_len=10), [0]), "sequences of 10 steps"),
    (lambda qm, ck: hwssm.synthesize(None, "up5k"), "rtl must be an Rtl or an RTL directory"),
    (lambda qm, ck: hwssm.sweep("spec.json"), "spec must be a SweepSpec"),
])
def test_bad_input_is_one_line(qm, ckpt_path, call, fragment):
    ck = hwssm.load_model(ckpt_path)
    with pytest.raises(HwssmError) as exc:
        call(qm, ck)
    assert fragment in _one_line(exc)
