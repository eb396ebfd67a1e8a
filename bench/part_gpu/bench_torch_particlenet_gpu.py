#!/usr/bin/env python3
"""PyTorch peer of hepnc's ParticleNet GPU object in bench/part_gpu: weaver-core 0.4.17's ParticleNet with the
trained JetClass checkpoint (bench/particlenet_cpu's configuration) on the same jets as the GPU harness
(bench/particlenet_cpu's prepare.py made them), eval mode under torch.inference_mode(), float32, TF32 off.

    bench_torch_particlenet_gpu.py WORK [--batches 1,256,4096] [--seconds 2] [--modes eager,compile] [--device cuda]

WORK holds jets.h5 and ParticleNet_kin.pt (build.sh copies them into the bundle). weaver's ParticleNet has no
trimmer: every call runs all 128 slots (padding points shifted by 1e9, never neighbours of real ones).
Modes: eager, and compile (torch.compile of the same model; the compile is not timed). The forward multiplies
points and features by the mask in place; torch_inputs() gives them masked already, so that is a no-op on
the values and the same tensors serve every call. Per (mode, batch): B jets (cycled), uploaded once; bench_torch_gpu.py's measure(): warm-up,
then calls for `seconds`, each synchronised; median and p90 ms, jets/s, peak memory. One JSON object per line
("model": "particlenet_jetclass_kin"), which report.py --model particlenet_jetclass_kin sets beside hepnc's.
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "particlenet_cpu"))
sys.path.insert(0, HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--batches", default="1,256,4096")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--modes", default="eager,compile")
    ap.add_argument("--device", default="cuda")      # cpu: a check of the script where no GPU is (bench_torch_gpu.py)
    a = ap.parse_args()
    from common import load_model, torch_inputs       # bench/particlenet_cpu/common.py
    from bench_torch_gpu import device_name, empty_cache, measure, use_device
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = use_device(a.device)
    pt, ft, mt, _ = torch_inputs(os.path.join(a.work, "jets.h5"))
    name = device_name(dev)
    for mode in a.modes.split(","):
        model = load_model(os.path.join(a.work, "ParticleNet_kin.pt")).to(dev)
        fn = torch.compile(model) if mode == "compile" else model
        for B in [int(b) for b in a.batches.split(",")]:
            ids = [k % len(pt) for k in range(B)]
            p, f, m = pt[ids].to(dev), ft[ids].to(dev), mt[ids].to(dev)
            res = dict(impl=f"pytorch-{mode}", model="particlenet_jetclass_kin", math="fp32", device=name, batch=B,
                       torch_version=torch.__version__)
            measure(res, lambda: fn(p, f, m), 1, B, a.seconds, torch.inference_mode)
            print(json.dumps(res), flush=True)
            del p, f, m
            empty_cache()
        del model, fn
        empty_cache()


if __name__ == "__main__":
    main()
