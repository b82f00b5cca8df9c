"""esc-learner's WaveMxNet models (m3, m5, m11, m18) in PyTorch, with the state_dict names EnvNet.Gpu uses for them
(Network/Models/WaveMxNet.cs): `module.0.module.0.weight` is the first convolution (Conv1DBatchNorm's Sequential of
Conv1d, BatchNorm1d, ReLU), ..., `module.N.weight` the last Linear. Input: (batch, 1, 32079) samples at 8 kHz."""
from collections import OrderedDict

import torch
from torch import nn

INPUT_LENGTH = 32079


class Conv1DBatchNorm(nn.Module):
    def __init__(self, cin, cout, kernel=3, stride=1, same=True):
        super().__init__()
        conv = nn.Conv1d(cin, cout, kernel, stride=stride, padding="same" if same else 0)
        self.module = nn.Sequential(conv, nn.BatchNorm1d(cout), nn.ReLU())

    def forward(self, x):
        return self.module(x)


def _convs(channels, count):
    return [("conv", channels)] * count


# The steps after the first convolution (80 taps, stride 4, unpadded) and its MaxPool1d(4), as Network/Models/WaveMxNet.cs:
# ("conv", channels): a "same" 3-tap Conv1DBatchNorm; ("pool", ceil_mode): MaxPool1d(4); ("avg", kernel): AvgPool1d.
STEPS = {
    "m3": (256, [("conv", 256), ("pool", False), ("avg", 500)]),
    "m5": (128, [("conv", 128), ("pool", False), ("conv", 256), ("pool", False), ("conv", 512), ("pool", True), ("avg", 32)]),
    "m11": (64, _convs(64, 2) + [("pool", False)] + _convs(128, 2) + [("pool", False)] + _convs(256, 3) + [("pool", True)]
            + _convs(512, 2) + [("avg", 32)]),
    "m18": (64, _convs(64, 4) + [("pool", False)] + _convs(128, 4) + [("pool", False)] + _convs(256, 4) + [("pool", True)]
            + _convs(512, 4) + [("avg", 32)]),
}


def wavemxnet(name, classes):
    channels, steps = STEPS[name]
    layers = [Conv1DBatchNorm(1, channels, 80, 4, same=False), nn.MaxPool1d(4)]
    for kind, value in steps:
        if kind == "conv":
            layers.append(Conv1DBatchNorm(channels, value))
            channels = value
        elif kind == "pool":
            layers.append(nn.MaxPool1d(4, ceil_mode=value))
        else:
            layers.append(nn.AvgPool1d(value))
    layers += [nn.Flatten(1, -1), nn.Linear(channels, classes)]
    return nn.Sequential(OrderedDict([("module", nn.Sequential(*layers))]))


def adam(parameters):
    """esc-learner's recipe: Adam, learning rate 1e-3, weight decay 1e-4."""
    return torch.optim.Adam(parameters, lr=1e-3, weight_decay=1e-4)
