"""PTQ of an S5 checkpoint through the ordinary entry points: an S5QModel from hwssm.quantize,
a one-line error where S5 has no QModel file format yet (save_model)."""

import numpy as np
import pytest

import hwssm
from hwssm.model.checkpoint import save_checkpoint
from hwssm.model.s5_config import S5Config
from hwssm.model.s5_network import init_params
from hwssm.quant.s5_qmodel import S5QModel

CFG = S5Config(H=4, P=3, L=1, n_classes=10)


def test_quantize_an_s5_checkpoint(tmp_path, capsys):
    path = save_checkpoint(tmp_path / "s5", CFG, init_params(CFG, 0))
    digits = hwssm.Digits(np.random.default_rng(0).integers(0, 256, (2, 30)).astype(np.uint8), np.zeros(2, np.int64))
    qm = hwssm.quantize(str(path), "uniform8", hwssm.PTQOptions(calib_digits=2, data=digits))
    assert isinstance(qm, S5QModel) and qm.P == 3 and len(qm.digest()) == 64
    assert qm.meta["source_checkpoint"] == str(path) and qm.meta["calibration_digits"] == 2
    with pytest.raises(hwssm.HwssmError, match="min-max only"):
        hwssm.quantize(str(path), "uniform8", hwssm.PTQOptions(calib_digits=2, data=digits, calibration="percentile"))
    with pytest.raises(hwssm.HwssmError, match="save_model needs a QModel, not S5QModel"):
        hwssm.save_model(qm, tmp_path / "q")
