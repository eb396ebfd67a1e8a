#!/usr/bin/env python3
"""Benchmark inputs for bench/particlenet_cpu: WORK/jets.h5 and WORK/reference.h5 (never committed).

    prepare.py WORK [--jets 512] [--seed 20261125]

Jets: the same as bench/part_cpu's (part_common.bench_jets: make_jets at max 128 particles, kept when
30 <= n <= 80), raw 'kin' features (hepnc standardises them itself, from the spec's preprocess), mask and
4-vectors in hepnc's dataset layout (docs/data.md).
Reference: /logits and /scores (softmax), weaver-core 0.4.17's ParticleNet with the trained JetClass
weights (common.CHECKPOINT) on the same jets in batches of 256, eval mode, torch.no_grad() — what the C
harness checks its outputs against. Also /logits_f64 and /scores_f64, the same model and jets in float64:
a few jets have kNN candidates closer than float32 resolution (jet 168 of the default set: 16th and 17th
neighbours 1.4e-7 apart, relative), where float32 PyTorch and hepnc may pick different neighbours; the
harness accepts such a jet when it matches float64 and counts it. The weights for hepnc are converted by run.sh (tools/weaver_import.py).
"""
import argparse
import os

import numpy as np
import torch

from common import bench_jets, load_model, torch_inputs, write_jets
from gen_fixtures import dataset, h5_file


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--jets", type=int, default=512)
    ap.add_argument("--seed", type=int, default=20261125)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    torch.set_num_threads(2)
    x_raw, p4, mask = bench_jets(np.random.default_rng(a.seed), a.jets)
    write_jets(os.path.join(a.work, "jets.h5"), x_raw, p4, mask)
    model = load_model()
    pt, ft, mt, counts = torch_inputs(os.path.join(a.work, "jets.h5"))
    out = []
    with torch.no_grad():
        for b in range(0, len(pt), 256):
            out.append(model(pt[b:b + 256].clone(), ft[b:b + 256].clone(), mt[b:b + 256]))
    logits = torch.cat(out)
    model64, out64 = load_model().double(), []
    with torch.no_grad():
        for b in range(0, len(pt), 256):
            out64.append(model64(pt[b:b + 256].double(), ft[b:b + 256].double(), mt[b:b + 256].double()))
    logits64 = torch.cat(out64)
    far = ((logits - logits64).abs() / logits64.abs().clamp(min=1)).amax(1)
    with h5_file(os.path.join(a.work, "reference.h5")) as f:
        dataset(f, "logits", logits.numpy())
        dataset(f, "scores", torch.softmax(logits, 1).numpy())
        dataset(f, "logits_f64", logits64.float().numpy())
        dataset(f, "scores_f64", torch.softmax(logits64, 1).float().numpy())
    print(f"prepare: {len(x_raw)} jets, n {counts.min()}..{counts.max()} (mean {counts.mean():.1f}), "
          f"|logits| max {logits.abs().max():.3g}, predicted classes "
          f"{np.bincount(logits.argmax(1).numpy(), minlength=10)}; float32 vs float64 PyTorch: max relative "
          f"|Δ logit| {far.max():.2g}, jets above 1e-4: {torch.nonzero(far > 1e-4).flatten().tolist()}")


if __name__ == "__main__":
    main()
