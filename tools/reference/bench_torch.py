#!/usr/bin/env python3
"""PyTorch side of rtseg's FPS comparison: the same net (tools/reference definitions), the same
protocol as `rtseg bench` (eval, batch 1, 10 warm-ups, a timed loop of at least --seconds with
device synchronisation, logits at 1/8; then end to end with resize + argmax). Prints one JSON line.

  bench_torch.py --net cifrenet --classes 19 --size 360x640 [--device cuda] [--fp16] [--compile]
                 [--fold-bn] [--seconds 5]

--fold-bn merges every Conv2d→BatchNorm2d pair of a Sequential (torch.nn.utils.fusion), the
nearest PyTorch equivalent of rtseg's folding; without it PyTorch runs its BN layers.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def build(name, classes):
    if name == "cifrenet":
        from cifrenet import CIFReNet
        net = CIFReNet(num_classes=classes)
        return net, lambda m, x: m.forward_eighth(x), True
    if name == "pidnet-s":
        from pidnet import PIDNet  # noqa: F401  (written from docs/pidnet-s.md)
        net = PIDNet(num_classes=classes, augment=False)
        return net, lambda m, x: m(x), False
    if name == "icfrnet":
        from icfrnet import ICFRNet  # noqa: F401
        net = ICFRNet(num_classes=classes, augment=False)
        return net, lambda m, x: m(x)[0], False  # (main logits, complexity map): time the logits path
    raise SystemExit(f"unknown net {name}")


def fold_bn(module):
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    for child in module.children():
        fold_bn(child)
    if isinstance(module, torch.nn.Sequential):
        layers = list(module)
        for i in range(len(layers) - 1):
            if isinstance(layers[i], torch.nn.Conv2d) and isinstance(layers[i + 1], torch.nn.BatchNorm2d):
                module[i] = fuse_conv_bn_eval(layers[i], layers[i + 1])
                module[i + 1] = torch.nn.Identity()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--net", default="cifrenet")
    p.add_argument("--classes", type=int, default=19)
    p.add_argument("--size", default="360x640")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--fp16", action="store_true")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--fold-bn", action="store_true")
    p.add_argument("--tf32", action="store_true")
    a = p.parse_args()
    h, w = map(int, a.size.lower().split("x"))
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    net, eighth, align = build(a.net, a.classes)
    net.eval()
    if a.fold_bn:
        fold_bn(net)
    dtype = torch.float16 if a.fp16 else torch.float32
    net = net.to(a.device, dtype)
    x = torch.randn(1, 3, h, w, device=a.device, dtype=dtype)
    run = (lambda t: eighth(net, t))
    if a.compile:
        run = torch.compile(run)

    def sync():
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()

    def timed(n, body):
        sync()
        t0 = time.perf_counter()
        for _ in range(n):
            body()
        sync()
        return (time.perf_counter() - t0) * 1000.0

    with torch.no_grad():
        for _ in range(10):
            run(x)
        probe = timed(3, lambda: run(x)) / 3
        n = max(10, int(a.seconds * 1000.0 / max(probe, 1e-3)))
        latency = timed(n, lambda: run(x)) / n
        e2e = timed(n, lambda: F.interpolate(run(x), size=(h, w), mode="bilinear", align_corners=align).argmax(1)) / n
    print(json.dumps({"net": a.net, "device": torch.cuda.get_device_name() if a.device.startswith("cuda") else "cpu",
                      "torch": torch.__version__, "precision": "fp16" if a.fp16 else "fp32", "compile": a.compile,
                      "fold_bn": a.fold_bn, "tf32": a.tf32, "iterations": n, "latency_ms": latency, "fps": 1000.0 / latency,
                      "end_to_end_ms": e2e, "end_to_end_fps": 1000.0 / e2e}))


if __name__ == "__main__":
    main()
