"""The frame of a QAT run: the PTQ-calibrated QModel whose formats QAT trains within
(:func:`prepare_frame`, written to ``work/frame.qmodel.json`` and reused for the same checkpoint,
plan and calibration), with optional state headroom.

Split out of :mod:`hwssm.train.qat_train` (which re-exports these names).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..data.mnist import Split
from ..data.registry import data_identity
from ..model.checkpoint import Checkpoint, load_checkpoint
from ..quant.plan import PrecisionPlan
from ..quant.qmodel import QModel
from ..quant.qmodel_io import load_qmodel, save_qmodel

if TYPE_CHECKING:
    from .qat_train import QATRecipe

FRAME_STEM = "frame"


def frame_identity(ckpt_path: Path, plan: PrecisionPlan, recipe: QATRecipe) -> dict:
    """What fixes a frame: the float checkpoint, the plan and the calibration."""
    doc = json.loads(_ckpt_json(ckpt_path).read_text())
    return {"checkpoint_sha256": doc.get("arrays_sha256"), "plan": plan.to_json(),
            "calibration": recipe.calibration.value, "calib_digits": recipe.calib_digits, "window": recipe.window,
            "state_headroom": recipe.state_headroom,
            **({} if data_identity(recipe.data) is None else {"data": data_identity(recipe.data)})}


def prepare_frame(checkpoint: str | Path, plan: PrecisionPlan, recipe: QATRecipe, work: str | Path, *,
                  ckpt: Checkpoint | None = None, ranges=None, say: Callable[[str], None] = print) -> QModel:
    """The frame model of a run: ``work/frame.qmodel.json`` when it exists for the same checkpoint,
    plan and calibration, else calibrated now (or quantized with the given calibration ``ranges``,
    :class:`hwssm.quant.calibrate.Ranges`, which do not depend on the plan) and written there."""
    from ..quant.ptq import quantize_model

    work = Path(work)
    ckpt_path = _ckpt_json(checkpoint)
    ident = frame_identity(ckpt_path, plan, recipe)
    path = work / (FRAME_STEM + ".qmodel.json")
    if path.is_file():
        template = load_qmodel(path)
        if template.meta.get("frame_identity") == ident:
            return template
        say(f"{path} was made for another checkpoint, plan or calibration; calibrating again")
    ckpt = ckpt or load_checkpoint(ckpt_path)
    if ranges is None:
        say(f"calibrating the frame on {recipe.calib_digits} training digits ({recipe.calibration.value})")
        ranges = calibration_ranges(ckpt, recipe)
    meta = {"quantization": "ptq", "calibration": recipe.calibration.value, "calibration_digits": recipe.calib_digits,
            "source_checkpoint": os.fspath(ckpt_path), "frame_identity": ident}
    template = with_state_headroom(quantize_model(ckpt.config, ckpt.params, plan, ranges, meta), recipe.state_headroom)
    save_qmodel(template, path)
    return template


def with_state_headroom(qm: QModel, k: int) -> QModel:
    """``qm`` with every state format's frac raised by ``k`` (finer steps, a range 2**k smaller)."""
    if k == 0:
        return qm
    layers = tuple(dataclasses.replace(ly, x_re=tuple(f.replace(frac=f.frac + k) for f in ly.x_re),
                                       x_im=tuple(f.replace(frac=f.frac + k) for f in ly.x_im)) for ly in qm.layers)
    out = dataclasses.replace(qm, layers=layers, meta={**qm.meta, "state_headroom": k})
    out.validate()
    return out


def calibration_ranges(ckpt: Checkpoint, recipe: QATRecipe):
    """Float activation and state ranges on the first ``calib_digits`` training digits."""
    from ..quant.calibrate import calibrate

    from .qat_train import split_arrays

    calib, _ = split_arrays(Split.TRAIN, recipe.calib_digits, recipe.window, recipe.data)
    return calibrate(ckpt.config, ckpt.params, calib, recipe.calibration)


def _ckpt_json(path: str | Path) -> Path:
    p = Path(path)
    return p if p.suffix == ".json" else p.with_name(p.name + ".json")
