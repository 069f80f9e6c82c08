#!/usr/bin/env python3
"""CPU peers of `rtseg bench`: the same net (tools/reference definitions, BN folded), the same
protocol (eval, batch 1, 10 warm-ups, a timed loop of at least --seconds, logits at 1/8), run by
the engines a user would deploy with on a CPU, each with --threads intra-op threads. Prints one
JSON line: {"peers": [{"name", "version", "threads", "latency_ms", "fps"}, ...]}.

  bench_peers.py --net cifrenet --classes 19 --size 360x640 --threads 1
                 [--peers torch,torchscript,onnxruntime,openvino] [--seconds 5]

torch: eager PyTorch; torchscript: traced and frozen; onnxruntime and openvino run the model
exported with torch.onnx (opset 13) in fp32. A peer that is not installed is reported with an
"error" instead of timings. Dev-time only: rtseg itself never needs Python.

--train --batch B times `rtseg bench --train`'s step in eager PyTorch instead (train mode,
forward, logits resized to the input, cross-entropy on random labels, backward, SGD with
momentum 0.9 and weight decay 5e-4): {"peers": [{"name": "torch", ..., "step_ms"}]}.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import build, fold_bn  # noqa: E402


class Eighth(torch.nn.Module):
    """The protocol's output (logits at 1/8) as a module, for tracing and export."""

    def __init__(self, net, eighth):
        super().__init__()
        self.net, self.eighth = net, eighth

    def forward(self, x):
        return self.eighth(self.net, x)


def time_loop(run, seconds):
    for _ in range(10):
        run()
    t0 = time.perf_counter()
    for _ in range(3):
        run()
    probe = (time.perf_counter() - t0) / 3
    n = max(10, int(seconds / max(probe, 1e-6)))
    t0 = time.perf_counter()
    for _ in range(n):
        run()
    ms = (time.perf_counter() - t0) * 1000.0 / n
    return {"iterations": n, "latency_ms": ms, "fps": 1000.0 / ms}


def run_peer(name, model, x, onnx_path, threads, seconds):
    if name == "torch":
        with torch.no_grad():
            r = time_loop(lambda: model(x), seconds)
        return dict(r, version=torch.__version__)
    if name == "torchscript":
        with torch.no_grad():
            frozen = torch.jit.freeze(torch.jit.trace(model, x).eval())
            r = time_loop(lambda: frozen(x), seconds)
        return dict(r, version=torch.__version__)
    import numpy as np  # through a list: the engines' NumPy may be newer than torch's
    feed = np.asarray(x.tolist(), dtype=np.float32)
    if name == "onnxruntime":
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        input_name = sess.get_inputs()[0].name
        r = time_loop(lambda: sess.run(None, {input_name: feed}), seconds)
        return dict(r, version=ort.__version__)
    if name == "openvino":
        import openvino as ov
        core = ov.Core()
        compiled = core.compile_model(onnx_path, "CPU", {"INFERENCE_NUM_THREADS": threads,
                                                         "INFERENCE_PRECISION_HINT": "f32",
                                                         "PERFORMANCE_HINT": "LATENCY",
                                                         "NUM_STREAMS": 1})
        request = compiled.create_infer_request()
        r = time_loop(lambda: request.infer({0: feed}), seconds)
        return dict(r, version=ov.__version__)
    raise ValueError(f"unknown peer {name}")


def train_step_bench(a, h, w):
    import torch.nn.functional as F
    net, _, align = build(a.net, a.classes)
    net.train()
    x = torch.rand(a.batch, 3, h, w) * 2 - 1
    target = torch.randint(0, a.classes, (a.batch, h, w))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad()
        out = net(x)
        logits = out[0] if isinstance(out, (tuple, list)) else out
        if logits.shape[-2:] != (h, w):
            logits = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=align)
        loss = F.cross_entropy(logits, target, ignore_index=255)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(2):
        step()
    t0 = time.perf_counter()
    step()
    probe = time.perf_counter() - t0
    n = max(3, int(a.seconds / max(probe, 1e-6)))
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    ms = (time.perf_counter() - t0) * 1000.0 / n
    return [{"name": "torch", "version": torch.__version__, "threads": a.threads, "iterations": n,
             "step_ms": ms, "images_per_s": 1000.0 * a.batch / ms}]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--net", default="cifrenet")
    p.add_argument("--classes", type=int, default=19)
    p.add_argument("--size", default="360x640")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--peers", default="torch,torchscript,onnxruntime,openvino")
    p.add_argument("--train", action="store_true")
    p.add_argument("--batch", type=int, default=2)
    a = p.parse_args()
    h, w = map(int, a.size.lower().split("x"))
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.train:
        peers = [s for s in a.peers.split(",") if s]
        results = train_step_bench(a, h, w) if "torch" in peers else []
        for name in peers:
            if name != "torch":
                results.append({"name": name, "threads": a.threads,
                                "error": "only PyTorch trains (--train)"})
        print(json.dumps({"net": a.net, "size": a.size, "batch": a.batch, "peers": results}))
        return
    net, eighth, _ = build(a.net, a.classes)
    net.eval()
    fold_bn(net)
    model = Eighth(net, eighth).eval()
    x = torch.randn(1, 3, h, w)
    peers = [s for s in a.peers.split(",") if s]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = os.path.join(tmp, "model.onnx")
        if any(s in ("onnxruntime", "openvino") for s in peers):
            with torch.no_grad():
                torch.onnx.export(model, x, onnx_path, opset_version=13, input_names=["image"],
                                  output_names=["logits"])
        for name in peers:
            entry = {"name": name, "threads": a.threads}
            try:
                entry.update(run_peer(name, model, x, onnx_path, a.threads, a.seconds))
            except Exception as e:  # a missing or failing peer is reported, not fatal
                entry["error"] = f"{type(e).__name__}: {e}".splitlines()[0]
            results.append(entry)
    print(json.dumps({"net": a.net, "size": a.size, "peers": results}))


if __name__ == "__main__":
    main()
