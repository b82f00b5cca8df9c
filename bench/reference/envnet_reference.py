#!/usr/bin/env python3
"""PyTorch reference of EnvNet, EnvNet-v2 and esc-learner's WaveMxNets (esc_learner.py) for side-by-side runs with
`envnet bench`.

Same model (ConvBlock and LinearBlock hold their layers in a Sequential named `module`, so its state_dict matches
EnvNet.Gpu's safetensors checkpoints), same batch, same figures: per-layer forward and backward time, training step
time (forward, backward, SGD Nesterov update), samples per second, FLOPs per layer and the GFLOP/s they reach, peak
device memory.

  python3 bench/reference/envnet_reference.py --model envnet --batch 64 --steps 50 [--tf32] [--compile] [--json F]
  python3 bench/reference/envnet_reference.py --model envnet --batch 64 --device cpu --threads 2 [--json F]
  python3 bench/reference/envnet_reference.py --model m5 --batch 32 --device cpu --threads 2 [--json F]
  python3 bench/reference/envnet_reference.py --check-checkpoint runs/x/fold1/last.safetensors
"""
import argparse
import json
import math
import time
from collections import OrderedDict

import torch
from torch import nn

import esc_learner


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, kernel, stride=1):
        super().__init__()
        self.module = nn.Sequential(nn.Conv2d(cin, cout, kernel, stride=stride, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x):
        return self.module(x)


class LinearBlock(nn.Module):
    def __init__(self, fin, fout):
        super().__init__()
        self.module = nn.Sequential(nn.Linear(fin, fout), nn.ReLU(), nn.Dropout(0.5))

    def forward(self, x):
        return self.module(x)


class Transpose(nn.Module):
    def forward(self, x):
        return x.transpose(1, 2)


def envnet(classes):
    feature = nn.Sequential(OrderedDict([
        ("conv1", ConvBlock(1, 40, (1, 8))), ("conv2", ConvBlock(40, 40, (1, 8))),
        ("pool2", nn.MaxPool2d((1, 160))), ("transpose", Transpose())]))
    classifier = nn.Sequential(OrderedDict([
        ("conv3", ConvBlock(1, 50, (8, 13))), ("pool3", nn.MaxPool2d(3)),
        ("conv4", ConvBlock(50, 50, (1, 5))), ("pool4", nn.MaxPool2d((1, 3))),
        ("flatten", nn.Flatten(1, -1)),
        ("fc5", LinearBlock(50 * 11 * 14, 4096)), ("fc6", LinearBlock(4096, 4096)),
        ("fc7", nn.Linear(4096, classes))]))
    return nn.Sequential(OrderedDict([("feature_conv", feature), ("classifier", classifier)])), 24014


def envnet_v2(classes):
    feature = nn.Sequential(OrderedDict([
        ("conv1", ConvBlock(1, 32, (1, 64), stride=(1, 2))), ("conv2", ConvBlock(32, 64, (1, 16), stride=(1, 2))),
        ("pool2", nn.MaxPool2d((1, 64))), ("transpose", Transpose())]))
    classifier = nn.Sequential(OrderedDict([
        ("conv3", ConvBlock(1, 32, (8, 8))), ("conv4", ConvBlock(32, 32, (8, 8))), ("pool4", nn.MaxPool2d((5, 3))),
        ("conv5", ConvBlock(32, 64, (1, 4))), ("conv6", ConvBlock(64, 64, (1, 4))), ("pool6", nn.MaxPool2d((1, 2))),
        ("conv7", ConvBlock(64, 128, (1, 2))), ("conv8", ConvBlock(128, 128, (1, 2))), ("pool8", nn.MaxPool2d((1, 2))),
        ("conv9", ConvBlock(128, 256, (1, 2))), ("conv10", ConvBlock(256, 256, (1, 2))), ("pool10", nn.MaxPool2d((1, 2))),
        ("flatten", nn.Flatten(1, -1)),
        ("fc11", LinearBlock(256 * 10 * 8, 4096)), ("fc12", LinearBlock(4096, 4096)),
        ("fc13", nn.Linear(4096, classes))]))
    return nn.Sequential(OrderedDict([("feature_conv", feature), ("classifier", classifier)])), 66650


def leaf_layers(model):
    """(name, module) for each timed layer: Conv2d, BatchNorm2d, ReLU, pools, transpose, flatten, Linear, Dropout."""
    for name, module in model.named_modules():
        if len(list(module.children())) == 0:
            yield name, module


def flops(module, x, y):
    """Forward multiply-adds x2 of convolutions and linear layers; backward counts twice the forward
    (input and weight gradients). Element-wise layers are reported by time only."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return 2 * y.numel() * module.in_channels * kh * kw
    if isinstance(module, nn.Conv1d):
        return 2 * y.numel() * module.in_channels * module.kernel_size[0]
    if isinstance(module, nn.Linear):
        return 2 * x.shape[0] * module.in_features * module.out_features
    return 0


def time_ms(fn, steps, device, warmup=3):
    """Median of `steps` timed calls after `warmup` untimed ones: CUDA events on a GPU, the host clock on the CPU."""
    for _ in range(warmup):
        fn()
    samples = []
    if device.type == "cuda":
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        for _ in range(steps):
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            samples.append(start.elapsed_time(end))
    else:
        for _ in range(steps):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1e3)
    samples.sort()
    return samples[len(samples) // 2]


def bench(args):
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.backends.cudnn.benchmark = True
    elif args.threads:
        torch.set_num_threads(args.threads)
    model, input_shape, make_optimizer = MODELS[args.model](args.classes)
    model = model.to(device).train()
    x = torch.randn(args.batch, *input_shape, device=device) * 0.1
    labels = torch.randint(0, args.classes, (args.batch,), device=device)
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()

    # Per-layer timings: each layer on the activation it sees in the real network.
    layers = []
    h = x
    with torch.no_grad():
        for name, module in leaf_layers(model):
            inputs = h
            h = module(inputs) if not isinstance(module, Transpose) else inputs.transpose(1, 2)
            layers.append((name, module, inputs.clone(), h.shape))
    rows = []
    for index, (name, module, inputs, out_shape) in enumerate(layers):
        fwd = time_ms(lambda: module(inputs), args.steps, device, args.warmup)
        # The first layer reads the waveform, which needs no gradient (as in the product).
        xin = inputs.clone().requires_grad_(index > 0)
        out = module(xin)
        grad = torch.randn_like(out)
        targets = [p for p in module.parameters()] + ([xin] if xin.requires_grad else [])
        if targets:
            bwd = time_ms(lambda: torch.autograd.grad(out, targets, grad, retain_graph=True), args.steps, device, args.warmup)
        else:
            bwd = 0.0
        f = flops(module, inputs, torch.empty(out_shape, device="meta"))
        fb = 2 * f if xin.requires_grad else f
        rows.append({"layer": name, "kind": type(module).__name__, "output_shape": list(out_shape),
                     "forward_ms": fwd, "backward_ms": bwd, "forward_flops": f, "backward_flops": fb,
                     "forward_gflops": f / fwd / 1e6 if f else None, "backward_gflops": fb / bwd / 1e6 if fb and bwd else None})

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            loss = loss_fn(model(x), labels)
        loss.backward()
        optimizer.step()

    step_fn = torch.compile(step) if args.compile else step
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    cpu_before = time.process_time()
    step_ms = time_ms(step_fn, args.steps, device, args.warmup)
    step_cpu_ms = (time.process_time() - cpu_before) / (args.warmup + args.steps) * 1e3
    total_flops = sum(r["forward_flops"] + r["backward_flops"] for r in rows)
    if device.type == "cuda":
        device_name, peak = torch.cuda.get_device_name(), torch.cuda.max_memory_allocated()
    else:
        device_name, peak = f"CPU, {torch.get_num_threads()} threads", None
    result = {"framework": f"pytorch {torch.__version__}", "device": device_name,
              "model": args.model, "batch": args.batch, "tf32": args.tf32, "bf16": args.bf16, "compile": args.compile,
              "step_ms": step_ms, "samples_per_second": args.batch / step_ms * 1e3,
              "step_flops": total_flops, "step_gflops": total_flops / step_ms / 1e6, "step_cpu_ms": step_cpu_ms,
              "peak_memory_bytes": peak, "layers": rows}
    print(f"{'layer':38} {'fwd ms':>8} {'bwd ms':>8} {'fwd GF/s':>9} {'bwd GF/s':>9}")
    for r in rows:
        fg = f"{r['forward_gflops']:.0f}" if r["forward_gflops"] else "-"
        bg = f"{r['backward_gflops']:.0f}" if r["backward_gflops"] else "-"
        print(f"{r['layer']:38} {r['forward_ms']:8.3f} {r['backward_ms']:8.3f} {fg:>9} {bg:>9}")
    print(f"{result['framework']} on {result['device']}: {args.model} batch {args.batch} "
          f"(tf32={args.tf32}, bf16={args.bf16}, compile={args.compile}): training step {step_ms:.2f} ms, "
          f"{result['samples_per_second']:.0f} samples/s, {result['step_gflops']:.0f} GFLOP/s"
          + (f", peak memory {peak / 2**30:.2f} GiB" if peak is not None else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


def check_checkpoint(args):
    """Strictly loads an EnvNet.Gpu safetensors checkpoint into this PyTorch EnvNet and prints the logits of a
    deterministic input (a 440 Hz tone), for comparison with `envnet predict`."""
    from safetensors.torch import load_file
    state = load_file(args.check_checkpoint)
    classes = state["classifier.fc7.bias" if "classifier.fc7.bias" in state else "classifier.fc13.bias"].shape[0]
    builder = envnet if "classifier.fc7.bias" in state else envnet_v2
    model, length = builder(classes)
    model.load_state_dict(state, strict=True)
    model.eval()
    rate = 16000 if builder is envnet else 44100
    t = torch.arange(length, dtype=torch.float32) / rate
    x = (0.5 * torch.sin(2 * math.pi * 440 * t)).view(1, 1, 1, length)
    with torch.no_grad():
        logits = model(x)
    print("strict load_state_dict: ok,", len(state), "tensors")
    print("logits:", " ".join(f"{v:.6f}" for v in logits[0].tolist()))


def envnet_sgd(parameters):
    """EnvNet's recipe: SGD with Nesterov momentum 0.9, weight decay 5e-4 (the learning rate does not change the time)."""
    return torch.optim.SGD(parameters, lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)


def _envnet_entry(builder):
    def build(classes):
        model, length = builder(classes)
        return model, (1, 1, length), envnet_sgd
    return build


def _wavemxnet_entry(name):
    return lambda classes: (esc_learner.wavemxnet(name, classes), (1, esc_learner.INPUT_LENGTH), esc_learner.adam)


# name -> classes -> (model, input shape of one sample, optimizer factory)
MODELS = {"envnet": _envnet_entry(envnet), "envnet-v2": _envnet_entry(envnet_v2),
          **{name: _wavemxnet_entry(name) for name in ("m3", "m5", "m11", "m18")}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), default="envnet")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="cuda", help="cuda or cpu")
    parser.add_argument("--threads", type=int, help="CPU threads (torch.set_num_threads); default: PyTorch's choice")
    parser.add_argument("--tf32", action="store_true")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--check-checkpoint")
    arguments = parser.parse_args()
    if arguments.check_checkpoint:
        check_checkpoint(arguments)
    else:
        bench(arguments)
