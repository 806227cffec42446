"""The QAT loop shared by every model family: set-up, resume, the epoch loop, the saved state
and the final test logits (:func:`train_loop`), and the helpers it uses.

A family (S4D: :mod:`hwssm.train.qat_train`, S5: :mod:`hwssm.train.qat_s5_train`) gives the loop
a :class:`QATFamily`: how to calibrate its frame, how to build its integer network on it, the
names of its SSM parameters, and the words of its messages. The recipe, data, optimizer groups,
schedule, log, resume state and :class:`Outcome` are the same for all families (see
:mod:`hwssm.train.qat_train` for the recipe and the work directory's files).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from ..data.mnist import Split, load_mnist, sequences
from ..data.registry import DataSpec, data_identity, split_sequences
from ..errors import HwssmError
from ..io import atomic_path, write_json
from ..model.checkpoint import Checkpoint, load_checkpoint
from ..quant.plan import PrecisionPlan
from .float_train import LOG_FILE, _read_log, adamw_groups, lr_factor, resolve_device  # noqa: F401  (shared with float training)
from .qat_model import AParam
from .qat_prepare import _ckpt_json

if TYPE_CHECKING:
    from .qat_train import QATRecipe

STATE_FILE = "state.pt"
FINAL_FILE = "final.npz"


@dataclasses.dataclass(frozen=True)
class QATFamily:
    """What :func:`train_loop` needs from a model family.

    Attributes
    ----------
    prepare : callable (checkpoint path, Checkpoint, PrecisionPlan, QATRecipe, work dir, say) -> template
        The frame model (a PTQ QModel of the family), calibrated or read from the work directory.
    build : callable (template, T, Checkpoint, AParam) -> torch.nn.Module
        The family's QAT network on the frame of ``template`` for ``T`` steps (on the CPU; the
        loop moves it to the device). Called right after ``torch.manual_seed(recipe.seed)``.
    ssm_names : mapping AParam -> tuple of str
        Names of the SSM master parameters (the ``ssm_lr`` group, no weight decay).
    identity : mapping
        Keys added to the run identity kept in the resume state (``{}`` for S4D).
    check : callable (checkpoint path, Checkpoint, AParam) -> None, or None
        Refuses (HwssmError) a checkpoint the parameterization cannot train, before anything is read.
    run_name, a_symbol : str
        The first log line: "new {run_name} run: plan ..., {a_symbol} {aparam} ...".
    mismatch : str
        Appended to "STATE belongs to another run" when the resume state is of another run.
    """

    prepare: Callable[..., Any]
    build: Callable[..., torch.nn.Module]
    ssm_names: Mapping[AParam, tuple[str, ...]]
    identity: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    check: Callable[[Path, Checkpoint, AParam], None] | None = None
    run_name: str = "QAT"
    a_symbol: str = "Ā"
    mismatch: str = ""


@dataclasses.dataclass
class Outcome:
    """Where :func:`train_loop` left the run (``done`` False when it stopped early)."""

    model: torch.nn.Module
    checkpoint: Checkpoint
    checkpoint_path: Path
    plan: PrecisionPlan
    aparam: AParam
    recipe: QATRecipe
    device: torch.device
    work: Path
    done: bool
    epoch: int
    log: list[dict]
    start: dict


def device_name(dev: torch.device) -> str:
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"


def _window(x: np.ndarray, window: int | None) -> np.ndarray:
    if window is None or window >= x.shape[1]:
        return x
    start = (x.shape[1] - window) // 2
    return x[:, start:start + window]


def split_arrays(split: Split, limit: int | None, window: int | None,
                 data: DataSpec | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 pixel sequences (n, T), int64 labels) of a split (of ``data``; None: sMNIST)."""
    if data_identity(data) is not None:
        x, y = split_sequences(data, split.value, limit)
        return np.ascontiguousarray(_window(x, window)), y
    images, labels = load_mnist(split)
    x = _window(sequences(images[:limit]), window)
    return np.ascontiguousarray(x), labels[:limit].astype(np.int64)


