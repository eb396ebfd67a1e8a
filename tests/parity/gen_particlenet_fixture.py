#!/usr/bin/env python3
"""Parity fixture for ParticleNet with the trained JetClass weights, from weaver-core 0.4.17's own
ParticleNet class (imported as a dependency, never copied):

    tools/parity-env.sh
    .venv-parity/bin/python tests/parity/gen_particlenet_fixture.py [../shared/data/particlenet]

Loads ParticleNet_kin.pt (the published JetClass checkpoint; never copied into the repository), builds
the published configuration (k = 16, widths 64/128/256, fc 256, no fusion) and runs it in eval mode on
realistic jets: 2 to 128 particles, several with n <= 16 so that padding points become neighbours, as
they do in weaver. Writes tests/parity/particlenet_kin/{inputs.h5, expected.h5} (/logits, /scores);
the weights are converted at test time from ../shared/data by `hepnc import weaver`.
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from gen_fixtures import PFN_FEATURES, dataset, h5_file, make_jets  # noqa: E402
from gen_part_fixture import standardise  # noqa: E402
from weaver.nn.model.ParticleNet import ParticleNet  # noqa: E402

CONFIG = dict(input_dims=7, num_classes=10, conv_params=[(16, (64, 64, 64)), (16, (128, 128, 128)), (16, (256, 256, 256))],
              fc_params=[(256, 0.1)], use_fusion=False, use_fts_bn=True, use_counts=True)


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "data", "particlenet")
    state = torch.load(os.path.join(shared, "ParticleNet_kin.pt"), map_location="cpu")
    state = {k[4:] if k.startswith("mod.") else k: v for k, v in state.items()}
    model = ParticleNet(**CONFIG, for_inference=False).eval()
    model.load_state_dict(state)
    torch.set_num_threads(1)
    rng = np.random.default_rng(20261126)
    x, p4, mask, counts = make_jets(rng, 64, 128)
    counts[:6] = [2, 5, 16, 17, 128, 9]
    for j in range(6):                       # a few small jets: padding points become kNN neighbours
        mask[j] = 0
        mask[j, :counts[j]] = 1
        x[j, counts[j]:] = 0
    xs = standardise(x) * mask[..., None]
    points = x[..., 5:7] * mask[..., None]   # (deta, dphi): weaver's pf_points
    out = os.path.join(HERE, "particlenet_kin")
    os.makedirs(out, exist_ok=True)
    with h5_file(os.path.join(out, "inputs.h5")) as f:
        dataset(f, "particles/features", x.astype(np.float32))
        f["particles/features"].attrs["names"] = np.array(PFN_FEATURES, dtype="S")
        dataset(f, "particles/mask", mask)
        dataset(f, "labels", rng.integers(0, 10, size=len(x)).astype(np.int32))
    pt = torch.from_numpy(np.ascontiguousarray(points.transpose(0, 2, 1)))
    ft = torch.from_numpy(np.ascontiguousarray(xs.transpose(0, 2, 1)))
    mt = torch.from_numpy(mask[:, None, :].astype(np.float32))
    with torch.no_grad():
        logits = model(pt.clone(), ft.clone(), mt)          # the forward masks its inputs in place
    with h5_file(os.path.join(out, "expected.h5")) as f:
        dataset(f, "logits", logits.numpy())
        dataset(f, "scores", torch.softmax(logits, 1).numpy())
    print(f"particlenet_kin: {len(x)} jets, n {mask.sum(1).min()}..{mask.sum(1).max()}, |logits| max "
          f"{logits.abs().max():.3g}, predicted classes {np.bincount(logits.argmax(1).numpy(), minlength=10)}")


if __name__ == "__main__":
    main()
