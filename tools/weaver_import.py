#!/usr/bin/env python3
"""Maps a weaver-core ParticleTransformer state_dict onto hepnc's weight names and writes safetensors.

    python3 tools/weaver_import.py STATE.pt -o W.safetensors      (needs PyTorch to read the .pt)

hepnc's ParT and ParticleNet ops name their weights after weaver's modules when the spec's layers are
called as in models/part_*.yaml (embed, pair_embed, blocks, cls_blocks, norm, fc) and
models/particlenet_*.yaml (bn_fts, edge_conv<b>, fc, out), so the mapping is small:
  - a leading 'mod.' (weaver's wrapper) is dropped;
  - attn.in_proj_weight / in_proj_bias  -> attn.in_proj.weight / attn.in_proj.bias;
  - Conv1d weights [out, in, 1]         -> [out, in];
  - cls_token [1, 1, D]                 -> cls_blocks.cls_token [D];
  - fc.0.* (a head without hidden layers) -> fc.*;
  - ParticleNet: edge_convs.<b>.* -> edge_conv<b>.*, Conv2d/Conv1d weights [out, in, 1(, 1)] -> [out, in],
    fc.0.0.* (hidden layer) -> fc.0.*, fc.1.* (output layer) -> out.*;
  - num_batches_tracked is dropped.
Every other key is kept as is; hepnc's loader then checks that every tensor the spec needs is present
with the right shape, and names the first that is not.
"""
import argparse
import json
import os
import re
import struct
import sys

import numpy as np


def map_particlenet_state(state):
    out = {}
    for key, value in state.items():
        value = value.detach().cpu().float().numpy() if hasattr(value, "numpy") else np.asarray(value, np.float32)
        name = key[4:] if key.startswith("mod.") else key
        if name.endswith("num_batches_tracked"):
            continue
        name = re.sub(r"^edge_convs\.(\d+)\.", r"edge_conv\1.", name)
        if re.search(r"\.(convs\.\d+|sc)\.weight$", name):
            value = value.reshape(value.shape[0], value.shape[1])
        name = re.sub(r"^fc\.0\.0\.", "fc.0.", name)
        name = re.sub(r"^fc\.1\.", "out.", name)
        out[name] = np.ascontiguousarray(value, dtype=np.float32)
    return out


def map_state(state):
    """ParticleNet or ParT, recognised by their keys."""
    keys = [k[4:] if k.startswith("mod.") else k for k in state]
    return map_particlenet_state(state) if any(k.startswith("edge_convs.") for k in keys) else map_part_state(state)


def map_part_state(state):
    out = {}
    for key, value in state.items():
        value = np.asarray(value, dtype=np.float32) if not hasattr(value, "numpy") else value.detach().cpu().float().numpy()
        name = key[4:] if key.startswith("mod.") else key
        if name.endswith("num_batches_tracked"):
            continue
        name = name.replace("attn.in_proj_weight", "attn.in_proj.weight").replace("attn.in_proj_bias", "attn.in_proj.bias")
        if name == "cls_token":
            name, value = "cls_blocks.cls_token", value.reshape(-1)
        if re.match(r"pair_embed\.(fts_)?embed\.\d+\.weight$", name) and value.ndim == 3:
            value = value[:, :, 0]
        name = re.sub(r"^fc\.0\.", "fc.", name)
        out[name] = np.ascontiguousarray(value, dtype=np.float32)
    return out


def read_safetensors(path, skip=()):
    """{name: float32 array} of a safetensors file (hepnc's weights), leaving out __metadata__ and the names
    that start with a prefix in `skip` (e.g. "__opt__.", the optimiser state of a hepnc checkpoint)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == "__metadata__" or name.startswith(tuple(skip)):
            continue
        assert h["dtype"] == "F32", (path, name, h["dtype"])
        b, e = h["data_offsets"]
        out[name] = np.frombuffer(data[b:e], "<f4").reshape(h["shape"]).copy()
    return out


def write_safetensors(path, tensors):
    """float32 tensors, keys sorted, data 8-byte aligned; written to a temporary file and renamed."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(data.shape), "data_offsets": [offset, offset + data.nbytes]}
        blobs.append(data.tobytes())
        offset += data.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("state", help="weaver state_dict (.pt)")
    ap.add_argument("-o", "--output", required=True, help="safetensors file to write")
    args = ap.parse_args()
    import torch
    state = torch.load(args.state, map_location="cpu")
    if not isinstance(state, dict):
        sys.exit(f"{args.state}: not a state_dict")
    write_safetensors(args.output, map_state(state))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
