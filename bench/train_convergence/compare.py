#!/usr/bin/env python3
"""Convergence of `hepnc train` against PyTorch (issue #5 item 6): models/part_top_small.yaml trained by
hepnc and the same network trained by weaver-core 0.4.17's ParticleTransformer, from the same initial
parameters, on the same batches in the same order, with the same optimiser, schedule and loss; then
the test AUC of both. run.sh prepares WORK (the split sample and, per seed, hepnc's runs); this script
trains the PyTorch side and writes the comparison.

    compare.py WORK --seeds 1 2 3 [--plot docs/img/train_convergence.png]

What is the same on both sides (each point names hepnc's definition):
  network    ParticleTransformer(input_dim 7, num_classes 2, embed_dims [32, 64, 32], pair_embed_dims
             [16, 16], num_heads 4, num_layers 2, num_cls_layers 1, ffn_ratio 4 (= ffn 128), GELU,
             use_pre_activation_pair False, fc_params [] (one Linear to 2 classes)), trim False (no
             random SequenceTrimmer), every dropout 0: the training-mode semantics of
             tests/train/gen_model_fixtures.py, which hepnc's generated step is tested against;
  inputs     the first 64 particle slots of the file, the spec's preprocess block on the first five
             features, clip((x - center) * scale, -5, 5), padded slots zero (features and 4-vectors);
  initial    hn_init_params(seed) (hepnc/init.h), as `hepnc train` draws them, exported by hepnc_steps
  values     (WORK/seed<S>/hx/init.safetensors) and loaded under weaver's names (tools/weaver_import.py's
             mapping in reverse; BatchNorm running statistics included);
  data order epoch e visits hn_rng_permutation(seed, e) (hepnc/rng.h: SplitMix64 stream
             mix(mix(seed ^ "shuff") ^ e), Fisher-Yates from the top with unbiased rejection), batches of
             64 consecutive events of it, the last partial batch (910 = 14 x 64 + 14) kept;
  optimiser  weaver's Ranger (RAdam betas 0.95/0.999, eps 1e-5, Lookahead k 6, alpha 0.5), lr 0.005,
             weight decay 0.01 except for 1-d tensors, *.bias and cls_token (hn_param_no_decay with
             ParT's no_weight_decay(); weaver train.py's groups);
  schedule   weaver flat+decay for 8 epochs: MultiStepLR(milestones [6, 7], gamma 0.01^(1/2)), i.e.
             lr 0.005 for epochs 0-5, 5e-4 in epoch 6, 5e-5 in epoch 7 (hn_lr_flat_decay);
  loss       cross-entropy, batch mean, no label smoothing (the spec sets none);
  metrics    train loss = event-weighted mean of the epoch's batch losses; after each epoch the
             validation loss/AUC in eval mode (running statistics); the best epoch is the one of lowest
             validation loss (strictly lower than every earlier one); AUC of top (label 0) against QCD
             with the discriminant p0 / (p0 + p1), ties counted one half (hn_auc).
hepnc's side is read from WORK/seed<S>/: hepnc_run/log.csv (the CLI run), {best,last}_eval.txt (`hepnc
eval` on the test part), {best,last}_scores.h5 (`hepnc infer` on the test part, for the per-event
discriminant), hx/steps.csv (every step's loss) and hx/epoch<N>.safetensors (the state after each epoch),
the last two from the same loop: run.sh checks that hx/run/log.csv equals the CLI's log.csv in every
column but the timings.

Besides the comparison, the validation-loss differences are taken apart per epoch: the same hepnc state
through both eval paths (hepnc's inference code against the weaver model), and PyTorch's state with the
tensors that training mode cannot see (ZERO_GRADIENT below) set to hepnc's values.
"""
import argparse
import json
import math
import os
import re
import sys
import time

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from weaver_import import map_part_state, read_safetensors  # noqa: E402
from weaver.nn.model.ParticleTransformer import ParticleTransformer  # noqa: E402
from weaver.utils.nn.optimizer.ranger import Ranger  # noqa: E402

