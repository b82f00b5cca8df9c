#!/usr/bin/env bash
# One call on the GPU machine: the OpenCL backend (the machine's OpenCL CPU device), plain kernels.
# Needs the self-contained envnet in ./devicebin (see bench/gpu-run.sh). Writes under $OUT.
set -u
OUT="${OUT:-./gpu-out}"
mkdir -p "$OUT"
ENVNET=./devicebin/envnet
LOG="$OUT/gpu-opencl.log"
export ENVNET_CACHE=/tmp/envnet-cache CI=true
step() { local limit=$1; shift; echo "=== $* (timeout ${limit}s)" | tee -a "$LOG"; timeout "$limit" "$@" 2>&1 | tee -a "$LOG"; echo "--- exit ${PIPESTATUS[0]}" | tee -a "$LOG"; }

step 20 "$ENVNET" devices
step 90 "$ENVNET" bench --model envnet-tiny --batch 8 --steps 3 --warmup 1 --accelerator opencl
step 150 "$ENVNET" train --accelerator opencl --epochs 2 --out /tmp/run-ocl
cat /tmp/run-ocl/metrics.csv
