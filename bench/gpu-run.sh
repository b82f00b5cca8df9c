#!/usr/bin/env bash
# The one call for a lent GPU: what the CUDA path loads, run for real. nvidia-smi, `envnet devices`, the kernel
# selfcheck (tiled kernels against the plain ones on CUDA; the plain ones on OpenCL), the product bench (envnet, envnet-v2), the PyTorch bench
# beside it, then a 1-epoch run of every registered model (as `envnet models` lists them) on synthetic data, each once
# on CUDA; the comparison table last.
# Expects the self-contained envnet in ./devicebin (made on the dev machine):
#   dotnet publish Training -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true \
#     -p:EnableCompressionInSingleFile=true -o devicebin
# Run from the repository root:  OUT=/some/folder bash bench/gpu-run.sh   (the device tool sets $OUT)
#   bash bench/gpu-run.sh --dry-run   prints every step with its time limit and runs none (the tests check it).
# One timeout: the whole script stops within GPU_RUN_SECONDS (default 540 s); each step also has its own cap, so one
# hang cannot eat the lease, and a step that would start with under 5 s left is skipped. Give the device call
# timeout_s 570 and carry devicebin (git-ignored): run(command='bash bench/gpu-run.sh', carry=['devicebin'], timeout_s=570).
# Environment: ENVNET (default ./devicebin/envnet), OUT (default ./gpu-out), GPU_RUN_SECONDS, PYTHON (default python3).
set -u
DRY_RUN=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    *) echo "usage: bash bench/gpu-run.sh [--dry-run]" >&2; exit 2 ;;
  esac
done
OUT="${OUT:-./gpu-out}"
ENVNET="${ENVNET:-./devicebin/envnet}"
PYTHON="${PYTHON:-python3}"
TOTAL="${GPU_RUN_SECONDS:-540}"
START=$SECONDS
LOG="$OUT/gpu-run.log"
[ "$DRY_RUN" = 1 ] || mkdir -p "$OUT"

say() { if [ "$DRY_RUN" = 1 ]; then echo "$*"; else echo "$*" | tee -a "$LOG"; fi; }
# step CAP COMMAND...: runs COMMAND under min(CAP, time left); in a dry run prints it instead.
step() {
  local cap=$1; shift
  local left=$((TOTAL - (SECONDS - START)))
  local limit=$((cap < left ? cap : left))
  if [ "$DRY_RUN" = 1 ]; then echo "would run (timeout ${cap}s): $*"; return 0; fi
  if [ "$limit" -lt 5 ]; then say "=== $* skipped: ${left}s of ${TOTAL}s left"; return 0; fi
  say "=== $* (timeout ${limit}s)"
  timeout "$limit" "$@" 2>&1 | tee -a "$LOG"
  say "--- exit ${PIPESTATUS[0]}"
}

say "gpu-run: ${TOTAL}s in all, envnet $ENVNET, results in $OUT"
step 15 nvidia-smi -L
step 20 "$ENVNET" devices
step 80 "$ENVNET" selfcheck --accelerator cuda --batch 4
step 40 "$ENVNET" selfcheck --accelerator opencl --batch 1
step 100 "$ENVNET" bench --model envnet --batch 64 --accelerator cuda --steps 20 --json "$OUT/envnet-bench.json"
step 90 "$ENVNET" bench --model envnet-v2 --batch 64 --accelerator cuda --steps 10 --json "$OUT/envnet-v2-bench.json"
step 45 "$PYTHON" bench/reference/envnet_reference.py --model envnet --batch 64 --json "$OUT/torch-fp32.json"
step 50 "$PYTHON" bench/reference/envnet_reference.py --model envnet-v2 --batch 64 --json "$OUT/torch-v2-fp32.json"

# Every registered model, one epoch of one fold on CUDA: each loads the kernels its layers reach.
models=$(timeout 60 "$ENVNET" models | awk 'NR > 1 && $2 ~ /^[0-9]+$/ { print $1 }')
if [ -z "$models" ]; then say "gpu-run: '$ENVNET models' listed no model"; [ "$DRY_RUN" = 1 ] && exit 1; fi
step 30 "$ENVNET" synth --out "$OUT/synth" --classes 10 --clips-per-class-per-fold 2
for model in $models; do
  step 60 "$ENVNET" train --data "$OUT/synth" --model "$model" --epochs 1 --fold 1 --batch 16 --test-crops 1 \
    --freqresp-every 0 --accelerator cuda --out "$OUT/runs/$model" --cache "$OUT/cache"
done

if [ "$DRY_RUN" = 1 ]; then echo "would print the comparison of $OUT/*-bench.json and $OUT/torch-*.json"; exit 0; fi
# The comparison last, so it is what the reply's tail shows.
"$PYTHON" - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
rows = [("EnvNet.Gpu fp32", "envnet-bench.json"), ("PyTorch eager fp32", "torch-fp32.json"),
        ("EnvNet.Gpu fp32 (v2)", "envnet-v2-bench.json"), ("PyTorch eager fp32 (v2)", "torch-v2-fp32.json")]
print(f"{'run':26} {'model':10} {'step ms':>8} {'samples/s':>10} {'GFLOP/s':>8}")
for label, name in rows:
    path = os.path.join(out, name)
    if not os.path.exists(path):
        print(f"{label:26} (missing: {name})"); continue
    r = json.load(open(path))
    print(f"{label:26} {r['model']:10} {r['step_ms']:8.2f} {r['samples_per_second']:10.0f} {r['step_gflops']:8.0f}")
for model, name in (("envnet", "envnet-bench.json"), ("envnet-v2", "envnet-v2-bench.json")):
    path = os.path.join(out, name)
    if not os.path.exists(path): continue
    print(f"\nEnvNet.Gpu {model} per layer (ms):")
    for l in json.load(open(path))["layers"]:
        if l['forward_ms'] + l['backward_ms'] >= 0.02:
            print(f"  {l['layer']:44} fwd {l['forward_ms']:8.3f} bwd {l['backward_ms']:8.3f}")
runs = os.path.join(out, "runs")
if os.path.isdir(runs):
    print("\n1-epoch runs on CUDA (metrics.csv written):")
    for model in sorted(os.listdir(runs)):
        ok = os.path.exists(os.path.join(runs, model, "metrics.csv"))
        print(f"  {model:16} {'ok' if ok else 'FAILED'}")
PY
