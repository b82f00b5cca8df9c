#!/usr/bin/env python3
"""Freezes what PyTorch computes for a few training steps, as llm.c's test_gpt2 does for GPT-2, so a test of
EnvNet.Gpu can check its forward pass, loss, gradients and optimiser against PyTorch without PyTorch installed.

For each model it writes tests/data/frozen-step/<model>.safetensors holding, with PyTorch's state_dict names:
  initial.<name>  every state_dict entry before training (PyTorch's default initialisation, seed 0)
  input, target   one batch: waveforms and target rows (one-hot, and one between-class mix)
  logits, loss    the training-mode forward pass and KL(target || softmax(logits)) averaged over the batch
  grad.<name>     every parameter's gradient of that loss at the initial weights
  after.<name>    every state_dict entry after `steps` optimiser steps on that batch (BatchNorm statistics too)
and the metadata the test needs to repeat the steps (optimizer, lr, momentum, weight_decay, steps, batch, classes).

The models are the product's layer kinds at the product's sizes, narrowed where their weights would make the
files large, with dropout at p = 0 (its mask is the product's own random stream, which PyTorch cannot draw):
  envnet-tiny  envnet-tiny with fully connected layers of 64 units instead of 256; SGD Nesterov, its recipe
  m5           esc-learner's m5 at an eighth of its channels (16, 16, 32, 64); Adam, its recipe

  python3 bench/reference/frozen_step.py [--out tests/data/frozen-step]
"""
import argparse
import hashlib
import json
import os
import struct
from collections import OrderedDict

import torch
from torch import nn
import torch.nn.functional as F

from envnet_reference import ConvBlock, LinearBlock, Transpose

CLASSES = 4
STEPS = 3


def envnet_tiny(classes, hidden=64):
    """Network/Models/EnvNet.cs's envnet-tiny: 8040 samples at 16 kHz."""
    feature = nn.Sequential(OrderedDict([
        ("conv1", ConvBlock(1, 8, (1, 32), stride=(1, 8))), ("conv2", ConvBlock(8, 16, (1, 4), stride=(1, 2))),
        ("pool2", nn.MaxPool2d((1, 10))), ("transpose", Transpose())]))
    classifier = nn.Sequential(OrderedDict([
        ("conv3", ConvBlock(1, 8, (4, 5))), ("pool3", nn.MaxPool2d(3)),
        ("conv4", ConvBlock(8, 16, (1, 3))), ("pool4", nn.MaxPool2d((1, 3))),
        ("flatten", nn.Flatten(1, -1)),
        ("fc5", LinearBlock(16 * 4 * 4, hidden)), ("fc6", LinearBlock(hidden, hidden)),
        ("fc7", nn.Linear(hidden, classes))]))
    return nn.Sequential(OrderedDict([("feature_conv", feature), ("classifier", classifier)])), (1, 1, 8040)


