#!/usr/bin/env python3
"""PyTorch reference for rtseg's parity test of a small model (conv, BN in training mode, PReLU,
squeeze-and-excitation, 1×1 conv, bilinear ×2 upsampling, cross-entropy with ignored pixels).

Writes one safetensors file with the weights ("param/<key>"), buffers before and after the step
("buffer/<key>", "buffer_after/<key>"), the input, the labels, the logits, the loss and every
parameter gradient ("grad/<key>"), all float32 on the CPU. Usage: parity_small.py OUT.safetensors
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, __import__("os").path.dirname(__file__))
import st_io  # noqa: E402


class SqueezeExcite(nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.channel_excitation = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(),
                                                nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x):
        n, c = x.shape[:2]
        return x * self.channel_excitation(x.mean(dim=(2, 3))).view(n, c, 1, 1)


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.PReLU(8))
        self.attention = SqueezeExcite(8, 2)
        self.head = nn.Conv2d(8, 5, 1)

    def forward(self, x):
        logits = self.head(self.attention(self.body(x)))
        return F.interpolate(logits, size=(2 * x.shape[2], 2 * x.shape[3]), mode="bilinear", align_corners=False)


def main(out):
    torch.manual_seed(0)
    model = SmallNet().train()
    with torch.no_grad():  # non-trivial BN parameters, PReLU slopes and running statistics
        bn = model.body[1]
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
        model.body[2].weight.uniform_(0.05, 0.4)
    x = torch.randn(2, 3, 9, 11)
    target = torch.randint(0, 5, (2, 18, 22))
    target[:, ::4, ::3] = 255
    entries = [("input", x), ("target", target)]
    entries += [("param/" + k, v.clone()) for k, v in model.named_parameters()]
    entries += [("buffer/" + k, v.clone()) for k, v in model.named_buffers()]
    logits = model(x)
    loss = F.cross_entropy(logits, target, ignore_index=255)
    loss.backward()
    entries += [("output", logits), ("loss", loss.reshape(()))]
    entries += [("grad/" + k, v.grad) for k, v in model.named_parameters()]
    entries += [("buffer_after/" + k, v) for k, v in model.named_buffers()]
    st_io.save(out, entries, {"model": "SmallNet", "torch": torch.__version__})


if __name__ == "__main__":
    main(sys.argv[1])
