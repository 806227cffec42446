"""QAT runs: calibrate the frame, train the integer network, export a golden-checked QModel.

Recipe (:class:`QATRecipe`)
---------------------------
- The frame (formats, fracs, zero points, tables) is the PTQ model of the float checkpoint
  under the plan, calibrated on the first ``calib_digits`` training digits, with every state
  frac raised by ``state_headroom``; it never changes (:mod:`hwssm.train.qat_frame`), and the
  export writes exactly it. Training starts from the float parameters, so epoch 0 is that
  PTQ model.
- AdamW, no dropout. SSM parameters (see :data:`hwssm.train.qat_model.SSM_NAMES`) at
  ``ssm_lr`` without weight decay; ``decoder.W`` at ``lr/T`` with ``weight_decay·T`` (the
  sum-pool scale, as in float training); the rest at ``lr``. Linear warm-up, cosine to 0.
- Forward and loss are the integer network's (cross-entropy of ``logit·2**-logit_frac``),
  so the validation accuracy logged each epoch is the golden engine's.

Work directory
--------------
``frame.qmodel.json/.npz``   the PTQ model that fixes the frame (written once, read on resume)
``state.pt``                 torch.save of state dicts (master parameters, optimizer, scheduler,
                             RNG, epoch, run identity) — private, read with ``weights_only=True``
``log.json``                 one entry per finished epoch
``final.npz``                after the last epoch: the QAT model's integer logits on the test
                             digits (the export compares the golden engine against them)

A resumed run continues where it stopped; one whose epochs are all done goes straight to
the export. Resuming with another checkpoint, plan, parameterization or recipe is an error.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..data.mnist import Split, load_mnist, sequences
from ..data.registry import DataSpec, data_identity, split_sequences
from ..errors import HwssmError
from ..io import atomic_path, write_json
from ..model.checkpoint import Checkpoint, load_checkpoint
from ..quant.calibrate import Calibration
from ..quant.plan import PrecisionPlan
from .qat_frame import build_frame
from .qat_model import SSM_NAMES, AParam, QATModel
from .qat_prepare import (FRAME_STEM, _ckpt_json, calibration_ranges, frame_identity,  # noqa: F401  (moved there)
                          prepare_frame, with_state_headroom)

STATE_FILE = "state.pt"
LOG_FILE = "log.json"
FINAL_FILE = "final.npz"


@dataclasses.dataclass(frozen=True)
class QATRecipe:
    """Hyperparameters of a QAT run.

    Parameters
    ----------
    epochs, batch_size : int
    lr, ssm_lr : float
        Peak learning rates of the ordinary and SSM parameter groups.
    weight_decay : float
    warmup_epochs : float
    seed : int
        Data order.
    calib_digits : int
        Training digits for the PTQ calibration that fixes the frame.
    calibration : Calibration
    train_limit, val_limit, test_limit : int or None
        Use only the first n digits of a split (tests, smoke runs).
    window : int or None
        Use only the middle ``window`` pixels of each digit (tests, smoke runs).
    state_headroom : int
        Bits of range the state formats give up for resolution: every state frac is the
        calibrated one plus ``state_headroom`` (values beyond the smaller range saturate, as the
        contract clips the state at every step anyway). 0 keeps the PTQ formats.
    data : DataSpec or None
        The dataset (:mod:`hwssm.data.registry`); None: smnist. Named in ``to_json`` and the
        frame identity only when it is not smnist.
    """

    epochs: int = 8
    batch_size: int = 128
    lr: float = 1e-3
    ssm_lr: float = 1e-4
    weight_decay: float = 0.0
    warmup_epochs: float = 0.1
    seed: int = 0
    calib_digits: int = 256
    calibration: Calibration = Calibration.MINMAX
    train_limit: int | None = None
    val_limit: int | None = None
    test_limit: int | None = None
    window: int | None = None
    state_headroom: int = 0
    data: DataSpec | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "calib_digits"):
            if getattr(self, name) < 1:
                raise HwssmError(f"--{name.replace('_', '-')} must be >= 1, not {getattr(self, name)}")
        for name in ("lr", "ssm_lr"):
            if not getattr(self, name) > 0:
                raise HwssmError(f"--{name.replace('_', '-')} must be > 0, not {getattr(self, name)}")
        if self.weight_decay < 0 or self.warmup_epochs < 0:
            raise HwssmError("--weight-decay and --warmup-epochs must be >= 0")
        for name in ("train_limit", "val_limit", "test_limit", "window"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise HwssmError(f"--{name.replace('_', '-')} must be >= 1, not {v}")
        if not 0 <= self.state_headroom <= 16:
            raise HwssmError(f"--state-headroom must lie in [0, 16], not {self.state_headroom}")
        if not isinstance(self.calibration, Calibration):
            raise HwssmError(f"calibration must be a Calibration, not {self.calibration!r}")

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["calibration"] = self.calibration.value
        del d["data"]
        if data_identity(self.data) is not None:
            d["data"] = data_identity(self.data)
        return d


@dataclasses.dataclass
class Outcome:
    """Where :func:`train_qat` left the run (``done`` False when it stopped early)."""

    model: QATModel
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


def resolve_device(name: str | None) -> torch.device:
    """``cuda`` or ``cpu``; None picks CUDA when available."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cuda", "cpu"):
        raise HwssmError(f"unknown device {name!r}; expected 'cuda' or 'cpu'")
    if name == "cuda" and not torch.cuda.is_available():
        raise HwssmError("--device cuda asked for, but torch sees no CUDA device")
    return torch.device(name)


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


