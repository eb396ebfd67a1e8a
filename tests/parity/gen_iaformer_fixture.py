#!/usr/bin/env python3
"""Parity fixture for IAFormer (Esmail, Hammad, Nojiri, arXiv:2505.03258), from the upstream IAFormer code
itself (wesmail/IAFormer at the pinned commit below, imported from an extracted snapshot, never copied):
the paper's top-tagging configuration (training/configs/ia_former.yaml: 11 particle features, 6 pair
features, embed_dim 32, 16 heads, 4 blocks, differential attention, 128 particles, 1 logit).

    tools/parity-env.sh                                    # once: .venv-torch2 (torch 2.4.1, awkward, vector, pandas)
    git --git-dir=<IAFormer mirror> archive e05279675ae9be2fe0c3a5d5ce786b38b2d7bb36 | tar -x -C /tmp/iaformer-src
    .venv-torch2/bin/python tests/parity/gen_iaformer_fixture.py --iaformer-src /tmp/iaformer-src

(--iaformer-src defaults to $IAFORMER_SRC; --out defaults to tests/parity/iaformer.) The snapshot is checked
against a digest of the files it imports, so a fixture is only ever written from the pinned code.

What runs is upstream's: the 11 particle and 6 pair features are computed by
utils/graph_builder.py TopParticleGraphBuilder.process_chunk (max_particles 128) on 32 jets of
examples/data/topqcd_sample.h5, handed over as the pandas DataFrame it reads (PX_i, PY_i, PZ_i, E_i, float32,
zeros for padding; is_signal_new), with pandas.read_hdf replaced by a function returning that frame (no
PyTables file); each event's [128, 128, 6] pair tensor is rebuilt by training/data/data_handling.py
H5Dataset.reconstruct_adjacency and converted as H5Dataset.__getitem__ does; the network is
training/models/models.py Transformer, called as JetTaggingModule.test_step calls it. Lightning,
torchmetrics, particle and joblib are only imported by those files: they are replaced by stub modules.
Writes model.ckpt, inputs.h5, expected.h5, report.json; see tests/parity/README.md.
"""
import argparse
import hashlib
import io
import json
import math
import os
import sys
import time
import types

import h5py
import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from gen_fixtures import dataset, h5_file, set_names  # noqa: E402

PINNED_COMMIT = "e05279675ae9be2fe0c3a5d5ce786b38b2d7bb36"     # wesmail/IAFormer, 2025-11-18
# every upstream file the generator imports or follows (the config fixes CONFIG below)
UPSTREAM_FILES = ["training/configs/ia_former.yaml", "training/data/data_handling.py",
                  "training/models/attention.py", "training/models/embedding.py", "training/models/models.py",
                  "utils/graph_builder.py"]
# sha256 over (relative path, NUL, content, NUL) of UPSTREAM_FILES at that commit, in that (sorted) order
PINNED_DIGEST = "03a540e4f79803c89f6104f7c19e8d25e0de06caecf1b895b8550f335c308c03"

SAMPLE = os.path.join(ROOT, "examples", "data", "topqcd_sample.h5")
NPART = 128
NEVENTS = 32                    # 16 top (label 0) + 16 QCD (label 1)
NUMPY_SEED, TORCH_SEED = 20261215, 0
NORM_SEED = 20261216            # torch.Generator for the LayerNorm / RMSNorm affine perturbation
# lambda_q1 . lambda_k1 per block, so that beta = lambda_init * exp(q.k) (lambda_init = 1 - e^(-1/4) = 0.2212)
# is 0.365, 0.134, 0.601, 0.284: inside (0, 1), away from lambda_init, different in every block
LAMBDA_DOTS = [0.5, -0.5, 1.0, 0.25]
# training/configs/ia_former.yaml, model.init_args: the Transformer's arguments, then JetTaggingModule's own
CONFIG = {"in_channels": 11, "u_channels": 6, "embed_dim": 32, "num_heads": 16, "num_blocks": 4, "attn": "diff",
          "max_num_particles": NPART, "num_classes": 1}
TRAINING = {"eta_min": 1e-6, "t_max": 35, "lr": 0.0015, "batch_size": 256}
FEATURES = ["e", "px", "py", "pz", "ln_pt", "ln_e", "ln_pt_rel", "ln_e_rel", "delta_eta", "delta_phi", "delta_r"]
PAIR_FEATURES = ["ln_delta", "ln_kt", "ln_z", "ln_m2", "ln_pt_sum_rel", "ln_e_sum_rel"]   # process_chunk's order
PAIR_EVENTS = 2                 # /pair_features holds the first two events


