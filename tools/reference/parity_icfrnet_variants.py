#!/usr/bin/env python3
"""parity_icfrnet.py with every ICFRNet option away from variant A at once (segmenthead IC head,
the one-channel map as guidance, pooling over the I-branch context, ICGA after stages 3 and 4,
7×7 kernel without bias, residual gating), float64, training mode, 2×3×66×98.
Usage: parity_icfrnet_variants.py OUT"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity_icfrnet import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1], torch.float64, training=True, shape=(2, 3, 66, 98),
         options=dict(ic_head="segmenthead", guidance="map", pooled="context", placement="stages34", kernel=7,
                      bias=False, residual=True))
