#!/usr/bin/env python3
"""Convergence of hepnc's training against PyTorch's (issue #5): the same network (models/part_top_small.yaml
= weaver-core 0.4.17's ParticleTransformer at embed [32, 64, 32], pair [16, 16], 4 heads, 2 + 1 blocks),
the same initial parameters (PyTorch's default initialisation, exported to hepnc's names), the same data
order (hepnc's SplitMix64 Fisher–Yates permutation per epoch, reimplemented below from hepnc/rng.h),
the same optimiser (weaver's Ranger, lr 0.005, weight decay 0.01 off for 1-d tensors and biases), the
same schedule (weaver's flat+decay over 8 epochs), the same loss (cross-entropy), batch 64, dropouts 0,
trim off; the best epoch by validation loss, then the test AUC of top (label 0) against QCD with
p0/(p0 + p1) on both sides.

    compare.py WORK HEPNC [--seed S]     (run.sh prepares WORK: the split sample and hepnc's run)
"""
import argparse
import json
import math
import os
import subprocess
import sys

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
from weaver_import import map_part_state, write_safetensors  # noqa: E402
from gen_part_fixture import standardise  # noqa: E402
from weaver.nn.model.ParticleTransformer import ParticleTransformer  # noqa: E402
from weaver.utils.nn.optimizer.ranger import Ranger  # noqa: E402

MAXP, B, EPOCHS, LR, WD = 64, 64, 8, 0.005, 0.01
M64 = (1 << 64) - 1
ZERO = {"dropout": 0, "attn_dropout": 0, "activation_dropout": 0}
CONFIG = dict(input_dim=7, num_classes=2, pair_input_dim=4, use_pre_activation_pair=False, embed_dims=[32, 64, 32],
              pair_embed_dims=[16, 16], num_heads=4, num_layers=2, num_cls_layers=1, block_params=ZERO,
              cls_block_params=ZERO, fc_params=[], activation="gelu", trim=False, for_inference=False)


# ---- hepnc/rng.h ---------------------------------------------------------------------------------
def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def mix(x):
    return splitmix(x)[1]


def permutation(n, seed, epoch):
    st = mix(mix(seed ^ 0x7368756666) ^ epoch)
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        bound = i + 1
        floor = ((1 << 64) - bound) % bound
        while True:
            st, r = splitmix(st)
            if r >= floor:
                j = r % bound
                break
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def flat_decay(epoch):
    n = max(1, int(EPOCHS * 0.3))
    gamma = 0.01 ** (1.0 / n)
    k = min(max(epoch - (EPOCHS - n) + 1, 0), n)
    return LR * gamma ** k


# ---- data ----------------------------------------------------------------------------------------
def load(path):
    with h5py.File(path, "r") as f:
        x = f["particles/features"][:, :MAXP, :]
        p4 = f["particles/vectors"][:, :MAXP, :]
        mask = f["particles/mask"][:, :MAXP].astype(bool)
        y = f["labels"][...].astype(np.int64)
    x = standardise(x) * mask[..., None]
    p4 = p4 * mask[..., None]
    return (torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1), dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(p4.transpose(0, 2, 1), dtype=np.float32)),
            torch.from_numpy(mask[:, None, :]), torch.from_numpy(y))


def auc(score, is_signal):
    """Mann–Whitney with mid-ranks for ties."""
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = 0.5 * (i + j) + 1
        i = j + 1
    ns, nb = is_signal.sum(), (~is_signal).sum()
    return (ranks[is_signal].sum() - ns * (ns + 1) / 2) / (ns * nb)


def evaluate(model, data):
    x, v, m, y = data
    model.eval()
    with torch.no_grad():
        logits = model(x, v=v, mask=m)
        loss = torch.nn.functional.cross_entropy(logits, y).item()
        p = torch.softmax(logits, 1).numpy()
    model.train()
    return loss, auc(p[:, 0] / (p[:, 0] + p[:, 1]), y.numpy() == 0)