class Conv1DBatchNorm(nn.Module):
    """esc-learner's Conv1DBatchNorm: Conv1d (with bias), BatchNorm1d, ReLU as `module`."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0):
        super().__init__()
        self.module = nn.Sequential(nn.Conv1d(cin, cout, kernel, stride=stride, padding=padding), nn.BatchNorm1d(cout), nn.ReLU())

    def forward(self, x):
        return self.module(x)


class WaveMxNet(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.module = nn.Sequential(*layers)

    def forward(self, x):
        return self.module(x)


def m5(classes, channels=(16, 16, 32, 64)):
    """Network/Models/WaveMxNet.cs's m5 (esc-learner's): 32079 samples at 8 kHz."""
    c1, c2, c3, c4 = channels
    return WaveMxNet([
        Conv1DBatchNorm(1, c1, 80, stride=4), nn.MaxPool1d(4),
        Conv1DBatchNorm(c1, c2, 3, padding=1), nn.MaxPool1d(4),
        Conv1DBatchNorm(c2, c3, 3, padding=1), nn.MaxPool1d(4),
        Conv1DBatchNorm(c3, c4, 3, padding=1), nn.MaxPool1d(4, ceil_mode=True),
        nn.AvgPool1d(32), nn.Flatten(1, -1), nn.Linear(c4, classes)]), (1, 32079)


# Each model with its recipe's optimiser (Network/Models/*.cs) and the batch it is frozen on.
MODELS = {
    "envnet-tiny": (envnet_tiny, dict(optimizer="sgd-nesterov", lr=0.01, momentum=0.9, weight_decay=5e-4), 3),
    "m5": (m5, dict(optimizer="adam", lr=1e-3, momentum=0.9, weight_decay=1e-4), 2),
}


def optimizer_for(model, recipe):
    if recipe["optimizer"] == "sgd-nesterov":
        return torch.optim.SGD(model.parameters(), lr=recipe["lr"], momentum=recipe["momentum"], nesterov=True,
                               weight_decay=recipe["weight_decay"])
    return torch.optim.Adam(model.parameters(), lr=recipe["lr"], betas=(recipe["momentum"], 0.999), eps=1e-8,
                            weight_decay=recipe["weight_decay"])


def targets(batch, classes):
    """One-hot rows, the last a between-class mix (0.3, 0.7), as between-class learning feeds the loss."""
    rows = torch.zeros(batch, classes)
    for i in range(batch - 1):
        rows[i, i % classes] = 1
    rows[batch - 1, 1], rows[batch - 1, 2] = 0.3, 0.7
    return rows


def loss_of(logits, target):
    """The product's SoftmaxKlLoss: KL(target || softmax(logits)) summed over classes, averaged over the batch."""
    return F.kl_div(F.log_softmax(logits, dim=1), target, reduction="batchmean")


def freeze(name, build, recipe, batch):
    torch.manual_seed(0)
    model, sample_shape = build(CLASSES)
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
    model.train()
    tensors = OrderedDict((f"initial.{k}", v.detach().clone()) for k, v in model.state_dict().items())
    x = (torch.rand(batch, *sample_shape) * 2 - 1) * 0.5
    target = targets(batch, CLASSES)
    tensors["input"], tensors["target"] = x, target

    optimizer = optimizer_for(model, recipe)
    for step in range(STEPS):
        optimizer.zero_grad(set_to_none=True)
        logits = model(x)
        loss = loss_of(logits, target)
        loss.backward()
        if step == 0:
            tensors["logits"], tensors["loss"] = logits.detach().clone(), loss.detach().reshape(1).clone()
            for k, p in model.named_parameters():
                tensors[f"grad.{k}"] = p.grad.detach().clone()
        optimizer.step()
    tensors.update((f"after.{k}", v.detach().clone()) for k, v in model.state_dict().items())
    metadata = {"model": name, "torch": torch.__version__, "optimizer": recipe["optimizer"], "lr": repr(recipe["lr"]),
                "momentum": repr(recipe["momentum"]), "weight_decay": repr(recipe["weight_decay"]),
                "steps": str(STEPS), "batch": str(batch), "classes": str(CLASSES)}
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """The safetensors layout, with the "sha256" of the data section that the product's reader checks."""
    dtypes = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}
    blobs, header, offset = [], {}, 0
    for key, value in tensors.items():
        dtype, _ = dtypes[value.dtype]
        data = value.contiguous().numpy().astype(dtypes[value.dtype][1]).tobytes()
        header[key] = {"dtype": dtype, "shape": list(value.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    data = b"".join(blobs)
    header = {"__metadata__": {**metadata, "sha256": hashlib.sha256(data).hexdigest()}, **header}
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + data)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "frozen-step")))
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(arguments.out, exist_ok=True)
    for model_name, (builder, model_recipe, model_batch) in MODELS.items():
        frozen, meta = freeze(model_name, builder, model_recipe, model_batch)
        target_path = os.path.join(arguments.out, f"{model_name}.safetensors")
        write_safetensors(target_path, frozen, meta)
        print(f"{target_path}: {len(frozen)} tensors, {os.path.getsize(target_path)} bytes, loss {frozen['loss'].item():.6f}")
