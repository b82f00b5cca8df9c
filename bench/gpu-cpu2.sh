#!/usr/bin/env bash
# One call on the GPU machine, restricted to 2 of its CPU cores (taskset), as a stand-in for an idle 2-core CI
# machine: the CPU accelerator's training step of envnet-tiny, and the embedded default's wall time.
set -u
OUT="${OUT:-./gpu-out}"
mkdir -p "$OUT"
ENVNET=./devicebin/envnet
export ENVNET_CACHE=/tmp/envnet-cache CI=true
timeout 60 taskset -c 0,1 "$ENVNET" bench --model envnet-tiny --batch 32 --steps 3 --warmup 1 --accelerator cpu 2>&1 | tail -3
/usr/bin/time -f "embedded default wall %e s" timeout 300 taskset -c 0,1 "$ENVNET" train --accelerator cpu --out /tmp/run-cpu 2>&1 | grep -E "epoch|Finished|finished|wall|rror"
cat /tmp/run-cpu/metrics.csv
