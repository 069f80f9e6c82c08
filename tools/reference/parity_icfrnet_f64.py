#!/usr/bin/env python3
"""parity_icfrnet.py (variant A) in float64 and training mode at 2×3×64×96: rtseg must agree to
~1e-9. Usage: parity_icfrnet_f64.py OUT"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity_icfrnet import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1], torch.float64, training=True, shape=(2, 3, 64, 96))