def bootstrap_auc_error(score, is_signal, reps=300, seed=5):
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(reps):
        idx = rng.integers(0, len(score), len(score))
        if is_signal[idx].all() or (~is_signal[idx]).all():
            continue
        vals.append(auc(score[idx], is_signal[idx]))
    return float(np.std(vals))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("hepnc")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    model = ParticleTransformer(**CONFIG).train()
    init = os.path.join(a.work, "init.safetensors")
    write_safetensors(init, map_part_state(model.state_dict()))

    # hepnc: the same start, data, settings (the spec's train: section), then its test AUC
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", HEPNC_CACHE=os.path.join(a.work, "cache"))
    run = os.path.join(a.work, f"hepnc_run_{a.seed}")
    subprocess.run([a.hepnc, "train", os.path.join(ROOT, "models/part_top_small.yaml"), "--data",
                    os.path.join(a.work, "t_train.h5"), "--val", os.path.join(a.work, "t_val.h5"), "-o", run,
                    "--init", init, "--seed", "1", "--threads", "1", "--quiet", "--signal-class", "0",
                    "--background-class", "1"], check=True, env=env)
    ev = subprocess.run([a.hepnc, "eval", os.path.join(ROOT, "models/part_top_small.yaml"), "--weights",
                         os.path.join(run, "best.safetensors"), "--data", os.path.join(a.work, "t_test.h5"),
                         "--signal-class", "0", "--background-class", "1"], check=True, env=env,
                        capture_output=True, text=True).stdout
    hepnc_auc = float([l.split()[1] for l in ev.splitlines() if l.startswith("AUC")][0])
    hepnc_log = [l.split(",") for l in open(os.path.join(run, "log.csv")).read().splitlines()[1:]]

    # PyTorch: the same loop
    train, val, test = (load(os.path.join(a.work, f"t_{p}.h5")) for p in ("train", "val", "test"))
    E = len(train[3])
    decay = [p for n, p in model.named_parameters() if not (p.ndim <= 1 or n.endswith(".bias") or n == "cls_token")]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1 or n.endswith(".bias") or n == "cls_token"]
    opt = Ranger([{"params": decay, "weight_decay": WD}, {"params": no_decay, "weight_decay": 0.0}], lr=LR)
    best, rows = (math.inf, None), []
    for epoch in range(EPOCHS):
        for g in opt.param_groups:
            g["lr"] = flat_decay(epoch)
        perm = permutation(E, 1, epoch)
        tot, n = 0.0, 0
        for s in range(0, E, B):
            idx = torch.tensor(perm[s:s + B])
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(train[0][idx], v=train[1][idx], mask=train[2][idx]),
                                                     train[3][idx])
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
            n += len(idx)
        vl, va = evaluate(model, val)
        rows.append((epoch + 1, tot / n, vl, va))
        if vl < best[0]:
            best = (vl, {k: t.clone() for k, t in model.state_dict().items()})
    model.load_state_dict(best[1])
    model.eval()
    with torch.no_grad():
        p = torch.softmax(model(test[0], v=test[1], mask=test[2]), 1).numpy()
    score, sig = p[:, 0] / (p[:, 0] + p[:, 1]), test[3].numpy() == 0
    torch_auc = auc(score, sig)
    err = bootstrap_auc_error(score, sig)

    print(f"seed {a.seed}: test jets {len(sig)}")
    print("| epoch | hepnc train loss | PyTorch train loss | hepnc val loss | PyTorch val loss | hepnc val AUC | PyTorch val AUC |")
    print("|---|---|---|---|---|---|---|")
    for (e, tl, vl, va), h in zip(rows, hepnc_log):
        print(f"| {e} | {float(h[3]):.4f} | {tl:.4f} | {float(h[5]):.4f} | {vl:.4f} | {float(h[7]):.4f} | {va:.4f} |")
    print(f"test AUC: hepnc {hepnc_auc:.4f}, PyTorch {torch_auc:.4f}, |dAUC| {abs(hepnc_auc - torch_auc):.4f}; "
          f"bootstrap error of one AUC on this test set {err:.4f}")
    json.dump({"seed": a.seed, "hepnc_auc": hepnc_auc, "torch_auc": torch_auc, "auc_error": err,
               "epochs": rows, "hepnc_log": hepnc_log}, open(os.path.join(a.work, f"result_{a.seed}.json"), "w"))


if __name__ == "__main__":
    main()
