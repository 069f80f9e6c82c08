#!/usr/bin/env python3
"""PyTorch reference for rtseg's loss parity test (tests/parity/test_parity_pidnet_loss.cpp):
PIDNet's four loss terms and their total (tools/reference/pidnet_loss.py) and ICFRNet's IC loss,
each with its gradient w.r.t. every head, in float64 and float32, on heads at 6×8 and labels at
45×61 (an odd, non-integer up-scaling), 19 classes with the Cityscapes weights.

Cases: "default" (the authors' settings: min_kept 131072, more than the 5,490 pixels, so the
threshold is max(largest p, 0.9); auxiliary CE over all pixels) and "kept1000" (min_kept 1000: the
order statistic sets the threshold; weighted-mean auxiliary CE). Half the labels are the main
head's own argmax so that OHEM drops the confident ones. Inputs are redrawn until no target
probability sits within 1e-5 of a selection boundary and no boundary logit within 1e-5 of
logit(0.8), so float32 rounding cannot flip a selection.

Writes "labels", "edges", "<dt>/<input>", "<dt>/<case>/<term>" and
"<dt>/<case>/<term>/grad_<head>" (zeros where a term does not depend on a head), and the same
for "<dt>/ic/<term>". Usage: parity_pidnet_loss.py OUT.safetensors"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402
from pidnet_loss import (CITYSCAPES_CLASS_WEIGHTS, IGNORE, boundary_aware_labels, ic_loss,  # noqa: E402
                         pidnet_loss, target_probability)

N, C, h, w, H, W = 2, 19, 6, 8, 45, 61
CASES = {"default": dict(min_kept=131072, weighted_mean_aux=False),
         "kept1000": dict(min_kept=1000, weighted_mean_aux=True)}
TERMS = ["aux", "main", "boundary", "boundary_semantic", "total"]
HEADS = ["aux", "main", "boundary"]
MARGIN = 1e-5


def draw(gen):
    aux = torch.randn(N, C, h, w, generator=gen, dtype=torch.float64) * 2
    main = torch.randn(N, C, h, w, generator=gen, dtype=torch.float64) * 3
    boundary = torch.randn(N, 1, h, w, generator=gen, dtype=torch.float64) * 2
    up = F.interpolate(main, size=(H, W), mode="bilinear", align_corners=True)
    labels = torch.randint(0, C, (N, H, W), generator=gen)
    own = torch.rand(N, H, W, generator=gen) < 0.5
    labels = torch.where(own, up.argmax(1), labels)
    labels[torch.rand(N, H, W, generator=gen) < 0.08] = IGNORE
    edges = (torch.rand(N, 1, H, W, generator=gen) < 0.25).to(torch.float32)
    return aux, main, boundary, labels, edges


def selection_is_stable(main_up, labels, min_kept):
    p = target_probability(main_up, labels).flatten()[labels.flatten() != IGNORE]
    if p.numel() < 2:
        return False
    ordered = torch.sort(p).values
    k = min(min_kept, ordered.numel() - 1)
    if bool(((p - 0.9).abs() < MARGIN).any()):
        return False
    if k > 0 and float(ordered[k] - ordered[k - 1]) < MARGIN:
        return False
    return not (k + 1 < ordered.numel() and float(ordered[k + 1] - ordered[k]) < MARGIN)


def stable(aux, main, boundary, labels):
    bd_up = F.interpolate(boundary, size=(H, W), mode="bilinear", align_corners=True)
    if bool(((bd_up - math.log(4.0)).abs() < MARGIN).any()):
        return False
    main_up = F.interpolate(main, size=(H, W), mode="bilinear", align_corners=True)
    sb = boundary_aware_labels(bd_up, labels)
    return all(selection_is_stable(main_up, lab, case["min_kept"])
               for case in CASES.values() for lab in (labels, sb))


def grads(term, inputs):
    out = torch.autograd.grad(term, inputs, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for g, x in zip(out, inputs)]


def main(out):
    gen = torch.Generator().manual_seed(0)
    while True:
        aux, main_logits, boundary, labels, edges = draw(gen)
        if stable(aux, main_logits, boundary, labels):
            break
    ic_in = torch.randn(N, 1, h, w, generator=gen, dtype=torch.float64) * 2
    teacher = torch.rand(N, 1, H, W, generator=gen, dtype=torch.float64)
    entries = [("labels", labels), ("edges", edges)]
    for dt, dtype in (("f64", torch.float64), ("f32", torch.float32)):
        heads = [t.to(dtype).requires_grad_(True) for t in (aux, main_logits, boundary)]
        weights = torch.tensor(CITYSCAPES_CLASS_WEIGHTS, dtype=dtype)
        entries += [(f"{dt}/{name}_in", t.detach()) for name, t in zip(HEADS, heads)]
        for case, options in CASES.items():
            terms = pidnet_loss(heads, labels, edges, weights, **options)
            for term in TERMS:
                entries.append((f"{dt}/{case}/{term}", terms[term].detach().reshape(())))
                for name, g in zip(HEADS, grads(terms[term], heads)):
                    entries.append((f"{dt}/{case}/{term}/grad_{name}", g))
        ic = ic_in.to(dtype).requires_grad_(True)
        t = teacher.to(dtype)
        entries += [(f"{dt}/ic_in", ic.detach()), (f"{dt}/teacher", t)]
        terms = ic_loss(ic, t)
        for term in ("mse", "kl", "total"):
            entries.append((f"{dt}/ic/{term}", terms[term].detach().reshape(())))
            entries.append((f"{dt}/ic/{term}/grad_ic", grads(terms[term], [ic])[0]))
    st_io.save(out, entries, {"torch": torch.__version__, "cases": ",".join(CASES)})


if __name__ == "__main__":
    main(sys.argv[1])
