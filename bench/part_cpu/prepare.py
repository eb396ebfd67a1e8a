#!/usr/bin/env python3
"""Benchmark inputs for bench/part_cpu: WORK/jets.h5 and WORK/weights.safetensors (never committed).

    prepare.py WORK [--jets 512] [--seed 20261125]

Jets: tests/parity/gen_fixtures.make_jets at max 128 particles, kept when 30 <= n <= 80 (JetClass-like
occupancy); raw 'kin' features (hepnc standardises them itself, from the spec's preprocess), 4-vectors
and the mask, in hepnc's dataset layout (docs/data.md).
Weights: a randomly initialised weaver-core 0.4.17 ParticleTransformer at the JetClass size, every scale
made non-trivial (gen_part_fixture.randomise), mapped with tools/weaver_import.py.
Reference: /reference/logits, the PyTorch model's standard path (for_inference=False, trimmed after the
trimmer's warm-up) on the same jets in batches of 256 — what the C harness checks its logits against.
"""
import argparse
import os

import numpy as np
import torch

from common import CONFIG, bench_jets, torch_inputs, write_jets
from gen_fixtures import dataset, h5_file
from gen_part_fixture import randomise
from weaver.nn.model.ParticleTransformer import ParticleTransformer
from weaver_import import map_part_state, write_safetensors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--jets", type=int, default=512)
    ap.add_argument("--seed", type=int, default=20261125)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(a.seed)
    x_raw, p4, mask = bench_jets(rng, a.jets)
    write_jets(os.path.join(a.work, "jets.h5"), x_raw, p4, mask)

    model = ParticleTransformer(**CONFIG, trim=True, for_inference=False).eval()
    randomise(model, torch.Generator().manual_seed(a.seed))
    write_safetensors(os.path.join(a.work, "weights.safetensors"), map_part_state(model.state_dict()))
    torch.save(model.state_dict(), os.path.join(a.work, "weaver_state.pt"))

    xt, vt, mt, counts = torch_inputs(os.path.join(a.work, "jets.h5"))
    out = []
    with torch.no_grad():
        for _ in range(6):                               # past the trimmer's five untrimmed calls
            model(xt[:2], v=vt[:2], mask=mt[:2])
        for b in range(0, len(xt), 256):
            out.append(model(xt[b:b + 256], v=vt[b:b + 256], mask=mt[b:b + 256]))
    logits = torch.cat(out).numpy()
    with h5_file(os.path.join(a.work, "reference.h5")) as f:
        dataset(f, "logits", logits)
    print(f"prepare: {len(x_raw)} jets, n {counts.min()}..{counts.max()} (mean {counts.mean():.1f}), "
          f"|logits| max {np.abs(logits).max():.3g}, weights {a.work}/weights.safetensors")


if __name__ == "__main__":
    main()
