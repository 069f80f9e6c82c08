#!/usr/bin/env python3
"""The IC9600 teacher's checkpoint path end to end: builds the reference ICNet
(tools/reference/icnet_teacher.py) with random weights, gives its BatchNorms the statistics of a
random batch (so that eval mode keeps activations at unit scale and the map is not a constant),
saves the state_dict the way the authors' ck.pth is saved (torch.save of a bare state_dict, no
prefix), converts it with tools/convert_checkpoint.py into OUT_converted.safetensors, and writes
into OUT: a 1×3×512×512 input with the eval-mode map and score in float32; a 1×3×200×280 crop
with its pseudo-label computed in float64 as the authors' training code does it (crop resized to
512×512, bilinear, align_corners=False; teacher in eval mode; map resized back the same way) —
float64 leaves only the graph to compare; and per key a fingerprint of the original tensor (sum,
index-weighted sum, Σ|x|, first, last; float64), so the C++ test checks that each converted tensor
lands in the right module without a second 81 MB copy.
Usage: parity_icnet_teacher.py OUT.safetensors"""
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import st_io  # noqa: E402
from icnet_teacher import ICNet  # noqa: E402


def fingerprint(t):
    v = t.detach().double().flatten()
    if v.numel() == 0:
        return torch.zeros(5, dtype=torch.float64)
    ramp = (torch.arange(v.numel(), dtype=torch.int64) % 7 + 1).double()
    return torch.stack([v.sum(), (v * ramp).sum(), v.abs().sum(), v[0], v[-1]])


def main(out):
    torch.manual_seed(0)
    model = ICNet(512)
    # Running statistics of one random batch (cumulative average over a single batch).
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
    model.train()
    with torch.no_grad():
        model(torch.randn(1, 3, 512, 512))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    model.eval()
    x = torch.randn(1, 3, 512, 512)
    with torch.no_grad():
        cmap, score = model(x)
    assert cmap.shape == (1, 1, 64, 64) and score.shape == (1,)
    assert float(cmap.std()) > 1e-3, "the reference map is (nearly) constant"
    state = model.state_dict()
    assert sum(v.numel() for k, v in model.named_parameters()) == 20328074
    assert len(state) == 246
    converted = out.replace(".safetensors", "_converted.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        ck = os.path.join(tmp, "ck.pth")
        torch.save(state, ck)
        subprocess.run([sys.executable, os.path.join(here, "..", "convert_checkpoint.py"), ck, converted],
                       check=True)
    entries = [("input", x), ("map", cmap), ("score", score)]
    entries += [("fingerprint/" + k, fingerprint(v)) for k, v in state.items()]
    crop = torch.randn(1, 3, 200, 280, dtype=torch.float64)
    model.double()
    with torch.no_grad():
        square = F.interpolate(crop, size=(512, 512), mode="bilinear", align_corners=False)
        label = F.interpolate(model(square)[0], size=(200, 280), mode="bilinear", align_corners=False)
    entries += [("crop_f64", crop), ("complexity_f64", label)]
    st_io.save(out, entries, {"model": "ICNet", "torch": torch.__version__,
                              "map_std": f"{float(cmap.std()):.6f}"})


if __name__ == "__main__":
    main(sys.argv[1])
