#!/usr/bin/env python3
"""Side-by-side table of an `envnet bench --json` result and an envnet_reference.py --json result of the same model and
batch: per layer forward and backward ms with the ratio ours / PyTorch, then the training step.

  python3 bench/reference/compare.py OURS.json TORCH.json

A fused block of ours (e.g. conv1.module) is compared with the sum of PyTorch's layers under it (module.0, .1, .2).
"""
import json
import sys


def ratio(ours, theirs):
    return f"{ours / theirs:6.2f}" if theirs > 0 else "     -"


def main(ours_path, torch_path):
    ours, torch = json.load(open(ours_path)), json.load(open(torch_path))
    theirs = {row["layer"]: row for row in torch["layers"]}
    print(f"{ours['model']} batch {ours['batch']}: {ours['framework']} on {ours['device']} | {torch['framework']} on {torch['device']}")
    print(f"{'layer':36} {'ours fwd':>9} {'torch fwd':>9} {'ratio':>6} {'ours bwd':>9} {'torch bwd':>9} {'ratio':>6}"
          f" {'ours GF/s f/b':>14} {'torch GF/s f/b':>14}")
    for row in ours["layers"]:
        name = row["layer"]
        matched = [theirs[name]] if name in theirs else [r for n, r in theirs.items() if n.startswith(name + ".")]
        tf = sum(r["forward_ms"] for r in matched)
        tb = sum(r["backward_ms"] for r in matched)
        if row["forward_ms"] + row["backward_ms"] + tf + tb < 0.05:
            continue
        rate = lambda f, ms: f"{f / ms / 1e6:.0f}" if f and ms > 0 else "-"
        tflops = sum(r["forward_flops"] for r in matched)
        tbflops = sum(r["backward_flops"] for r in matched)
        print(f"{name:36} {row['forward_ms']:9.2f} {tf:9.2f} {ratio(row['forward_ms'], tf)} {row['backward_ms']:9.2f} {tb:9.2f}"
              f" {ratio(row['backward_ms'], tb)} {rate(row['forward_flops'], row['forward_ms']) + '/' + rate(row['backward_flops'], row['backward_ms']):>14}"
              f" {rate(tflops, tf) + '/' + rate(tbflops, tb):>14}")
    print(f"training step: ours {ours['step_ms']:.1f} ms ({ours['step_gflops']:.1f} GFLOP/s), PyTorch {torch['step_ms']:.1f} ms "
          f"({torch['step_gflops']:.1f} GFLOP/s): ours / PyTorch = {ours['step_ms'] / torch['step_ms']:.3f}")
    if ours.get("step_cpu_ms") and torch.get("step_cpu_ms"):
        print(f"CPU time per step: ours {ours['step_cpu_ms']:.0f} ms, PyTorch {torch['step_cpu_ms']:.0f} ms: "
              f"ours / PyTorch = {ours['step_cpu_ms'] / torch['step_cpu_ms']:.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
