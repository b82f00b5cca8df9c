#!/usr/bin/env bash
# EnvNet.Gpu's CPU backend (--accelerator cpu) beside PyTorch on the same cores, in one go: per layer and per
# training step, for each model, with the ratio ours / PyTorch. Needs PyTorch for /usr/bin/python3 (Debian:
# apt-get install -y python3-torch). Run from the repository root after `dotnet build Training -c Release`:
#   bash bench/cpu-compare.sh                       # envnet and envnet-v2, batch 64, 2 threads
#   MODELS=envnet BATCH=64 THREADS=2 STEPS=5 WARMUP=1 OUT=bench-out bash bench/cpu-compare.sh
#   MODELS=m5 BATCH=32 WIDTHS="256 128" bash bench/cpu-compare.sh   # ours at each vector width (ENVNET_VECTOR_WIDTH)
# Both sides get THREADS threads (ours through DOTNET_PROCESSOR_COUNT, PyTorch through torch.set_num_threads).
# PyTorch runs with OMP_WAIT_POLICY=PASSIVE (its idle threads sleep rather than spin), so its CPU time counts work,
# as ours does. The machine's load is printed before and after each run: wall-clock figures from a busy machine are
# not comparable; CPU time per step is steadier.
set -u
MODELS="${MODELS:-envnet envnet-v2}"
BATCH="${BATCH:-64}"
THREADS="${THREADS:-2}"
STEPS="${STEPS:-5}"
WARMUP="${WARMUP:-1}"
OUT="${OUT:-./bench-out}"
WIDTHS="${WIDTHS:-native}" # native: the width envnet chooses on this CPU
ENVNET="${ENVNET:-dotnet Training/bin/Release/net10.0/envnet.dll}"
PYTHON="${PYTHON:-/usr/bin/python3}"
mkdir -p "$OUT"
grep -m1 "model name" /proc/cpuinfo
echo "vector flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|fma|avx512f|avx512vl|amx_tile|asimd)$' | tr '\n' ' ')"
for model in $MODELS; do
  for width in $WIDTHS; do
    echo "=== $model batch $BATCH, $THREADS threads, width $width; load: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ "$width" = native ]; then unset ENVNET_VECTOR_WIDTH; else export ENVNET_VECTOR_WIDTH=$width; fi
    DOTNET_PROCESSOR_COUNT=$THREADS $ENVNET bench --model "$model" --batch "$BATCH" --accelerator cpu --steps "$STEPS" \
      --warmup "$WARMUP" --json "$OUT/$model-ours-$width.json" > "$OUT/$model-ours-$width.log" 2>&1 || { tail -n 20 "$OUT/$model-ours-$width.log"; exit 1; }
    echo "    ours done; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  done
  unset ENVNET_VECTOR_WIDTH
  OMP_WAIT_POLICY=PASSIVE "$PYTHON" bench/reference/envnet_reference.py --model "$model" --batch "$BATCH" --device cpu --threads "$THREADS" \
    --steps "$STEPS" --warmup "$WARMUP" --json "$OUT/$model-torch.json" > "$OUT/$model-torch.log" 2>&1 || { tail -n 20 "$OUT/$model-torch.log"; exit 1; }
  echo "    PyTorch done; load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
for model in $MODELS; do
  for width in $WIDTHS; do
    echo
    "$PYTHON" bench/reference/compare.py "$OUT/$model-ours-$width.json" "$OUT/$model-torch.json"
  done
done
