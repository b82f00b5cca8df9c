#!/usr/bin/env bash
# One call on the GPU machine: the training service end to end on CUDA, and the checkpoint in PyTorch.
#   1. the embedded default (synthetic ESC-50 twin, envnet-tiny) on the GPU, wall time;
#   2. the full EnvNet for 3 epochs on a larger synthetic twin (batch 64, fold 1, filter-bank probe every epoch);
#   3. its checkpoint loaded strictly into the PyTorch EnvNet of bench/reference (load_state_dict, strict=True);
#   4. the plain kernels on the OpenCL CPU device, to record what ILGPU's OpenCL backend can run there.
# Needs the self-contained envnet in ./devicebin (see bench/gpu-run.sh). Writes under $OUT.
set -u
OUT="${OUT:-./gpu-out}"
mkdir -p "$OUT"
ENVNET=./devicebin/envnet
LOG="$OUT/gpu-train.log"
export ENVNET_CACHE=/tmp/envnet-cache CI=true
step() { local limit=$1; shift; echo "=== $* (timeout ${limit}s)" | tee -a "$LOG"; /usr/bin/time -f "--- wall %e s" timeout "$limit" "$@" 2>&1 | tee -a "$LOG"; echo "--- exit ${PIPESTATUS[0]}" | tee -a "$LOG"; }

step 150 "$ENVNET" train --accelerator cuda --out /tmp/run-default
step 60 "$ENVNET" synth --out /tmp/synth20 --classes 20 --clips-per-class-per-fold 8 --seed 7
step 200 "$ENVNET" train --data /tmp/synth20 --model envnet --epochs 3 --fold 1 --batch 64 --accelerator cuda --out /tmp/run-envnet
step 60 python3 bench/reference/envnet_reference.py --check-checkpoint /tmp/run-envnet/fold-1/last.safetensors
step 40 "$ENVNET" bench --model envnet-tiny --batch 4 --steps 1 --warmup 0 --accelerator opencl --plain-kernels

for run in run-default run-envnet; do
  mkdir -p "$OUT/$run"
  cp /tmp/$run/*.csv "$OUT/$run/" 2>/dev/null
  ls -R /tmp/$run | head -40 > "$OUT/$run/files.txt"
done
cp /tmp/run-envnet/*.png /tmp/run-envnet/*.gif "$OUT/run-envnet/" 2>/dev/null
echo "== metrics (embedded default)"; cat /tmp/run-default/metrics.csv
echo "== metrics (envnet, synthetic 20 classes)"; cat /tmp/run-envnet/metrics.csv
echo "== mel-likeness (envnet)"; cat /tmp/run-envnet/freqresp_summary.csv 2>/dev/null | head -8
