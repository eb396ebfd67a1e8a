#!/usr/bin/env python3
"""PyTorch reference of IAFormer's training step, from upstream IAFormer itself (github wesmail/IAFormer at
the commit tests/parity/gen_iaformer_fixture.py pins): tests/train/models/iaformer/.

    tools/parity-env.sh                        # once: .venv-torch2 (torch 2.4.1 for nn.RMSNorm, awkward, vector, pandas)
    mkdir -p /tmp/iaformer-src && git --git-dir=<IAFormer mirror> archive e052796 | tar -x -C /tmp/iaformer-src
    .venv-torch2/bin/python tests/train/gen_iaformer_train_fixture.py --iaformer-src /tmp/iaformer-src

The network is the parity fixture's (gen_iaformer_fixture.upstream_model: upstream's Transformer with the paper's
configuration, the same weights byte for byte) on the parity fixture's first B jets, whose 11 particle features
and dense pair tensor come from upstream's own graph builder and loader, as the parity fixture computes them.
Training mode (the model has no dropout or batchnorm: the same numbers as eval). The loss is upstream's:
BCEWithLogits (mean) of the one logit against the label (0/1), what `hepnc gradcheck --loss bce` computes.

Writes (tests/train/models/README.md describes the conventions):
  weights.safetensors  the parity checkpoint under hepnc's names (upstream's without "model.", the 1x1 Conv2d
                       weights [out, in]), as `hepnc import iaformer` writes them
  batch.h5             the B jets: /particles/features, /particles/vectors, /labels (int64)
  expected.safetensors loss, logits, grad.<name> (float32 autograd), grad64.<name> (float64 autograd: the u_proj
                       biases' true gradient is zero, a softmax being blind to a shift), adamw8.<name> and loss_adamw.<k> after
                       torch.optim.AdamW(lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on the
                       rank-2 weights, none on vectors and biases: gradcheck's groups) steps k = 1..8
Deterministic: one thread, torch.use_deterministic_algorithms(True); no random numbers beyond the parity
fixture's seeded initialisation."""
import argparse
import copy
import os
import sys

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
import gen_iaformer_fixture as fx  # noqa: E402
from gen_fixtures import dataset, h5_file, write_safetensors  # noqa: E402

B = 8
STEPS = 8
LR, WD = 1e-3, 0.01
PARITY = os.path.join(ROOT, "tests", "parity", "iaformer")


def hepnc_name(name):
    return name


def squeeze(t):
    """1x1 Conv2d weights [out, in, 1, 1] as hepnc keeps them: [out, in]."""
    return t.reshape(t.shape[0], t.shape[1]) if t.dim() == 4 else t


def jets(up):
    """The parity fixture's first B jets: its stored inputs, and upstream's dense pair tensor rebuilt from
    their 4-vectors by upstream's graph builder and loader (the forward's u)."""
    with h5py.File(os.path.join(PARITY, "inputs.h5"), "r") as f:
        x = f["particles/features"][:B]
        names = f["particles/features"].attrs["names"]
        p4 = f["particles/vectors"][:B]
        labels = f["labels"][:B].astype(np.int64)
    features, sparse, _, _ = fx.upstream_features(up, fx.jet_frame(p4, labels == 0))
    assert np.array_equal(features, x), "the stored particle features are not upstream's"
    u, _ = fx.upstream_pairs(up, sparse)
    return x, names, p4, labels, u


def loss_of(model, x, u, labels):
    logits, _, _ = model(x, u)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], labels.float()), logits


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iaformer-src", default=os.environ.get("IAFORMER_SRC"), required=not os.environ.get("IAFORMER_SRC"))
    ap.add_argument("--out", default=os.path.join(HERE, "models", "iaformer"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    up = fx.import_iaformer(args.iaformer_src)
    x_np, names, p4, labels_np, u_np = jets(up)
    x, u, labels = torch.from_numpy(x_np), torch.from_numpy(u_np), torch.from_numpy(labels_np)
    model, _ = fx.upstream_model(up, x, u)
    model.train()
    os.makedirs(args.out, exist_ok=True)

    weights = {hepnc_name(k): squeeze(v.detach().clone()) for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(args.out, "weights.safetensors"), weights)
    with h5_file(os.path.join(args.out, "batch.h5")) as f:
        dataset(f, "particles/features", x_np)
        f["particles/features"].attrs["names"] = names
        dataset(f, "particles/vectors", p4)
        dataset(f, "labels", labels_np)

    expected = {}
    model.zero_grad()
    loss, logits = loss_of(model, x, u, labels)
    loss.backward()
    expected["loss"] = loss.detach().reshape(1)
    expected["logits"] = logits.detach()
    for k, p in model.named_parameters():
        expected["grad." + k] = squeeze(p.grad.detach().clone())

    # float64 autograd too (grad64.*): every map's u_proj bias shifts all of a softmax's logits, so its true
    # gradient is zero and float32 gives rounding noise; gradcheck judges such tensors against float64
    m64 = copy.deepcopy(model).double()
    m64.zero_grad()
    loss64, _ = loss_of(m64, x.double(), u.double(), labels)
    loss64.backward()
    for k, p in m64.named_parameters():
        expected["grad64." + k] = squeeze(p.grad.detach().clone())

    decay = [p for k, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for k, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": WD}],
                            lr=LR, betas=(0.9, 0.999), eps=1e-8)
    for s in range(STEPS):
        opt.zero_grad()
        loss, _ = loss_of(model, x, u, labels)
        loss.backward()
        opt.step()
        expected[f"loss_adamw.{s}"] = loss.detach().reshape(1)
    for k, p in model.named_parameters():
        expected[f"adamw{STEPS}." + k] = squeeze(p.detach().clone())
    write_safetensors(os.path.join(args.out, "expected.safetensors"), expected)
    print(f"{args.out}: loss {expected['loss'].item():.9f}, {len(weights)} tensors, {STEPS} AdamW steps "
          f"(last loss {expected[f'loss_adamw.{STEPS - 1}'].item():.9f})")


if __name__ == "__main__":
    main()
