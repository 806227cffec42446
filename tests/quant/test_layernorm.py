"""The LayerNorm of the contract (ARITHMETIC.md §7): plan components, PTQ, QModel files, legality, hw refusal."""

import dataclasses
import json

import numpy as np
import pytest

from hwssm.errors import HwssmError
from hwssm.fixed import QFormat
from hwssm.model.checkpoint import init_params
from hwssm.model.config import Norm, S4DConfig
from hwssm.quant.layernorm import QNorm, eps_code, lower_norm, variance_width
from hwssm.quant.quantizers import quantize_param
from hwssm.quant.spec import Spec
from hwssm.quant.plan import NAMED_PLANS, PrecisionPlan, parse_code, resolve_plan
from hwssm.quant.ptq import ptq
from hwssm.quant.qmodel import QModelError
from hwssm.quant.qmodel_io import load_qmodel, save_qmodel
from hwssm.quant.random_qmodel import random_qmodel


def test_plan_components_code_and_json():
    p = parse_code("A8x8-B4C4D4-W8-a6-n6.12")
    assert (p.ln_g.bits, p.ln_b.bits) == (6, 12) and p.code == "A8x8-B4C4D4-W8-a6-n6.12"
    assert parse_code("A8x8-W8-a8-n5").code == "A8x8-B8C8D8-W8-a8-n5"
    assert PrecisionPlan.from_json(json.loads(json.dumps(p.to_json()))) == p
    assert "ln_g" not in NAMED_PLANS["hetero"].to_json() and "-n" not in NAMED_PLANS["hetero"].code
    assert parse_code("A8x8-W8-a8-n5-h").ln_g.granularity.value == "per_head"
    with pytest.raises(HwssmError):
        resolve_plan("A8x8-W8-a8-n1")                        # 1 bit: not a Spec
    with pytest.raises(ValueError, match="come together"):
        PrecisionPlan.from_json({**NAMED_PLANS["hetero"].to_json(), "ln_g": 8})


def _ln_checkpoint(prenorm, H=6):
    config = S4DConfig(H=H, N=4, L=2, norm=Norm.LAYER, prenorm=prenorm)
    params = init_params(config, 0)
    rng = np.random.default_rng(0)
    for l in range(2):
        params[f"layers.{l}.norm_scale"] = rng.uniform(0.5, 2, H).astype(np.float32)
        params[f"layers.{l}.norm_bias"] = rng.uniform(-1, 1, H).astype(np.float32)
    return config, params


@pytest.mark.parametrize("prenorm", [False, True], ids=["postnorm", "prenorm"])
def test_ptq_of_a_layernorm_checkpoint_and_file_round_trip(tmp_path, prenorm):
    config, params = _ln_checkpoint(prenorm)
    pix = np.random.default_rng(1).integers(0, 256, (8, 30)).astype(np.uint8)
    qm = ptq(config, params, parse_code("A8x8-W8-a8-n6.12"), pix)
    for l, ly in enumerate(qm.layers):
        n = ly.norm
        assert n.prenorm is prenorm and n.gamma.bits == 6 and n.beta.bits == 12 and n.n.width == 8
        X = qm.r_in(l) if prenorm else n.n
        assert n.eps == eps_code(config.eps, config.H, X)
        assert (qm.ssm_in(l) is n.n) is prenorm and (qm.res_out(l) is n.n) is not prenorm
    back = load_qmodel(save_qmodel(qm, tmp_path / "ln"))
    assert back.digest() == qm.digest() and back.layers[1].norm.eps == qm.layers[1].norm.eps
    assert back.footprint_bits == qm.footprint_bits
    assert qm.footprint_bits > dataclasses.replace(qm, layers=tuple(
        dataclasses.replace(ly, norm=None) for ly in qm.layers)).footprint_bits


def test_models_without_layernorm_keep_their_files_and_digests():
    qm = load_qmodel("models/s4d_hetero")                     # checked against its stored digest
    header = json.loads(open("models/s4d_hetero.qmodel.json").read())
    assert all("norm" not in d for d in header["layers"]) and not qm.has_norm
    assert header["digest"] == qm.digest()


