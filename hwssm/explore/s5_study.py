"""The Q-S5 reproduction: Q-S5's sMNIST PTQ settings as hwssm S5 plans, PTQ'd and scored by the golden engine.

Q-S5 (Abreu, Pedersen, Heckel, Pierro, "Q-S5: Towards Quantized State Space Models", 2024) quantizes
with Google's ``aqt`` library: every matrix or Hadamard product of the network quantizes its two
operands per tensor, symmetric, with a float scale recomputed from the operands on every call
(dynamic); products accumulate and every other operation (norm, GELU, sigmoid, residual add,
mean-pool, the sum of the real and imaginary readout terms) stays in float. Their
``QuantizationConfig`` (``s5/qssm_aqt.py``) has seven widths; the run scripts
(``bin/run_smnist_all.sh``, ``bin/run_*_w4a8-ssm8.sh``, ``*-a8.sh``) name the settings:

=====================  =====================================================================
``a_precision``        Λ̄ in Λ̄·x (in the parallel scan also Λ̄·Λ̄)
``b_precision``        B̄ in B̄u
``c_precision``        C̃ in C̃x
``d_precision``        D in D·u
``non_ssm_precision``  encoder, GLU dense and decoder weights
``ssm_act_precision``  the SSM's operands: u in B̄u and D·u, x (and the scan's partial B̄u sums) in Λ̄·x and C̃x
``non_ssm_act_precision``  the dense layers' inputs (pixel, GELU output, pooled features)
=====================  =====================================================================

"W4A8 with SSM weights at 8 bits" is ``a=b=c=d=8, non_ssm=4``; "W4A8 with Λ̄ at 8 bits" is
``a=8, b=c=d=non_ssm=4``; plain "W4A8" is every weight at 4 (Λ̄ included); W2A8 alike; both
activation widths are 8 in every row.

hwssm's plan (:mod:`hwssm.quant.plan`) maps them one to one: ``A`` = a, ``B``/``C``/``D`` = b/c/d,
``W`` = non_ssm, ``a`` = the activation width (hwssm has one, for every stored activation: r, y,
g, v, z and the GELU/sigmoid tables), biases at 16 bits (hwssm's default for weights ≤ 16; Q-S5
leaves biases in float). Q-S5 has no stored state format: x and the B̄u terms are quantized as SSM
activations when they enter a product. hwssm stores the state and requantizes B̄u every step, so
each setting runs twice: :attr:`StateWidth.ACTIVATION` (x and B̄u at the activation width, the
literal reading) and :attr:`StateWidth.WIDE` (x and B̄u at :data:`WIDE_STATE` bits, what the
S4D studies found a static per-tensor state needs; it costs P·2·16 bits of state per block).
Every hwssm scale is a static power of two, per tensor (no ``-h``), calibrated min-max on
training digits; Q-S5's are float and recomputed per call.

:func:`run_s5_study` PTQs the float S5 checkpoint per plan and scores each QModel with the golden
engine on the test split; records are cached (:mod:`hwssm.explore.cache`: the accuracy of a
QModel digest is the same record a sweep would store; a row record keyed on the checkpoint,
plan, calibration, limit and hwssm version skips the PTQ on a rerun).
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Callable
from pathlib import Path

from .. import __version__
from ..errors import HwssmError
from ..model.config import Family
from ..quant.calibrate import Calibration
from ..quant.plan import PrecisionPlan, parse_code
from .cache import RecordCache, RecordKind, content_key
from .pool import Parallelism, open_runner
from .tasks import AccuracyTask, accuracy_task

__all__ = ["StateWidth", "QS5Setting", "StudyRow", "S5PlanTask", "s5_plan_task", "QS5_FLOAT", "QS5_SETTINGS", "WIDE_STATE", "study_rows",
           "run_s5_study", "s5_checkpoint", "s5_float_accuracy", "shown_path"]

Progress = Callable[[int, int], None]

#: State and B̄u width of the wide-state variant (bits).
WIDE_STATE = 16
#: Q-S5's float sMNIST accuracy (%), the baseline of their PTQ table (LayerNorm without bias).
QS5_FLOAT = 99.54


class StateWidth(enum.Enum):
    """Width of the stored state x and of the B̄u format in a row's plan.

    Members
    -------
    ACTIVATION
        x and B̄u at the activation width (Q-S5 quantizes them as SSM activations).
    WIDE
        x and B̄u at :data:`WIDE_STATE` bits.
    """

    ACTIVATION = "activation"
    WIDE = "wide"


@dataclasses.dataclass(frozen=True)
class QS5Setting:
    """One row of Q-S5's sMNIST PTQ table: its widths (``QuantizationConfig`` fields) and result.

    ``reported`` is (low, high) test accuracy in percent as Q-S5 reports it (low == high for one
    figure; W8A8 spans their five activation-function/norm variants).
    """

    label: str
    description: str
    reported: tuple[float, float]
    a_bits: int
    b_bits: int
    c_bits: int
    d_bits: int
    non_ssm_bits: int
    ssm_act_bits: int = 8
    non_ssm_act_bits: int = 8

    @property
    def act_bits(self) -> int:
        """hwssm's one activation width: the wider of Q-S5's two (equal in every row)."""
        return max(self.ssm_act_bits, self.non_ssm_act_bits)

    def plan(self, state: StateWidth) -> PrecisionPlan:
        """The hwssm S5 plan of this setting with the state (and B̄u) width ``state``."""
        x = self.act_bits if state is StateWidth.ACTIVATION else WIDE_STATE
        return parse_code(f"A{self.a_bits}x{x}-B{self.b_bits}C{self.c_bits}D{self.d_bits}"
                          f"-W{self.non_ssm_bits}-a{self.act_bits}-u{x}")

    def reported_text(self) -> str:
        lo, hi = self.reported
        return f"{lo:.1f}" if lo == hi else f"{lo:.1f}–{hi:.1f}"

    def to_json(self) -> dict:
        return {"label": self.label, "description": self.description, "reported": list(self.reported),
                "qs5_config": {"a_precision": self.a_bits, "b_precision": self.b_bits, "c_precision": self.c_bits,
                               "d_precision": self.d_bits, "non_ssm_precision": self.non_ssm_bits,
                               "ssm_act_precision": self.ssm_act_bits, "non_ssm_act_precision": self.non_ssm_act_bits}}


#: Q-S5's sMNIST PTQ settings and their reported accuracies (%), in table order.
QS5_SETTINGS: tuple[QS5Setting, ...] = (
    QS5Setting("W8A8", "every weight and activation at 8 bits", (96.27, 96.79), 8, 8, 8, 8, 8),
    QS5Setting("W4A8, SSM weights at 8", "Λ̄, B̄, C̃, D at 8 bits; encoder, GLU, decoder at 4", (96.0, 96.0), 8, 8, 8, 8, 4),
    QS5Setting("W4A8, Λ̄ at 8", "Λ̄ at 8 bits; B̄, C̃, D and the dense weights at 4", (38.0, 38.0), 8, 4, 4, 4, 4),
    QS5Setting("W4A8", "every weight at 4 bits (Λ̄ included)", (9.7, 9.7), 4, 4, 4, 4, 4),
    QS5Setting("W2A8, SSM weights at 8", "Λ̄, B̄, C̃, D at 8 bits; encoder, GLU, decoder at 2", (61.9, 61.9), 8, 8, 8, 8, 2),
    QS5Setting("W2A8", "every weight at 2 bits (Λ̄ included)", (11.3, 11.3), 2, 2, 2, 2, 2),
)


@dataclasses.dataclass(frozen=True)
class StudyRow:
    """One hwssm point of the study: a Q-S5 setting with a state width, and its plan."""

    setting: QS5Setting
    state: StateWidth

    @property
    def plan(self) -> PrecisionPlan:
        return self.setting.plan(self.state)


def study_rows(settings: tuple[QS5Setting, ...] = QS5_SETTINGS) -> list[StudyRow]:
    """Every setting at both state widths, in table order (activation-width state first)."""
    return [StudyRow(s, w) for s in settings for w in StateWidth]


def s5_checkpoint(model: str | Path):
    """The float S5 checkpoint at ``model``; HwssmError (one line) for a missing file, a QModel,
    an S4D checkpoint or an S5 model without an integer form (LayerNorm)."""
    from ..model.checkpoint import load_checkpoint
    from ..model.s5_config import Norm
    from ..quant.qmodel_io import is_qmodel_path

    path = Path(model)
    if is_qmodel_path(path):
        raise HwssmError(f"{path} is a QModel; the S5 study quantizes the float S5 checkpoint itself (give its .json)")
    json_path = path if path.suffix == ".json" else path.with_name(path.name + ".json")
    if not json_path.is_file():
        raise HwssmError(f"float S5 model {json_path} does not exist (train one: hwssm train float --family s5, "
                         "or give --model)")
    ckpt = load_checkpoint(json_path)
    if ckpt.family is not Family.S5:
        raise HwssmError(f"{json_path} is an {ckpt.family.value.upper()} checkpoint; the Q-S5 study needs a float S5 "
                         "model (hwssm train float --family s5)")
    if ckpt.config.norm is Norm.LAYER:
        raise HwssmError(f"{json_path} uses LayerNorm, which has no integer form; the study needs BatchNorm or no norm")
    return ckpt


def _row_inputs(digest: str, plan: PrecisionPlan, calib_digits: int, calibration: Calibration,
                limit: int | None) -> dict:
    return {"study": "s5", "checkpoint": digest, "plan": plan.code, "calib_digits": calib_digits,
            "calibration": calibration.value, "limit": limit, "hwssm": __version__}


def run_s5_study(model: str | Path, *, limit: int | None = None, calib_digits: int = 256,
                 calibration: Calibration = Calibration.MINMAX, parallelism: Parallelism = Parallelism(),
                 cache: RecordCache | None = None, rows: list[StudyRow] | None = None,
                 progress: Progress | None = None) -> dict:
    """PTQ the float S5 checkpoint ``model`` per study plan and score each with the golden engine.

    Parameters
    ----------
    model : path
        Float S5 checkpoint (``.json`` or stem).
    limit : int or None
        First ``limit`` test digits (None: all 10,000).
    calib_digits : int
        Training digits of the PTQ calibration (the same for every plan).
    parallelism : Parallelism
        Where the plans run (each task: PTQ, then the golden engine; :func:`s5_plan_task`).
    rows : list of StudyRow
        Default :func:`study_rows`.
    progress : callable(done, total)
        Plans finished (cached ones count from the start).

    Returns
    -------
    dict
        ``rows`` (label, reported, state, plan code, accuracy (fraction), digits, memory bits,
        float32 bits, compression, QModel digest, PTQ and golden seconds, cached),
        ``model`` (path, digest, config), calibration settings, ``limit``, ``stats``, ``errors``.
    """
    from ..data import Split, load_mnist, sequences
    from .models import checkpoint_digest

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000):
        raise HwssmError(f"--limit must be an integer in [1, 10000], not {limit!r}")
    if isinstance(calib_digits, bool) or not isinstance(calib_digits, int) or calib_digits < 1:
        raise HwssmError(f"--calib-digits must be a positive integer, not {calib_digits!r}")
    t0 = time.monotonic()
    ckpt = s5_checkpoint(model)
    cache = cache or RecordCache.default()
    digest = checkpoint_digest(ckpt)
    rows = list(rows if rows is not None else study_rows())
    plans: dict[str, PrecisionPlan] = {}
    for r in rows:
        plans.setdefault(r.plan.code, r.plan)
    results: dict[str, dict] = {}
    todo: list[str] = []
    for code, plan in plans.items():
        hit = cache.get(RecordKind.ACCURACY, content_key(RecordKind.ACCURACY, _row_inputs(
            digest, plan, calib_digits, calibration, limit)))
        if hit is not None:
            results[code] = {**hit, "cached": True}
        else:
            todo.append(code)
    total, done = len(plans), len(results)
    if progress:
        progress(done, total)
    errors: list[str] = []
    if todo:
        images, _ = load_mnist(Split.TRAIN)
        calib = sequences(images[:calib_digits])
        runner = open_runner(parallelism)
        pending: dict = {}
        ok = False
        try:
            for code in todo:
                task = S5PlanTask(ckpt.config, ckpt.params, plans[code], calib, calibration, limit, cache.root)
                pending[runner.submit(s5_plan_task, task)] = code
            while runner.pending:
                token, value, exc = runner.next_done()
                code = pending.pop(token)
                if exc is not None:
                    text = str(exc).strip().splitlines()
                    errors.append(f"{code}: {type(exc).__name__}: {text[0] if text else ''}")
                else:
                    if not value["acc_cached"]:
                        cache.put(RecordKind.ACCURACY, value["acc_key"], value["acc"], value["acc_inputs"])
                    acc = value["acc"]
                    row = {**value["info"], "accuracy": acc["accuracy"], "digits": acc["digits"],
                           "golden_seconds": acc.get("seconds")}
                    inputs = _row_inputs(digest, plans[code], calib_digits, calibration, limit)
                    cache.put(RecordKind.ACCURACY, content_key(RecordKind.ACCURACY, inputs), row, inputs)
                    results[code] = {**row, "cached": False}
                done += 1
                if progress:
                    progress(done, total)
            ok = True
        finally:
            runner.close(cancel=not ok)
    out_rows = []
    for r in rows:
        res = results.get(r.plan.code, {})
        out_rows.append({"label": r.setting.label, "description": r.setting.description,
                         "reported": list(r.setting.reported), "reported_text": r.setting.reported_text(),
                         "qs5_config": r.setting.to_json()["qs5_config"], "state": r.state.value,
                         "plan": r.plan.code, "accuracy": res.get("accuracy"), "digits": res.get("digits"),
                         "memory_bits": res.get("memory_bits"), "float32_bits": res.get("float32_bits"),
                         "compression": res.get("compression"), "qmodel_digest": res.get("qmodel_digest"),
                         "ptq_seconds": res.get("ptq_seconds"), "golden_seconds": res.get("golden_seconds"),
                         "cached": bool(res.get("cached", False))})
    computed = sum(1 for r in results.values() if not r.get("cached"))
    return {"rows": out_rows, "model": {"path": shown_path(model), "digest": digest, "config": ckpt.config.to_json(),
                                        "meta_test_accuracy": ckpt.meta.get("test_accuracy"),
                                        "meta_test_accuracy_source": ckpt.meta.get("test_accuracy_source")},
            "calib_digits": calib_digits, "calibration": calibration.value, "limit": limit,
            "wide_state_bits": WIDE_STATE, "qs5_float": QS5_FLOAT,
            "stats": {"plans": total, "computed": computed, "cached": len(results) - computed, "failed": len(errors),
                      "seconds": round(time.monotonic() - t0, 2)},
            "errors": errors}


@dataclasses.dataclass(frozen=True)
class S5PlanTask:
    """PTQ of one plan and the golden-engine accuracy of the result (runs in a pool worker).

    ``calib`` is the (n, T) uint8 calibration digits; ``cache_root`` the record cache, looked up
    for the QModel's accuracy record when reachable from the worker."""

    config: object
    params: dict
    plan: PrecisionPlan
    calib: object
    calibration: Calibration
    limit: int | None
    cache_root: Path


