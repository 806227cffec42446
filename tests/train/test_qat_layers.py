"""QAT with per-layer precision (torch, CPU): the fake-quant formats of each block are those of
its overrides, and the QAT forward and its export equal the golden engine bit for bit."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hwssm.golden.engine import run as golden_run  # noqa: E402
from hwssm.quant.plan import parse_code  # noqa: E402
from hwssm.quant.qmodel_io import load_qmodel  # noqa: E402
from hwssm.train.qat_export import export_qat  # noqa: E402
from hwssm.train.qat_model import AParam  # noqa: E402
from hwssm.train.qat_train import QATRecipe, train_qat  # noqa: E402
from tests.train.test_qat import _model, _steps, digits, tiny_checkpoint  # noqa: E402, F401

pytestmark = pytest.mark.train

#: block 0: Ā 6 bits, state 10, activations 8; block 1: B̄, C̄ 3 bits, mixing W 5, per-head plan
CODE = "A8x8-B4C4D4-W8-a6-h-L0:A6x10a8-L1:B3C3W5"


@pytest.mark.parametrize("aparam", list(AParam), ids=lambda a: a.value)
def test_qat_forward_with_per_layer_formats_equals_golden(digits, aparam):
    x, y = digits
    model, qm0 = _model(parse_code(CODE), aparam, digits)
    l0, l1 = qm0.layers
    assert (l0.A_re.bits, l0.x_re[0].width, l0.y.width, l1.A_re.bits, l1.x_re[0].width, l1.y.width) == (6, 10, 8, 8, 8, 6)
    _steps(model, torch.from_numpy(x[:16]), torch.from_numpy(y[:16]), n=2)
    test = x[32:40]
    with torch.no_grad():
        _, tr = model(torch.from_numpy(test), trace=True)
    qm = model.to_qmodel()
    assert qm.plan == parse_code(CODE)
    assert [(ly.A_re.bits, ly.B_re.bits, ly.W.bits, ly.y.width) for ly in qm.layers] == [(6, 4, 8, 8), (8, 3, 5, 6)]
    g = golden_run(qm, test, trace=True)
    np.testing.assert_array_equal(tr.r, g.r)
    np.testing.assert_array_equal(tr.y, g.y)
    np.testing.assert_array_equal(tr.logits, g.logits)
    assert tr.logit_frac == g.logit_frac


def test_qat_export_with_per_layer_formats_equals_golden(tmp_path, tiny_checkpoint):
    recipe = QATRecipe(epochs=1, batch_size=16, lr=1e-2, ssm_lr=1e-3, train_limit=32, val_limit=16, test_limit=24,
                       calib_digits=16, window=24)
    out = train_qat(tiny_checkpoint, parse_code(CODE), AParam.DISCRETE, recipe, tmp_path / "w", device="cpu",
                    say=lambda _line: None)
    export_qat(out, tmp_path / "out" / "m", say=lambda _line: None)
    qm = load_qmodel(tmp_path / "out" / "m.qmodel.json")
    assert qm.plan.code == CODE and qm.meta["golden_qat_logits_equal"] == 1.0
    assert qm.meta["golden_qat_agreement"] == 1.0
