#!/usr/bin/env bash
# Training and verification runs on the GPU host, several at once, resumable across commands.
#
# The GPU host gives one command at most 10 minutes, so every run here is resumable: its state
# lives in .devstate/<run>/ (ignored), which comes back as $OUT/devstate.tar.gz and travels to
# the next command (`carry`). Runs that share the host run concurrently (the models are small:
# one GPU is mostly idle under one of them), each under its own time budget.
#
# Usage (from the repository root, on the GPU host):
#   RUNS="s5_float psmnist_float listops_float sim" BUDGET=480 OUT=$OUT bash device/run.sh
#
# Runs (each writes .devstate/<run>/ and its log <run>.log there):
#   s5_float        float S5 on sMNIST, the Q-S5 architecture (L=4, H=96, P=64, J=1, BatchNorm,
#                   half GLU); epochs fixed on its first command from a timed calibration epoch so
#                   that the whole run takes about S5_TOTAL seconds (default 960)
#   psmnist_float   float S4D on psMNIST (permutation seed 0), 60 epochs
#   listops_float   float S4D on ListOps (token encoder), H=128, 24 epochs
#   psmnist_hetero  QAT of psmnist_float with the heterogeneous plan, 16 epochs
#   listops_qat8    QAT of listops_float at 8 bits everywhere, 4 epochs
#   s5_qat8         QAT of s5_float at 8 bits everywhere, S5_QAT_EPOCHS epochs (default 4), seed SEED
#   s5_hetero       QAT of s5_float with S5_HETERO_PLAN (default A8x12-B4C4D4-W4-a8-h, 7.7x smaller
#                   than float32), S5_QAT_EPOCHS epochs, seed SEED
#   s5_all          s5_float, then s5_qat8 and s5_hetero for each seed of S5_SEEDS (default "0 1 2")
#                   in the time left of the same command; every run resumes in the next command
#   s5_report       `hwssm report s5` once s5_float exists (waits for it), resumable through its records
#   gpu_checks      the S5 QAT scan check (Triton vs CPU, timing) and the CUDA-only QAT tests
#   sim             RTL check of rtl/hetero_P16 on SIM_DIGITS test digits from SIM_START
#                   (sim/device_10k.sh, SIM_JOBS processes; needs .whl and .mnist)
# Environment: BUDGET (seconds of training per command, default 480), OUT (results folder).
# Exit status 0 when every run ended (finished or stopped by its budget) without an error.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/out}
BUDGET=${BUDGET:-480}
RUNS=${RUNS:-}
STATE=$ROOT/.devstate
mkdir -p "$OUT" "$STATE"
export PYTHONPATH=$ROOT HWSSM_DATA=$ROOT/.mnist HWSSM_CACHE=$ROOT/.devcache PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
hw() { "$PY" -m hwssm.cli "$@"; }

s5_float() {
    local d=$STATE/s5_float
    mkdir -p "$d"
    if [ ! -f "$d/epochs" ]; then
        # one timed epoch over 6,000 sequences (120 steps) under the same concurrency
        rm -rf /tmp/s5cal
        hw train float --family s5 --epochs 1 --train-limit 6000 --val-limit 500 \
            --out /tmp/s5cal/m --work /tmp/s5cal/w || return 1
        "$PY" - "$d/epochs" "${S5_TOTAL:-960}" <<'EOF' || return 1
import json, sys
sec = json.load(open("/tmp/s5cal/w/log.json"))[-1]["seconds"] * 60000 / 6000
epochs = max(10, min(150, int(float(sys.argv[2]) / (sec * 1.1))))
open(sys.argv[1], "w").write(str(epochs))
print(f"s5_float: {sec:.1f} s per epoch measured; {epochs} epochs")
EOF
    fi
    hw train float --family s5 --epochs "$(cat "$d/epochs")" --time-budget "$BUDGET" \
        --out "$d/s5_float" --work "$d/work"
}

psmnist_float() {
    local d=$STATE/psmnist_float
    hw train float --data psmnist --epochs 60 --time-budget "$BUDGET" \
        --out "$d/s4d_psmnist_float" --work "$d/work"
}

listops_float() {
    local d=$STATE/listops_float
    hw train float --data listops --H 128 --epochs 24 --time-budget "$BUDGET" \
        --out "$d/s4d_listops_float" --work "$d/work"
}

psmnist_hetero() {
    local d=$STATE/psmnist_hetero
    hw qat --data psmnist --model "$STATE/psmnist_float/s4d_psmnist_float" --plan hetero \
        --calibration percentile --state-headroom 2 --ssm-lr 5e-4 --epochs 16 \
        --time-budget "$BUDGET" --out "$d/s4d_psmnist_hetero" --work "$d/work"
}

listops_qat8() {
    local d=$STATE/listops_qat8
    hw qat --data listops --model "$STATE/listops_float/s4d_listops_float" --plan uniform8 \
        --calibration minmax --state-headroom 2 --ssm-lr 1e-4 --epochs 4 \
        --time-budget "$BUDGET" --out "$d/s4d_listops_qat8" --work "$d/work"
}

