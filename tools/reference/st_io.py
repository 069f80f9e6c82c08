"""Minimal safetensors I/O for torch tensors using only struct, json and numpy (no `safetensors`
package needed). Dev-time only: rtseg itself never runs Python."""
import json
import struct

import numpy as np
import torch

_TO_FILE = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.uint8: "U8",
            torch.int32: "I32", torch.float16: "F16"}
_FROM_FILE = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "U8": np.uint8,
              "I32": np.int32, "F16": np.float16}


def save(path, tensors, metadata=None):
    """tensors: list of (name, tensor) or a dict; written in that order."""
    items = list(tensors.items()) if isinstance(tensors, dict) else list(tensors)
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name, t in items:
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            blob = (t.view(torch.int16).numpy().astype("<i2")).tobytes()
            dtype = "BF16"
        else:
            blob = t.numpy().tobytes()
            dtype = _TO_FILE[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load(path):
    """Returns (dict name -> tensor in file order, metadata dict)."""
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, v in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = v["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=_FROM_FILE[v["dtype"]]).reshape(v["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta
