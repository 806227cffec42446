"""Profile-guided optimization of a Verilator build (the ``"fast"`` recipe of :mod:`hwssm.verify.build`).

Build instrumented (``-fprofile-generate``), run :data:`~hwssm.verify.build.PGO_TRAIN_CYCLES`
cycles of synthetic digits (:func:`pgo_pixels`) through cocotb (:func:`train`), then recompile
the fast-path objects with ``-fprofile-use`` (:func:`remake`). Moved out of ``build.py``
unchanged.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
from pathlib import Path

from .. import config, procs
from ..errors import HwssmError
from .build import PGO_TRAIN_CYCLES, SIM_TOP, TB_MODULE, BuildOptions, _launcher, _tail, cocotb_runner
from .contract import CoreContract

__all__ = ["pgo_pixels", "train", "remake"]


def _fast_objects(bdir: Path) -> list[Path]:
    """The objects compiled with ``OPT_FAST`` (the model's fast-path classes, support
    classes and user sources such as cocotb's main), read from Verilator's makefiles."""
    names = []
    for mk in (bdir / "Vtop_classes.mk", bdir / "Vtop.mk"):
        try:
            text = mk.read_text()
        except OSError:
            continue
        for m in re.finditer(r"^(VM_CLASSES_FAST|VM_SUPPORT_FAST|VM_USER_CLASSES)\s*\+?=((?:[^\n]*\\\n)*[^\n]*)", text, re.M):
            names += m.group(2).replace("\\", " ").split()
    return [bdir / f"{n}.o" for n in names]


def pgo_pixels(seq_len: int, n: int) -> "np.ndarray":
    """Deterministic synthetic digits for PGO training: (n, seq_len) uint8, sparse strokes
    of varied intensity on a zero background, like sMNIST."""
    import numpy as np

    rng = np.random.default_rng(12345)
    pix = rng.integers(1, 256, (n, seq_len)).astype(np.uint8)
    mask = rng.random((n, seq_len)) < 0.2
    return np.where(mask, pix, 0).astype(np.uint8)


def train(bdir: Path, contract: CoreContract, options: BuildOptions) -> str | None:
    """Run :data:`PGO_TRAIN_CYCLES` cycles of the instrumented executable through cocotb
    (writes the ``.gcda`` profiles); an error line or None."""
    from .outputs import RunFiles
    from .stimulus import write_pixels
    from .wrapper import load_plusargs

    files = RunFiles(bdir / "pgo-train")
    files.dir.mkdir(parents=True, exist_ok=True)
    per_digit = contract.cycles_per_digit or PGO_TRAIN_CYCLES
    n = max(1, min(math.ceil(PGO_TRAIN_CYCLES / per_digit), options.max_pixels // contract.seq_len))
    write_pixels(files.pixels, pgo_pixels(contract.seq_len, n))
    plusargs = files.plusargs(n, in_gap=0, out_stall=0, seed=1, stall_limit=2 * per_digit + 10_000, drain=64)
    plusargs += [f"+hwssm_max_cycles={PGO_TRAIN_CYCLES}", *load_plusargs(contract)]
    try:
        cocotb_runner().test(test_module=TB_MODULE, hdl_toplevel=SIM_TOP, hdl_toplevel_lang="verilog", build_dir=bdir,
                             test_dir=files.dir, plusargs=plusargs, results_xml=str(files.results), log_file=files.log)
    except (SystemExit, RuntimeError, OSError) as exc:
        return f"PGO training run failed ({exc}): {_tail(files.log)}"
    if not any(bdir.glob("*.gcda")):
        return f"PGO training run wrote no profile: {_tail(files.log)}"
    return None


def remake(bdir: Path, overrides: str, log_file: Path) -> None:
    """Recompile the fast-path objects (and relink) with make variables ``overrides``."""
    # small designs are compiled as one Vtop__ALL.cpp (with OPT_FAST), large ones class by class
    stale = _fast_objects(bdir) + list(bdir.glob("*__ALL.o")) + list(bdir.glob("*.a")) + list(bdir.glob("*.fast.gch"))
    for p in stale + [bdir / SIM_TOP]:
        p.unlink(missing_ok=True)
    env = config.find_verilator().env()
    launcher = _launcher()
    if launcher:
        env["OBJCACHE"] = launcher
    env["MAKEFLAGS"] = overrides
    jobs = str(max(1, len(os.sched_getaffinity(0))))
    with open(log_file, "a") as f:
        rc = procs.run(["make", "-j", jobs, "-C", str(bdir), "-f", "Vtop.mk", "VM_TRACE=0"], stdout=f,
                       stderr=subprocess.STDOUT, env=env)
    if rc != 0 or not (bdir / SIM_TOP).is_file():
        raise HwssmError(f"profile-guided rebuild failed (make exit {rc}); log {log_file}: {_tail(log_file)}")