def s5_plan_task(task: S5PlanTask) -> dict:
    """PTQ (``hwssm.quant.ptq``), then the accuracy record of the QModel (the sweep's: keyed on its
    digest and the digits), from the cache or computed. Returns ``info`` (memory bits, float32 bits,
    compression, QModel digest, PTQ seconds), ``acc`` (the record), ``acc_key``, ``acc_inputs``, ``acc_cached``."""
    from ..quant.ptq import ptq
    from .sweep import accuracy_inputs

    t0 = time.monotonic()
    qm = ptq(task.config, task.params, task.plan, task.calib, task.calibration)
    info = {"memory_bits": qm.footprint_bits, "float32_bits": qm.float32_bits, "compression": round(qm.compression, 4),
            "qmodel_digest": qm.digest(), "ptq_seconds": round(time.monotonic() - t0, 2)}
    inputs = accuracy_inputs(qm, task.limit)
    key = content_key(RecordKind.ACCURACY, inputs)
    hit = RecordCache(task.cache_root).get(RecordKind.ACCURACY, key)
    acc = hit if hit is not None else accuracy_task(AccuracyTask(key, qm, task.limit))
    return {"info": info, "acc": acc, "acc_key": key, "acc_inputs": inputs, "acc_cached": hit is not None}


def s5_float_accuracy(ckpt, limit: int | None = None, progress: Progress | None = None) -> tuple[float, str]:
    """The float S5 model's test accuracy on the first ``limit`` digits, and where it came from.

    On the full test split the checkpoint's own ``meta["test_accuracy"]`` is taken when it covers
    10,000 digits (its ``test_accuracy_source`` says numpy float64 or torch float32); otherwise the
    numpy float64 S5 classifier runs (predictions cached on disk, :mod:`hwssm.golden.evaluate`).
    """
    import numpy as np

    from ..data import Split
    from ..golden.evaluate import float_predictions, test_pixels

    meta = ckpt.meta
    acc = meta.get("test_accuracy")
    if limit is None and isinstance(acc, float) and meta.get("test_n", 10_000) == 10_000:
        return acc, f"checkpoint meta ({meta.get('test_accuracy_source', 'unknown source')}, 10,000 test digits)"
    pixels, labels = test_pixels(Split.TEST, limit)
    pred = float_predictions(ckpt, pixels, progress)
    return float(np.mean(pred == labels)), f"float S5 model (numpy float64) on {len(labels):,} test digits"


def shown_path(path: str | Path) -> str:
    """``path`` relative to the current directory when it lies below it, else its name (no machine paths)."""
    p = Path(path)
    if not p.is_absolute():
        return str(p)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return p.name
