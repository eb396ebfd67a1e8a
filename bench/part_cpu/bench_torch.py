#!/usr/bin/env python3
"""PyTorch side of bench/part_cpu: weaver-core 0.4.17's ParticleTransformer (JetClass size) on the same jets
and weights as the hepnc harness, in eval mode under torch.no_grad().

    bench_torch.py WORK [--threads 1,2] [--reps 200] [--batches 5] [--batch 256] [--padded-reps 100]
                   [--padded-batches 0]

Paths timed:
  trimmed  the standard path users run: for_inference=False, trim=True; after the SequenceTrimmer's five
           untrimmed warm-up calls every call is cut to its batch's largest n (a single jet: its own n);
  padded   trim=False: every call runs all 128 slots (masked), as during the trimmer's warm-up.
Batch 1: one jet per call cycling through the jets, `reps` calls after a warm-up; median and p90 (nearest
rank) in ms. Batch 256: consecutive jets, `batches` timed calls after one warm-up; jets/s = 256 / median.
torch.set_num_threads(t) for each t of --threads (interop threads 1). Prints one JSON object per
(path, threads) on stdout, the same keys as the C harness.
"""
import argparse
import json
import os
import statistics
import time

import h5py
import torch

from common import CONFIG, pct, torch_inputs
from weaver.nn.model.ParticleTransformer import ParticleTransformer


def time_model(model, xt, vt, mt, reps, batches, B):
    njets = len(xt)
    singles = [(xt[j:j + 1], vt[j:j + 1], mt[j:j + 1]) for j in range(njets)]
    res = {}
    with torch.no_grad():
        for j in range(8):                                  # past the trimmer's five untrimmed calls
            model(*singles[j][:1], v=singles[j][1], mask=singles[j][2])
        if reps > 0:
            t1 = []
            for r in range(reps):
                x, v, m = singles[r % njets]
                t0 = time.perf_counter()
                model(x, v=v, mask=m)
                t1.append(1e3 * (time.perf_counter() - t0))
            res.update(latency_ms_median=statistics.median(t1), latency_ms_p90=pct(t1, 0.9),
                       latency_ms_mean=statistics.fmean(t1), latency_ms_min=min(t1), reps=reps)
        if batches > 0:
            idx = lambda first: [(first + k) % njets for k in range(B)]   # noqa: E731
            ids = idx(0)
            model(xt[ids], v=vt[ids], mask=mt[ids])             # warm-up batch
            tb = []
            for r in range(batches):
                ids = idx((r * B) % njets)
                x, v, m = xt[ids], vt[ids], mt[ids]
                t0 = time.perf_counter()
                model(x, v=v, mask=m)
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
    ap.add_argument("--padded-reps", type=int, default=100)
    ap.add_argument("--padded-batches", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_interop_threads(1)
    xt, vt, mt, counts = torch_inputs(os.path.join(a.work, "jets.h5"))
    state = torch.load(os.path.join(a.work, "weaver_state.pt"))
    with h5py.File(os.path.join(a.work, "reference.h5"), "r") as f:
        ref = torch.from_numpy(f["logits"][...])
    for threads in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(threads)
        for path, trim, reps, batches in (("trimmed", True, a.reps, a.batches),
                                          ("padded", False, a.padded_reps, a.padded_batches)):
            if reps <= 0 and batches <= 0:
                continue
            model = ParticleTransformer(**CONFIG, trim=trim, for_inference=False).eval()
            model.load_state_dict(state)
            with torch.no_grad():                           # same weights as the reference: a sanity check
                for _ in range(6):
                    got = model(xt[:16], v=vt[:16], mask=mt[:16])
            dref = (got - ref[:16]).abs().max().item()
            res = dict(impl=f"pytorch-{path}", torch_threads=threads, jets=len(xt),
                       torch_version=torch.__version__, max_abs_dlogits_vs_reference=dref)
            res.update(time_model(model, xt, vt, mt, reps, batches, a.batch))
            print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
