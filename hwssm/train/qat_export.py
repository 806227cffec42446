"""Export of a finished QAT run: the QModel, checked by the golden engine, and its result files.

:func:`export_qat` takes the :class:`~hwssm.train.qat_train.Outcome` of
:func:`~hwssm.train.qat_train.train_qat` and writes ``<out>.qmodel.json/.npz``,
``<out>.log.json``, ``<out>.training.png`` and the result JSON.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..data.mnist import Split
from ..errors import HwssmError
from ..io import write_json
from ..quant.qmodel_io import save_qmodel
from .qat_train import FINAL_FILE, Outcome, final_logits, split_arrays

__all__ = ["export_qat"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_qat(outcome: Outcome, out: str | Path, *, result: str | Path | None = None, golden_digits: int | None = None,
               say: Callable[[str], None] = print) -> dict:
    """Write the QModel of a finished run, check it with the golden engine, write the result.

    Writes ``<out>.qmodel.json/.npz`` (meta: plan, parameterization, accuracies, golden-vs-QAT
    agreement), ``<out>.log.json``, ``<out>.training.png`` and the result JSON (default
    ``<out>.result.json``). The golden engine runs on the first ``golden_digits`` test digits
    (all when None; 0 skips it) and its predictions are compared with the QAT model's own
    (``final.npz``). Returns the result dict.
    """
    from ..golden.engine import run as golden_run
    from ..quant.qmodel_io import qmodel_paths
    from ..report.qat import plot_qat

    if not outcome.done:
        raise HwssmError("the QAT run has not finished its epochs")
    work = outcome.work
    fin = work / FINAL_FILE
    if not fin.is_file():
        final_logits(outcome, say)
    with np.load(fin, allow_pickle=False) as z:
        qat_logits, labels, qat_eval_s = z["logits"], z["labels"], float(z["seconds"])
    r = outcome.recipe
    qat_pred = qat_logits.argmax(1)
    qat_acc = float((qat_pred == labels).mean())
    jpath, _ = qmodel_paths(out)
    seconds = sorted(e["seconds"] for e in outcome.log)
    train_secs = sorted(e.get("train_seconds", e["seconds"]) for e in outcome.log)
    meta = {
        "quantization": "qat",
        "parameterization": outcome.aparam.value,
        "source_checkpoint": os.path.relpath(outcome.checkpoint_path, jpath.parent),
        "float_test_accuracy": outcome.checkpoint.meta.get("test_accuracy"),
        "plan": outcome.plan.name,
        "calibration": r.calibration.value,
        "calibration_digits": r.calib_digits,
        "recipe": r.to_json(),
        "epochs": outcome.epoch,
        "start_val_accuracy": outcome.start.get("val_acc"),
        "final_val_accuracy": outcome.log[-1]["val_acc"] if outcome.log else None,
        "qat_test_accuracy": qat_acc,
        "test_digits": int(len(labels)),
        "seconds_per_epoch": seconds[len(seconds) // 2] if seconds else None,
        "train_seconds_per_epoch": train_secs[len(train_secs) // 2] if train_secs else None,
        "training_device": ", ".join(sorted({e["device"] for e in outcome.log})) or None,
        "frac_policy": (f"fixed for the whole run: PTQ calibration ({r.calibration.value}) of the starting float "
                        f"model, state fracs + {r.state_headroom}"),
        "state_headroom": r.state_headroom,
        "torch": ", ".join(sorted({e.get("torch", "?") for e in outcome.log})) or torch.__version__,
    }
    qm = outcome.model.to_qmodel(meta)
    n = len(labels) if golden_digits is None else min(golden_digits, len(labels))
    if n > 0:
        x_test, _ = split_arrays(Split.TEST, r.test_limit, r.window, r.data)
        t0 = time.monotonic()
        g = golden_run(qm, x_test[:n])
        gsecs = time.monotonic() - t0
        agree = float((g.pred == qat_pred[:n]).mean())
        same = float(np.all(g.logits == qat_logits[:n], axis=1).mean())
        gacc = float((g.pred == labels[:n]).mean())
        meta.update({"golden_test_accuracy": gacc, "golden_digits": int(n), "golden_qat_agreement": agree,
                     "golden_qat_logits_equal": same, "golden_seconds": gsecs})
        say(f"golden engine: test accuracy {100 * gacc:.2f}% on {n} digits ({gsecs:.1f}s); predictions agree "
            f"with QAT on {100 * agree:.3f}%, logits identical on {100 * same:.3f}%")
        if same < 1.0:
            bad = np.flatnonzero(~np.all(g.logits == qat_logits[:n], axis=1))
            meta["golden_qat_first_mismatch"] = int(bad[0])
            say(f"warning: golden and QAT logits differ on {len(bad)} digits (first: test digit {bad[0]})")
        qm = dataclasses.replace(qm, meta=meta)
    path = save_qmodel(qm, out)
    stem = jpath.with_name(jpath.name[: -len(".qmodel.json")])
    write_json(stem.with_name(stem.name + ".log.json"), outcome.log)
    if outcome.log:
        gacc = meta.get("golden_test_accuracy")
        plot_qat(outcome.log, stem.with_name(stem.name + ".training.png"), start_val_acc=outcome.start.get("val_acc"),
                 test_acc=gacc, title=f"QAT {outcome.plan.name}, Ā {outcome.aparam.value}: test "
                                      f"{100 * (gacc if gacc is not None else qat_acc):.2f}% "
                                      f"({'golden engine' if gacc is not None else 'QAT forward'})")
    res = {
        "name": stem.name, "qmodel": os.fspath(path), "qmodel_sha256": _sha(path.with_name(stem.name + ".qmodel.npz")),
        "digest": qm.digest(), "plan": outcome.plan.name, "plan_code": outcome.plan.code,
        "parameterization": outcome.aparam.value, "seed": r.seed,
        "footprint_bits": qm.footprint_bits, "float32_bits": qm.float32_bits, "compression": qm.compression,
        "lut_bits": qm.lut_bits, "qat_eval_seconds": qat_eval_s, **meta,
    }
    write_json(Path(result) if result else stem.with_name(stem.name + ".result.json"), res)
    say(f"wrote {path} ({qm.footprint_bits} bits, {qm.compression:.2f}x smaller than float32)")
    return res
