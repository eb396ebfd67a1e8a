#!/usr/bin/env python3
"""Parity fixture for ParT with externally supplied pair features (weaver's pair_extra_dim; the route of
a Standard-Model interaction matrix), from weaver-core 0.4.17's own ParticleTransformer:

    .venv-parity/bin/python tests/parity/gen_part_pairs_fixture.py

models/part_small_pairs.yaml: part_small plus a pair input `sm` of 2 channels per ordered pair (a
coupling-like value that depends on both particles, and a same-charge flag), embedded by PairEmbed's
fts_embed and summed with the 4-vector embedding. Both outputs come from weaver's export path with dense pair
features (its training-time path with pair features fails in weaver-core 0.4.17; see below).
Writes tests/parity/part_small_pairs/{weights.safetensors, inputs.h5, expected.h5}.
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from gen_fixtures import PFN_FEATURES, dataset, h5_file, make_jets  # noqa: E402
from gen_part_fixture import CONFIG, MAXP, randomise, standardise  # noqa: E402
from weaver_import import map_part_state, write_safetensors  # noqa: E402
from weaver.nn.model.ParticleTransformer import ParticleTransformer  # noqa: E402


def main():
    torch.manual_seed(9)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(9)
    rng = np.random.default_rng(20261127)
    x_raw, p4, mask, counts = make_jets(rng, 64, MAXP)
    x = standardise(x_raw) * mask[..., None]
    charge = rng.choice([-1.0, 0.0, 1.0], size=mask.shape)
    E, P = mask.shape
    uu = np.zeros((E, P, P, 2), np.float32)
    for e in range(E):
        n = counts[e]
        pt = np.hypot(p4[e, :n, 0], p4[e, :n, 1])
        q2 = np.log(((pt[:, None] + pt[None, :]) / 2) ** 2 + 1.0)            # a running-coupling-like scale
        uu[e, :n, :n, 0] = (0.118 / (1 + 0.118 * 7 / (4 * np.pi) * q2)).astype(np.float32) * 10
        uu[e, :n, :n, 1] = (charge[e, :n, None] * charge[e, None, :n] > 0).astype(np.float32)
        uu[e, :n, :n, 0] += 0.1 * rng.standard_normal((n, n)).astype(np.float32)   # not symmetric on purpose
    cfg = dict(CONFIG, pair_extra_dim=2)
    model = ParticleTransformer(**cfg, for_inference=False).eval()
    randomise(model, gen)      # the same initialisation path as part_small; the export model gets its weights
    export = ParticleTransformer(**cfg, for_inference=True).eval()
    export.load_state_dict(model.state_dict())
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))
    vt = torch.from_numpy(np.ascontiguousarray(p4.transpose(0, 2, 1)))
    mt = torch.from_numpy(mask[:, None, :].astype(np.float32)).bool()
    dense = torch.from_numpy(np.ascontiguousarray(uu.transpose(0, 3, 1, 2)))           # (N, C', P, P)
    # weaver-core 0.4.17's training-time path with extra pair features fails in PairEmbed (the dense
    # tensor built from (uu, uu_idx) is a non-contiguous slice that .view() rejects), so both outputs come
    # from the export path with dense pair features: /logits from a hook on its head, /scores its softmax.
    captured = {}
    export.fc.register_forward_hook(lambda mod, args, output: captured.__setitem__("logits", output.detach()))
    with torch.no_grad():
        scores = export(xt, v=vt, mask=mt, uu=dense)
    logits = captured["logits"]
    out = os.path.join(HERE, "part_small_pairs")
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "weights.safetensors"), map_part_state(model.state_dict()))
    with h5_file(os.path.join(out, "inputs.h5")) as f:
        dataset(f, "particles/features", x.astype(np.float32))
        f["particles/features"].attrs["names"] = np.array(PFN_FEATURES, dtype="S")
        dataset(f, "particles/mask", mask)
        dataset(f, "particles/vectors", p4)
        dataset(f, "sm/features", uu)
        f["sm/features"].attrs["names"] = np.array(["coupling", "same_charge"], dtype="S")
        # class labels for the training checks (hepnc gradcheck): their own generator, so the jets above
        # and the weights stay as they were
        dataset(f, "labels", np.random.default_rng(20261128).integers(0, 3, size=E).astype(np.int32))
    with h5_file(os.path.join(out, "expected.h5")) as f:
        dataset(f, "logits", logits.numpy())
        dataset(f, "scores", scores.numpy())
    print(f"part_small_pairs: {E} jets, |logits| max {logits.abs().max():.3g}, softmax check "
          f"{(scores - torch.softmax(logits, 1)).abs().max():.2e}")


if __name__ == "__main__":
    main()
