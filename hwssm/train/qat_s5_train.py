"""The S5 family of the QAT loop: :func:`train_qat_s5`, the S5 analogue of
:func:`hwssm.train.qat_train.train_qat`; both run :func:`hwssm.train.qat_loop.train_loop` (same
recipe, same data, same optimizer groups, same schedule, same log and resume state, same
:class:`~hwssm.train.qat_loop.Outcome`, exported by :func:`hwssm.train.qat_export.export_qat`).

The frame is a PTQ :class:`~hwssm.quant.s5_qmodel.S5QModel` of the float checkpoint on
``recipe.calib_digits`` training digits (``recipe.calibration``: min-max or percentile), with every
state frac raised by ``recipe.state_headroom``; it is written to ``work/frame.qmodel.json``. The
forward is :class:`~hwssm.train.qat_s5_model.S5QATModel` (a plain loop over the T steps: CPU and
short windows for now; no fused GPU scan for S5 yet).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from ..data.mnist import Split
from ..model.checkpoint import load_checkpoint
from ..quant.plan import PrecisionPlan
from ..quant.qmodel_io import load_qmodel, save_qmodel
from ..quant.s5_ptq import ptq_s5
from ..quant.s5_qmodel import S5QModel
from .qat_loop import Outcome, QATFamily, split_arrays, train_loop
from .qat_model import AParam
from .qat_prepare import FRAME_STEM, _ckpt_json, frame_identity
from .qat_s5_model import S5_SSM_NAMES, S5QATModel, build_s5_frame
from .qat_train import QATRecipe

__all__ = ["prepare_frame_s5", "train_qat_s5"]


def _headroom(qm: S5QModel, k: int) -> S5QModel:
    """``qm`` with every state format's frac raised by ``k`` (the contract clips the state to the
    smaller range at every step)."""
    if k == 0:
        return qm
    layers = tuple(dataclasses.replace(ly, x_re=tuple(f.replace(frac=f.frac + k) for f in ly.x_re),
                                       x_im=tuple(f.replace(frac=f.frac + k) for f in ly.x_im)) for ly in qm.layers)
    out = dataclasses.replace(qm, layers=layers, meta={**qm.meta, "state_headroom": k})
    out.validate()
    return out


def prepare_frame_s5(checkpoint: str | Path, plan: PrecisionPlan, recipe: QATRecipe, work: str | Path, *,
                     say: Callable[[str], None] = print) -> S5QModel:
    """The frame model of an S5 run: ``work/frame.qmodel.json`` when it exists for the same
    checkpoint, plan and calibration, else calibrated now and written there."""
    work = Path(work)
    ckpt_path = _ckpt_json(checkpoint)
    ident = frame_identity(ckpt_path, plan, recipe)
    path = work / (FRAME_STEM + ".qmodel.json")
    if path.is_file():
        template = load_qmodel(path)
        if isinstance(template, S5QModel) and template.meta.get("frame_identity") == ident:
            return template
        say(f"{path} was made for another checkpoint, plan or calibration; calibrating again")
    ckpt = load_checkpoint(ckpt_path)
    say(f"calibrating the S5 frame on {recipe.calib_digits} training digits ({recipe.calibration.value})")
    calib, _ = split_arrays(Split.TRAIN, recipe.calib_digits, recipe.window, recipe.data)
    meta = {"source_checkpoint": os.fspath(ckpt_path), "frame_identity": ident}
    template = _headroom(ptq_s5(ckpt.config, ckpt.params, plan, calib, meta, recipe.calibration), recipe.state_headroom)
    save_qmodel(template, path)
    return template


#: The S5 family of the shared QAT loop (:mod:`hwssm.train.qat_loop`).
S5_QAT = QATFamily(
    prepare=lambda ckpt_path, ckpt, plan, recipe, work, say: prepare_frame_s5(ckpt_path, plan, recipe, work, say=say),
    build=lambda template, T, ckpt, aparam: S5QATModel(build_s5_frame(template, T), ckpt.config, ckpt.params, aparam),
    ssm_names=S5_SSM_NAMES,
    identity={"family": "s5"},
    run_name="S5 QAT",
    a_symbol="Λ̄",
)


def train_qat_s5(checkpoint: str | Path, plan: PrecisionPlan, aparam: AParam, recipe: QATRecipe, work: str | Path, *,
                 device: str | None = None, time_budget: float | None = None, start_time: float | None = None,
                 export_reserve: float = 120.0, stop_after: int | None = None,
                 say: Callable[[str], None] = print) -> Outcome:
    """Train (or resume) an S5 QAT run until ``recipe.epochs``, the time budget, or ``stop_after``
    (arguments as :func:`hwssm.train.qat_train.train_qat`)."""
    return train_loop(S5_QAT, checkpoint, plan, aparam, recipe, work, device=device, time_budget=time_budget,
                      start_time=start_time, export_reserve=export_reserve, stop_after=stop_after, say=say)
