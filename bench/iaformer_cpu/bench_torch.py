#!/usr/bin/env python3
"""bench/iaformer_cpu/bench_torch.py — the PyTorch side of the IAFormer CPU benchmark (run.sh): upstream IAFormer
itself (wesmail/IAFormer at the commit tests/parity/gen_iaformer_fixture.py pins, imported from an extracted
snapshot by that generator's own functions; nothing of upstream is copied here).

    bench_torch.py prepare WORK --iaformer-src SRC --events E    # events.h5, model.ckpt, reference.h5 in WORK
    bench_torch.py time WORK --iaformer-src SRC --threads 1,2 --reps R --batches B --batch N   # JSON lines

prepare: E jets of examples/data/topqcd_sample.h5 (the first E/2 top and the first E/2 QCD jets, interleaved
top, QCD, top, ...), through upstream's graph builder (TopParticleGraphBuilder.process_chunk, 11 particle
features and the sparse pair features) and loader (H5Dataset.reconstruct_adjacency / __getitem__: each event's
dense [128, 128, 6] pair tensor), exactly as the parity fixture does; upstream's Transformer with the paper's
configuration and the fixture's initialisation (gen_iaformer_fixture.upstream_model), written as a Lightning
checkpoint; events.h5 in hepnc's layout (as the fixture's inputs.h5: upstream's 11 features, the 4-vectors,
the labels); upstream's logits for every event (batch 1, one thread) as the reference hepnc is checked against.
The particle features and dense pair tensors are kept in WORK/upstream_inputs.npz for `time`.
time: upstream's forward (eval, no_grad; the model's input is what its loader yields: the 11 features and the
dense pair tensor, so the pair *embedding* is timed but not the pair *features*) at batch 1 (median over R
single-event calls cycling through the first N events) and at batch N (median over B batches), per thread
count; then, for information, upstream's feature computation itself: process_chunk over all E events and the
loader's per-event dense rebuild (single-threaded numpy/awkward).
"""
import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
import gen_iaformer_fixture as fx  # noqa: E402
from gen_fixtures import dataset, h5_file, set_names  # noqa: E402

NPART = fx.NPART


def choose(labels, events):
    """The first events/2 top (label 0) and QCD (label 1) jets of the sample, interleaved."""
    half = events // 2
    top, qcd = np.flatnonzero(labels == 0)[:half], np.flatnonzero(labels == 1)[:events - half]
    assert len(top) == half and len(qcd) == events - half, "the sample has too few jets of a class"
    out = np.empty(events, np.int64)
    out[0::2], out[1::2] = top, qcd
    return out


def upstream_inputs(up, vectors, is_top):
    """Upstream's graph builder and loader on these jets: (features [E, 128, 11], pairs [E, 128, 128, 6],
    sparse pairs, mask). The fixture's functions, so exactly what the parity fixture feeds upstream."""
    frame = fx.jet_frame(vectors, is_top)
    feats, sparse, fmask, flabels = fx.upstream_features(up, frame)
    pairs, _ = fx.upstream_pairs(up, sparse)
    return feats[..., :11], pairs, sparse, fmask, frame


def prepare(args, up):
    work = args.work
    os.makedirs(work, exist_ok=True)
    torch.set_num_threads(1)
    with h5py.File(fx.SAMPLE, "r") as f:
        all_labels = f["labels"][:]
        picked = choose(all_labels, args.events)
        vectors = f["particles/vectors"][:][picked]
        mask = f["particles/mask"][:][picked].astype(bool)
    labels = all_labels[picked].astype(np.int32)
    counts = mask.sum(1)
    assert all(mask[e, :n].all() and not mask[e, n:].any() for e, n in enumerate(counts)), "not a prefix"
    assert np.all(vectors[~mask] == 0) and np.all(vectors[..., 3][mask] > 0)
    t0 = time.perf_counter()
    feats, pairs, sparse, fmask, _ = upstream_inputs(up, vectors, labels == 0)
    t_features = time.perf_counter() - t0
    assert np.array_equal(fmask.astype(bool), mask), "upstream's mask (E > 0) differs from the sample's"
    assert np.array_equal(feats[..., [1, 2, 3, 0]], vectors), "features 0..3 are not the input 4-vectors"
    assert np.all(np.isfinite(feats)) and np.all(np.isfinite(pairs))
    np.savez(os.path.join(work, "upstream_inputs.npz"), features=feats, pairs=pairs)

    x, u = torch.from_numpy(feats), torch.from_numpy(pairs)
    model, _ = fx.upstream_model(up, x[:1], u[:1])
    fx.write_checkpoint(os.path.join(work, "model.ckpt"), model)
    with open(os.path.join(work, "model.ckpt"), "rb") as a, \
         open(os.path.join(fx.HERE, "iaformer", "model.ckpt"), "rb") as b:
        same_as_fixture = a.read() == b.read()

    with h5_file(os.path.join(work, "events.h5")) as f:
        dataset(f, "particles/features", np.ascontiguousarray(feats, np.float32))
        set_names(f, "particles/features", fx.FEATURES)
        dataset(f, "particles/vectors", np.ascontiguousarray(vectors, np.float32))
        dataset(f, "labels", labels)
    t0 = time.perf_counter()
    with torch.no_grad():                        # one event at a time: the fastest way through upstream here
        logits = torch.cat([model(x[e:e + 1], u[e:e + 1])[0] for e in range(len(x))]).numpy()
    t_reference = time.perf_counter() - t0
    with h5py.File(os.path.join(work, "reference.h5"), "w") as f:
        f.create_dataset("logits", data=logits)
        f.create_dataset("labels", data=labels)
    npairs = counts * (counts - 1) // 2
    print(json.dumps({"prepared": work, "events": int(args.events), "top": int((labels == 0).sum()),
                      "parameters": int(sum(p.numel() for p in model.parameters())),
                      "constituents": {"min": int(counts.min()), "mean": float(counts.mean()),
                                       "max": int(counts.max())},
                      "real_unordered_pairs_mean": float(npairs.mean()),
                      "weights_same_as_parity_fixture": same_as_fixture,
                      "torch": torch.__version__, "upstream_commit": fx.PINNED_COMMIT,
                      "seconds": {"features": t_features, "reference": t_reference}}))


