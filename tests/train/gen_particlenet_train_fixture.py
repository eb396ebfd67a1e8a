#!/usr/bin/env python3
"""PyTorch reference of one ParticleNet training step (the edge_conv op's training forward and backward),
from weaver-core 0.4.17's own ParticleNet class:

    tools/parity-env.sh                                  # once: Debian's torch 1.13 + weaver-core 0.4.17
    .venv-parity/bin/python tests/train/gen_particlenet_train_fixture.py
    .venv-parity/bin/python tests/train/gen_particlenet_train_fixture.py --jetclass OUT [CKPT_DIR]

Default: writes tests/train/models/particlenet_small/ for the spec there, particlenet_small.yaml
(24 slots, k = 4, EdgeConv widths (16, 16), (16, 16), (24, 32): a shortcut convolution, an identity
shortcut, unequal widths; fc 32; 4 classes), with randomised weights (seeded):
  weights.safetensors  the full state under hepnc's names (tools/weaver_import.map_particlenet_state)
  batch.h5             16 jets in hepnc's layout (/particles/features with names, /particles/mask) and
                       /labels int64 (4 per class)
  expected.safetensors loss [1], logits, grad.<name> (float32 autograd), grad64.<name> (a float64 copy
                       with the float32 run's kNN graphs: see below), bn1.<name> (every running statistic
                       after the step)
--jetclass OUT writes the same three files to OUT for models/particlenet_jetclass_kin.yaml with the
published checkpoint (CKPT_DIR/ParticleNet_kin.pt, default ../shared/data/particlenet) on 16 jets of up
to 110 particles: the full-size check tests/train/gradcheck_particlenet.sh runs where this environment
exists, never committed (the checkpoint is not ours to ship, and the gradients alone are 1.5 MB).

Semantics (weaver's ParticleNet.forward in model.train(), fc dropout 0): features and points multiplied
by the mask; padded points shifted by 1e9 in the kNN coordinates; bn_fts, every EdgeConv BatchNorm2d
(statistics over N x P x k edge rows, padding included) and every shortcut BatchNorm1d (N x P points)
take batch statistics and update their running statistics (momentum 0.1, unbiased variance); each block's
output multiplied by the mask; masked mean pooling (use_counts); CrossEntropyLoss(label_smoothing=0.1).
Every jet has n <= P - (k + 1) particles (19 of 24; 110 of 128), so every padded point has only padded
neighbours, as hepnc assumes (docs/training.md: with fewer than k + 1 padded slots weaver's choice
depends on float rounding). Small jets (n <= k, n = k + 1) make padding points neighbours of real ones.

The kNN selection is not differentiable and float64 can order near-ties differently: the float64
reference (grad64) reuses the float32 run's neighbour indices, so both differentiate the same function.
The script checks that no kNN selection is within 1e-5 of a tie in float64 (relative to the row's largest |distance|: ~100 float32 roundings), so hepnc's
float32 distances (a different summation order) pick the same neighbours.

Deterministic: seeded numpy/torch, one thread, deterministic algorithms; HDF5 without timestamps.
"""
import copy
import os
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from gen_fixtures import PFN_FEATURES, dataset, h5_file, make_jets  # noqa: E402
from gen_part_fixture import standardise  # noqa: E402
from weaver_import import map_particlenet_state, write_safetensors  # noqa: E402
import weaver.nn.model.ParticleNet as pn  # noqa: E402

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

LABEL_SMOOTHING = 0.1
B = 16
SMALL = dict(input_dims=7, num_classes=4, conv_params=[(4, (16, 16)), (4, (16, 16)), (4, (24, 32))],
             fc_params=[(32, 0.0)], use_fusion=False, use_fts_bn=True, use_counts=True)
SMALL_P = 24
SMALL_COUNTS = [1, 2, 4, 5, 19, 3, 12, 17, 8, 19, 6, 15, 10, 14, 18, 7]
JETCLASS = dict(input_dims=7, num_classes=10, conv_params=[(16, (64, 64, 64)), (16, (128, 128, 128)),
                                                           (16, (256, 256, 256))],
                fc_params=[(256, 0.0)], use_fusion=False, use_fts_bn=True, use_counts=True)
