#!/usr/bin/env python3
"""parity_pidnet.py in float64 and training mode (batch statistics, running-stat updates) at
2×3×64×96: with rounding out of the way rtseg must agree to ~1e-9. Usage: parity_pidnet_f64.py OUT"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity_pidnet import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1], torch.float64, training=True, shape=(2, 3, 64, 96))
