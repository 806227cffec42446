"""Benchmark of the cocotb + Verilator simulation of a reference design (``hwssm bench sim``).

Two builds of the same Verilog are timed in the same run, alternately, so their ratio is
meaningful on a shared, noisy machine:

fast
    the current recipe (:data:`hwssm.verify.build.RECIPES` ``"fast"``: one time slot per
    clock cycle and, for a reference-size core, profile-guided C++);
baseline
    the recipe of build version 3 (``"baseline"``: ``always #5 clk = ~clk``, two time
    slots per cycle, ``g++ -O2``, no profile); same Verilog, Verilator flags and wrapper
    logic.

With ``against=DIR`` (``hwssm bench sim --against DIR``) the baseline is instead the fast
recipe on another RTL directory of the same model (e.g. the previous generator's Verilog):
the ratio then measures a change of the generated Verilog, and the identical-outputs rule
checks that both designs compute the same integers (in the same cycles, unless their cycle
models differ: then the values only, and ``digits_per_s`` carries the cycle saving).

Each run is one simulation process (cocotb start-up included, build excluded) over the
same ``digits`` digits; every run's outputs must be byte-identical to the first
baseline run's (values and cycle numbers), or the benchmark fails. Each build reports its
best run: wall time (the ``digits_per_s_per_process`` of ``hwssm sim``), the CPU time of
the process (less sensitive to other load), and the testbench's own start-to-done time
(``simulator_digits_per_s``: the simulation without the process's start-up).
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import config
from ..errors import HwssmError
from .build import PGO_TRAIN_CYCLES, Build, BuildOptions, build
from .pgo import pgo_pixels
from .contract import CoreContract, load_contract
from .outputs import RunFiles, read_outputs
from .runner import RunOptions, simulate
from .stimulus import write_pixels

__all__ = ["BASELINE", "reference_design", "run_bench"]

#: What the baseline is, as the JSON record states it.
BASELINE = ("build version 3 recipe: HDL clock 'always #5 clk = ~clk' (two time slots per cycle), g++ -O2, "
            "no PGO; same Verilog, Verilator flags and wrapper logic")
#: The shipped model of the reference designs the benchmark simulates.
MODEL = "s4d_hetero.qmodel.json"


def reference_design(lanes: int, *, root: Path | None = None, log=None) -> tuple[Path, Path]:
    """(RTL directory, model file) of the hetero reference design on ``lanes`` lanes
    (:data:`hwssm.hw.references.REFERENCES`): the committed ``rtl/<name>`` when it exists,
    else generated into the cache as the reference's own design point (which needs
    Amaranth), so that it equals the committed one. HwssmError (one line) when no reference
    design of the hetero model has ``lanes`` lanes. ``root``: the checkout holding
    ``models/`` and ``rtl/`` (default: the source checkout holding this package)."""
    from ..hw.references import REFERENCES, find_reference

    ref = find_reference(MODEL, lanes)
    if ref is None:
        have = ", ".join(str(r.lanes) for r in REFERENCES if r.model == MODEL)
        raise HwssmError(f"no reference design of {MODEL} on {lanes} lanes (there are: {have} lanes); "
                         "pass --rtl DIR to time another design")
    root = config.source_root() if root is None else Path(root)
    if root is None:
        raise HwssmError("the reference designs (rtl/) are in the source repository: run hwssm bench from a checkout")
    model = root / "models" / ref.model
    committed = root / "rtl" / ref.name
    if (committed / "manifest.json").is_file():
        return committed, model
    if not model.is_file():
        raise HwssmError(f"no committed RTL rtl/{ref.name} and no model {model} to generate it from")
    from ..quant.qmodel_io import load_qmodel
    from .rtlgen import rtl_dir

    return rtl_dir(load_qmodel(model), ref.design, log=log), model


def _pixels(contract: CoreContract, digits: int) -> tuple[np.ndarray, str]:
    """The first ``digits`` MNIST test digits, or synthetic ones when the data set is not
    available or the core is not for 784-step sequences."""
    if contract.seq_len == 784:
        try:
            from ..data import Split, load_mnist, sequences

            images, _ = load_mnist(Split.TEST)
            return sequences(images[:digits]), f"mnist-test[0:{digits}]"
        except (HwssmError, OSError):
            pass
    return pgo_pixels(contract.seq_len, digits), "synthetic"


def _timed_run(b: Build, files: RunFiles, digits: int, stall: int) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, testbench seconds) of one simulation process; the last is
    the test's own start-to-done time (inf when it wrote none). HwssmError when it fails."""
    files.timing.unlink(missing_ok=True)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    err = simulate(b, files, digits, RunOptions(), stall)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if err:
        raise HwssmError(f"benchmark simulation ({b.options.recipe}) failed: {err}")
    tb = files.tb_seconds()
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), float("inf") if tb is None else tb