JETCLASS_P = 128
JETCLASS_COUNTS = [3, 16, 17, 110, 40, 25, 60, 90, 8, 33, 75, 52, 100, 12, 45, 66]


# ---- the kNN graphs: recorded in the float32 run, replayed in float64 --------------------------------

class KnnTape:
    """Wraps weaver's knn(): 'record' keeps each call's indices and the float64 margin of its selection;
    'replay' returns the recorded indices in call order."""

    def __init__(self):
        self.mode, self.calls, self.pos, self.margins = "plain", [], 0, []
        self.orig = pn.knn

    def __call__(self, x, k):
        if self.mode == "replay":
            idx = self.calls[self.pos]
            self.pos += 1
            return idx
        idx = self.orig(x, k)
        if self.mode == "record":
            self.calls.append(idx.clone())
            self.margins.append(knn_margin(x, k))
        return idx


def knn_margin(x, k):
    """min over real points (|coordinates| < 1e8) of the float64 gaps around the kept neighbours:
    between the top entry (dropped) and the 2nd, and between the (k+1)-th and (k+2)-th, relative to the
    largest |distance| in the row, over the real candidates."""
    x = x.detach().double()
    inner = -2 * torch.matmul(x.transpose(2, 1), x)
    xx = torch.sum(x ** 2, dim=1, keepdim=True)
    d = -xx - inner - xx.transpose(2, 1)
    real = (x.abs().max(dim=1).values < 1e8)                     # (N, P)
    worst = np.inf
    for b in range(x.shape[0]):
        r = real[b].nonzero().flatten()
        n = len(r)
        if n < 2:
            continue
        sub = d[b][r][:, r]
        s = torch.sort(sub, dim=1, descending=True).values
        scale = sub.abs().max(dim=1).values.clamp_min(1e-12)
        gaps = [(s[:, 0] - s[:, 1]) / scale]
        if n > k + 1:
            gaps.append((s[:, k] - s[:, k + 1]) / scale)
        worst = min(worst, min(g.min().item() for g in gaps))
    return worst


TAPE = KnnTape()
pn.knn = TAPE


# ---- model, inputs --------------------------------------------------------------------------------------

