#!/usr/bin/env bash
# One call on the GPU machine: correctness of the tiled kernels on CUDA, then EnvNet.Gpu and PyTorch side by side.
# Expects the self-contained envnet in ./devicebin (made on the dev machine):
#   dotnet publish Training -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true \
#     -p:EnableCompressionInSingleFile=true -o devicebin
# Run from the repository root:  OUT=/some/folder bash bench/gpu-run.sh   (the device tool sets $OUT)
# Every step has its own timeout (565 s in all at worst), so one hang cannot eat the lease. Give the device call
# timeout_s 600 and carry devicebin (git-ignored): run(command='bash bench/gpu-run.sh', carry=['devicebin']).
set -u
OUT="${OUT:-./gpu-out}"
mkdir -p "$OUT"
ENVNET=./devicebin/envnet
LOG="$OUT/gpu-run.log"
step() { local limit=$1; shift; echo "=== $* (timeout ${limit}s)" | tee -a "$LOG"; timeout "$limit" "$@" 2>&1 | tee -a "$LOG"; echo "--- exit ${PIPESTATUS[0]}" | tee -a "$LOG"; }

step 20 nvidia-smi -L
step 30 "$ENVNET" devices
step 60 "$ENVNET" selfcheck --accelerator cuda --batch 4
step 110 "$ENVNET" bench --model envnet --batch 64 --accelerator cuda --steps 20 --json "$OUT/envnet-bench.json"
step 70 "$ENVNET" bench --model envnet --batch 64 --accelerator cuda --steps 5 --warmup 1 --plain-kernels --json "$OUT/envnet-bench-plain.json"
step 70 "$ENVNET" bench --model envnet-v2 --batch 64 --accelerator cuda --steps 10 --json "$OUT/envnet-v2-bench.json"
step 45 python3 bench/reference/envnet_reference.py --model envnet --batch 64 --json "$OUT/torch-fp32.json"
step 45 python3 bench/reference/envnet_reference.py --model envnet --batch 64 --tf32 --json "$OUT/torch-tf32.json"
step 75 python3 bench/reference/envnet_reference.py --model envnet --batch 64 --compile --json "$OUT/torch-compile.json"
step 45 python3 bench/reference/envnet_reference.py --model envnet-v2 --batch 64 --json "$OUT/torch-v2-fp32.json"

# The comparison last, so it is what the reply's tail shows.
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
rows = [("EnvNet.Gpu fp32", "envnet-bench.json"), ("EnvNet.Gpu fp32 plain", "envnet-bench-plain.json"), ("PyTorch eager fp32", "torch-fp32.json"),
        ("PyTorch eager TF32", "torch-tf32.json"), ("PyTorch compile fp32", "torch-compile.json"),
        ("EnvNet.Gpu fp32 (v2)", "envnet-v2-bench.json"), ("PyTorch eager fp32 (v2)", "torch-v2-fp32.json")]
print(f"{'run':26} {'model':10} {'step ms':>8} {'samples/s':>10} {'GFLOP/s':>8}")
for label, name in rows:
    path = os.path.join(out, name)
    if not os.path.exists(path):
        print(f"{label:26} (missing: {name})"); continue
    r = json.load(open(path))
    print(f"{label:26} {r['model']:10} {r['step_ms']:8.2f} {r['samples_per_second']:10.0f} {r['step_gflops']:8.0f}")
ours = os.path.join(out, "envnet-bench.json")
if os.path.exists(ours):
    print("\nEnvNet.Gpu envnet per layer (ms):")
    for l in json.load(open(ours))["layers"]:
        print(f"  {l['layer']:36} fwd {l['forward_ms']:8.3f} bwd {l['backward_ms']:8.3f}")
PY