def _outputs(files: RunFiles, contract: CoreContract, cycles: bool) -> bytes:
    """What two runs must agree on: the value streams (every r, logit and class), and with
    ``cycles`` also the files of cycle numbers (handshakes, steps)."""
    o = read_outputs(files, contract.act_width, contract.logit_width)
    values = b"".join(np.ascontiguousarray(a, dtype=np.int64).tobytes() + b"|" for a in (o.dbg, o.logits, o.classes))
    if not cycles:
        return values
    return values + b"\0".join(p.read_bytes() for p in (files.outputs, files.inputs, files.steps))


def _rates(wall: float, cpu: float, tb: float, digits: int, cycles: int) -> dict:
    return {
        "seconds_per_digit": round(wall / digits, 4),
        "digits_per_s": round(digits / wall, 4),
        "cycles_per_s": round(digits * cycles / wall),
        "cpu_seconds_per_digit": round(cpu / digits, 4),
        "simulator_digits_per_s": round(digits / tb, 4) if tb != float("inf") else None,
    }


def run_bench(lanes: int = 16, digits: int = 2, repeats: int = 2, *, rtl: str | Path | None = None,
              against: str | Path | None = None, pgo: bool | None = None, log=None) -> dict:
    """Measure and return the benchmark record (see the module docstring).

    ``rtl``: another RTL directory instead of the hetero reference design on ``lanes``
    lanes; ``against``: an RTL directory of the same model whose fast build is the
    baseline (default: the baseline recipe on the same Verilog); ``pgo``:
    :attr:`BuildOptions.pgo` of the fast builds (None: automatic).
    """
    if digits < 1 or repeats < 1:
        raise HwssmError("digits and repeats must be >= 1")
    if rtl is None:
        rtl, model = reference_design(lanes, log=log)
    else:
        rtl, model = Path(rtl), None
    contract = load_contract(rtl)
    if model is not None and model.is_file() and contract.model_digest:
        from ..quant.qmodel_io import load_qmodel
        from .runner import check_model

        check_model(contract, load_qmodel(model))
    if against is None:
        base_build = build(contract, BuildOptions(recipe="baseline"), log=log)
        base_record = {"recipe": "baseline", "what": BASELINE}
    else:
        other = load_contract(against)
        if (other.model_digest, other.seq_len) != (contract.model_digest, contract.seq_len):
            raise HwssmError(f"--against {against}: not the same model and sequence length as {rtl} "
                             "(compare two designs of one model)")
        base_build = build(other, BuildOptions(recipe="fast", pgo=pgo), log=log)
        base_record = {"recipe": "fast", "rtl": str(against), "lanes": other.lanes,
                       "what": f"the fast recipe on the RTL in {against}", "pgo": base_build.pgo}
    builds = {"baseline": base_build, "fast": build(contract, BuildOptions(recipe="fast", pgo=pgo), log=log)}
    # designs with another cycle model (e.g. another Pipeline.mix_cols) must agree on every
    # value, not on cycle numbers
    same_cycles = base_build.contract.cycles_per_digit == contract.cycles_per_digit
    pixels, source = _pixels(contract, digits)
    cycles = contract.cycles_per_digit or 0
    stall = 2 * cycles + 10_000 if cycles else 1_000_000
    base = config.cache_dir() / "sim" / "runs"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=base))
    best = {r: (float("inf"), float("inf"), float("inf")) for r in builds}
    reference = None
    try:
        files = RunFiles(work)
        write_pixels(files.pixels, pixels)
        for i in range(repeats):
            for recipe, b in builds.items():
                if log:
                    log(f"run {i + 1}/{repeats}: {recipe}, {digits} digit(s)")
                wall, cpu, tb = _timed_run(b, files, digits, stall)
                out = _outputs(files, b.contract, same_cycles)
                if reference is None:
                    reference = out
                elif out != reference:
                    raise HwssmError(f"benchmark: the {recipe} build's outputs differ from the baseline's; "
                                     "run the simulation tests")
                best[recipe] = (min(best[recipe][0], wall), min(best[recipe][1], cpu), min(best[recipe][2], tb))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    fast, slow = best["fast"], best["baseline"]
    return {
        "design": {"rtl": str(rtl), "lanes": contract.lanes, "cycles_per_digit": contract.cycles_per_digit,
                   "model_digest": (contract.model_digest or "")[:16] or None},
        "digits": digits,
        "pixels": source,
        "repeats": repeats,
        "recipe": "fast",
        "pgo": builds["fast"].pgo,
        "pgo_train_cycles": PGO_TRAIN_CYCLES if builds["fast"].pgo else None,
        **_rates(*fast, digits, cycles),
        "baseline": {**base_record, "cycles_per_digit": base_build.contract.cycles_per_digit,
                     **_rates(*slow, digits, base_build.contract.cycles_per_digit or 0)},
        "ratio": round(slow[0] / fast[0], 3),
        "ratio_cpu": round(slow[1] / fast[1], 3),
        "outputs_identical": "values and cycles" if same_cycles else "values",
        "timing": "per simulation process (cocotb start-up included, build excluded); best of the repeats, "
                  "recipes alternated",
        "build_seconds": {r: round(b.seconds, 1) for r, b in builds.items()},
        "build_cached": {r: b.cached for r, b in builds.items()},
    }