def randomise(model, gen):
    """Seeded weights: weaver's default init for the convolutions and linears, then every BatchNorm given
    γ ~ U(0.6, 1.4), β ~ N(0, 0.2), running_mean ~ N(0, 0.3), running_var ~ U(0.5, 2)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                c = m.num_features
                m.weight.copy_(0.6 + 0.8 * torch.rand(c, generator=gen))
                m.bias.copy_(0.2 * torch.randn(c, generator=gen))
                m.running_mean.copy_(0.3 * torch.randn(c, generator=gen))
                m.running_var.copy_(0.5 + 1.5 * torch.rand(c, generator=gen))


def jets(seed, P, counts):
    """Jets of exactly the given sizes in P slots (gen_fixtures.make_jets' jets 1 and 2 have max particles;
    smaller jets are the leading particles of a three-particle one)."""
    x = np.zeros((len(counts), P, len(PFN_FEATURES)), np.float32)
    mask = np.zeros((len(counts), P), np.uint8)
    for j, n in enumerate(counts):
        xj = make_jets(np.random.default_rng(seed + j), 4, max(n, 3))[0][1]
        x[j, :n] = xj[:n]
        mask[j, :n] = 1
    return x, mask


def tensors(x, mask):
    xs = standardise(x) * mask[..., None]
    points = x[..., 5:7] * mask[..., None]                    # (deta, dphi): weaver's pf_points
    pt = torch.from_numpy(np.ascontiguousarray(points.transpose(0, 2, 1)))
    ft = torch.from_numpy(np.ascontiguousarray(xs.transpose(0, 2, 1)))
    mt = torch.from_numpy(mask[:, None, :].astype(np.float32))
    return pt, ft, mt


def step(model, inputs, labels, dtype):
    pt, ft, mt = (t.to(dtype) for t in inputs)
    model.train()
    model.zero_grad(set_to_none=True)
    logits = model(pt.clone(), ft.clone(), mt)                  # the forward masks its inputs in place
    loss = nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)(logits, labels)
    loss.backward()
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters()}
    return loss.detach(), logits.detach(), grads


def rel_norm(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    nb = np.linalg.norm(b)
    return np.linalg.norm(a - b) / nb if nb > 0 else np.linalg.norm(a - b)


def write(out, model, P, x, mask, labels_np, strict=True):
    os.makedirs(out, exist_ok=True)
    labels = torch.from_numpy(labels_np)
    inputs = tensors(x, mask)
    state0 = map_particlenet_state({k: v for k, v in model.state_dict().items()})

    m32 = copy.deepcopy(model)
    TAPE.mode, TAPE.calls, TAPE.margins = "record", [], []
    loss, logits, grads = step(m32, inputs, labels, torch.float32)
    m64 = copy.deepcopy(model).double()
    TAPE.mode, TAPE.pos = "replay", 0
    loss64, _, grads64 = step(m64, inputs, labels, torch.float64)
    TAPE.mode = "plain"
    margin = min(TAPE.margins)
    if strict:
        assert margin > 1e-5, f"a kNN selection is within {margin:.1e} of a tie: pick other jets"
    elif margin <= 1e-5:
        print(f"  warning: a kNN selection is within {margin:.1e} of a tie: float32 summation order may pick another")

    bn1 = {k: v for k, v in map_particlenet_state(m32.state_dict()).items()
           if k.endswith(("running_mean", "running_var"))}
    expected = {"loss": np.array([loss.item()], np.float32), "logits": logits.numpy()}
    g32, g64 = map_particlenet_state(grads), map_particlenet_state(grads64)
    for k, v in g32.items():
        expected["grad." + k] = v
    for k, v in g64.items():
        expected["grad64." + k] = v
    for k, v in bn1.items():
        expected["bn1." + k] = v
    for k, v in expected.items():
        assert np.isfinite(v).all(), k
    write_safetensors(os.path.join(out, "weights.safetensors"), state0)
    write_safetensors(os.path.join(out, "expected.safetensors"), expected)
    with h5_file(os.path.join(out, "batch.h5")) as f:
        dataset(f, "particles/features", x)
        f["particles/features"].attrs["names"] = np.array(PFN_FEATURES, dtype="S")
        dataset(f, "particles/mask", mask)
        dataset(f, "labels", labels_np)

    worst = max(rel_norm(g32[k], g64[k]) for k in g32)
    counts = mask.sum(1)
    print(f"{out}: {len(x)} jets of {P} slots, n {counts.min()}..{counts.max()}, labels {np.bincount(labels_np).tolist()}")
    print(f"  loss {loss.item():.9f} (float64 {loss64.item():.12f}), |logits| max {logits.abs().max().item():.3g}")
    print(f"  {len(g32)} gradient tensors, float32 vs float64 worst ||g32 - g64||/||g64|| {worst:.2e}; "
          f"smallest kNN margin (relative) {margin:.2e}")
    return worst


def small():
    torch.manual_seed(20261210)
    model = pn.ParticleNet(**SMALL, for_inference=False)
    randomise(model, torch.Generator().manual_seed(20261211))
    x, mask = jets(20261212, SMALL_P, SMALL_COUNTS)
    labels = np.random.default_rng(20261213).permutation(np.arange(B) % SMALL["num_classes"]).astype(np.int64)
    write(os.path.join(HERE, "models", "particlenet_small"), model, SMALL_P, x, mask, labels)


def jetclass(out, ckpt_dir):
    state = torch.load(os.path.join(ckpt_dir, "ParticleNet_kin.pt"), map_location="cpu")
    state = {k[4:] if k.startswith("mod.") else k: v for k, v in state.items()}
    model = pn.ParticleNet(**JETCLASS, for_inference=False)
    model.load_state_dict(state)
    x, mask = jets(20261220, JETCLASS_P, JETCLASS_COUNTS)
    labels = np.random.default_rng(20261221).integers(0, 10, size=B).astype(np.int64)
    write(out, model, JETCLASS_P, x, mask, labels, strict=False)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--jetclass":
        jetclass(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else
                 os.path.join(ROOT, "..", "shared", "data", "particlenet"))
    else:
        small()
