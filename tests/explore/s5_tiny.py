"""A tiny float S5 model (H=8, P=4, L=1) trained for one epoch on 200 sMNIST digits on the CPU (~10 s).

Shared by the Q-S5 study and report tests; returns the checkpoint's ``.json`` path.
"""

from __future__ import annotations

from pathlib import Path

from hwssm.model.s5_config import S5Config

TINY_S5 = S5Config(H=8, P=4, L=1)
#: Test digits and calibration digits of the tests (small: the machine has 2 cores).
LIMIT = 6
CALIB = 8


def train_tiny_s5(directory: Path) -> Path:
    """Train the tiny S5 model into ``directory`` (``s5_float.json`` + ``.npz``); returns the JSON path."""
    from hwssm.train.float_export import export
    from hwssm.train.float_train import Recipe, train

    recipe = Recipe(epochs=1, batch_size=50, lr=0.016, ssm_lr=0.004, train_limit=200, val_limit=50)
    out = train(TINY_S5, recipe, directory / "work", device="cpu", say=lambda _: None)
    return export(out, directory / "s5_float", test_limit=50, say=lambda _: None)
