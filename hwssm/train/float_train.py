"""Float training of the S4D or S5 classifier on sMNIST, resumable across processes.

The family comes from the config (:class:`S4DConfig` or :class:`~hwssm.model.s5_config.S5Config`);
what differs by family (module, SSM parameter names, default recipe) is in :mod:`hwssm.train.families`.

Recipe (:class:`Recipe`)
------------------------
- AdamW. The SSM parameters (log_dt, log_A_real, A_imag, B_re, B_im) train at ``ssm_lr``
  without weight decay; every other parameter at ``lr`` with ``weight_decay``.
- Linear warm-up over ``warmup_epochs``, then cosine decay to 0 at ``epochs`` (per step).
- Channel dropout tied over time after the GELU (training only).
- Initialization: :func:`hwssm.model.checkpoint.init_params`, except ``decoder.W`` scaled by 1/T.
  Because the network sum-pools over T = 784 steps, the decoder is trained as if it read the
  mean (its group has learning rate ``lr/T`` and weight decay ``weight_decay·T``: AdamW on
  ``W' = T·W`` at ``lr``, exactly). The exported network is the plain sum-pool network.
- bf16 autocast for the mixing Linear layers on CUDA (``amp``); the SSM kernel (complex128),
  the FFT convolution, pooling and decoder stay in float32. Final evaluation is all float32.
- Data: :data:`Split.TRAIN` (55,000) for training, :data:`Split.VAL` (5,000) for the per-epoch
  check, :data:`Split.TEST` once at the end; all kept on the device as uint8.

Work directory
--------------
``resume.pt``
    torch.save of state dicts (model, optimizer, scheduler, RNG states, epoch, log) — private,
    read back with ``weights_only=True``. Written atomically after every epoch.
``log.json``
    One entry per finished epoch: train/val loss and accuracy, learning rate, seconds, device.

A run is identified by its :class:`S4DConfig` and :class:`Recipe`; resuming with different
ones is an error. Data order is a function of (seed, epoch) and the RNG states are restored,
so a resumed run gives the same parameters as an uninterrupted one on the same device.
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
from ..model.checkpoint import init_params
from ..model.config import S4DConfig
from ..model.s5_config import S5Config
from .families import SSM_PARAM_NAMES, torch_model
from .float_export import export, final_metrics, numpy_test_accuracy, summary_meta  # noqa: F401  (moved there)
from .s4d_torch import S4DTorch, n_params

RESUME_FILE = "resume.pt"
LOG_FILE = "log.json"
#: sMNIST sequence length (the decoder's learning-rate scale).
T_SMNIST = 784


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Hyperparameters of a float training run.

    Parameters
    ----------
    epochs : int
        Passes over the training split.
    batch_size : int
        Sequences per optimizer step.
    lr, ssm_lr : float
        Peak learning rates of the ordinary and the SSM parameter groups.
    weight_decay : float
        AdamW decoupled weight decay of the ordinary group (the SSM group has none).
    dropout : float
        Channel dropout probability after the GELU.
    warmup_epochs : float
        Linear warm-up length, in epochs.
    seed : int
        Initialization, data order and dropout seed.
    amp : bool
        bf16 autocast of the mixing Linear layers (CUDA only).
    train_limit, val_limit : int or None
        Use only the first n sequences of the split (tests, smoke runs).
    data : DataSpec or None
        The dataset (:mod:`hwssm.data.registry`); None: smnist. Named in ``to_json`` (and so in
        the resume identity) only when it is not smnist.
    """

    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-2
    ssm_lr: float = 1e-3
    weight_decay: float = 0.01
    dropout: float = 0.1
    warmup_epochs: float = 1.0
    seed: int = 0
    amp: bool = True
    train_limit: int | None = None
    val_limit: int | None = None
    data: DataSpec | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise HwssmError(f"--{name.replace('_', '-')} must be >= 1, not {getattr(self, name)}")
        for name in ("lr", "ssm_lr"):
            if not getattr(self, name) > 0:
                raise HwssmError(f"--{name.replace('_', '-')} must be > 0, not {getattr(self, name)}")
        if self.weight_decay < 0 or self.warmup_epochs < 0:
            raise HwssmError("--weight-decay and --warmup-epochs must be >= 0")
        if not 0 <= self.dropout < 1:
            raise HwssmError(f"--dropout must lie in [0, 1), not {self.dropout}")
        for name in ("train_limit", "val_limit"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise HwssmError(f"--{name.replace('_', '-')} must be >= 1, not {v}")

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        del d["data"]
        if data_identity(self.data) is not None:
            d["data"] = data_identity(self.data)
        return d


@dataclasses.dataclass
class Outcome:
    """Where a call of :func:`train` left the run.

    ``done`` is False when it stopped early (time budget or ``stop_after``); ``epoch`` counts the
    finished epochs. ``model`` holds the parameters after ``epoch`` epochs (on ``device``).
    """

    config: S4DConfig | S5Config
    recipe: Recipe
    model: S4DTorch  # or S5Torch
    device: torch.device
    done: bool
    epoch: int
    log: list[dict]


def resolve_device(name: str | None) -> torch.device:
    """``cuda`` or ``cpu``; None picks CUDA when available."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cuda", "cpu"):
        raise HwssmError(f"unknown device {name!r}; expected 'cuda' or 'cpu'")
    if name == "cuda" and not torch.cuda.is_available():
        raise HwssmError("--device cuda asked for, but torch sees no CUDA device")
    return torch.device(name)


def initial_params(config: S4DConfig | S5Config, seed: int, T: int = T_SMNIST) -> dict[str, np.ndarray]:
    """:func:`init_params` with ``decoder.W`` scaled by 1/T (the sum-pool's length)."""
    params = init_params(config, seed)
    params["decoder.W"] = (params["decoder.W"] / T).astype(np.float32)
    return params


def param_groups(model: S4DTorch, recipe: Recipe, T: int = T_SMNIST) -> list[dict]:
    """AdamW groups: SSM (ssm_lr, no decay), decoder.W (lr/T, decay·T), the rest (lr, decay)."""
    ssm_names = SSM_PARAM_NAMES[model.config.family]
    return adamw_groups(model, lambda name: name.startswith("layers.") and name.rsplit(".", 1)[-1] in ssm_names,
                        "decoder.W", recipe.lr, recipe.ssm_lr, recipe.weight_decay, T)


def adamw_groups(model, is_ssm, decoder: str, lr: float, ssm_lr: float, weight_decay: float, T: int) -> list[dict]:
    """The three AdamW groups of float training and QAT: the parameters whose name ``is_ssm``
    (``ssm_lr``, no decay), the decoder weight named ``decoder`` (lr/T and decay·T: it reads a
    sum over T steps) and the rest (lr, decay)."""
    ssm, dec, rest = [], [], []
    for name, p in model.named_parameters():
        (ssm if is_ssm(name) else dec if name == decoder else rest).append(p)
    return [
        {"params": ssm, "lr": ssm_lr, "weight_decay": 0.0},
        {"params": dec, "lr": lr / T, "weight_decay": weight_decay * T},
        {"params": rest, "lr": lr, "weight_decay": weight_decay},
    ]


def lr_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Learning-rate multiplier at optimizer step ``step`` (0-based): linear warm-up, then cosine to 0."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup_steps) / span)))


def _split_tensors(split: Split, limit: int | None, device: torch.device,
                   data: DataSpec | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    if data_identity(data) is None:
        images, labels = load_mnist(split)
        x = sequences(images)[:limit]
        y = labels[:limit]
    else:
        x, y = split_sequences(data, split.value, limit)
    return (torch.from_numpy(np.ascontiguousarray(x).copy()).to(device),
            torch.from_numpy(y.astype(np.int64)).to(device))


def _autocast(device: torch.device, amp: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda")


@torch.no_grad()
def evaluate(model: S4DTorch, x: torch.Tensor, y: torch.Tensor, *, amp: bool = False,
             batch_size: int = 1000) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` on uint8 sequences ``x`` (n, T), labels ``y``."""
    was_training = model.training
    model.eval()
    loss = torch.zeros((), device=x.device, dtype=torch.float64)
    correct = torch.zeros((), device=x.device, dtype=torch.int64)
    for i in range(0, len(x), batch_size):
        with _autocast(x.device, amp):
            logits = model(x[i:i + batch_size])
        loss += F.cross_entropy(logits.float(), y[i:i + batch_size], reduction="sum").double()
        correct += (logits.argmax(dim=1) == y[i:i + batch_size]).sum()
    model.train(was_training)
    n = max(1, len(x))
    return loss.item() / n, correct.item() / n


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def _save_resume(work: Path, state: dict) -> None:
    with atomic_path(work / RESUME_FILE) as tmp:
        torch.save(state, tmp)


def _load_resume(work: Path, config: S4DConfig | S5Config, recipe: Recipe) -> dict | None:
    path = work / RESUME_FILE
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt or foreign file
        raise HwssmError(f"{path}: cannot read the resume state ({str(exc).splitlines()[0]})") from None
    if state.get("config") != config.to_json():
        raise HwssmError(f"{path} is a run of another model ({json.dumps(state.get('config'))}); "
                         "use another --work directory or the same model options")
    if state.get("recipe") != recipe.to_json():
        raise HwssmError(f"{path} is a run of another recipe ({json.dumps(state.get('recipe'))}); "
                         "use another --work directory or the same training options")
    return state


def train(config: S4DConfig | S5Config, recipe: Recipe, work: str | Path, *, device: str | None = None,
          time_budget: float | None = None, start_time: float | None = None,
          stop_after: int | None = None, say: Callable[[str], None] = print) -> Outcome:
    """Train (or resume training) until ``recipe.epochs``, the time budget, or ``stop_after``.

    Parameters
    ----------
    config, recipe
        The model and the training recipe (they must match a resume state in ``work``).
    work
        Work directory: ``resume.pt`` and ``log.json`` (created if missing).
    device
        ``"cuda"``, ``"cpu"`` or None (CUDA when available).
    time_budget
        Seconds (from ``start_time``, default now) after which no new epoch is started unless
        it is expected to finish, with room left for the final evaluation and export.
    stop_after
        Finish at most this many epochs in this call.
    say
        Progress lines (one per epoch).
    """
    start_time = time.monotonic() if start_time is None else start_time
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    state = _load_resume(work, config, recipe)

    x_train, y_train = _split_tensors(Split.TRAIN, recipe.train_limit, dev, recipe.data)
    x_val, y_val = _split_tensors(Split.VAL, recipe.val_limit, dev, recipe.data)
    T = x_train.shape[1]
    n_train = len(x_train)
    steps_per_epoch = math.ceil(n_train / recipe.batch_size)
    total_steps = steps_per_epoch * recipe.epochs
    warmup_steps = round(recipe.warmup_epochs * steps_per_epoch)

    torch.manual_seed(recipe.seed)
    model = torch_model(config, initial_params(config, recipe.seed, T), recipe.dropout).to(dev)
    optimizer = torch.optim.AdamW(param_groups(model, recipe, T), betas=(0.9, 0.999),
                                  fused=dev.type == "cuda")
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, warmup_steps, total_steps))
    epoch, log = 0, []
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng_cpu"])
        if dev.type == "cuda" and state.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(state["rng_cuda"], dev)
        epoch = int(state["epoch"])
        log = [e for e in _read_log(work) if e["epoch"] <= epoch]
        say(f"resumed from {work / RESUME_FILE} at epoch {epoch}/{recipe.epochs}")
    else:
        say(f"new run: {n_params(model)} parameters, {n_train} training sequences, "
            f"{steps_per_epoch} steps/epoch, device {_device_name(dev)}")

    done_now = 0
    eval_seconds = 0.0
    while epoch < recipe.epochs:
        if stop_after is not None and done_now >= stop_after:
            break
        if time_budget is not None and log:
            recent = [e["seconds"] for e in log[-3:]]
            needed = 1.15 * max(recent) + 3 * eval_seconds + 15.0
            if time.monotonic() - start_time + needed > time_budget:
                say(f"time budget: stopping after epoch {epoch}/{recipe.epochs}")
                break
        t_epoch = time.monotonic()
        model.train()
        gen = torch.Generator().manual_seed(recipe.seed * 1_000_003 + epoch)
        order = torch.randperm(n_train, generator=gen).to(dev)
        loss_sum = torch.zeros((), device=dev, dtype=torch.float64)
        correct = torch.zeros((), device=dev, dtype=torch.int64)
        for i in range(0, n_train, recipe.batch_size):
            idx = order[i:i + recipe.batch_size]
            xb, yb = x_train[idx], y_train[idx]
            with _autocast(dev, recipe.amp):
                logits = model(xb)
            loss = F.cross_entropy(logits.float(), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.detach().double() * len(idx)
            correct += (logits.detach().argmax(dim=1) == yb).sum()
        lr_now = optimizer.param_groups[2]["lr"]
        train_loss, train_acc = loss_sum.item() / n_train, correct.item() / n_train
        t_eval = time.monotonic()
        val_loss, val_acc = evaluate(model, x_val, y_val, amp=recipe.amp)
        eval_seconds = time.monotonic() - t_eval
        epoch += 1
        done_now += 1
        entry = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
                 "val_acc": val_acc, "lr": lr_now, "seconds": time.monotonic() - t_epoch,
                 "device": _device_name(dev), "torch": torch.__version__}
        if not all(math.isfinite(entry[k]) for k in ("train_loss", "val_loss")):
            raise HwssmError(f"training diverged at epoch {epoch} (loss {train_loss}); lower --lr")
        log.append(entry)
        write_json(work / LOG_FILE, log)
        _save_resume(work, {
            "config": config.to_json(), "recipe": recipe.to_json(), "epoch": epoch,
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
        })
        say(f"epoch {epoch}/{recipe.epochs}: train loss {train_loss:.4f} acc {100 * train_acc:.2f}% | "
            f"val loss {val_loss:.4f} acc {100 * val_acc:.2f}% | lr {lr_now:.2e} | {entry['seconds']:.1f} s")
    return Outcome(config, recipe, model, dev, epoch >= recipe.epochs, epoch, log)


def _read_log(work: Path) -> list[dict]:
    path = work / LOG_FILE
    if not path.is_file():
        return []
    try:
        log = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise HwssmError(f"{path}: unreadable training log ({exc})") from None
    if not isinstance(log, list):
        raise HwssmError(f"{path}: the training log must be a JSON list")
    return log
