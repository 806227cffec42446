"""Dask clusters: ``hwssm sim --scheduler`` (digits spread over workers) and a hardware sweep point on
``distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1)``; no worker outlives it."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from hwssm.errors import HwssmError
from hwssm.explore.pool import Parallelism, open_runner
from hwssm.explore.sim_cluster import chunks

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")


def _descendants(root: int) -> set[int]:
    """Live, non-zombie processes below ``root`` (from /proc)."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parent[int(entry.name)] = int(fields[1])
    out, frontier = set(), {root}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - out
        out |= frontier
    return out


def test_chunks_cover_the_digits_in_order():
    assert chunks(3, 2) == [(0, 2), (2, 3)]
    assert chunks(1, 4) == [(0, 1)]
    assert chunks(100, 2, max_chunk=48) == [(0, 34), (34, 68), (68, 100)]
    for n, w in ((7, 3), (200, 5), (5, 1)):
        c = chunks(n, w)
        assert c[0][0] == 0 and c[-1][1] == n and all(a[1] == b[0] for a, b in zip(c, c[1:]))
        assert len(c) >= min(n, w) and max(hi - lo for lo, hi in c) <= 48


def test_missing_distributed_names_the_cluster_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(HwssmError, match=r"'cluster' extra .*hwssm\[cluster\]"):
        open_runner(Parallelism(scheduler="tcp://127.0.0.1:1"))


@pytest.fixture(scope="module")
def cluster_env(tmp_path_factory):
    """A fresh cache for the parent and the workers (they inherit the environment when spawned)."""
    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("HWSSM_CACHE")
    os.environ["HWSSM_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("HWSSM_CACHE", None)
    else:
        os.environ["HWSSM_CACHE"] = old


@pytest.mark.verilator
@pytest.mark.synth
@pytest.mark.slow
def test_sim_and_hardware_sweep_on_a_process_cluster(cluster_env, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    from hwssm import targets
    from hwssm.cli import main
    from hwssm.explore.spec import SweepSpec
    from hwssm.explore.sweep import run_sweep
    from hwssm.explore.cache import RecordCache
    from hwssm.quant.plan import parse_code
    from hwssm.quant.qmodel_io import save_qmodel
    from hwssm.quant.random_qmodel import random_qmodel

    before = _descendants(os.getpid())
    model = save_qmodel(random_qmodel(4, 2, 1, seed=11), tmp_path / "small")
    hw_model = save_qmodel(random_qmodel(4, 2, 1, plan=parse_code("A6x6-W6-a6"), seed=2), tmp_path / "hw")
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cl:
        addr = cl.scheduler_address
        # three digits over the two workers: each builds the Verilator model by its content key in its cache
        assert main(["sim", "--model", str(model), "--lanes", "3", "--indices", "0,7,42", "--scheduler", addr,
                     "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["ok"] and out["digits"] == 3 and out["mismatches"] == 0 and out["errors"] == []
        assert out["cycles_per_digit"] == out["model_cycles_per_digit"] and out["jobs"] == 2
        # the same digits again: the workers fetch the build from the cache
        assert main(["sim", "--model", str(model), "--lanes", "3", "--indices", "0,7,42", "--scheduler", addr,
                     "--json"]) == 0
        again = json.loads(capsys.readouterr().out)
        assert again["ok"] and again["build_cached"] is True
        # a hardware point (Verilog, Yosys, nextpnr) as a Dask task
        spec = SweepSpec(model=hw_model, lanes=(1,), devices=(targets.ECP5_25K,), limit=2)
        res = run_sweep(spec, Parallelism(scheduler=addr), cache=RecordCache(tmp_path / "records"))
        assert res.failed == 0, res.errors
        (p,) = res.points
        assert p["status"] == "ok" and p["lut"] > 0 and p["fmax_mhz"] > 0 and p["cycles_per_digit"] > 784
        with distributed.Client(addr) as client:
            worker_pids = set(client.run(os.getpid).values())
        assert len(worker_pids) == 2 and worker_pids <= _descendants(os.getpid())
        # the simulations and tools the workers started run below them, and are gone with their tasks
        assert all(not (_descendants(w) - worker_pids) for w in worker_pids)
    deadline = time.monotonic() + 30
    while _left(before) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _left(before), f"processes outlived the cluster: {_left(before)}"
    assert not any(Path(f"/proc/{w}").exists() and _state(w) != "Z" for w in worker_pids)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def _left(before: set[int]) -> dict[int, str]:
    """New processes below this one, except multiprocessing's resource tracker (started by the
    first spawned process, it lives as long as this test process and exits with it)."""
    out = {}
    for pid in _descendants(os.getpid()) - before:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "resource_tracker" not in cmd:
            out[pid] = cmd
    return out
