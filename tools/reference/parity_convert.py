#!/usr/bin/env python3
"""Checks tools/convert_checkpoint.py end to end: saves the small parity model's weights as a
training-style .pth (wrapped in {'state_dict': ..., 'epoch': ...} with DataParallel's 'module.'
prefix), converts it, and writes the original tensors as "expected/<key>" next to the converted
file, for rtseg's test to load the converted file and compare. Usage: parity_convert.py OUT"""
import os
import subprocess
import sys
import tempfile

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import st_io  # noqa: E402
from parity_small import SmallNet  # noqa: E402


def main(out):
    torch.manual_seed(1)
    model = SmallNet()
    with torch.no_grad():
        model.body[1].running_mean.uniform_(-1, 1)
    state = {"module." + k: v for k, v in model.state_dict().items()}
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "checkpoint.pth.tar")
        torch.save({"state_dict": state, "epoch": 3, "best_miou": 0.5}, pth)
        converted = out.replace(".safetensors", "_converted.safetensors")
        subprocess.run([sys.executable, os.path.join(here, "..", "convert_checkpoint.py"), pth, converted], check=True)
    st_io.save(out, [("expected/" + k, v) for k, v in model.state_dict().items()])


if __name__ == "__main__":
    main(sys.argv[1])