MAXP, BATCH, EPOCHS, LR, WD = 64, 64, 8, 0.005, 0.01
PREPROCESS = [(1.7, 0.7), (2.0, 0.7), (-4.7, 0.7), (-4.7, 0.7), (0.2, 4.0)]   # the spec's preprocess block
SIGNAL = 0                                                                    # labels: 0 = top, 1 = QCD
ZERO = {"dropout": 0, "attn_dropout": 0, "activation_dropout": 0}
CONFIG = dict(input_dim=7, num_classes=2, pair_input_dim=4, use_pre_activation_pair=False, embed_dims=[32, 64, 32],
              pair_embed_dims=[16, 16], num_heads=4, num_layers=2, num_cls_layers=1, block_params=ZERO,
              cls_block_params=ZERO, fc_params=[], activation="gelu", trim=False, for_inference=False)
M64 = (1 << 64) - 1
# Tensors that training mode cannot see: the biases of the pair embedding that a BatchNorm follows
# (pair_embed.embed = BN0, Conv1, BN2, GELU, Conv4, BN5, GELU, Conv7, BN8, GELU; BN0's bias goes through
# Conv1 into BN2 as a constant shift). Their exact gradient is zero, so both sides move them by float32
# rounding noise, differently; eval mode sees them through (bias - running_mean) of the BN that follows.
ZERO_GRADIENT = ["pair_embed.embed.0.bias", "pair_embed.embed.1.bias", "pair_embed.embed.4.bias",
                 "pair_embed.embed.7.bias", "pair_embed.embed.2.running_mean", "pair_embed.embed.5.running_mean",
                 "pair_embed.embed.8.running_mean"]


# ---- hepnc/rng.h, exactly ------------------------------------------------------------------------------
def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def mix(x):
    return splitmix64(x)[1]


def permutation(n, seed, epoch):
    """hn_rng_permutation(perm, n, seed, epoch)."""
    state = mix(mix(seed ^ 0x7368756666) ^ epoch)          # hn_rng_stream(seed, HN_RNG_SHUFFLE, epoch)
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        bound = i + 1
        floor = ((1 << 64) - bound) % bound                 # hn_rng_below: reject the low 2^64 mod bound
        while True:
            state, r = splitmix64(state)
            if r >= floor:
                break
        j = r % bound
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def flat_decay(epoch):
    """weaver flat+decay (hn_lr_flat_decay): lr of every step of `epoch` (0-based)."""
    n = max(1, int(EPOCHS * 0.3))
    k = min(max(epoch - (EPOCHS - n) + 1, 0), n)
    return LR * (0.01 ** (1.0 / n)) ** k


# ---- files ------------------------------------------------------------------------------------------------
def load_hepnc_weights(model, path):
    """Fills the weaver model from a hepnc-named file (weaver_import's mapping in reverse); every tensor of
    the file must be used and every entry of the state_dict but num_batches_tracked filled."""
    weights = read_safetensors(path, skip=("__opt__.",))
    sd, used = model.state_dict(), set()
    for key, value in sd.items():
        if key.endswith("num_batches_tracked"):
            continue
        (name,) = map_part_state({key: value}).keys()
        sd[key] = torch.from_numpy(weights[name].reshape(tuple(value.shape)))
        used.add(name)
    assert used == set(weights), sorted(set(weights) ^ used)
    model.load_state_dict(sd)


def load_data(path):
    with h5py.File(path, "r") as f:
        x = f["particles/features"][:, :MAXP, :].astype(np.float32)
        p4 = f["particles/vectors"][:, :MAXP, :].astype(np.float32)
        mask = f["particles/mask"][:, :MAXP].astype(bool)
        y = f["labels"][...].astype(np.int64)
    n = mask.sum(1)
    assert (mask == (np.arange(MAXP)[None, :] < n[:, None])).all(), "masks are not prefixes"
    for k, (c, s) in enumerate(PREPROCESS):
        x[..., k] = np.clip((x[..., k] - np.float32(c)) * np.float32(s), -5, 5)
    x *= mask[..., None]
    p4 *= mask[..., None]
    return (torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1))),       # (N, 7, P)
            torch.from_numpy(np.ascontiguousarray(p4.transpose(0, 2, 1))),      # (N, 4, P)
            torch.from_numpy(mask[:, None, :]), torch.from_numpy(y))


