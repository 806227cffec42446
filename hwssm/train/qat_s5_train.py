"""The QAT loop of the S5 family: :func:`train_qat_s5`, the S5 analogue of
:func:`hwssm.train.qat_train.train_qat` (same recipe, same data, same optimizer groups, same
schedule, same log and resume state, same :class:`~hwssm.train.qat_train.Outcome`, exported by
:func:`hwssm.train.qat_export.export_qat`).

The frame is a PTQ :class:`~hwssm.quant.s5_qmodel.S5QModel` of the float checkpoint on
``recipe.calib_digits`` training digits (``recipe.calibration``: min-max or percentile), with every
state frac raised by ``recipe.state_headroom``; it is written to ``work/frame.qmodel.json``. The
forward is :class:`~hwssm.train.qat_s5_model.S5QATModel` (a plain loop over the T steps: CPU and
short windows for now; no fused GPU scan for S5 yet).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from ..data.mnist import Split
from ..errors import HwssmError
from ..io import atomic_path, write_json
from ..model.checkpoint import load_checkpoint
from ..quant.plan import PrecisionPlan
from ..quant.qmodel_io import load_qmodel, save_qmodel
from ..quant.s5_ptq import ptq_s5
from ..quant.s5_qmodel import S5QModel
from .qat_model import AParam
from .qat_s5_model import S5_SSM_NAMES, S5QATModel, build_s5_frame
from .qat_train import (FINAL_FILE, FRAME_STEM, LOG_FILE, STATE_FILE, Outcome, QATRecipe, _ckpt_json, _read_log,
                        _tensors, device_name, final_logits, frame_identity, lr_factor, predict, resolve_device,
                        split_arrays)

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


def _groups(model: S5QATModel, recipe: QATRecipe, T: int) -> list[dict]:
    """AdamW groups: SSM masters (ssm_lr, no decay), decoder W (lr/T, decay·T), the rest (lr, decay)."""
    names = S5_SSM_NAMES[model.aparam]
    ssm, dec, rest = [], [], []
    for name, p in model.named_parameters():
        (ssm if name.startswith("layers.") and name.rsplit(".", 1)[-1] in names else
         dec if name == "dec_W" else rest).append(p)
    return [{"params": ssm, "lr": recipe.ssm_lr, "weight_decay": 0.0},
            {"params": dec, "lr": recipe.lr / T, "weight_decay": recipe.weight_decay * T},
            {"params": rest, "lr": recipe.lr, "weight_decay": recipe.weight_decay}]


def train_qat_s5(checkpoint: str | Path, plan: PrecisionPlan, aparam: AParam, recipe: QATRecipe, work: str | Path, *,
                 device: str | None = None, time_budget: float | None = None, start_time: float | None = None,
                 export_reserve: float = 120.0, stop_after: int | None = None,
                 say: Callable[[str], None] = print) -> Outcome:
    """Train (or resume) an S5 QAT run until ``recipe.epochs``, the time budget, or ``stop_after``
    (arguments as :func:`hwssm.train.qat_train.train_qat`)."""
    start_time = time.monotonic() if start_time is None else start_time
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    ckpt_path = _ckpt_json(checkpoint)
    ckpt = load_checkpoint(ckpt_path)
    doc = json.loads(ckpt_path.read_text())
    ident = {"family": "s5", "checkpoint_sha256": doc.get("arrays_sha256"), "plan": plan.to_json(),
             "aparam": aparam.value, "recipe": recipe.to_json()}
    state_path = work / STATE_FILE
    state = None
    if state_path.is_file():
        try:
            state = torch.load(state_path, map_location="cpu", weights_only=True)
        except Exception as exc:  # corrupt or foreign file
            raise HwssmError(f"{state_path}: cannot read the resume state ({str(exc).splitlines()[0]})") from None
        if state.get("identity") != ident:
            raise HwssmError(f"{state_path} belongs to another run; use another --work directory or the same options")
    template = prepare_frame_s5(ckpt_path, plan, recipe, work, say=say)
    x_train, y_train = _tensors(Split.TRAIN, recipe.train_limit, recipe.window, dev, recipe.data)
    x_val, y_val = _tensors(Split.VAL, recipe.val_limit, recipe.window, dev, recipe.data)
    T = x_train.shape[1]
    torch.manual_seed(recipe.seed)
    model = S5QATModel(build_s5_frame(template, T), ckpt.config, ckpt.params, aparam).to(dev)
    n_train = len(x_train)
    steps = math.ceil(n_train / recipe.batch_size)
    total, warm = steps * recipe.epochs, round(recipe.warmup_epochs * steps)
    opt = torch.optim.AdamW(_groups(model, recipe, T), betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, warm, total))
    epoch, log, start = 0, [], {}
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng_cpu"])
        epoch, start = int(state["epoch"]), dict(state["start"])
        log = [e for e in _read_log(work) if e["epoch"] <= epoch]
        say(f"resumed {work} at epoch {epoch}/{recipe.epochs}")
    else:
        _, vloss, vacc = predict(model, x_val, y_val)
        start = {"val_loss": vloss, "val_acc": vacc}
        say(f"new S5 QAT run: plan {plan.name}, Λ̄ {aparam.value}, {steps} steps/epoch, T={T}, "
            f"device {device_name(dev)}; start (PTQ) val acc {100 * vacc:.2f}%")

    def save_state():
        with atomic_path(state_path) as tmp:
            torch.save({"identity": ident, "epoch": epoch, "start": start, "model": model.state_dict(),
                        "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                        "rng_cpu": torch.get_rng_state()}, tmp)

    done_now = 0
    while epoch < recipe.epochs and (stop_after is None or done_now < stop_after):
        if time_budget is not None and log:
            need = 1.15 * max(e["seconds"] for e in log[-3:]) + export_reserve
            if time.monotonic() - start_time + need > time_budget:
                say(f"time budget: stopping after epoch {epoch}/{recipe.epochs}")
                break
        t0 = time.monotonic()
        model.train()
        order = torch.randperm(n_train, generator=torch.Generator().manual_seed(recipe.seed * 1_000_003 + epoch))
        loss_sum, correct = 0.0, 0
        for i in range(0, n_train, recipe.batch_size):
            idx = order[i:i + recipe.batch_size].to(dev)
            logits = model(x_train[idx])
            loss = F.cross_entropy(logits, y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.detach().argmax(dim=1) == y_train[idx]).sum())
        t_train = time.monotonic() - t0
        _, val_loss, val_acc = predict(model, x_val, y_val)
        epoch += 1
        done_now += 1
        entry = {"epoch": epoch, "train_loss": loss_sum / n_train, "train_acc": correct / n_train,
                 "val_loss": val_loss, "val_acc": val_acc, "lr": opt.param_groups[2]["lr"],
                 "seconds": time.monotonic() - t0, "train_seconds": t_train, "device": device_name(dev),
                 "torch": torch.__version__}
        if not math.isfinite(entry["train_loss"]):
            raise HwssmError(f"QAT diverged at epoch {epoch} (loss {entry['train_loss']}); lower --lr")
        log.append(entry)
        write_json(work / LOG_FILE, log)
        save_state()
        say(f"epoch {epoch}/{recipe.epochs}: train loss {entry['train_loss']:.4f} acc {100 * entry['train_acc']:.2f}% "
            f"| val loss {val_loss:.4f} acc {100 * val_acc:.2f}% | {entry['seconds']:.1f}s")
    if epoch == 0 and not state_path.is_file():
        save_state()
    done = epoch >= recipe.epochs
    out = Outcome(model, ckpt, ckpt_path, plan, aparam, recipe, dev, work, done, epoch, log, start)
    if done and not (work / FINAL_FILE).is_file():
        final_logits(out, say)
    return out