s5_qat() {
    # QAT of s5_float with plan $1 (uniform8: Q-S5's fully quantized point; hetero: S5_HETERO_PLAN),
    # seed $2, training budget $3 seconds; golden check on S5_GOLDEN test digits (all 10,000 are
    # scored again on the CPU host)
    local plan=$1 seed=$2 budget=$3 stem=s5_qat8 cal=minmax lr=1e-4
    if [ "$plan" = hetero ]; then
        # weights at 4 bits (the GLU's too: W8 leaves the S5 at 6.1x), Λ̄ 8, state 12, per mode: 7.7x
        plan=${S5_HETERO_PLAN:-A8x12-B4C4D4-W4-a8-h} stem=s5_hetero cal=percentile lr=5e-4
    fi
    [ "$seed" = 0 ] || stem=${stem}_seed$seed
    local d=$STATE/$stem
    mkdir -p "$d"
    hw qat --model "$STATE/s5_float/s5_float" --plan "$plan" --calibration "$cal" \
        --state-headroom 2 --ssm-lr "$lr" --epochs "${S5_QAT_EPOCHS:-4}" \
        --golden-digits "${S5_GOLDEN:-500}" --export-reserve 60 --seed "$seed" \
        --time-budget "$budget" --out "$d/$stem" --work "$d/work" > "$d/$stem.log" 2>&1
}

s5_qat8() { s5_qat uniform8 "${SEED:-0}" "$BUDGET"; }
s5_hetero() { s5_qat hetero "${SEED:-0}" "$BUDGET"; }

s5_all() {
    # s5_float, then (in the same command, when it has finished and at least 150 s are left) the
    # 8-bit and heterogeneous QAT runs for every seed in S5_SEEDS, all at once
    local t0=$SECONDS
    if [ ! -f "$STATE/s5_float/s5_float.json" ]; then s5_float || return 1; fi
    [ -f "$STATE/s5_float/s5_float.json" ] || return 0
    local left=$(( BUDGET - (SECONDS - t0) ))
    [ "$left" -ge 150 ] || return 0
    local pids=() rc=0 seed plan
    for seed in ${S5_SEEDS:-0 1 2}; do
        for plan in uniform8 hetero; do s5_qat "$plan" "$seed" "$left" & pids+=($!); done
    done
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    tail -n 3 "$STATE"/s5_qat8*/*.log "$STATE"/s5_hetero*/*.log
    return $rc
}

s5_report() {
    # `hwssm report s5` (Q-S5's PTQ settings, golden engine on 10,000 digits) once s5_float exists;
    # every finished row is a cached record, copied into .devstate/s5_report/sweep to resume elsewhere
    local d=$STATE/s5_report
    mkdir -p "$d"
    while [ ! -f "$STATE/s5_float/s5_float.json" ]; do sleep 10; done
    [ -d "$d/sweep" ] && mkdir -p "$HWSSM_CACHE" && cp -r "$d/sweep" "$HWSSM_CACHE/"
    timeout -k 5 $(( BUDGET + 30 )) "$PY" -m hwssm.cli report s5 --model "$STATE/s5_float/s5_float.json" \
        --jobs "${S5_REPORT_JOBS:-8}" --root "$d/reports" > "$d/report.log" 2>&1
    local rc=$?
    rm -rf "$d/sweep.new" && cp -r "$HWSSM_CACHE/sweep" "$d/sweep.new" && rm -rf "$d/sweep" && mv "$d/sweep.new" "$d/sweep"
    tail -n 5 "$d/report.log"
    [ "$rc" = 124 ] && return 0 || return $rc
}

gpu_checks() {
    # the fused S5 QAT scan on the GPU against its CPU path, timed; then the CUDA-only QAT tests
    "$PY" -m hwssm.train.qat_s5_scan_check || return 1
    "$PY" -m pytest -q -p no:cacheprovider tests/train/test_qat_s5_scan.py tests/train/test_qat_s5.py \
        tests/train/test_qat.py
}

sim() {
    local d=$STATE/sim_${SIM_START:-0}
    mkdir -p "$d"
    OUT=$d DIGITS=${SIM_DIGITS:-3000} START=${SIM_START:-0} JOBS=${SIM_JOBS:-10} \
        bash sim/device_10k.sh
}

if [ "${1:-}" = --one ]; then "$2"; exit $?; fi

# Each run under a hard limit (BUDGET + HARD_MARGIN seconds), so the state always comes back.
HARD=$(( BUDGET + ${HARD_MARGIN:-75} ))
nvidia-smi --query-gpu=name,memory.used --format=csv,noheader 2>/dev/null || true
pids=()
for run in $RUNS; do
    mkdir -p "$STATE/$run"
    ( echo "== $run $(date -u +%FT%TZ)"
      OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} timeout -k 15 "$HARD" bash "$0" --one "$run"
      echo "== $run exit $? $(date -u +%FT%TZ)" ) > "$STATE/$run/$run.log" 2>&1 &
    pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
for run in $RUNS; do tail -n 4 "$STATE/$run/$run.log"; done
grep -h "exit [1-9]" "$STATE"/*/*.log && rc=1
# what comes back: the state and logs of every run, resume files included (small models)
tar -C "$ROOT" -czf "$OUT/devstate.tar.gz.part" .devstate && mv "$OUT/devstate.tar.gz.part" "$OUT/devstate.tar.gz"
ls -la "$OUT"
exit $rc
