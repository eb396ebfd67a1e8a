#!/usr/bin/env python3
"""bench/spanet_cpu/bench_torch.py — the PyTorch side of the SPANet CPU benchmark (run.sh), upstream SPANet
itself (tests/parity/spanet_upstream.py: the pinned snapshot).

    bench_torch.py prepare WORK --spanet-src SRC   # events.h5, model.ckpt, reference.h5 in WORK
    bench_torch.py time WORK --spanet-src SRC --threads 1,2 --reps R --batches B   # JSON lines on stdout

prepare: the events (the first EVENTS of shared/data/spanet/full_hadronic_ttbar_example.h5, SPANet's own
example of real ttbar events, when present; else the parity fixture's 64 events repeated), upstream's
JetReconstructionModel with the architecture of models/spanet_ttbar.yaml (upstream's example options
for that topology), randomly initialised by upstream's own code (seed 7), written as a Lightning
checkpoint; the assignment log-probabilities of the first 256 events as the reference hepnc is checked
against before anything is timed.
time: upstream's forward (eval, no_grad) at batch 1 (median over R single-event calls cycling through the
events) and at batch 256 (median over B batches), per thread count.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import time

if os.environ.get("PYTHONHASHSEED") != "0":      # upstream orders its groups by string hashes (see the fixture)
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)
os.environ.setdefault("NUMBA_DISABLE_JIT", "1")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
from spanet_upstream import import_spanet  # noqa: E402

TOPOLOGY = os.path.join(ROOT, "tools", "gen", "topologies", "full_hadronic_ttbar.yaml")
SHARED = os.path.join(ROOT, "..", "shared", "data", "spanet", "full_hadronic_ttbar_example.h5")
FIXTURE = os.path.join(ROOT, "tests", "parity", "spanet_small", "inputs.h5")
FEATURES = ["mass", "pt", "eta", "phi", "btag"]
LOG = {"mass", "pt"}
# models/spanet_ttbar.yaml = upstream's options_files/full_hadronic_ttbar/example.json architecture
OPTIONS = {
    "hidden_dim": 64, "transformer_dim": 64, "initial_embedding_dim": 16, "position_embedding_dim": 32,
    "num_embedding_layers": 10, "num_encoder_layers": 6, "num_branch_embedding_layers": 3,
    "num_branch_encoder_layers": 3, "num_jet_embedding_layers": 0, "num_jet_encoder_layers": 2,
    "num_detector_layers": 2, "num_regression_layers": 3, "num_classification_layers": 3,
    "split_symmetric_attention": True, "num_attention_heads": 4, "transformer_activation": "gelu",
    "linear_block_type": "GRU", "transformer_type": "Gated", "linear_activation": "gelu",
    "normalization": "LayerNorm", "masking": "Filling", "skip_connections": True,
    "initial_embedding_skip_connections": True, "dropout": 0.0, "batch_size": 256,
}
BATCH = 256


def quiet(fn, *args):
    with open(os.devnull, "w") as null:
        saved, sys.stdout = sys.stdout, null
        try:
            return fn(*args)
        finally:
            sys.stdout = saved


def build(up, work):
    options = up["Options"](event_info_file=os.path.relpath(TOPOLOGY), training_file=os.path.join(work, "events.h5"))
    options.update_options(OPTIONS)
    return quiet(up["JetReconstructionModel"], options).eval().float()


def sources(up, work):
    """(data [E, 10, 5], mask [E, 10]) as upstream's loader makes them: log(x + 1)·mask for log features."""
    with h5py.File(os.path.join(work, "events.h5"), "r") as f:
        mask = f["INPUTS/Source/MASK"][...].astype(bool)
        cols = []
        for name in FEATURES:
            x = f["INPUTS/Source/" + name][...].astype(np.float32)
            cols.append(np.log(x + 1) * mask if name in LOG else x)
    return torch.from_numpy(np.stack(cols, -1)), torch.from_numpy(mask)


def forward(model, up, data, mask):
    return model.forward([up["Source"](data, mask)])


def prepare(args, up):
    work = args.work
    os.makedirs(work, exist_ok=True)
    events = os.path.join(work, "events.h5")
    with h5py.File(SHARED if os.path.exists(SHARED) else FIXTURE, "r") as src, h5py.File(events, "w") as dst:
        n = src["INPUTS/Source/MASK"].shape[0]
        take = np.arange(args.events) % n
        for name in FEATURES + ["MASK"]:
            dst.create_dataset("INPUTS/Source/" + name, data=src["INPUTS/Source/" + name][...][take])
        for p in ("t1", "t2"):
            for q in ("q1", "q2", "b"):
                dst.create_dataset(f"TARGETS/{p}/{q}", data=src[f"TARGETS/{p}/{q}"][...][take])
    torch.manual_seed(7)
    model = build(up, work)
    import pytorch_lightning as pl
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         max_epochs=0, accelerator="cpu")
    trainer.strategy.connect(model)
    trainer.save_checkpoint(os.path.join(work, "model.ckpt"), weights_only=True)
    data, mask = sources(up, work)
    with torch.no_grad():
        out = forward(model, up, data[:BATCH], mask[:BATCH])
    with h5py.File(os.path.join(work, "reference.h5"), "w") as f:
        for p, a in zip(("t1", "t2"), out.assignments):
            f.create_dataset(f"{p}/assignment_log_probability", data=a.numpy())
        f.attrs["source"] = "shared example" if os.path.exists(SHARED) else "parity fixture (repeated)"
    print(json.dumps({"prepared": work, "events": int(args.events), "parameters":
                      int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
                      "source": "shared example" if os.path.exists(SHARED) else "parity fixture"}))


def median_time(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_it(args, up):
    model = build(up, args.work)
    state = torch.load(os.path.join(args.work, "model.ckpt"), map_location="cpu")["state_dict"]
    model.load_state_dict(state)
    data, mask = sources(up, args.work)
    E = data.shape[0]
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        with torch.no_grad():
            for i in range(5):                                            # warm-up
                forward(model, up, data[i:i + 1], mask[i:i + 1])
            calls = iter(range(10 ** 9))
            def one():
                i = next(calls) % E
                forward(model, up, data[i:i + 1], mask[i:i + 1])
            lat = median_time(one, args.reps)
            starts = iter(range(10 ** 9))
            def batch():
                s = (next(starts) * BATCH) % max(1, E - BATCH + 1)
                forward(model, up, data[s:s + BATCH], mask[s:s + BATCH])
            batch()
            thr = BATCH / median_time(batch, args.batches)
        print(json.dumps({"side": "pytorch", "threads": threads, "batch1_ms": lat * 1e3, "batch256_events_s": thr}))
        sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["prepare", "time"])
    ap.add_argument("work")
    ap.add_argument("--spanet-src", default=os.environ.get("SPANET_SRC"))
    ap.add_argument("--events", type=int, default=2048)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--batches", type=int, default=7)
    args = ap.parse_args()
    if not args.spanet_src:
        sys.exit("--spanet-src PATH (or SPANET_SRC): an extracted snapshot of SPANet at the pinned commit")
    up = import_spanet(os.path.abspath(args.spanet_src))
    os.chdir(ROOT)
    prepare(args, up) if args.what == "prepare" else time_it(args, up)


if __name__ == "__main__":
    main()