def test_bad_layernorm_files_are_one_line_errors(tmp_path):
    qm = random_qmodel(3, 2, 1, seed=1, prenorm=True)
    jpath = save_qmodel(qm, tmp_path / "m")
    header = json.loads(jpath.read_text())
    for change, match in [({"eps": 0}, "ε term"), ({"eps": "7"}, "eps"), ({"prenorm": 1}, "prenorm"),
                          ({"extra": 1}, "unknown field")]:
        bad = json.loads(json.dumps(header))
        bad["layers"][0]["norm"].update(change)
        (tmp_path / "bad.qmodel.json").write_text(json.dumps(bad))
        (tmp_path / "bad.qmodel.npz").write_bytes((tmp_path / "m.qmodel.npz").read_bytes())
        bad["arrays"] = "bad.qmodel.npz"
        (tmp_path / "bad.qmodel.json").write_text(json.dumps(bad))
        with pytest.raises(HwssmError, match=match) as info:
            load_qmodel(tmp_path / "bad")
        assert "\n" not in str(info.value)
    bad = json.loads(json.dumps(header))
    del bad["layers"][0]["norm"]                               # γ, β left over
    (tmp_path / "bad.qmodel.json").write_text(json.dumps(dict(bad, arrays="bad.qmodel.npz")))
    with pytest.raises(HwssmError, match="unknown parameter .layers.0.norm_"):
        load_qmodel(tmp_path / "bad")


def test_variance_too_wide_is_refused_in_one_line():
    assert variance_width(QFormat(16, 8), 256, 1) == 65
    assert variance_width(QFormat(15, 8), 256, 1) <= 64
    H, X = 256, QFormat(16, 8)
    qn = QNorm(True, quantize_param(np.ones(H), Spec(8)), quantize_param(np.zeros(H), Spec(16)), 1, X)
    with pytest.raises(QModelError, match="variance sum over H=256") as info:
        lower_norm(qn, X, X, H, "layers.3 LayerNorm")
    assert "\n" not in str(info.value) and "layers.3" in str(info.value)
    lower_norm(qn, QFormat(15, 8), X, H, "layers.3 LayerNorm")     # 15 bits: legal
    qm = random_qmodel(3, 2, 1, NAMED_PLANS["uniform16"], seed=0, prenorm=False)
    ly = qm.layers[0]
    with pytest.raises(QModelError, match="ε term"):
        dataclasses.replace(qm, layers=(dataclasses.replace(ly, norm=dataclasses.replace(ly.norm, eps=0)),)).validate()


def test_hardware_builds_uniform_layernorm_and_refuses_mixed_in_one_line():
    # issue 16: the RTL, its cycle model and the estimator build a LayerNorm in every block
    # (all prenorm or all postnorm); a mixed placement is refused in one line by all three
    import dataclasses

    from hwssm import targets
    from hwssm.hw import cycle_model
    from hwssm.hw.cost import estimate
    from hwssm.hw.derive import derive
    from hwssm.hw.options import DesignPoint

    for prenorm in (True, False):
        qm = random_qmodel(4, 2, 2, seed=0, prenorm=prenorm)
        assert derive(qm, DesignPoint(2, 16)).norm.prenorm is prenorm
        assert cycle_model.cycles_per_step(qm, DesignPoint(2, 16)) > 0
        assert estimate(qm, DesignPoint(2, 16), targets.UP5K).total.lut > 0
    pre, post = (random_qmodel(4, 2, 2, seed=0, prenorm=p) for p in (True, False))
    qm = dataclasses.replace(pre, layers=(pre.layers[0], post.layers[1]))
    for call in (lambda: derive(qm, DesignPoint(2, 16)), lambda: cycle_model.cycles_per_step(qm, DesignPoint(2, 16)),
                 lambda: estimate(qm, DesignPoint(2, 16), targets.UP5K)):
        with pytest.raises(HwssmError, match="all prenorm or all postnorm") as info:
            call()
        assert "\n" not in str(info.value)
    derive(random_qmodel(4, 2, 2, seed=0), DesignPoint(2, 16))   # without LayerNorm: built
