"""Determinism of the golden engine: the logits of a small random QModel are identical under 1 and
2 numba threads (HWSSM_THREADS, read by :func:`hwssm.config.threads`), across separate processes,
and in this process."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import hashlib, json, numba, numpy as np
from hwssm.golden.engine import run
from hwssm.quant.plan import parse_code
from hwssm.quant.random_qmodel import random_qmodel
qm = random_qmodel(8, 4, 2, parse_code("A8x10-B4C6D5-W6-a6-h-asym"), seed=11)
pix = np.random.default_rng(3).integers(0, 256, (7, 96)).astype(np.uint8)
res = run(qm, pix)
print(json.dumps({"sha": hashlib.sha256(res.logits.tobytes()).hexdigest(), "threads": numba.get_num_threads(),
                  "logits": res.logits.tolist()}))
"""


def _in_process() -> np.ndarray:
    from hwssm.golden.engine import run
    from hwssm.quant.plan import parse_code
    from hwssm.quant.random_qmodel import random_qmodel

    qm = random_qmodel(8, 4, 2, parse_code("A8x10-B4C6D5-W6-a6-h-asym"), seed=11)
    pix = np.random.default_rng(3).integers(0, 256, (7, 96)).astype(np.uint8)
    return run(qm, pix).logits


def _process(threads: int) -> dict:
    env = dict(os.environ, HWSSM_THREADS=str(threads), PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, timeout=600, check=True)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def test_logits_identical_across_threads_and_processes():
    one, two, again = _process(1), _process(2), _process(2)
    import numba

    assert one["threads"] == 1 and two["threads"] == again["threads"] == min(2, numba.config.NUMBA_NUM_THREADS)
    assert one["sha"] == two["sha"] == again["sha"]
    here = _in_process()
    assert hashlib.sha256(here.tobytes()).hexdigest() == one["sha"]
    assert np.array_equal(here, np.array(one["logits"]))
    assert np.unique(here).size > 3  # the logits are not trivially constant