def _tensors(split, limit, window, dev, data=None):
    x, y = split_arrays(split, limit, window, data)
    return torch.from_numpy(x.copy()).to(dev), torch.from_numpy(y.copy()).to(dev)


def param_groups(model: torch.nn.Module, recipe: QATRecipe, T: int,
                 ssm_names: Mapping[AParam, tuple[str, ...]] | None = None) -> list[dict]:
    """AdamW groups: SSM (ssm_lr, no decay), decoder W (lr/T, decay·T), the rest (lr, decay).

    ``ssm_names``: the family's SSM parameter names per parameterization (default: S4D's)."""
    if ssm_names is None:
        from .qat_model import SSM_NAMES as ssm_names
    names = ssm_names[model.aparam]
    return adamw_groups(model, lambda name: name.startswith("layers.") and name.rsplit(".", 1)[-1] in names,
                        "dec_W", recipe.lr, recipe.ssm_lr, recipe.weight_decay, T)


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 500):
    """Integer logits (int64 numpy (n, K)) of the QAT model, and (mean loss, accuracy) when
    labels are given. Evaluation mode: no states are stored."""
    was = model.training
    model.eval()
    out, loss = [], 0.0
    for i in range(0, len(x), batch_size):
        logits = model(x[i:i + batch_size])
        # logits = integer · 2**-logit_frac exactly, so the division recovers the integers
        out.append(torch.round(logits / model.consts().logit_scale).to(torch.int64).cpu())
        if y is not None:
            loss += float(F.cross_entropy(logits, y[i:i + batch_size], reduction="sum"))
    model.train(was)
    ints = torch.cat(out).numpy() if out else np.zeros((0, model.config.n_classes), np.int64)
    if y is None:
        return ints
    n = max(1, len(x))
    acc = float((np.argmax(ints, axis=1) == y.cpu().numpy()).mean()) if len(x) else 0.0
    return ints, loss / n, acc


def _resume_state(state_path: Path, ident: dict, family: QATFamily):
    """The saved state of this run, None when there is none; HwssmError for another run's or a corrupt one."""
    if not state_path.is_file():
        return None
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt or foreign file
        raise HwssmError(f"{state_path}: cannot read the resume state ({str(exc).splitlines()[0]})") from None
    if state.get("identity") != ident:
        raise HwssmError(f"{state_path} belongs to another run{family.mismatch}; use another --work directory "
                         "or the same options")
    return state