def hepnc_log(path):
    with open(path) as f:
        rows = [l.strip().split(",") for l in f if l.strip()]
    head = rows[0]
    return [dict(zip(head, map(float, r))) for r in rows[1:]]


def hepnc_eval_auc(path):
    text = open(path).read()
    return float(re.search(r"^AUC\s+(\S+)", text, re.M).group(1))


def hepnc_scores(path):
    with h5py.File(path, "r") as f:
        s = f["scores"][...].astype(np.float64)
    return s[:, SIGNAL] / (s[:, 0] + s[:, 1])


# ---- metrics ------------------------------------------------------------------------------------------------
def auc(score, is_signal):
    """hn_auc: P(score_s > score_b) + 1/2 P(tie)."""
    order = np.argsort(score, kind="mergesort")
    s, sig = score[order], is_signal[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = 0.5 * (i + j) + 1
        i = j + 1
    ns, nb = sig.sum(), (~sig).sum()
    return float((ranks[sig].sum() - ns * (ns + 1) / 2) / (ns * nb))


def bootstrap(score_a, score_b, is_signal, reps=2000, seed=12345):
    """Resamples the test events: the spread of one AUC and of the paired difference AUC_a - AUC_b."""
    rng = np.random.default_rng(seed)
    one, diff = [], []
    for _ in range(reps):
        idx = rng.integers(0, len(is_signal), len(is_signal))
        sig = is_signal[idx]
        if sig.all() or not sig.any():
            continue
        a, b = auc(score_a[idx], sig), auc(score_b[idx], sig)
        one.append(a)
        diff.append(a - b)
    return float(np.std(one, ddof=1)), float(np.std(diff, ddof=1))


def hanley_mcneil(a, ns, nb):
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    return math.sqrt((a * (1 - a) + (ns - 1) * (q1 - a * a) + (nb - 1) * (q2 - a * a)) / (ns * nb))


def evaluate(model, data):
    x, v, m, y = data
    model.eval()
    with torch.no_grad():
        logits = model(x, v=v, mask=m)
        loss = torch.nn.functional.cross_entropy(logits, y).item()
        p = torch.softmax(logits.double(), 1).numpy()
        acc = (logits.argmax(1) == y).double().mean().item()
    model.train()
    return loss, acc, auc(p[:, SIGNAL] / (p[:, 0] + p[:, 1]), y.numpy() == SIGNAL), p[:, SIGNAL] / (p[:, 0] + p[:, 1])


# ---- one seed ----------------------------------------------------------------------------------------------
def run_seed(work, seed):
    d = os.path.join(work, f"seed{seed}")
    train, val, test = (load_data(os.path.join(work, f"tq_{p}.h5")) for p in ("train", "val", "test"))
    E = len(train[3])

    model = ParticleTransformer(**CONFIG)
    load_hepnc_weights(model, os.path.join(d, "hx", "init.safetensors"))
    model.train()
    # weaver train.py optim(): no decay for 1-d tensors, *.bias and model.no_weight_decay()
    skip = model.no_weight_decay()
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    nodecay = [p for n, p in named if p.ndim == 1 or n.endswith(".bias") or n in skip]
    decay = [p for n, p in named if not (p.ndim == 1 or n.endswith(".bias") or n in skip)]
    opt = Ranger([{"params": nodecay, "weight_decay": 0.0}, {"params": decay, "weight_decay": WD}], lr=LR)

    steps, epochs, states = [], [], []
    best_loss, best_state, best_epoch = math.inf, None, 0
    t0 = time.time()
    for epoch in range(EPOCHS):
        lr = flat_decay(epoch)
        for g in opt.param_groups:
            g["lr"] = lr
        perm = permutation(E, seed, epoch)
        tot, correct, n = 0.0, 0, 0
        for first in range(0, E, BATCH):
            idx = torch.tensor(perm[first:first + BATCH])
            y = train[3][idx]
            opt.zero_grad()
            logits = model(train[0][idx], v=train[1][idx], mask=train[2][idx])
            loss = torch.nn.functional.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            lv = loss.item()
            steps.append(lv)
            tot += lv * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            n += len(idx)
        vl, va, vauc, _ = evaluate(model, val)
        epochs.append({"epoch": epoch + 1, "lr": lr, "train_loss": tot / n, "train_acc": correct / n,
                       "val_loss": vl, "val_acc": va, "val_auc": vauc})
        states.append({k: t.clone() for k, t in model.state_dict().items()})
        if vl < best_loss:
            best_loss, best_epoch = vl, epoch + 1
            best_state = {k: t.clone() for k, t in model.state_dict().items()}
    seconds = time.time() - t0
    # the final parameters against hepnc's last.safetensors (trainable tensors and BN statistics)
    mine = map_part_state({k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")})
    theirs = read_safetensors(os.path.join(d, "hepnc_run", "last.safetensors"), skip=("__opt__.",))
    def rel_l2(keys):
        num = sum(float(np.sum((mine[k].reshape(-1).astype(np.float64) - theirs[k].reshape(-1)) ** 2)) for k in keys)
        return math.sqrt(num / sum(float(np.sum(theirs[k].astype(np.float64) ** 2)) for k in keys))
    worst = {k: float(np.max(np.abs(mine[k].reshape(-1) - theirs[k].reshape(-1)))) for k in theirs}
    others = [k for k in theirs if k not in ZERO_GRADIENT]
    param_diff = {"relative_l2": rel_l2(list(theirs)), "relative_l2_without_zero_gradient": rel_l2(others),
                  "max_abs": max(worst.values()), "max_abs_tensor": max(worst, key=worst.get),
                  "max_abs_without_zero_gradient": max(worst[k] for k in others),
                  "max_abs_tensor_without_zero_gradient": max(others, key=worst.get)}
    # per epoch: the validation loss of hepnc's state through the weaver model (the two eval paths on the
    # same weights), and of PyTorch's state with hepnc's zero-gradient tensors put in (what is left of the
    # difference once those are equal)
    probe = ParticleTransformer(**CONFIG)
    for e, st in enumerate(states):
        load_hepnc_weights(probe, os.path.join(d, "hx", f"epoch{e + 1}.safetensors"))
        hepnc_state = {k: t.clone() for k, t in probe.state_dict().items()}
        on_hepnc = evaluate(probe, val)[0]
        probe.load_state_dict({k: (hepnc_state[k] if k in ZERO_GRADIENT else t) for k, t in st.items()})
        epochs[e]["val_loss_weaver_on_hepnc_state"] = on_hepnc
        epochs[e]["val_loss_with_hepnc_zero_gradient_tensors"] = evaluate(probe, val)[0]
    is_sig = test[3].numpy() == SIGNAL
    _, _, torch_last, score_last = evaluate(model, test)
    model.load_state_dict(best_state)
    _, _, torch_best, score_best = evaluate(model, test)

    # hepnc's side
    hlog = hepnc_log(os.path.join(d, "hepnc_run", "log.csv"))
    hsteps = [float(l.split(",")[4]) for l in open(os.path.join(d, "hx", "steps.csv")).read().split("\n")[1:] if l]
    hbest_epoch = min(range(len(hlog)), key=lambda i: (hlog[i]["val_loss"], i)) + 1
    h = {"best_cli": hepnc_eval_auc(os.path.join(d, "best_eval.txt")),
         "last_cli": hepnc_eval_auc(os.path.join(d, "last_eval.txt"))}
    hscore_best = hepnc_scores(os.path.join(d, "best_scores.h5"))
    hscore_last = hepnc_scores(os.path.join(d, "last_scores.h5"))
    h["best"], h["last"] = auc(hscore_best, is_sig), auc(hscore_last, is_sig)
    # the same hepnc checkpoint evaluated by the weaver model: checks the name mapping and the inputs
    load_hepnc_weights(model, os.path.join(d, "hepnc_run", "best.safetensors"))
    _, _, _, hscore_best_torch = evaluate(model, test)
    err_one, err_diff = bootstrap(hscore_best, score_best, is_sig)
    return {
        "seed": seed, "torch_seconds": seconds, "steps_torch": steps, "steps_hepnc": hsteps,
        "epochs_torch": epochs, "epochs_hepnc": hlog, "best_epoch_torch": best_epoch, "best_epoch_hepnc": hbest_epoch,
        "auc_torch": {"best": torch_best, "last": torch_last}, "auc_hepnc": h,
        "hepnc_best_scores_in_torch_maxdiff": float(np.max(np.abs(hscore_best_torch - hscore_best))),
        "final_params_diff": param_diff,
        "test_events": int(len(is_sig)), "test_signal": int(is_sig.sum()),
        "auc_error_bootstrap": err_one, "dauc_error_bootstrap_paired": err_diff,
        "auc_error_hanley_mcneil": hanley_mcneil(torch_best, int(is_sig.sum()), int((~is_sig).sum())),
    }


# ---- report ------------------------------------------------------------------------------------------------
def report(r):
    s = r["seed"]
    print(f"\n### seed {s}\n")
    print("| epoch | lr | train loss hepnc | train loss PyTorch | val loss hepnc | val loss PyTorch "
          "| val AUC hepnc | val AUC PyTorch | max abs diff of the step losses | val loss diff |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    spe = len(r["steps_torch"]) // len(r["epochs_torch"])
    dstep = np.abs(np.array(r["steps_hepnc"]) - np.array(r["steps_torch"]))
    for i, (h, t) in enumerate(zip(r["epochs_hepnc"], r["epochs_torch"])):
        print(f"| {t['epoch']} | {h['lr']:g} | {h['train_loss']:.4f} | {t['train_loss']:.4f} | {h['val_loss']:.4f} "
              f"| {t['val_loss']:.4f} | {h['val_auc']:.4f} | {t['val_auc']:.4f} | {dstep[i * spe:(i + 1) * spe].max():.1e} "
              f"| {h['val_loss'] - t['val_loss']:+.1e} |")
    a, b = r["auc_hepnc"], r["auc_torch"]
    print(f"\nbest epoch (lowest val loss): hepnc {r['best_epoch_hepnc']}, PyTorch {r['best_epoch_torch']}")
    print(f"test AUC ({r['test_events']} jets, {r['test_signal']} top), best checkpoint: hepnc {a['best']:.4f} "
          f"(hepnc eval: {a['best_cli']:.4f}), PyTorch {b['best']:.4f}, |dAUC| {abs(a['best'] - b['best']):.4f}")
    print(f"test AUC, last checkpoint: hepnc {a['last']:.4f} (hepnc eval: {a['last_cli']:.4f}), PyTorch "
          f"{b['last']:.4f}, |dAUC| {abs(a['last'] - b['last']):.4f}")
    print(f"statistical error of one test AUC: bootstrap {r['auc_error_bootstrap']:.4f}, Hanley-McNeil "
          f"{r['auc_error_hanley_mcneil']:.4f}; paired bootstrap of the difference {r['dauc_error_bootstrap_paired']:.4f}")
    print(f"hepnc's best checkpoint through the weaver model: discriminant within "
          f"{r['hepnc_best_scores_in_torch_maxdiff']:.1e} of hepnc infer's")
    hs, ts = r["steps_hepnc"], r["steps_torch"]
    print("\nper-step training loss, the first 20 steps:\n")
    print("| step | hepnc | PyTorch | diff |")
    print("|---|---|---|---|")
    for k in range(min(20, len(hs))):
        print(f"| {k} | {hs[k]:.7f} | {ts[k]:.7f} | {hs[k] - ts[k]:+.1e} |")
    d = np.abs(np.array(hs) - np.array(ts))
    first = {thr: next((k for k in range(len(d)) if d[k] > thr), None) for thr in (1e-5, 1e-4, 1e-3, 1e-2)}
    print("\nfirst step whose |loss difference| exceeds " +
          ", ".join(f"{thr:g}: {first[thr]}" for thr in first))
    print(f"max |loss difference| over all {len(d)} steps: {d.max():.1e} (step {int(d.argmax())})")
    print("\nvalidation loss differences, hepnc - PyTorch, per epoch: as trained | the same hepnc state "
          "through both eval paths | PyTorch's state with hepnc's zero-gradient tensors (ZERO_GRADIENT)\n")
    print("| epoch | as trained | eval paths, same weights | zero-gradient tensors equalised |")
    print("|---|---|---|---|")
    for h, t in zip(r["epochs_hepnc"], r["epochs_torch"]):
        w = t["val_loss_weaver_on_hepnc_state"]
        print(f"| {t['epoch']} | {h['val_loss'] - t['val_loss']:+.1e} | {h['val_loss'] - w:+.1e} "
              f"| {w - t['val_loss_with_hepnc_zero_gradient_tensors']:+.1e} |")
    pd = r["final_params_diff"]
    print(f"final parameters (last epoch), PyTorch against hepnc's last.safetensors: relative L2 difference "
          f"{pd['relative_l2']:.1e}, largest element difference {pd['max_abs']:.1e} ({pd['max_abs_tensor']}); "
          f"without the ZERO_GRADIENT tensors {pd['relative_l2_without_zero_gradient']:.1e} and "
          f"{pd['max_abs_without_zero_gradient']:.1e} ({pd['max_abs_tensor_without_zero_gradient']})")
    print(f"PyTorch training time {r['torch_seconds']:.0f} s")


def summary(results):
    print("\n### all seeds\n")
    print("| seed | test AUC hepnc | test AUC PyTorch | dAUC | best epoch hepnc / PyTorch | last-ckpt dAUC |")
    print("|---|---|---|---|---|---|")
    diffs = []
    for r in results:
        a, b = r["auc_hepnc"], r["auc_torch"]
        diffs.append(a["best"] - b["best"])
        print(f"| {r['seed']} | {a['best']:.4f} | {b['best']:.4f} | {a['best'] - b['best']:+.4f} | "
              f"{r['best_epoch_hepnc']} / {r['best_epoch_torch']} | {a['last'] - b['last']:+.4f} |")
    if len(diffs) > 1:
        print(f"\ndAUC (hepnc - PyTorch, best checkpoints) over {len(diffs)} seeds: mean {np.mean(diffs):+.4f}, "
              f"standard deviation {np.std(diffs, ddof=1):.4f}, mean |dAUC| {np.mean(np.abs(diffs)):.4f}")


def plot(r, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 3, figsize=(16, 4.2))
    hs, ts = np.array(r["steps_hepnc"]), np.array(r["steps_torch"])
    k = np.arange(len(hs))
    ax[0].plot(k, hs, label="hepnc train", lw=1.4)
    ax[0].plot(k, ts, label="PyTorch (weaver-core ParT)", lw=1.0, ls="--")
    ax[0].set_xlabel("optimiser step (batch 64)")
    ax[0].set_ylabel("training loss of the batch")
    ax[0].set_title(f"part_top_small, seed {r['seed']}: per-step loss")
    ax[0].legend()
    e = [x["epoch"] for x in r["epochs_torch"]]
    big = dict(marker="o", ms=10, mfc="none", mew=1.5, lw=1.4)
    small = dict(marker="s", ms=4, ls="--", lw=1.0)
    ax[1].plot(e, [x["train_loss"] for x in r["epochs_hepnc"]], color="C0", label="hepnc train", **big)
    ax[1].plot(e, [x["train_loss"] for x in r["epochs_torch"]], color="C1", label="PyTorch train", **small)
    ax[1].plot(e, [x["val_loss"] for x in r["epochs_hepnc"]], color="C2", label="hepnc validation", **big)
    ax[1].plot(e, [x["val_loss"] for x in r["epochs_torch"]], color="C3", label="PyTorch validation", **small)
    a, b = r["auc_hepnc"]["best"], r["auc_torch"]["best"]
    ax[1].set_title(f"per epoch; test AUC hepnc {a:.4f}, PyTorch {b:.4f}")
    ax[1].set_xlabel("epoch")
    ax[1].set_ylabel("loss")
    ax[1].legend()
    ax[2].semilogy(k, np.maximum(np.abs(hs - ts), 1e-12), ".", ms=4, color="C4")
    ax[2].set_xlabel("optimiser step")
    ax[2].set_ylabel("|loss hepnc - loss PyTorch|")
    ax[2].set_title("per-step loss difference (float32)")
    ax[2].set_ylim(1e-12, 1e-1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nplot: {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--plot", help="PNG of the loss curves of the first seed")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    results = []
    for s in a.seeds:
        r = run_seed(a.work, s)
        report(r)
        results.append(r)
        with open(os.path.join(a.work, f"seed{s}", "result.json"), "w") as f:
            json.dump(r, f, indent=1)
    summary(results)
    if a.plot:
        plot(results[0], a.plot)


if __name__ == "__main__":
    main()
