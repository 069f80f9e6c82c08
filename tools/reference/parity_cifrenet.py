#!/usr/bin/env python3
"""PyTorch reference for rtseg's CIFReNet parity test: the net of tools/reference/cifrenet.py with
random weights, non-trivial BN statistics and PReLU slopes, one forward/backward of cross-entropy
on a 2×3×72×96 batch with ignored pixels. Writes param/, buffer/, input, target, output, loss,
grad/, buffer_after/, and the mode in the metadata.

fp32 runs in eval mode: in training mode the pooled branches normalise N = 2 values per channel
with batch statistics, which amplifies fp32 rounding differences between any two implementations
to ~10% in a few gradients (the fp64 reference, in training mode, shows the graph itself agrees to
1e-9).
Usage: parity_cifrenet.py OUT.safetensors (parity_cifrenet_f64.py: the same in float64)"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402
from cifrenet import CIFReNet  # noqa: E402


def main(out, dtype=torch.float32, training=False):
    torch.manual_seed(0)
    model = CIFReNet(num_classes=11, dataset="camvid", dropout=0.0).train(training)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and name.endswith("act.weight") or name.endswith("module_act.weight"):
                p.uniform_(0.05, 0.4)
            elif p.dim() == 1 and ".bias" not in name:
                p.uniform_(0.5, 1.5)
            elif p.dim() == 1:
                p.uniform_(-0.2, 0.2)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.uniform_(-0.2, 0.2)
            elif name.endswith("running_var"):
                b.uniform_(0.5, 1.5)
    model.to(dtype)
    x = torch.randn(2, 3, 72, 96, dtype=dtype)
    target = torch.randint(0, 11, (2, 72, 96))
    target[:, ::5, ::7] = 255
    entries = [("input", x), ("target", target)]
    entries += [("param/" + k, v.clone()) for k, v in model.named_parameters()]
    entries += [("buffer/" + k, v.clone()) for k, v in model.named_buffers()]
    logits = model(x)
    loss = F.cross_entropy(logits, target, ignore_index=255)
    loss.backward()
    entries += [("output", logits), ("loss", loss.reshape(()))]
    entries += [("grad/" + k, v.grad) for k, v in model.named_parameters()]
    entries += [("buffer_after/" + k, v) for k, v in model.named_buffers()]
    st_io.save(out, entries, {"model": "CIFReNet", "torch": torch.__version__, "training": str(training)})


if __name__ == "__main__":
    main(sys.argv[1])