# ---- upstream ---------------------------------------------------------------------------------------

def snapshot_digest(src):
    h = hashlib.sha256()
    for rel in sorted(UPSTREAM_FILES):
        with open(os.path.join(src, rel), "rb") as f:
            h.update(rel.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()


def file_digests(src):
    out = {}
    for rel in sorted(UPSTREAM_FILES):
        with open(os.path.join(src, rel), "rb") as f:
            out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


def stub_modules():
    """Modules upstream imports at module level but never uses for what runs here: Lightning (base classes
    of JetTaggingModule / JetTaggingDataModule, STEP_OUTPUT), torchmetrics (Accuracy, AUROC in
    JetTaggingModule), particle (QGParticleGraphBuilder's masses) and joblib (generate_graphs)."""
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        m.__file__ = "<stub>"
        sys.modules[name] = m
        return m

    class LightningModule(nn.Module):
        def save_hyperparameters(self, *args, **kwargs):
            pass

    class LightningDataModule:
        def save_hyperparameters(self, *args, **kwargs):
            pass

    def unused(*args, **kwargs):
        raise RuntimeError("stub: not part of what the fixture runs")

    module("lightning", pytorch=module("lightning.pytorch", LightningModule=LightningModule,
                                       LightningDataModule=LightningDataModule))
    module("lightning.pytorch.utilities", types=module("lightning.pytorch.utilities.types", STEP_OUTPUT=object))
    sys.modules["lightning.pytorch"].utilities = sys.modules["lightning.pytorch.utilities"]
    module("torchmetrics", Accuracy=unused, AUROC=unused)
    module("particle", Particle=types.SimpleNamespace(from_pdgid=unused))
    module("joblib", Parallel=unused, delayed=unused)


def import_iaformer(src):
    digest = snapshot_digest(src)
    if digest != PINNED_DIGEST:
        sys.exit(f"{src}: digest {digest} of {', '.join(sorted(UPSTREAM_FILES))} is not that of the pinned "
                 f"commit {PINNED_COMMIT} ({PINNED_DIGEST}); extract that commit with git archive")
    stub_modules()
    sys.path.insert(0, os.path.join(src, "training"))     # models.py imports models.embedding, models.attention
    sys.path.insert(0, os.path.join(src, "utils"))
    import logging
    saved = logging.root.handlers[:], logging.root.level
    from graph_builder import TopParticleGraphBuilder     # logging.basicConfig(INFO) at import: undone
    logging.root.handlers[:] = saved[0]
    logging.root.setLevel(saved[1])
    from data.data_handling import H5Dataset
    from models.models import Transformer
    from models.attention import MultiHeadDiffAttention
    return dict(TopParticleGraphBuilder=TopParticleGraphBuilder, H5Dataset=H5Dataset, Transformer=Transformer,
                MultiHeadDiffAttention=MultiHeadDiffAttention)


# ---- jets -------------------------------------------------------------------------------------------

def choose_jets(labels, counts):
    """16 top and 16 QCD jets: per class the ones with the fewest and the most constituents (first on ties),
    14 more drawn without replacement. Event 0 is the jet with the fewest constituents overall, event 1 the
    one with the most; the others follow in sample order."""
    rng = np.random.default_rng(NUMPY_SEED)
    chosen = []
    for c in (0, 1):
        idx = np.flatnonzero(labels == c)
        lo, hi = idx[np.argmin(counts[idx])], idx[np.argmax(counts[idx])]
        rest = np.setdiff1d(idx, [lo, hi])
        chosen += [lo, hi] + sorted(rng.choice(rest, NEVENTS // 2 - 2, replace=False).tolist())
    chosen = np.array(chosen)
    first = [chosen[np.argmin(counts[chosen])], chosen[np.argmax(counts[chosen])]]
    return np.array(first + sorted(set(chosen.tolist()) - set(first)), dtype=np.int64)


def jet_frame(vectors, is_top):
    """The top-tagging table upstream reads with pandas.read_hdf: E_i, PX_i, PY_i, PZ_i (float32, zeros
    after the last constituent) and is_signal_new."""
    import pandas as pd
    cols = {}
    for name, k in (("E", 3), ("PX", 0), ("PY", 1), ("PZ", 2)):
        for i in range(NPART):
            cols[f"{name}_{i}"] = np.ascontiguousarray(vectors[:, i, k], np.float32)
    cols["is_signal_new"] = is_top.astype(np.int8)
    return pd.DataFrame(cols)


def upstream_features(up, frame):
    """process_chunk on the whole frame, as generate_graphs calls it on one chunk."""
    import pandas as pd
    builder = up["TopParticleGraphBuilder"](file_path="<in memory>", key="table", max_particles=NPART,
                                            chunk_size=len(frame))
    real = pd.read_hdf

    def read_hdf(path, key=None, start=None, stop=None, **kwargs):
        assert path == "<in memory>" and key == "table" and not kwargs
        return frame.iloc[start:stop]

    pd.read_hdf = read_hdf
    try:
        return builder.process_chunk(0, len(frame))
    finally:
        pd.read_hdf = real


def upstream_pairs(up, sparse):
    """Each event's full [128, 128, 6] tensor, rebuilt as H5Dataset.__getitem__ does."""
    ds = object.__new__(up["H5Dataset"])
    ds.max_num_particles = NPART
    out = np.empty((len(sparse), NPART, NPART, sparse.shape[-1]), np.float32)
    for e in range(len(sparse)):
        ds.reconstruct_adjacency(sparse[e])
        out[e] = torch.tensor(ds.adj_matrix, dtype=torch.float32).numpy()
        if e == 0:
            adj_dtype = ds.adj_matrix.dtype
    return out, adj_dtype


# ---- weights ----------------------------------------------------------------------------------------

def upstream_model(up, x, u):
    """The fixture's network: upstream's Transformer(**CONFIG) built under torch.manual_seed(TORCH_SEED) (its
    constructor's print silenced), in eval mode, one dry forward on x, u (materialises any LazyLinear: the diff
    attention has none; nothing random runs, so which event it is does not matter), then perturb.
    Returns (model, the perturbed norms' names). Also bench/iaformer_cpu's model."""
    torch.manual_seed(TORCH_SEED)
    saved, sys.stdout = sys.stdout, open(os.devnull, "w")      # the constructor prints "Head dim is 32"
    try:
        model = up["Transformer"](**CONFIG)
    finally:
        sys.stdout.close()
        sys.stdout = saved
    model.eval()
    with torch.no_grad():
        model(x, u)
    assert not any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters())
    return model, perturb(model, up)


def perturb(model, up):
    """LayerNorm / RMSNorm gains N(1, 0.1^2), biases N(0, 0.1^2) (a skipped norm shows); each block's
    lambda_q1, lambda_k1 rescaled (and k's sign flipped where needed) so that q.k = LAMBDA_DOTS[block]."""
    gen = torch.Generator().manual_seed(NORM_SEED)
    norms = []
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, (nn.LayerNorm, nn.RMSNorm)):
                m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=gen))
                if getattr(m, "bias", None) is not None:
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
                norms.append(name)
        attn = [b.pmha for b in model.blocks]
        assert all(isinstance(a, up["MultiHeadDiffAttention"]) for a in attn)
        for a, target in zip(attn, LAMBDA_DOTS):
            q, k = a.lambda_q1.double(), a.lambda_k1.double()
            dot = float((q * k).sum())
            if dot * target < 0:
                k = -k
            s = math.sqrt(abs(target / dot))
            a.lambda_q1.copy_((q * s).float())
            a.lambda_k1.copy_((k * s).float())
    return norms


