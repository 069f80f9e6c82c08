#!/usr/bin/env python3
"""PyTorch reference for rtseg's ICFRNet parity test: the training graph of tools/reference/icfrnet.py
(variant A unless options are given) with random weights, one forward/backward of
  loss = CE(P-aux, t) + CE(main, t) + MSE(boundary, b) + MSE(Î_c, c)
(the PIDNet-S terms of parity_pidnet.py plus the complexity map against a random target c at the
input size). Writes what parity_pidnet.py writes plus output/{ic_logits,ic_map}; the ICFRNet
options go into the metadata.

The ICGA convs start at 0.1× their Kaiming draw so that the gates are not saturated and their
gradients are exercised. Precision, modes, sizes and the fp32 conditioning check are those of
parity_pidnet.py: fp32 eval mode at 2×3×66×98 here; float64 training mode in
parity_icfrnet_f64.py (variant A, 2×3×64×96) and parity_icfrnet_variants.py (every non-default
option at once, 2×3×66×98).
Usage: parity_icfrnet.py OUT.safetensors"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from icfrnet import ICFRNet  # noqa: E402
from parity_pidnet import NUM_CLASSES, generate, pidnet_loss  # noqa: E402

VARIANT_A = dict(ic_head="convbn", guidance="features", pooled="branch", placement="stage5", kernel=3, bias=True,
                 residual=False)


def icfrnet_forward(model, batch):
    heads, ic_logits, ic_map = model.outputs(batch["input"])
    outputs = [("output/aux_p", heads[0]), ("output/main", heads[1]), ("output/boundary", heads[2]),
               ("output/ic_logits", ic_logits), ("output/ic_map", ic_map)]
    return outputs, pidnet_loss(heads, batch) + F.mse_loss(ic_map, batch["complexity_target"])


def main(out, dtype=torch.float32, training=False, shape=(2, 3, 66, 98), options=None):
    options = dict(VARIANT_A, **(options or {}))

    def build():
        model = ICFRNet(NUM_CLASSES, augment=True, **options)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.startswith("icga_") and name.endswith("conv.weight"):
                    p.mul_(0.1)
        return model

    meta = {"model": "ICFRNet"}
    meta.update({k: str(v) for k, v in options.items()})
    generate(out, build, icfrnet_forward, meta, dtype, training, shape, first_seed=5 if dtype == torch.float32 else 0)


if __name__ == "__main__":
    main(sys.argv[1])
