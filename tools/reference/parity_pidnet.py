#!/usr/bin/env python3
"""PyTorch reference for rtseg's PIDNet-S parity test: the training graph of tools/reference/pidnet.py
(all three heads) with random weights and non-trivial BN statistics, one forward/backward of
  loss = CE(P-aux, t) + CE(main, t) + MSE(boundary, b)
with t a 1/8-resolution label map (some pixels ignored) and b a random boundary target. Writes
param/, buffer/, input, target, boundary_target, complexity_target (used by ICFRNet only),
output/{aux_p,main,boundary}, loss, grad/, buffer_after/, and the mode in the metadata.

float64 runs in training mode (parity_pidnet_f64.py, 2×3×64×96): batch statistics, running-stat
updates, and agreement to ~1e-9 — the proof that graph and backward are the same.

float32 runs in eval mode at a size that is not a multiple of 8 (2×3×66×98), with two measures
that keep the comparison about the implementation rather than about fp32 rounding:
- running statistics are calibrated on another random batch (random ones let activations grow to
  hundreds through ~40 residual layers) and the classifiers are scaled so that logits stay O(10)
  (a saturated softmax turns logit rounding into gradient noise);
- a ReLU whose input lies within rounding distance of 0 takes the other branch in another fp32
  implementation and changes a whole row of the weight gradient by ~1/(positions of that layer),
  i.e. 1e-3..1e-2 on maps of a few hundred positions: on about half of all random draws PyTorch's
  own fp32 gradients differ that much from its float64 ones (and rtseg's fp32 from its float64
  ones, while rtseg in float64 on the same fp32 data matches PyTorch fp32 to 1e-5). A draw is
  therefore used only if PyTorch fp32 agrees with PyTorch float64 (same weights and inputs) to 1e-5
  on every output and gradient; the search starts at a seed on which rtseg's fp32 was also checked
  to stay clear of kinks when this script was written (PIDNet-S: seed 2, rtseg within 1.3e-5;
  ICFRNet: seed 5, within 1.2e-5). Should PyTorch's fp32 on another machine not be conditioned on
  that seed, the next seeds are tried; the seed used and the agreement go into the metadata, which
  the C++ test prints when it fails.
fp32 training mode is not compared: PAPPM's pooled branches normalise a handful of values per
channel, which amplifies rounding far beyond 1e-4 (as for CIFReNet).
Usage: parity_pidnet.py OUT.safetensors"""
import copy
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402
from pidnet import PIDNet  # noqa: E402

NUM_CLASSES = 19
CONDITIONING = 1e-5  # fp32 draws must agree this well between PyTorch fp32 and PyTorch float64
CLASSIFIERS = ("final_layer.conv2.weight", "seghead_p.conv2.weight")


def randomize(model):
    """Non-trivial BN affine parameters and running statistics (the nets' own init leaves BN at
    the identity, which would hide the difference between BN(x) and BN(ReLU(x))), and classifiers
    scaled to keep the logits O(10)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        for name, p in model.named_parameters():
            if name in CLASSIFIERS:
                p.mul_(0.05)


def calibrate(model, x):
    """Running statistics = the batch statistics of `x` (one training-mode pass with cumulative
    averaging), so that an eval-mode forward normalises its activations."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None
        model.train()(x)
        for bn in bns:
            bn.momentum = 0.1
            bn.num_batches_tracked.zero_()


