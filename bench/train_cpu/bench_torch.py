#!/usr/bin/env python3
"""PyTorch side of bench/train_cpu: one training step of weaver-core 0.4.17's ParticleTransformer at
JetClass size (bench/part_cpu/common.py's CONFIG: 2.14M parameters, 8 + 2 blocks) on the first B jets of
the bundled Pythia8 top/QCD sample (examples/data/topqcd_sample.h5, up to 128 particles, mean 75).

    bench_torch.py DATA.h5 --batch 64 --steps 6 --threads 2

One step = forward in training mode, cross-entropy, backward, AdamW step (zero_grad first), as a
training loop does. Two configurations: trim=False (every call runs all 128 slots: hepnc's semantics)
and trim=True (weaver's default: each batch is cut to a quantile of its lengths, particles shuffled).
Dropouts 0 in both (hepnc's specs train without dropout unless they ask for it). Prints one JSON line
per configuration: median and all step times (ms), jets/s, peak RSS (MiB)."""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "part_cpu"))
from common import CONFIG, torch_inputs  # noqa: E402
from weaver.nn.model.ParticleTransformer import ParticleTransformer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    xt, vt, mt, counts = torch_inputs(a.data)
    x, v, m = xt[:a.batch], vt[:a.batch], mt[:a.batch]
    labels = torch.arange(a.batch) % CONFIG["num_classes"]
    zero = {"dropout": 0, "attn_dropout": 0, "activation_dropout": 0}
    for trim in (False, True):
        cfg = dict(CONFIG, block_params=zero, cls_block_params=zero)
        model = ParticleTransformer(**cfg, trim=trim, for_inference=False).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        loss_fn = torch.nn.CrossEntropyLoss()
        times = []
        for s in range(a.steps + 2):
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = loss_fn(model(x, v=v, mask=m), labels)
            loss.backward()
            opt.step()
            if s >= 2:                                   # two warm-up steps
                times.append(1e3 * (time.perf_counter() - t0))
        med = statistics.median(times)
        print(json.dumps({"side": "pytorch", "trim": trim, "batch": a.batch, "threads": a.threads,
                          "median_ms": round(med, 1), "jets_per_s": round(a.batch / med * 1e3, 1),
                          "steps_ms": [round(t, 1) for t in times],
                          "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}),
              flush=True)


if __name__ == "__main__":
    main()