def param_groups(model: QATModel, recipe: QATRecipe, T: int) -> list[dict]:
    """AdamW groups: SSM (ssm_lr, no decay), decoder W (lr/T, decay·T), the rest (lr, decay)."""
    ssm_names = SSM_NAMES[model.aparam]
    ssm, dec, rest = [], [], []
    for name, p in model.named_parameters():
        if name.startswith("layers.") and name.rsplit(".", 1)[-1] in ssm_names:
            ssm.append(p)
        elif name == "dec_W":
            dec.append(p)
        else:
            rest.append(p)
    return [
        {"params": ssm, "lr": recipe.ssm_lr, "weight_decay": 0.0},
        {"params": dec, "lr": recipe.lr / T, "weight_decay": recipe.weight_decay * T},
        {"params": rest, "lr": recipe.lr, "weight_decay": recipe.weight_decay},
    ]


def lr_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Linear warm-up, then cosine decay to 0."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup_steps) / span)))


@torch.no_grad()
def predict(model: QATModel, x: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 500):
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


def _identity(ckpt_path: Path, plan: PrecisionPlan, aparam: AParam, recipe: QATRecipe) -> dict:
    doc = json.loads(ckpt_path.read_text())
    return {"checkpoint_sha256": doc.get("arrays_sha256"), "plan": plan.to_json(), "aparam": aparam.value,
            "recipe": recipe.to_json()}


def _read_log(work: Path) -> list[dict]:
    path = work / LOG_FILE
    if not path.is_file():
        return []
    try:
        log = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise HwssmError(f"{path}: unreadable log ({exc})") from None
    return log if isinstance(log, list) else []


def train_qat(checkpoint: str | Path, plan: PrecisionPlan, aparam: AParam, recipe: QATRecipe, work: str | Path, *,
              device: str | None = None, time_budget: float | None = None, start_time: float | None = None,
              export_reserve: float = 120.0, stop_after: int | None = None,
              say: Callable[[str], None] = print) -> Outcome:
    """Train (or resume) a QAT run until ``recipe.epochs``, the time budget, or ``stop_after``.

    ``time_budget`` (seconds from ``start_time``): no epoch is started that is not expected to
    end ``export_reserve`` seconds before the budget runs out.
    """
    start_time = time.monotonic() if start_time is None else start_time
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    ckpt_path = _ckpt_json(checkpoint)
    ckpt = load_checkpoint(ckpt_path)
    ident = _identity(ckpt_path, plan, aparam, recipe)
    if aparam is AParam.CONTINUOUS and any(k.endswith(".Abar_re") for k in ckpt.params):
        raise HwssmError(f"{ckpt_path} gives Ā/B̄ directly (discrete overrides): use --param discrete or frozen")
    state = None
    state_path = work / STATE_FILE
    if state_path.is_file():
        try:
            state = torch.load(state_path, map_location="cpu", weights_only=True)
        except Exception as exc:  # corrupt or foreign file
            raise HwssmError(f"{state_path}: cannot read the resume state ({str(exc).splitlines()[0]})") from None
        if state.get("identity") != ident:
            raise HwssmError(f"{state_path} belongs to another run (checkpoint, plan, parameterization or recipe "
                             "differ); use another --work directory or the same options")

    template = prepare_frame(ckpt_path, plan, recipe, work, ckpt=ckpt, say=say)

    x_train, y_train = _tensors(Split.TRAIN, recipe.train_limit, recipe.window, dev, recipe.data)
    x_val, y_val = _tensors(Split.VAL, recipe.val_limit, recipe.window, dev, recipe.data)
    T = x_train.shape[1]
    frame = build_frame(template, T)
    torch.manual_seed(recipe.seed)
    model = QATModel(frame, ckpt.config, ckpt.params, aparam).to(dev)
    n_train = len(x_train)
    steps_per_epoch = math.ceil(n_train / recipe.batch_size)
    total = steps_per_epoch * recipe.epochs
    warm = round(recipe.warmup_epochs * steps_per_epoch)
    opt = torch.optim.AdamW(param_groups(model, recipe, T), betas=(0.9, 0.999))
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
        say(f"new QAT run: plan {plan.name}, Ā {aparam.value}, {steps_per_epoch} steps/epoch, T={T}, "
            f"device {device_name(dev)}; start (PTQ) val acc {100 * vacc:.2f}%")

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