def beta(a):
    """lambda_full of MultiHeadDiffAttention.forward, the same expression (float32)."""
    with torch.no_grad():
        lam = torch.exp(torch.sum(a.lambda_q1 * a.lambda_k1, dim=-1).float())
        return float((lam * a.lambda_init).clamp_(max=1))


# ---- main -------------------------------------------------------------------------------------------

def write_checkpoint(path, transformer):
    """The layout of upstream's JetTaggingModule Lightning checkpoint (its Transformer is `model`):
    state_dict and hyper_parameters only. Written to memory first, so the file's name (torch.save names the
    zip's root folder after it) never depends on the output directory."""
    state = {"model." + k: v.detach().clone().contiguous() for k, v in transformer.state_dict().items()}
    buf = io.BytesIO()
    torch.save({"state_dict": state, "hyper_parameters": dict(CONFIG, **TRAINING)}, buf)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    back = torch.load(path, map_location="cpu", weights_only=True)
    assert list(back["state_dict"]) == list(state)
    assert all(torch.equal(back["state_dict"][k], v) for k, v in state.items())
    assert back["hyper_parameters"] == dict(CONFIG, **TRAINING)
    return state


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iaformer-src", default=os.environ.get("IAFORMER_SRC"),
                    help="extracted snapshot of wesmail/IAFormer at the pinned commit (default: $IAFORMER_SRC)")
    ap.add_argument("--out", default=os.path.join(HERE, "iaformer"), help="output directory (default: %(default)s)")
    ap.add_argument("--print-digest", action="store_true", help="print the snapshot's digest and exit")
    args = ap.parse_args()
    if not args.iaformer_src:
        sys.exit("--iaformer-src PATH (or IAFORMER_SRC) is required")
    src = os.path.abspath(args.iaformer_src)
    if args.print_digest:
        print(snapshot_digest(src))
        return
    torch.use_deterministic_algorithms(True)                   # here, not at import: bench/iaformer_cpu imports
    torch.set_num_threads(1)                                   # this module and sets its own threads
    t0 = time.time()
    up = import_iaformer(src)

    # -- jets
    with h5py.File(SAMPLE, "r") as f:
        all_labels = f["labels"][:]
        all_mask = f["particles/mask"][:]
        counts_all = all_mask.sum(1).astype(np.int64)
        picked = choose_jets(all_labels, counts_all)
        vectors = f["particles/vectors"][:][picked]
        mask = all_mask[picked].astype(bool)
    labels = all_labels[picked].astype(np.int32)
    counts = counts_all[picked]
    assert np.bincount(labels).tolist() == [NEVENTS // 2, NEVENTS // 2]
    assert all(mask[e, :n].all() and not mask[e, n:].any() for e, n in enumerate(counts)), "not a prefix"
    assert np.all(vectors[~mask] == 0) and np.all(vectors[..., 3][mask] > 0)

    # -- upstream features
    frame = jet_frame(vectors, labels == 0)
    feats, sparse, fmask, flabels = upstream_features(up, frame)
    assert feats.shape == (NEVENTS, NPART, 11) and feats.dtype == np.float32
    assert sparse.shape == (NEVENTS, NPART * (NPART - 1) // 2, 6)
    assert np.array_equal(fmask.astype(bool), mask), "upstream's mask (E > 0) differs from the sample's"
    assert np.array_equal(flabels, (labels == 0).astype(np.float32))
    assert np.array_equal(feats[..., [1, 2, 3, 0]], vectors), "features 0..3 are not the input 4-vectors"
    assert np.all(feats[~mask] == 0) and np.all(np.isfinite(feats))
    pairs, adj_dtype = upstream_pairs(up, sparse)
    for e, n in enumerate(counts):
        assert np.array_equal(pairs[e], pairs[e].transpose(1, 0, 2))
        assert np.all(pairs[e][n:] == 0) and np.all(pairs[e][:, n:] == 0)
        assert np.all(pairs[e][np.arange(NPART), np.arange(NPART)] == 0)
        iu = np.triu_indices(n, k=1)
        assert np.all(pairs[e][iu] > -999) and np.all(sparse[e, len(iu[0]):] == -1000)
        assert np.array_equal(pairs[e][iu], sparse[e, :len(iu[0])])
    unwrapped = int((np.abs(feats[..., 9]) > np.pi).any(1).sum())

    # -- the network
    x = torch.from_numpy(feats)[..., :11]                      # H5Dataset.__getitem__: node_features[..., :11]
    u = torch.from_numpy(pairs)
    model, norms = upstream_model(up, x[:1], u[:1])
    betas = [beta(b.pmha) for b in model.blocks]
    assert all(0.05 < b < 0.95 and abs(b - model.blocks[0].pmha.lambda_init) > 0.03 for b in betas)

    # -- the reference run: JetTaggingModule.test_step's `self.model(x, u)`
    with torch.no_grad():
        logits, attn, acts = model(x, u)
    assert logits.shape == (NEVENTS, 1) and acts.shape == (NEVENTS, 4, NPART) and logits.dtype == torch.float32
    assert attn.shape == (NEVENTS, 4, 16, NPART, NPART)
    # beta from the attention maps themselves: rows of A0 - beta A1 sum to 1 - beta
    for blk, b in enumerate(betas):
        rows = 1.0 - attn[:, blk].double().sum(-1)
        assert float((rows - b).abs().max()) < 1e-5, (blk, b, float((rows - b).abs().max()))
    logits = logits.numpy()
    scores = torch.sigmoid(torch.from_numpy(logits)).numpy()
    acts = acts.numpy()
    assert np.all(np.isfinite(logits)) and np.all(np.isfinite(acts))
    # float64 spread of the same weights and inputs (for the tolerance note)
    import copy
    m64 = copy.deepcopy(model).double()
    with torch.no_grad():
        l64, _, a64 = m64(x.double(), u.double())
    dlogit = float(np.abs(logits - l64.numpy()).max())
    dscore = float(np.abs(scores - torch.sigmoid(l64).numpy()).max())
    dact = float(np.abs(acts - a64.numpy()).max())

    # -- files
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    state = write_checkpoint(os.path.join(out, "model.ckpt"), model)
    nparam = sum(v.numel() for v in state.values())
    with h5_file(os.path.join(out, "inputs.h5")) as f:
        dataset(f, "particles/features", np.ascontiguousarray(feats[..., :11], np.float32))
        set_names(f, "particles/features", FEATURES)
        dataset(f, "particles/vectors", np.ascontiguousarray(vectors, np.float32))
        dataset(f, "labels", labels)
    with h5_file(os.path.join(out, "expected.h5")) as f:
        dataset(f, "logits", np.ascontiguousarray(logits, np.float32))
        dataset(f, "scores", np.ascontiguousarray(scores, np.float32))
        dataset(f, "labels", labels)
        dataset(f, "activations", np.ascontiguousarray(acts, np.float32))
        dataset(f, "pair_features", np.ascontiguousarray(pairs[:PAIR_EVENTS], np.float32))
        set_names(f, "pair_features", PAIR_FEATURES)
        dataset(f, "beta", np.array(betas, np.float32))
    import awkward
    import pandas
    import vector
    report = {
        "upstream": {"repository": "wesmail/IAFormer", "commit": PINNED_COMMIT, "digest": PINNED_DIGEST,
                     "files": file_digests(src)},
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "h5py": h5py.__version__,
                     "awkward": awkward.__version__, "vector": vector.__version__, "pandas": pandas.__version__},
        "config": CONFIG, "training_hyper_parameters": TRAINING,
        "seeds": {"numpy_jets": NUMPY_SEED, "torch_manual_seed": TORCH_SEED, "norm_generator": NORM_SEED},
        "sample": os.path.relpath(SAMPLE, ROOT),
        "jets": {"sample_index": picked.tolist(), "constituents": counts.tolist(), "labels": labels.tolist()},
        "features": FEATURES, "pair_features": PAIR_FEATURES,
        "parameters": nparam, "tensors": len(state),
        "state_dict": {k: list(v.shape) for k, v in state.items()},
        "lambda_init": model.blocks[0].pmha.lambda_init, "lambda_dot": LAMBDA_DOTS, "beta": betas,
        "max_abs_logit": float(np.abs(logits).max()),
        "logit_range": [float(logits.min()), float(logits.max())],
        "float64_spread": {"logits": dlogit, "scores": dscore, "activations": dact},
        "jets_with_unwrapped_delta_phi": unwrapped,
    }
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")

    # -- summary
    print(f"IAFormer {PINNED_COMMIT[:12]}: {len(state)} tensors, {nparam} parameters; torch {torch.__version__}")
    print(f"jets {picked.tolist()}")
    print(f"constituents {counts.tolist()} (min {counts.min()}, max {counts.max()}); "
          f"{unwrapped} jets with |delta_phi| > pi (not wrapped upstream)")
    print(f"process_chunk dtypes: features {feats.dtype}, pairs {sparse.dtype}; reconstruct_adjacency {adj_dtype}")
    print(f"norms perturbed: {len(norms)}; beta {[round(b, 6) for b in betas]} (lambda_init "
          f"{model.blocks[0].pmha.lambda_init:.6f})")
    print(f"logits {logits.min():.4f}..{logits.max():.4f} (max |logit| {np.abs(logits).max():.4f}, "
          f"std {logits.std():.4f}); scores {scores.min():.4f}..{scores.max():.4f}")
    print(f"float32 vs float64: |d logit| {dlogit:.2e}, |d score| {dscore:.2e}, |d activation| {dact:.2e}")
    for fn in ("model.ckpt", "inputs.h5", "expected.h5", "report.json"):
        print(f"  {fn}: {os.path.getsize(os.path.join(out, fn))} bytes")
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
