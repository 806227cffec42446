"""The results file of a sweep (:meth:`hwssm.explore.sweep.SweepResult.write`): its format
tag and version, reading it back with its schema check (:func:`load_results`), and merging
several (:func:`merge_results`).

Split out of :mod:`hwssm.explore.sweep` (which re-exports these names).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import HwssmError

__all__ = ["RESULTS_FORMAT", "RESULTS_VERSION", "load_results", "merge_results", "source_tag"]

RESULTS_FORMAT = "hwssm-sweep-results"
RESULTS_VERSION = 1


def load_results(path: str | Path) -> dict:
    """Read a results JSON written by :meth:`SweepResult.write` and check it against its schema
    (:mod:`hwssm.explore.results`); HwssmError (one line) when it is not one."""
    from ..io import read_json
    from .results import check_results

    path = Path(path)
    if not path.exists():
        raise HwssmError(f"sweep results {path} do not exist")
    d = read_json(path, "sweep results")
    if not isinstance(d, dict) or d.get("format") != RESULTS_FORMAT:
        raise HwssmError(f"{path} is not a sweep results file (format {d.get('format') if isinstance(d, dict) else None!r})")
    if d.get("version") != RESULTS_VERSION or isinstance(d.get("version"), bool):
        raise HwssmError(f"{path}: results version {d.get('version')!r} is not supported (expected {RESULTS_VERSION})")
    if not isinstance(d.get("points"), list):
        raise HwssmError(f"{path}: 'points' must be a list")
    check_results(path, d)
    return d


def merge_results(results: list[dict]) -> dict:
    """One results object from several (points concatenated in order; spec from the first).

    Results of one model merge as they are. Results of different models of the same network
    shape (e.g. PTQ plans of a float checkpoint beside QAT QModels trained from it) merge
    with every point's ``plan`` label suffixed by where it came from (``[PTQ]`` for a float
    checkpoint, ``[<qmodel file stem>]`` for a QModel) and ``sources`` listing them all.
    HwssmError when the networks differ in shape.
    """
    if not results:
        raise HwssmError("no sweep results to merge")
    out = dict(results[0])
    digests = {r.get("source", {}).get("digest") for r in results}
    if len(digests) > 1:
        shapes = {(p.get("H"), p.get("M"), p.get("P"), p.get("L")) for r in results for p in r["points"]}
        if len(shapes) > 1:
            raise HwssmError(f"the sweep results describe networks of different shapes {sorted(shapes)}; "
                             "report them separately")
        points = []
        for r in results:
            tag = source_tag(r.get("source", {}))
            points += [{**p, "plan": f"{p['plan']} [{tag}]", "source": tag} for p in r["points"]]
        out["points"] = points
        out["sources"] = [r.get("source") for r in results]
    else:
        out["points"] = [p for r in results for p in r["points"]]
    if len(results) > 1:
        out["merged_specs"] = [r.get("spec") for r in results]
    return out


def source_tag(source: dict) -> str:
    """Short name of a sweep's model: ``PTQ`` for a float checkpoint, else the QModel file stem."""
    if source.get("kind") == "checkpoint":
        return "PTQ"
    name = Path(source.get("path", "qmodel")).name
    return name.removesuffix(".json").removesuffix(".qmodel")