def train_loop(family: QATFamily, checkpoint: str | Path, plan: PrecisionPlan, aparam: AParam, recipe: QATRecipe,
               work: str | Path, *, device: str | None = None, time_budget: float | None = None,
               start_time: float | None = None, export_reserve: float = 120.0, stop_after: int | None = None,
               say: Callable[[str], None] = print) -> Outcome:
    """Train (or resume) a QAT run of ``family`` until ``recipe.epochs``, the time budget, or ``stop_after``.

    ``time_budget`` (seconds from ``start_time``): no epoch is started that is not expected to
    end ``export_reserve`` seconds before the budget runs out.
    """
    start_time = time.monotonic() if start_time is None else start_time
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    ckpt_path = _ckpt_json(checkpoint)
    ckpt = load_checkpoint(ckpt_path)
    doc = json.loads(ckpt_path.read_text())
    ident = {**family.identity, "checkpoint_sha256": doc.get("arrays_sha256"), "plan": plan.to_json(),
             "aparam": aparam.value, "recipe": recipe.to_json()}
    if family.check is not None:
        family.check(ckpt_path, ckpt, aparam)
    state_path = work / STATE_FILE
    state = _resume_state(state_path, ident, family)
    template = family.prepare(ckpt_path, ckpt, plan, recipe, work, say)

    x_train, y_train = _tensors(Split.TRAIN, recipe.train_limit, recipe.window, dev, recipe.data)
    x_val, y_val = _tensors(Split.VAL, recipe.val_limit, recipe.window, dev, recipe.data)
    T = x_train.shape[1]
    torch.manual_seed(recipe.seed)
    model = family.build(template, T, ckpt, aparam).to(dev)
    n_train = len(x_train)
    steps_per_epoch = math.ceil(n_train / recipe.batch_size)
    total = steps_per_epoch * recipe.epochs
    warm = round(recipe.warmup_epochs * steps_per_epoch)
    opt = torch.optim.AdamW(param_groups(model, recipe, T, family.ssm_names), betas=(0.9, 0.999))
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
        say(f"new {family.run_name} run: plan {plan.name}, {family.a_symbol} {aparam.value}, {steps_per_epoch} "
            f"steps/epoch, T={T}, device {device_name(dev)}; start (PTQ) val acc {100 * vacc:.2f}%")

    def save_state():
        with atomic_path(state_path) as tmp:
            torch.save({"identity": ident, "epoch": epoch, "start": start, "model": model.state_dict(),
                        "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                        "rng_cpu": torch.get_rng_state()}, tmp)

    done_now = 0
    while epoch < recipe.epochs:
        if stop_after is not None and done_now >= stop_after:
            break
        if time_budget is not None and log:
            need = 1.15 * max(e["seconds"] for e in log[-3:]) + export_reserve
            if time.monotonic() - start_time + need > time_budget:
                say(f"time budget: stopping after epoch {epoch}/{recipe.epochs}")
                break
        t0 = time.monotonic()
        model.train()
        gen = torch.Generator().manual_seed(recipe.seed * 1_000_003 + epoch)
        order = torch.randperm(n_train, generator=gen).to(dev)
        loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
        correct = torch.zeros((), dtype=torch.int64, device=dev)
        for i in range(0, n_train, recipe.batch_size):
            idx = order[i:i + recipe.batch_size]
            xb, yb = x_train[idx], y_train[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.detach().argmax(dim=1) == yb).sum()
        train_loss, train_acc = loss_sum.item() / n_train, correct.item() / n_train
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t_train = time.monotonic() - t0
        _, val_loss, val_acc = predict(model, x_val, y_val)
        epoch += 1
        done_now += 1
        entry = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
                 "val_acc": val_acc, "lr": opt.param_groups[2]["lr"], "seconds": time.monotonic() - t0,
                 "train_seconds": t_train, "device": device_name(dev), "torch": torch.__version__}
        if not math.isfinite(train_loss):
            raise HwssmError(f"QAT diverged at epoch {epoch} (loss {train_loss}); lower --lr")
        log.append(entry)
        write_json(work / LOG_FILE, log)
        save_state()
        say(f"epoch {epoch}/{recipe.epochs}: train loss {train_loss:.4f} acc {100 * train_acc:.2f}% | "
            f"val loss {val_loss:.4f} acc {100 * val_acc:.2f}% | {entry['seconds']:.1f}s ({t_train:.1f}s training)")
    if epoch == 0 and not state_path.is_file():
        save_state()
    done = epoch >= recipe.epochs
    out = Outcome(model, ckpt, ckpt_path, plan, aparam, recipe, dev, work, done, epoch, log, start)
    if done and not (work / FINAL_FILE).is_file():
        final_logits(out, say)
    return out


def final_logits(outcome: Outcome, say: Callable[[str], None] = print) -> None:
    """Store the QAT model's integer logits on the test digits (and the start model's) in the work dir."""
    r = outcome.recipe
    x_test, y_test = _tensors(Split.TEST, r.test_limit, r.window, outcome.device, r.data)
    t0 = time.monotonic()
    logits = predict(outcome.model, x_test)
    secs = time.monotonic() - t0
    acc = float((logits.argmax(1) == y_test.cpu().numpy()).mean())
    say(f"QAT integer forward: test accuracy {100 * acc:.2f}% on {len(x_test)} digits ({secs:.1f}s)")
    with atomic_path(outcome.work / FINAL_FILE, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, logits=logits, labels=y_test.cpu().numpy(), seconds=np.float64(secs))
