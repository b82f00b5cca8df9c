#!/usr/bin/env bash
# One call on the GPU machine: correctness of the tiled kernels on CUDA, then EnvNet.Gpu and PyTorch side by side.
# Expects the self-contained envnet in ./devicebin (made on the dev machine):
#   dotnet publish Training -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true \
#     -p:EnableCompressionInSingleFile=true -o devicebin
# Run from the repository root:  OUT=/some/folder bash bench/gpu-run.sh   (the device tool sets $OUT)
# Every step has its own timeout (400 s in all at worst), so one hang cannot eat the lease. Give the device call
# timeout_s 450 and carry devicebin (git-ignored): run(command='bash bench/gpu-run.sh', carry=['devicebin'], timeout_s=450).
# Run 2: PyTorch TF32 / torch.compile and our --plain-kernels baseline are left out (run 1 has them, see
# docs/performance.md); PyTorch eager fp32 stays as the same-machine baseline for both models.
set -u
OUT="${OUT:-./gpu-out}"
mkdir -p "$OUT"
ENVNET=./devicebin/envnet
LOG="$OUT/gpu-run.log"
step() { local limit=$1; shift; echo "=== $* (timeout ${limit}s)" | tee -a "$LOG"; timeout "$limit" "$@" 2>&1 | tee -a "$LOG"; echo "--- exit ${PIPESTATUS[0]}" | tee -a "$LOG"; }

step 15 nvidia-smi -L
step 20 "$ENVNET" devices
step 80 "$ENVNET" selfcheck --accelerator cuda --batch 4
step 100 "$ENVNET" bench --model envnet --batch 64 --accelerator cuda --steps 20 --json "$OUT/envnet-bench.json"
step 90 "$ENVNET" bench --model envnet-v2 --batch 64 --accelerator cuda --steps 10 --json "$OUT/envnet-v2-bench.json"
step 45 python3 bench/reference/envnet_reference.py --model envnet --batch 64 --json "$OUT/torch-fp32.json"
step 50 python3 bench/reference/envnet_reference.py --model envnet-v2 --batch 64 --json "$OUT/torch-v2-fp32.json"
step 40 "$ENVNET" selfcheck --accelerator opencl --batch 1

# The comparison last, so it is what the reply's tail shows.
python3 - "$OUT" <<'PY'
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
PY