def eighth(v):
    """Size after three stride-2 3×3 convs with padding 1: ⌈⌈⌈v/2⌉/2⌉/2⌉."""
    return (((v + 1) // 2 + 1) // 2 + 1) // 2


def make_batch(shape, dtype):
    n, _, h, w = shape
    x = torch.randn(*shape, dtype=dtype)
    target = torch.randint(0, NUM_CLASSES, (n, eighth(h), eighth(w)))
    target[:, ::3, ::4] = 255
    return {"input": x, "target": target,
            "boundary_target": torch.rand(n, 1, eighth(h), eighth(w), dtype=dtype),
            "complexity_target": torch.rand(n, 1, h, w, dtype=dtype)}


def pidnet_loss(heads, batch):
    aux_p, main, bd = heads
    t = batch["target"]
    return (F.cross_entropy(aux_p, t, ignore_index=255) + F.cross_entropy(main, t, ignore_index=255)
            + F.mse_loss(bd, batch["boundary_target"]))


def pidnet_forward(model, batch):
    """(named outputs, loss) of one training-graph forward."""
    heads = model(batch["input"])
    outputs = [("output/aux_p", heads[0]), ("output/main", heads[1]), ("output/boundary", heads[2])]
    return outputs, pidnet_loss(heads, batch)


def step(model, batch, forward):
    outputs, loss = forward(model, batch)
    loss.backward()
    grads = [(k, v.grad) for k, v in model.named_parameters()]
    return outputs, loss, grads


def fp32_vs_fp64(model, batch, forward):
    """Largest normalized difference between PyTorch fp32 and float64 on the same weights and
    inputs, over outputs, loss and gradients (normalized as tests/parity/parity_support.h does)."""
    m64 = copy.deepcopy(model).double()
    b64 = {k: (v.double() if v.is_floating_point() else v) for k, v in batch.items()}
    out32, loss32, g32 = step(model, batch, forward)
    out64, loss64, g64 = step(m64, b64, forward)
    model.zero_grad(set_to_none=True)
    largest = max(g.abs().max().item() for _, g in g64)
    worst = 0.0
    pairs = [(a, b, 1e-6) for (_, a), (_, b) in zip(out32, out64)] + [(loss32, loss64, 1e-6)]
    pairs += [(a, b, 1e-3 * largest) for (_, a), (_, b) in zip(g32, g64)]
    for a, b, floor in pairs:
        worst = max(worst, (a.double() - b).abs().max().item() / max(b.abs().max().item(), floor))
    return worst


def generate(out, build, forward, meta, dtype, training, shape, first_seed=0, max_draws=30):
    """Builds (build()), draws, checks conditioning (fp32) and writes the reference file."""
    for seed in range(first_seed, first_seed + max_draws):
        torch.manual_seed(seed)
        model = build()
        randomize(model)
        model.to(dtype)
        batch = make_batch(shape, dtype)
        if not training:
            calibrate(model, torch.randn(*shape, dtype=dtype))
        model.train(training)
        agreement = fp32_vs_fp64(model, batch, forward) if dtype == torch.float32 else 0.0
        if agreement <= CONDITIONING:
            break
        print(f"seed {seed}: PyTorch fp32 vs float64 differ by {agreement:.2e}; next draw")
    else:
        raise SystemExit(f"no draw in {max_draws} seeds is conditioned to {CONDITIONING}")
    entries = list(batch.items())
    entries += [("param/" + k, v.detach().clone()) for k, v in model.named_parameters()]
    entries += [("buffer/" + k, v.clone()) for k, v in model.named_buffers()]
    outputs, loss, grads = step(model, batch, forward)
    entries += outputs + [("loss", loss.reshape(()))]
    entries += [("grad/" + k, g) for k, g in grads]
    entries += [("buffer_after/" + k, v) for k, v in model.named_buffers()]
    meta = dict(meta, torch=torch.__version__, training=str(training), num_classes=NUM_CLASSES, seed=seed,
                fp32_vs_fp64=f"{agreement:.3e}")
    st_io.save(out, entries, meta)


def main(out, dtype=torch.float32, training=False, shape=(2, 3, 66, 98)):
    generate(out, lambda: PIDNet(NUM_CLASSES, augment=True), pidnet_forward, {"model": "PIDNet-S"}, dtype,
             training, shape, first_seed=2 if dtype == torch.float32 else 0)


if __name__ == "__main__":
    main(sys.argv[1])
