#!/usr/bin/env python3
"""PyTorch side of bench/particlenet_cpu: weaver-core 0.4.17's ParticleNet with the trained JetClass weights
on the same jets as the hepnc harness, in eval mode under torch.no_grad().

    bench_torch.py WORK [--threads 1,2] [--reps 200] [--batches 5] [--batch 256]

weaver's ParticleNet has no trimmer: every call runs all 128 slots (padding points shifted by 1e9 so they
are never kNN neighbours of real ones). Inputs are cloned outside the timer (the forward masks points and
features in place). Batch 1: one jet per call cycling through the jets, `reps` calls after a warm-up;
median and p90 (nearest rank) in ms. Batch 256: consecutive jets, `batches` timed calls after one warm-up;
jets/s = 256 / median. torch.set_num_threads(t) for each t of --threads (interop threads 1). Prints one
JSON object per thread count on stdout, the same keys as the C harness.
"""
import argparse
import json
import os
import statistics
import time

import h5py
import torch

from common import load_model, pct, torch_inputs


def time_model(model, pt, ft, mt, reps, batches, B):
    njets = len(pt)
    res = {}
    with torch.no_grad():
        for j in range(8):
            model(pt[j:j + 1].clone(), ft[j:j + 1].clone(), mt[j:j + 1])
        t1 = []
        for r in range(reps):
            j = r % njets
            p, f, m = pt[j:j + 1].clone(), ft[j:j + 1].clone(), mt[j:j + 1]
            t0 = time.perf_counter()
            model(p, f, m)
            t1.append(1e3 * (time.perf_counter() - t0))
        res.update(latency_ms_median=statistics.median(t1), latency_ms_p90=pct(t1, 0.9),
                   latency_ms_mean=statistics.fmean(t1), latency_ms_min=min(t1), reps=reps)
        idx = lambda first: [(first + k) % njets for k in range(B)]   # noqa: E731
        ids = idx(0)
        model(pt[ids], ft[ids], mt[ids])                               # warm-up batch (indexing copies)
        tb = []
        for r in range(batches):
            ids = idx((r * B) % njets)
            p, f, m = pt[ids], ft[ids], mt[ids]
            t0 = time.perf_counter()
            model(p, f, m)
            tb.append(time.perf_counter() - t0)
        med = statistics.median(tb)
        res.update(batch=B, batches=batches, batch_s_median=med, throughput_jets_per_s=B / med)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    a = ap.parse_args()
    torch.set_num_interop_threads(1)
    pt, ft, mt, counts = torch_inputs(os.path.join(a.work, "jets.h5"))
    with h5py.File(os.path.join(a.work, "reference.h5"), "r") as f:
        ref = torch.from_numpy(f["logits"][...])
    model = load_model()
    for threads in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(threads)
        with torch.no_grad():                           # same model as the reference: a sanity check
            got = model(pt[:16].clone(), ft[:16].clone(), mt[:16])
        dref = (got - ref[:16]).abs().max().item()
        res = dict(impl="pytorch", torch_threads=threads, jets=len(pt), torch_version=torch.__version__,
                   max_abs_dlogits_vs_reference=dref)
        res.update(time_model(model, pt, ft, mt, a.reps, a.batches, a.batch))
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
