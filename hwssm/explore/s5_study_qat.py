"""QAT (and other saved) S5 results for the Q-S5 report: read, score when needed, group over seeds.

Two sources:

* result JSON files of ``hwssm qat`` (``models/results/*.json``, top level ``"quantization": "qat"``)
  whose model is S5: a ``"family": "s5"`` field, or else the family recorded in the JSON of their
  ``source_checkpoint`` (resolved against the current directory, then the file's directory). A
  run's accuracy is the golden engine's when ``golden_digits`` covers its ``test_digits``, else
  the QAT integer forward's (bit-exact with the golden engine where checked).
* S5 QModel files (e.g. ``models/s5_*.qmodel.json``): the golden accuracy in their meta when it
  covers all 10,000 test digits and no ``limit`` is asked for; otherwise the golden engine runs
  (the sweep's cached accuracy record of that QModel digest). A QModel whose digest a result file
  already names is not counted twice.

Runs that differ only in the seed form one group: mean ± sample std over the seeds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import HwssmError
from .cache import RecordCache, RecordKind, content_key
from .pool import Parallelism

__all__ = ["s5_qat_runs", "group_runs"]


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _family_of_checkpoint(src, base: Path) -> str | None:
    if not isinstance(src, str) or not src:
        return None
    for path in (Path(src), base / src):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict):
            return str(doc.get("family", "s4d"))
    return None


def _result_run(doc: dict, path: Path) -> dict | None:
    if doc.get("quantization") != "qat" or not isinstance(doc.get("plan_code"), str):
        return None
    family = doc.get("family") or _family_of_checkpoint(doc.get("source_checkpoint"), path.parent)
    if family != "s5":
        return None
    qat_acc, gold, n_test, n_gold = (doc.get(k) for k in ("qat_test_accuracy", "golden_test_accuracy",
                                                           "test_digits", "golden_digits"))
    if not _num(qat_acc) or not _num(n_test):
        return None
    full = _num(gold) and _num(n_gold) and n_gold >= n_test
    return {"file": path.name, "code": doc["plan_code"], "method": "qat",
            "parameterization": str(doc.get("parameterization", "?")), "seed": doc.get("seed"),
            "accuracy": float(gold if full else qat_acc), "digits": int(n_test),
            "source": "golden engine" if full else "QAT integer forward",
            "memory_bits": doc.get("footprint_bits"), "compression": doc.get("compression"),
            "digest": doc.get("digest")}


def s5_qat_runs(results_dir: str | Path, qmodel_paths, *, limit: int | None = None,
                parallelism: Parallelism = Parallelism(), cache: RecordCache | None = None,
                progress=None) -> tuple[list[dict], list[str]]:
    """Saved S5 results (see the module docstring): runs (file, plan code, method, parameterization,
    seed, accuracy fraction, digits, source, memory bits, compression) and notes (unreadable files)."""
    from ..model.config import Family
    from ..quant.qmodel_io import load_qmodel

    runs, notes = [], []
    d = Path(results_dir)
    for path in sorted(d.glob("*.json")) if d.is_dir() else ():
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            notes.append(f"{path.name}: unreadable ({type(exc).__name__})")
            continue
        run = _result_run(doc, path) if isinstance(doc, dict) else None
        if run is not None:
            runs.append(run)
    named = {r["digest"] for r in runs if r.get("digest")}
    todo = []
    for path in qmodel_paths:
        path = Path(path)
        try:
            qm = load_qmodel(path)
        except HwssmError as exc:
            notes.append(f"{path.name}: {exc}")
            continue
        if getattr(qm, "family", Family.S4D) is not Family.S5 or qm.digest() in named:
            continue
        meta = qm.meta
        recipe = meta.get("recipe") if isinstance(meta.get("recipe"), dict) else {}
        run = {"file": path.name, "code": qm.plan.code, "method": str(meta.get("quantization", "qmodel")),
               "parameterization": str(meta.get("parameterization", "—")), "seed": recipe.get("seed"),
               "memory_bits": qm.footprint_bits, "compression": round(qm.compression, 4), "digest": qm.digest()}
        gold = meta.get("golden_test_accuracy")
        if limit is None and _num(gold) and meta.get("golden_digits") == 10_000:
            runs.append({**run, "accuracy": float(gold), "digits": 10_000, "source": "QModel meta (golden engine)"})
        else:
            todo.append((run, qm))
    if todo:
        runs += _evaluate(todo, limit, parallelism, cache or RecordCache.default(), progress)
    return runs, notes


def _evaluate(todo, limit, parallelism, cache, progress) -> list[dict]:
    from .pool import open_runner
    from .sweep import CacheFirst, accuracy_inputs
    from .tasks import AccuracyTask, accuracy_task

    out, pending = [], {}
    runner = open_runner(parallelism)
    ok = False
    try:
        for run, qm in todo:
            inputs = accuracy_inputs(qm, limit)
            key = content_key(RecordKind.ACCURACY, inputs)
            hit = cache.get(RecordKind.ACCURACY, key)
            if hit is not None:
                out.append({**run, "accuracy": hit["accuracy"], "digits": hit["digits"], "source": "golden engine (cached)"})
                continue
            token = runner.submit(CacheFirst(accuracy_task, RecordKind.ACCURACY, key, cache.root), AccuracyTask(key, qm, limit))
            pending[token] = (run, key, inputs)
        total, done = len(todo), len(out)
        while runner.pending:
            token, value, exc = runner.next_done()
            run, key, inputs = pending.pop(token)
            if exc is not None:
                raise HwssmError(f"golden engine on {run['file']}: {type(exc).__name__}: {exc}")
            cache.put(RecordKind.ACCURACY, key, value, inputs)
            out.append({**run, "accuracy": value["accuracy"], "digits": value["digits"], "source": "golden engine (this run)"})
            done += 1
            if progress:
                progress(done, total)
        ok = True
    finally:
        runner.close(cancel=not ok)
    return out


def group_runs(runs: list[dict]) -> list[dict]:
    """Runs differing only in the seed, grouped by (plan code, method, parameterization), in order of
    first appearance: seeds, accuracies, ``n``, ``mean``, ``std`` (sample std; None for one run),
    the smallest digits count, memory bits and compression (of the first run), sources and files."""
    groups: dict[tuple, dict] = {}
    for r in runs:
        g = groups.setdefault((r["code"], r["method"], r["parameterization"]),
                              {k: r[k] for k in ("code", "method", "parameterization", "memory_bits", "compression")}
                              | {"seeds": [], "accuracies": [], "digits": [], "sources": [], "files": []})
        g["seeds"].append(r["seed"])
        g["accuracies"].append(r["accuracy"])
        g["digits"].append(r["digits"])
        g["sources"].append(r["source"])
        g["files"].append(r["file"])
    out = []
    for g in groups.values():
        a = np.asarray(g["accuracies"], dtype=float)
        g.update(n=len(a), mean=float(a.mean()), std=float(a.std(ddof=1)) if len(a) > 1 else None,
                 digits=min(g["digits"]), sources=sorted(set(g["sources"])))
        out.append(g)
    return out
