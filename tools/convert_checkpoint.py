#!/usr/bin/env python3
"""Converts a PyTorch checkpoint (.pth / .pt / .tar) into a safetensors file rtseg can load.

  convert_checkpoint.py IN OUT.safetensors [--key NAME]

The state_dict is found in the usual wrappers: a bare state_dict, or a dict holding it under
'state_dict', 'model_state_dict', 'model', 'net' or 'params' (or --key), or a pickled nn.Module.
Keys are written unchanged (rtseg strips 'module.', 'model.' and '_orig_mod.' when it loads);
float16/bfloat16/int32 tensors keep their type (rtseg widens them on load), bool becomes uint8.
Non-tensor entries are listed and skipped. Needs PyTorch (dev-time only).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import st_io  # noqa: E402

WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "params")


def find_state_dict(obj, key=None):
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict(), "module object"
    if not isinstance(obj, dict):
        raise SystemExit(f"error: the checkpoint holds a {type(obj).__name__}, not a state_dict")
    if key is not None:
        if key not in obj:
            raise SystemExit(f"error: no entry '{key}' (top-level keys: {', '.join(map(str, list(obj)[:20]))})")
        return find_state_dict(obj[key])[0], key
    if obj and all(torch.is_tensor(v) for v in obj.values()):
        return obj, "top level"
    for k in WRAPPER_KEYS:
        if k in obj and isinstance(obj[k], (dict, torch.nn.Module)):
            return find_state_dict(obj[k])[0], k
    tensors = {k: v for k, v in obj.items() if torch.is_tensor(v)}
    if tensors:
        return tensors, "top level (tensor entries only)"
    raise SystemExit(f"error: no state_dict found (top-level keys: {', '.join(map(str, list(obj)[:20]))}); use --key")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--key", help="entry of the checkpoint that holds the state_dict")
    args = parser.parse_args()
    try:
        obj = torch.load(args.input, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - report any unpickling failure as one line
        raise SystemExit(f"error: cannot read {args.input}: {e}")
    state, where = find_state_dict(obj, args.key)
    tensors, skipped = [], []
    for k, v in state.items():
        if not torch.is_tensor(v):
            skipped.append(k)
            continue
        if v.dtype == torch.bool:
            v = v.to(torch.uint8)
        elif v.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                             torch.int32, torch.uint8):
            v = v.to(torch.float32 if v.is_floating_point() else torch.int64)
        tensors.append((k, v))
    st_io.save(args.output, tensors, {"source": os.path.basename(args.input), "state_dict": where})
    params = sum(v.numel() for k, v in tensors if v.is_floating_point())
    print(f"{args.output}: {len(tensors)} tensors ({params:,} floating elements) from {where}"
          + (f"; skipped non-tensor entries: {', '.join(skipped)}" if skipped else ""))


if __name__ == "__main__":
    main()
