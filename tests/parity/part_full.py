#!/usr/bin/env python3
"""JetClass-size Particle Transformer check against weaver-core 0.4.17 (not run by `make test`: it needs
PyTorch; rerun it whenever the ParT ops or kernels change):

    tools/parity-env.sh && .venv-parity/bin/python tests/parity/part_full.py [--jets 256]

The published configuration (models/part_jetclass_kin.yaml: 128 particles, embed [128, 512, 128], pair
embed [64, 64, 64], 8 heads, 8 + 2 blocks, 10 classes) with random non-trivial weights, realistic jets
of 30 to 80 particles. hepnc gets the raw features and standardises them itself (the spec's
`preprocess`, from weaver's JetClass data config); weaver gets them standardised by its own formula.
Both hepnc builds (generated loops, OpenBLAS) must agree with weaver's trimmed path within
|Δ logits| ≤ 1e-4 and |Δ p| ≤ 1e-5 on every jet. Work files go to build/parity-full/.
"""
import argparse
import os
import subprocess
import sys

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
from gen_fixtures import PFN_FEATURES, dataset, h5_file, make_jets  # noqa: E402
from gen_part_fixture import randomise, standardise  # noqa: E402
from weaver_import import map_part_state, write_safetensors  # noqa: E402
from weaver.nn.model.ParticleTransformer import ParticleTransformer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jets", type=int, default=256)
    ap.add_argument("--hepnc", default=os.path.join(ROOT, "build", "hepnc"))
    args = ap.parse_args()
    work = os.path.join(ROOT, "build", "parity-full")
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(20261125)
    x, p4, mask, counts = make_jets(rng, 4 * args.jets, 80)
    keep = counts >= 30
    x, p4, mask = x[keep][: args.jets], p4[keep][: args.jets], mask[keep][: args.jets]
    pad = lambda a: np.concatenate([a, np.zeros((a.shape[0], 128 - a.shape[1]) + a.shape[2:], a.dtype)], 1)
    x, p4, mask = pad(x), pad(p4), pad(mask)
    with h5_file(os.path.join(work, "jets.h5")) as f:
        dataset(f, "particles/features", x)
        f["particles/features"].attrs["names"] = np.array(PFN_FEATURES, dtype="S")
        dataset(f, "particles/mask", mask)
        dataset(f, "particles/vectors", p4)
    torch.manual_seed(11)
    torch.set_num_threads(1)
    model = ParticleTransformer(7, num_classes=10, use_pre_activation_pair=False).eval()
    randomise(model, torch.Generator().manual_seed(11))
    write_safetensors(os.path.join(work, "weights.safetensors"), map_part_state(model.state_dict()))
    xt = torch.from_numpy(np.ascontiguousarray((standardise(x) * mask[..., None]).transpose(0, 2, 1)))
    vt = torch.from_numpy(np.ascontiguousarray(p4.transpose(0, 2, 1)))
    mt = torch.from_numpy(mask[:, None, :].astype(np.float32)).bool()
    with torch.no_grad():
        for _ in range(6):
            ref = model(xt, v=vt, mask=mt).numpy()
    ok = True
    for blas in ("none", "openblas"):
        out = os.path.join(work, f"scores-{blas}.h5")
        subprocess.run([args.hepnc, "infer", os.path.join(ROOT, "models", "part_jetclass_kin.yaml"), "--weights",
                        os.path.join(work, "weights.safetensors"), "--data", os.path.join(work, "jets.h5"), "--out",
                        out, "--blas", blas], check=True, env=dict(os.environ, HEPNC_CACHE=os.path.join(work, "cache")))
        with h5py.File(out) as f:
            logits, scores = f["logits"][:], f["scores"][:]
        dl = np.abs(logits - ref).max()
        dp = np.abs(scores - torch.softmax(torch.from_numpy(ref), 1).numpy()).max()
        good = dl <= 1e-4 and dp <= 1e-5
        ok &= good
        print(f"{'ok' if good else 'FAIL'} --blas {blas}: {len(x)} jets, n {mask.sum(1).min()}..{mask.sum(1).max()} of 128, "
              f"max |Δ logits| {dl:.2e} (≤ 1e-4), max |Δ p| {dp:.2e} (≤ 1e-5)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
