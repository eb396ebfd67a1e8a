"""Shared by the ParT CPU benchmark scripts: the JetClass ParT configuration (weaver-core 0.4.17, as in
jet-universe/particle_transformer's example_ParticleTransformer.py with the 7 'kin' features) and the
jets' tensors in weaver's layout. bench/particlenet_cpu reuses bench_jets, write_jets and pct."""
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
sys.path.insert(0, os.path.join(ROOT, "tools"))

CONFIG = dict(input_dim=7, num_classes=10, pair_input_dim=4, use_pre_activation_pair=False,
              embed_dims=[128, 512, 128], pair_embed_dims=[64, 64, 64], num_heads=8, num_layers=8,
              num_cls_layers=2, block_params=None,
              cls_block_params={"dropout": 0, "attn_dropout": 0, "activation_dropout": 0},
              fc_params=[], activation="gelu")
MAXP = 128
NMIN, NMAX = 30, 80


def torch_inputs(h5path):
    """(x standardised and masked (N, 7, P), v (N, 4, P), mask (N, 1, P) bool, counts) from jets.h5."""
    import h5py
    import torch
    from gen_part_fixture import standardise
    with h5py.File(h5path, "r") as f:
        x_raw = f["particles/features"][...]
        p4 = f["particles/vectors"][...]
        mask = f["particles/mask"][...]
    x = standardise(x_raw) * mask[..., None]
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1), dtype=np.float32))
    vt = torch.from_numpy(np.ascontiguousarray(p4.transpose(0, 2, 1), dtype=np.float32))
    mt = torch.from_numpy(mask[:, None, :].astype(bool))
    return xt, vt, mt, mask.sum(1)


def bench_jets(rng, njets):
    """(x_raw, p4, mask): `njets` jets from make_jets at MAXP particles, kept when NMIN <= n <= NMAX."""
    from gen_fixtures import make_jets
    xs, ps, ms = [], [], []
    while sum(len(x) for x in xs) < njets:
        x, p4, mask, counts = make_jets(rng, 2 * njets, MAXP)
        keep = (counts >= NMIN) & (counts <= NMAX)
        xs.append(x[keep]), ps.append(p4[keep]), ms.append(mask[keep])
    return np.concatenate(xs)[:njets], np.concatenate(ps)[:njets], np.concatenate(ms)[:njets]


def write_jets(path, x_raw, p4, mask):
    """hepnc's dataset layout (docs/data.md): raw 'kin' features, mask, 4-vectors."""
    from gen_fixtures import PFN_FEATURES, dataset, h5_file
    with h5_file(path) as f:
        dataset(f, "particles/features", x_raw.astype(np.float32))
        f["particles/features"].attrs["names"] = np.array(PFN_FEATURES, dtype="S")
        dataset(f, "particles/mask", mask)
        dataset(f, "particles/vectors", p4.astype(np.float32))


def pct(v, q):
    """Nearest rank: the ceil(q·N)-th smallest."""
    v = sorted(v)
    return v[max(0, math.ceil(q * len(v)) - 1)]