def median_time(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def time_it(args, up):
    data = np.load(os.path.join(args.work, "upstream_inputs.npz"))
    x, u = torch.from_numpy(data["features"]), torch.from_numpy(data["pairs"])
    E, N = x.shape[0], args.batch
    assert E >= N, f"{E} events, fewer than the batch {N}"
    model, _ = fx.upstream_model(up, x[:1], u[:1])
    state = torch.load(os.path.join(args.work, "model.ckpt"), map_location="cpu", weights_only=True)["state_dict"]
    model.load_state_dict({k[len("model."):]: v for k, v in state.items()})
    with h5py.File(os.path.join(args.work, "reference.h5"), "r") as f:
        reference = f["logits"][...]
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        with torch.no_grad():
            for i in range(3):                                            # warm-up
                model(x[i:i + 1], u[i:i + 1])
            calls = iter(range(10 ** 9))

            def one():
                i = next(calls) % N                                       # as hepnc bench: the first N events
                model(x[i:i + 1], u[i:i + 1])
            lat, _ = median_time(one, args.reps)
            starts = iter(range(10 ** 9))
            worst = []

            def batch():
                s = (next(starts) * N) % (E - N + 1)
                logits = model(x[s:s + N], u[s:s + N])[0]
                worst.append(float(np.abs(logits.numpy() - reference[s:s + N]).max()))
            # no warm-up batch: one takes about a minute here, the batch-1 calls have run every code path,
            # and a batch this size allocates its GB-sized intermediates afresh on every call anyway
            med, times = median_time(batch, args.batches) if args.batches > 0 else (None, [])
        print(json.dumps({"side": "pytorch", "threads": threads, "batch1_ms": lat * 1e3,
                          f"batch{N}_events_s": N / med if med else None,
                          "batch_seconds": times, "batch_max_abs_dlogit_vs_reference": max(worst, default=None)}))
        sys.stdout.flush()

    # upstream's feature computation, for information (not part of its forward: its loader precomputes it)
    torch.set_num_threads(1)
    with h5py.File(os.path.join(args.work, "events.h5"), "r") as f:
        vectors = f["particles/vectors"][...]
        labels = f["labels"][...]
    frame = fx.jet_frame(vectors, labels == 0)
    chunk = []
    for _ in range(args.feature_reps):
        t0 = time.perf_counter()
        feats, sparse, _, _ = fx.upstream_features(up, frame)
        chunk.append(time.perf_counter() - t0)
    assert np.array_equal(feats[..., :11], data["features"])
    ds = object.__new__(up["H5Dataset"])
    ds.max_num_particles = NPART
    rebuild = []
    for e in range(E):
        t0 = time.perf_counter()
        ds.reconstruct_adjacency(sparse[e])                     # H5Dataset.__getitem__'s dense pair tensor
        t = torch.tensor(ds.adj_matrix, dtype=torch.float32)
        rebuild.append(time.perf_counter() - t0)
        if e < 2:
            assert torch.equal(t, u[e])
    print(json.dumps({"side": "upstream-features", "threads": 1, "events": E,
                      "process_chunk_ms_per_event": statistics.median(chunk) / E * 1e3,
                      "process_chunk_seconds": chunk,
                      "loader_dense_pairs_ms_per_event": statistics.median(rebuild) * 1e3}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["prepare", "time"])
    ap.add_argument("work")
    ap.add_argument("--iaformer-src", default=os.environ.get("IAFORMER_SRC"))
    ap.add_argument("--events", type=int, default=256)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--batches", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--feature-reps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_interop_threads(1)
    if not args.iaformer_src or not os.path.isdir(args.iaformer_src):
        sys.exit("bench/iaformer_cpu: --iaformer-src PATH (or IAFORMER_SRC): an extracted snapshot of IAFormer at "
                 f"the pinned commit {fx.PINNED_COMMIT} (tests/parity/README.md)")
    with contextlib.redirect_stdout(io.StringIO()):
        up = fx.import_iaformer(os.path.abspath(args.iaformer_src))
    prepare(args, up) if args.what == "prepare" else time_it(args, up)


if __name__ == "__main__":
    main()
