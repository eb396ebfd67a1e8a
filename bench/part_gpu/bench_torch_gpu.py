#!/usr/bin/env python3
"""PyTorch side of bench/part_gpu: weaver-core 0.4.17's ParticleTransformer (JetClass size, 'kin' inputs) on
the GPU, on the same jets and weights as hepnc's GPU object (bench/part_cpu's prepare.py made them), in
eval mode under torch.inference_mode(), float32 with TF32 off (PyTorch's default for matmul; hepnc's
kernels are plain float32).

    bench_torch_gpu.py WORK [--batches 1,256,4096] [--seconds 2] [--modes eager-trim,eager,compile] [--train]
                       [--device cuda]

--device cpu runs the same calls on the CPU (no synchronisation, memory 0): a check of the script where no
GPU is, not a timing to quote.

Modes:
  eager-trim  weaver's default: trim=True, after the SequenceTrimmer's warm-up calls each batch is cut to
              its largest particle count (the jets here have 30-80 particles of 128 slots);
  eager       trim=False: all 128 slots every call, masked (what hepnc's object computes, skipping padding);
  compile     torch.compile(model) of the trim=False model (static shapes; the compile is not timed);
  eager-trim-tf32  eager-trim with TF32 matmuls allowed (torch.backends.cuda.matmul.allow_tf32), beside
              hepnc's HEPNC_GPU_TF32=1.
--train: the training step instead (train mode: batchnorm batch statistics; no dropout, as the hepnc spec; forward,
cross-entropy with label smoothing 0.1 on labels jet % classes, backward; gradients zeroed with set_to_none,
no optimiser step — hepnc's timed step is the same), the memory then includes the autograd graph.
Per (mode, batch): B jets (cycled), uploaded once; 3 warm-up calls, then calls for `seconds` (at least 5,
at most 2000), each timed with torch.cuda.synchronize(); median and p90 ms, jets/s = B / median, and the
peak GPU memory PyTorch's allocator held during the timed calls above what the model and inputs hold
(torch.cuda.max_memory_allocated after reset_peak_memory_stats). One JSON object per line on stdout.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "part_cpu"))


def load_inputs(work):
    from common import torch_inputs
    return torch_inputs(os.path.join(work, "jets.h5"))


ON_GPU = True     # False with --device cpu: synchronisation and the allocator's statistics are skipped


def sync():
    if ON_GPU:
        torch.cuda.synchronize()


def memory_allocated():
    return torch.cuda.memory_allocated() if ON_GPU else 0


def reset_peak_memory():
    if ON_GPU:
        torch.cuda.reset_peak_memory_stats()


def max_memory_allocated():
    return torch.cuda.max_memory_allocated() if ON_GPU else 0


def empty_cache():
    if ON_GPU:
        torch.cuda.empty_cache()


def device_name(dev):
    return torch.cuda.get_device_name(dev) if ON_GPU else "cpu"


def use_device(name):
    """The torch.device of --device; sets ON_GPU."""
    global ON_GPU
    ON_GPU = name.startswith("cuda")
    return torch.device(name)


def timed(fn, seconds):
    for _ in range(3):
        fn()
    sync()
    t = []
    start = time.perf_counter()
    while len(t) < 2000 and (len(t) < 5 or time.perf_counter() - start < seconds):
        t0 = time.perf_counter()
        fn()
        sync()
        t.append(time.perf_counter() - t0)
    t.sort()
    return t


def measure(res, call, first_calls, B, seconds, grad_mode):
    """Times call() into res (first calls untimed, then timed() calls; median and p90 ms, jets/s, peak memory above
    what is resident); an out-of-memory or other error is recorded instead."""
    try:
        with grad_mode():
            t_c = time.perf_counter()
            for _ in range(first_calls):
                call()
            sync()
            res["first_calls_s"] = time.perf_counter() - t_c
            base = memory_allocated()
            reset_peak_memory()
            t = timed(call, seconds)
            peak = max_memory_allocated()
        med = statistics.median(t)
        res.update(reps=len(t), ms_median=1e3 * med, ms_p90=1e3 * t[math.ceil(0.9 * len(t)) - 1], ms_min=1e3 * t[0],
                   jets_per_s=B / med, peak_bytes=peak, peak_above_resident_bytes=peak - base, resident_bytes=base)
    except torch.cuda.OutOfMemoryError as e:
        res.update(error=f"out of memory: {str(e).splitlines()[0]}")
    except Exception as e:                              # noqa: BLE001 - report, go on with the next
        res.update(error=f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--batches", default="1,256,4096")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--modes", default="eager-trim,eager,compile")
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--device", default="cuda")
    a = ap.parse_args()
    from common import CONFIG
    from weaver.nn.model.ParticleTransformer import ParticleTransformer
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = use_device(a.device)
    xt, vt, mt, _ = load_inputs(a.work)
    state = torch.load(os.path.join(a.work, "weaver_state.pt"), map_location="cpu")
    name = device_name(dev)
    for mode in a.modes.split(","):
        torch.backends.cuda.matmul.allow_tf32 = mode.endswith("-tf32")
        torch.backends.cudnn.allow_tf32 = mode.endswith("-tf32")
        cfg = dict(CONFIG)
        if a.train:     # like for like: models/part_jetclass_kin.yaml has no dropout, so neither has the PyTorch side
            cfg["block_params"] = {"dropout": 0, "attn_dropout": 0, "activation_dropout": 0}
        model = ParticleTransformer(**cfg, trim=mode.startswith("eager-trim"), for_inference=False)
        model.load_state_dict(state)
        model = model.to(dev)
        model.train(a.train)
        fn_model = torch.compile(model) if mode == "compile" else model
        for B in [int(b) for b in a.batches.split(",")]:
            ids = [k % len(xt) for k in range(B)]
            x, v, m = xt[ids].to(dev), vt[ids].to(dev), mt[ids].to(dev)
            res = dict(impl=f"pytorch-{mode}", math="tf32" if mode.endswith("-tf32") else "fp32", device=name, batch=B, torch_version=torch.__version__)
            if a.train:         # forward, loss, backward (no optimiser step: hepnc's timed step is the same)
                res["train_step"] = True
                labels = torch.tensor([k % CONFIG["num_classes"] for k in ids], device=dev)
                loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

                def call():
                    model.zero_grad(set_to_none=True)
                    loss_fn(fn_model(x, v=v, mask=m), labels).backward()
                measure(res, call, 6, B, a.seconds, torch.enable_grad)
            else:               # past the trimmer's untrimmed calls before timing
                measure(res, lambda: fn_model(x, v=v, mask=m), 6 if mode.startswith("eager-trim") else 1, B, a.seconds,
                        torch.inference_mode)
            print(json.dumps(res), flush=True)
            del x, v, m
            empty_cache()
        del model, fn_model
        empty_cache()


if __name__ == "__main__":
    main()
