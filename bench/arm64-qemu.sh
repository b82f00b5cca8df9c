#!/usr/bin/env bash
# The ARM64 build (NEON, 128-bit, 32 registers: the 8-row tile at 4 lanes) run for real on an x64 machine under QEMU's
# user-mode emulation: a 2-epoch envnet-tiny run on the committed ESC-10 sample, then the same run natively, and both
# metrics.csv side by side. Slow (emulated), so not part of CI; CI builds linux-arm64. Needs Debian's packages:
#   apt-get install -y qemu-user libc6-arm64-cross libstdc++6-arm64-cross
#   dpkg --add-architecture arm64 && apt-get update && (cd /tmp && apt-get download libssl3:arm64)
# (.NET's hashing needs OpenSSL's libssl, which has no cross package.) Run from the repository root:
#   bash bench/arm64-qemu.sh [OUT]
set -euo pipefail
OUT="${1:-./bench-out/arm64}"
sysroot="$OUT/sysroot"
rm -rf "$OUT" && mkdir -p "$sysroot/lib"
cp -a /usr/aarch64-linux-gnu/. "$sysroot/"
deb=$(ls /tmp/libssl3_*_arm64.deb | head -n 1)
dpkg-deb -x "$deb" "$OUT/libssl"
cp -a "$OUT"/libssl/usr/lib/aarch64-linux-gnu/* "$sysroot/lib/"
dotnet publish Training/EnvNet.Training.csproj -c Release -r linux-arm64 --self-contained true -p:PackAsTool=false \
  -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -o "$OUT/publish" -v q -nologo
run=(train --data tests/data/esc10-sample --model envnet-tiny --epochs 2 --fold 1 --accelerator cpu)
export CI=true DOTNET_EnableWriteXorExecute=0 # QEMU's user mode and .NET's W^X double mapping do not mix
qemu-aarch64 -L "$sysroot" "$OUT/publish/envnet" devices | tail -n 1
qemu-aarch64 -L "$sysroot" "$OUT/publish/envnet" "${run[@]}" --out "$OUT/arm64-run" --cache "$OUT/arm64-cache" | grep -E "Training|epoch [0-9]+/"
dotnet Training/bin/Release/net10.0/envnet.dll "${run[@]}" --out "$OUT/x64-run" --cache "$OUT/x64-cache" | grep -E "Training|epoch [0-9]+/"
echo "arm64 (NEON):"; cut -d, -f1-7 "$OUT/arm64-run/metrics.csv"
echo "x64 (this CPU's width):"; cut -d, -f1-7 "$OUT/x64-run/metrics.csv"
