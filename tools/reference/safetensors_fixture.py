#!/usr/bin/env python3
"""Independent safetensors writer and reader using only the standard library (struct, json).

  safetensors_fixture.py write OUT   writes a fixture covering F32, F64, I64, U8, I32, F16, BF16,
                                     a 0-dim and an empty tensor, and __metadata__
  safetensors_fixture.py check FILE  reads FILE (as written by rtseg's test) and prints each
                                     tensor as "name dtype shape values..."

The rtseg test suite uses it to check that files cross between rtseg and the reference layout in
both directions.
"""
import json
import struct
import sys


def write(path):
    tensors = [
        ("weights.f32", "F32", [2, 3], struct.pack("<6f", 1.5, -2.0, 0.25, 3.0, -0.125, 1e-3)),
        ("weights.f64", "F64", [3], struct.pack("<3d", 3.141592653589793, -1e-300, 2.0)),
        ("labels", "I64", [2, 2], struct.pack("<4q", 0, 255, -1, 2**40)),
        ("pixels", "U8", [4], bytes([0, 1, 128, 255])),
        ("counts", "I32", [3], struct.pack("<3i", -7, 0, 2**31 - 1)),
        ("half", "F16", [3], struct.pack("<3e", 1.0, -0.5, 65504.0)),
        # bfloat16 = the upper 16 bits of the float32 pattern
        ("brain", "BF16", [2], b"".join(struct.pack("<f", v)[2:] for v in (1.0, -3.0))),
        ("bn.num_batches_tracked", "I64", [], struct.pack("<q", 12)),
        ("empty", "F32", [0, 3], b""),
    ]
    header = {"__metadata__": {"format": "pt", "note": "fixture"}}
    offset = 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)


def check(path):
    blob = open(path, "rb").read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    formats = {"F32": "f", "F64": "d", "I64": "q", "U8": "B"}
    spans = sorted(tuple(v["data_offsets"]) for k, v in header.items() if k != "__metadata__")
    at = 0
    for begin, end in spans:
        assert begin == at, "gap or overlap"
        at = end
    assert at == len(data), "data section not covered exactly"
    for name, v in header.items():
        if name == "__metadata__":
            print("__metadata__", json.dumps(v, sort_keys=True))
            continue
        begin, end = v["data_offsets"]
        fmt = formats[v["dtype"]]
        count = (end - begin) // struct.calcsize(fmt)
        values = struct.unpack("<%d%s" % (count, fmt), data[begin:end])
        print(name, v["dtype"], ",".join(map(str, v["shape"])), " ".join(repr(x) for x in values))


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
