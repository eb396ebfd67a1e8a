#!/usr/bin/env python3
"""Parity fixture for SPANet (jet-parton assignment), from the upstream SPANet code itself
(Alexanders101/SPANet at the pinned commit below, imported from an extracted snapshot, never copied),
on a reduced configuration of the full-hadronic ttbar topology (tools/gen/topologies/full_hadronic_ttbar.yaml).

    tools/parity-env.sh                                    # once: .venv-parity + SPANet's import deps
    git --git-dir=<SPANet mirror> archive 46c68051fbc6178b932b8eec562c792886769511 | tar -x -C /tmp/spanet-src
    .venv-parity/bin/python tests/parity/gen_spanet_fixture.py --spanet-src /tmp/spanet-src

(--spanet-src defaults to $SPANET_SRC.) The snapshot is checked against a digest of its spanet/*.py
files, so a fixture is only ever written from the pinned code.

Builds upstream's JetReconstructionModel (the constructor insists on a training file: it is given the
fixture's own inputs.h5, which is in SPANet's HDF5 layout), randomises every parameter away from its
initial value, runs the forward exactly as upstream inference does (SequentialInput's log(x+1)*mask at load
time, then JetReconstructionNetwork.forward, which normalises itself) and upstream's greedy decoder
(prediction_selection.extract_predictions via default_assignment_fn, nan_to_num quirk included).
The weights are written as upstream training writes them: a PyTorch Lightning checkpoint (model.ckpt, by
Lightning's own Trainer.save_checkpoint), which the parity test converts with `hepnc import spanet`.
Writes tests/parity/spanet_small/{inputs.h5, model.ckpt, expected.h5}; see tests/parity/README.md.
"""
import copy
import os
import sys
import time

# Upstream orders each permutation group as sympy's set of elements, so by string hashes: without a fixed
# PYTHONHASHSEED the checkpoint's event_permutation_tensor changes from run to run. Re-run with it fixed.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

# The decoder's numba kernels are compiled eagerly at import (about 40 s); interpreted they give the same
# integers (checked with --numba-jit). Must be set before spanet imports numba.
if "--numba-jit" not in sys.argv:
    os.environ.setdefault("NUMBA_DISABLE_JIT", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
from gen_fixtures import dataset, h5_file  # noqa: E402
from spanet_upstream import PINNED_COMMIT, import_spanet, loss_and_gradients, parse_args, write_loss, write_report  # noqa: E402
from spanet_upstream import calibrate_attention as spanet_calibrate  # noqa: E402

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)


# Relative to ROOT (the generator runs there), so no path of this machine enters the checkpoint's hyper_parameters.
TOPOLOGY = os.path.join("tools", "gen", "topologies", "full_hadronic_ttbar.yaml")
OUT = os.path.join(HERE, "spanet_small")

OPTIONS = {
    "hidden_dim": 32, "transformer_dim": 32, "initial_embedding_dim": 8, "position_embedding_dim": 8,
    "num_embedding_layers": 10, "num_encoder_layers": 2,
    "num_branch_embedding_layers": 1, "num_branch_encoder_layers": 1,
    "num_jet_embedding_layers": 0, "num_jet_encoder_layers": 1,
    "num_detector_layers": 1, "num_regression_layers": 1, "num_classification_layers": 1,
    "num_attention_heads": 4, "transformer_type": "Gated", "linear_block_type": "GRU",
    "linear_activation": "gelu", "transformer_activation": "gelu", "normalization": "LayerNorm",
    "masking": "Filling", "skip_connections": True, "initial_embedding_skip_connections": True,
    "split_symmetric_attention": True, "dropout": 0.0, "transformer_dim_scale": 2.0,
    # dataset bookkeeping only (no effect on the network): keep every event, no balancing tensors
    "normalize_features": True, "partial_events": True, "balance_particles": False, "balance_jets": False,
    "batch_size": 64, "num_dataloader_workers": 0,
}

FEATURES = ["mass", "pt", "eta", "phi", "btag"]          # the topology's order = the network's feature order
PARTICLES = ["t1", "t2"]
PRODUCTS = ["q1", "q2", "b"]
NEVENTS, MAXJ = 64, 10
NUMPY_SEED, TORCH_SEED = 20261207, 7
FORCED_COUNTS = [3, 4, 5, 10, 6, 3, 4, 5]                # events 0..7; the rest 6..10
NGARBAGE = 8                                             # events with non-zero values in the padded slots
ATTENTION_SPREAD = 2.5                                   # std of the raw assignment logits on valid cells


# ---- events ---------------------------------------------------------------------------------------

def make_events(rng):
    """Raw jets as SPANet's HDF5 stores them (GeV, before the log transform), left-packed, pT-ordered."""
    counts = np.concatenate([FORCED_COUNTS, rng.integers(6, MAXJ + 1, NEVENTS - len(FORCED_COUNTS))])
    feats = {k: np.zeros((NEVENTS, MAXJ), np.float32) for k in FEATURES}
    mask = np.zeros((NEVENTS, MAXJ), bool)
    for e, n in enumerate(counts):
        pt = np.sort(np.minimum(20.0 + rng.exponential(70.0, n), 500.0))[::-1]
        mass = np.clip(pt * rng.uniform(0.04, 0.2, n), 2.0, 40.0)
        eta = np.clip(rng.normal(0.0, 1.2, n), -2.5, 2.5)
        phi = rng.uniform(-np.pi, np.pi, n)
        btag = (rng.random(n) < 0.3).astype(np.float64)
        for k, v in zip(FEATURES, (mass, pt, eta, phi, btag)):
            feats[k][e, :n] = v
        mask[e, :n] = True
    garbage = [e for e in range(1, NEVENTS, 5) if counts[e] < MAXJ][:NGARBAGE]
    for e in garbage:
        n = counts[e]
        m = MAXJ - n                      # stale values, > -1 where log(x+1) is taken (upstream would
        feats["mass"][e, n:] = rng.uniform(0.5, 60.0, m)        # give NaN*0 = NaN there, which its masking
        feats["pt"][e, n:] = rng.uniform(1.0, 900.0, m)         # also removes, but keep the inputs sane)
        feats["eta"][e, n:] = rng.uniform(-4.0, 4.0, m)
        feats["phi"][e, n:] = rng.uniform(-3.0, 3.0, m)
        feats["btag"][e, n:] = 1.0
    return counts, feats, mask, garbage


def make_targets(rng, counts):
    """Distinct indices of real jets for the six partons; a particle may be partly or wholly missing (-1)."""
    t = {p: np.full((NEVENTS, 3), -1, np.int64) for p in PARTICLES}
    for e, n in enumerate(counts):
        slots = rng.permutation(n)[:6]
        slots = np.concatenate([slots, np.full(6 - len(slots), -1)])
        for i, p in enumerate(PARTICLES):
            t[p][e] = slots[3 * i:3 * i + 3]
            u = rng.random()
            if u < 0.08:
                t[p][e] = -1                              # particle not reconstructable at all
            elif u < 0.2:
                t[p][e, rng.integers(0, 3)] = -1          # one parton outside the acceptance
    return t


def write_inputs(path, feats, mask, targets):
    with h5_file(path) as f:
        for k in FEATURES:
            dataset(f, f"INPUTS/Source/{k}", feats[k])
        dataset(f, "INPUTS/Source/MASK", mask)
        for p in PARTICLES:
            for j, q in enumerate(PRODUCTS):
                dataset(f, f"TARGETS/{p}/{q}", np.ascontiguousarray(targets[p][:, j]))


# ---- weights --------------------------------------------------------------------------------------

def randomise(model, up, gen):
    """Every parameter away from its initial value; returns the names it set (checked to be all of the
    network's inference tensors except the normaliser and the BatchNorm statistics, set elsewhere)."""
    done = set()

    def put(name, tensor, value):
        with torch.no_grad():
            tensor.copy_(value)
        done.add(name)

    for mname, m in model.named_modules():
        pre = mname + "." if mname else ""
        if isinstance(m, nn.Linear):
            put(pre + "weight", m.weight, torch.randn(m.weight.shape, generator=gen) / m.in_features ** 0.5)
            if m.bias is not None:
                put(pre + "bias", m.bias, 0.1 * torch.randn(m.bias.shape, generator=gen))
        elif isinstance(m, nn.MultiheadAttention):
            put(pre + "in_proj_weight", m.in_proj_weight,
                torch.randn(m.in_proj_weight.shape, generator=gen) / m.embed_dim ** 0.5)
            put(pre + "in_proj_bias", m.in_proj_bias, 0.1 * torch.randn(m.in_proj_bias.shape, generator=gen))
        elif isinstance(m, nn.LayerNorm):
            put(pre + "weight", m.weight, 1.0 + 0.1 * torch.randn(m.weight.shape, generator=gen))
            put(pre + "bias", m.bias, 0.1 * torch.randn(m.bias.shape, generator=gen))
        elif isinstance(m, up["GRUGate"]):
            put(pre + "gate_bias", m.gate_bias, 2.0 + 0.25 * torch.randn(m.gate_bias.shape, generator=gen))
        elif isinstance(m, up["StackedEncoder"]):
            put(pre + "particle_vector", m.particle_vector, torch.randn(m.particle_vector.shape, generator=gen))
        elif isinstance(m, up["PositionEmbedding"]):
            put(pre + "position_embedding", m.position_embedding,
                torch.randn(m.position_embedding.shape, generator=gen))
        elif isinstance(m, nn.BatchNorm1d):
            put(pre + "weight", m.weight, 0.5 + torch.rand(m.weight.shape, generator=gen))
            put(pre + "bias", m.bias, 0.2 * torch.randn(m.bias.shape, generator=gen))
    return done


def inference_state(model):
    """The upstream state_dict, its own names, inference tensors only."""
    drop = ("event_permutation_tensor", "particle_index_tensor", "particle_weights_tensor", "jet_weights_tensor")
    return {k: v.detach().float().contiguous() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked") and k not in drop and not k.startswith("classification_weights")}


# ---- run ------------------------------------------------------------------------------------------

def run(model, up, data, mask, capture):
    """Upstream's forward on loaded (log-transformed, masked) sources; `capture` gets hooked tensors."""
    hooks = [
        model.embedding.register_forward_hook(lambda m, i, o: capture.__setitem__("embedding", o[0])),
        model.encoder.register_forward_hook(lambda m, i, o: capture.update(central=o[0], event_vector=o[1])),
    ]
    for emb in model.embedding.vector_embedding_layers:
        hooks.append(emb.normalizer.register_forward_hook(lambda m, i, o: capture.__setitem__("normalized", o)))
    for dec in model.branch_decoders:
        p = dec.particle_name
        hooks.append(dec.encoder.register_forward_hook(
            lambda m, i, o, p=p: capture.__setitem__(f"{p}_vectors", o[0])))
        hooks.append(dec.detection_classifier.output_norm.register_forward_hook(
            lambda m, i, o, p=p: capture.__setitem__(f"{p}_detection_hidden", i[0])))
        hooks.append(dec.attention.register_forward_hook(
            lambda m, i, o, p=p: capture.__setitem__(f"{p}_logits", o[0])))
    try:
        with torch.no_grad():
            return model.forward((up["Source"](data, mask),))
    finally:
        for h in hooks:
            h.remove()


def calibrate_attention(model, up, data, mask):
    """spanet_upstream.calibrate_attention on this fixture's captured logits."""
    cap = {}
    run(model, up, data, mask, cap)
    spanet_calibrate(model, {d.particle_name: cap[f"{d.particle_name}_logits"] for d in model.branch_decoders}, mask,
                     ATTENTION_SPREAD)


def set_detection_batchnorm(model, up, data, mask, gen):
    """Eval-mode statistics near those of what each detection BatchNorm sees on these events, perturbed:
    running_mean = mean + 0.25 std N(0,1), running_var = var U(0.5, 2)."""
    cap = {}
    run(model, up, data, mask, cap)
    names = set()
    for dec in model.branch_decoders:
        h = cap[f"{dec.particle_name}_detection_hidden"].double()
        bn = dec.detection_classifier.output_norm
        mean, std = h.mean(0), h.std(0)
        with torch.no_grad():
            bn.running_mean.copy_((mean + 0.25 * std * torch.randn(bn.num_features, generator=gen, dtype=torch.float64)).float())
            bn.running_var.copy_((std ** 2 * (0.5 + 1.5 * torch.rand(bn.num_features, generator=gen, dtype=torch.float64))).float())
    for name, m in model.named_modules():
        if isinstance(m, nn.BatchNorm1d):
            names |= {name + ".running_mean", name + ".running_var"}
    return names


# ---- checks ---------------------------------------------------------------------------------------

def check_assignment(lp, counts, name):
    """lp [E, N, N, N] float32 log-probabilities."""
    E, N = lp.shape[0], lp.shape[1]
    i, j, k = np.meshgrid(np.arange(N), np.arange(N), np.arange(N), indexing="ij")
    distinct = (i != j) & (i != k) & (j != k)
    for e in range(E):
        n = counts[e]
        valid = distinct & (i < n) & (j < n) & (k < n)
        x = lp[e]
        assert np.all(np.isneginf(x[~valid])), f"{name} event {e}: a masked cell is not -inf"
        assert np.all(np.isfinite(x[valid])), f"{name} event {e}: a valid cell is not finite"
        v = x[valid].astype(np.float64)
        lse = v.max() + np.log(np.exp(v - v.max()).sum())
        assert abs(lse) < 2e-6, f"{name} event {e}: logsumexp = {lse}"
    assert np.array_equal(lp, lp.transpose(0, 2, 1, 3)), f"{name}: not symmetric under q1 <-> q2"


# ---- main -----------------------------------------------------------------------------------------

def save_lightning_checkpoint(model, path):
    """The checkpoint upstream training leaves behind, written by Lightning itself (state_dict with the
    loss's bookkeeping tensors, hyper_parameters, loops, ...), minus the optimiser state (weights_only)."""
    import pytorch_lightning as pl
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         max_epochs=0, accelerator="cpu")
    trainer.strategy.connect(model)
    trainer.save_checkpoint(path, weights_only=True)


def main():
    args = parse_args(__doc__)
    t0 = time.time()
    up = import_spanet(os.path.abspath(args.spanet_src))
    os.chdir(ROOT)

    rng = np.random.default_rng(NUMPY_SEED)
    counts, feats, mask, garbage = make_events(rng)
    targets = make_targets(rng, counts)
    os.makedirs(OUT, exist_ok=True)
    inputs_path = os.path.relpath(os.path.join(OUT, "inputs.h5"), ROOT)
    write_inputs(inputs_path, feats, mask, targets)

    # -- the model: upstream's constructor reads the training file (normaliser statistics over the real
    # jets of its training split, 0.95 of the events) and, with testing_file set, loads the testing set
    # with SequentialInput (log(x+1) * mask for the log features).
    torch.manual_seed(TORCH_SEED)
    options = up["Options"](event_info_file=TOPOLOGY, training_file=inputs_path, testing_file=inputs_path)
    options.update_options(OPTIONS)
    with open(os.devnull, "w") as null:                 # the dataset loader prints progress lines
        saved, sys.stdout = sys.stdout, null
        try:
            model = up["JetReconstructionModel"](options)
        finally:
            sys.stdout = saved
    model = model.eval().float()
    for prm in model.parameters():
        prm.requires_grad_(False)
    assert [d.particle_name for d in model.branch_decoders] == PARTICLES
    assert all(d.product_names == PRODUCTS for d in model.branch_decoders)

    gen = torch.Generator().manual_seed(TORCH_SEED)
    done = randomise(model, up, gen)
    src = model.testing_dataset.sources["Source"]
    data, smask = src.source_data, src.source_mask
    assert data.shape == (NEVENTS, MAXJ, len(FEATURES)) and torch.equal(smask, torch.from_numpy(mask))
    calibrate_attention(model, up, data, smask)
    done |= set(set_detection_batchnorm(model, up, data, smask, gen))
    state = inference_state(model)
    normaliser = {k for k in state if ".normalizer." in k}
    missing = set(state) - done - normaliser
    assert not missing, f"not randomised: {sorted(missing)}"

    # -- the reference run
    cap = {}
    out = run(model, up, data, smask, cap)
    upstream_decode = up["default_assignment_fn"](out)   # nan_to_num(x, -inf) as upstream
    strict = up["extract_predictions"]([a.numpy() for a in out.assignments])   # -inf kept: no nan_to_num

    # float64 spread of the same weights on the same inputs (for the tolerance note in the README)
    m64 = copy.deepcopy(model).double()
    out64 = run(m64, up, data.double(), smask, {})

    lay = {}
    real = mask[:, :, None]
    for name in ("embedding", "central"):
        x = cap[name].transpose(0, 1).numpy()           # [T, B, D] -> [B, T, D]
        assert np.all(x[~mask] == 0), f"{name}: padded rows not zero"
        lay[name] = np.where(real, x, 0).astype(np.float32)
    x = cap["normalized"].numpy()
    assert np.all(x[~mask] == 0)
    lay["normalized"] = np.where(real, x, 0).astype(np.float32)      # +0, not the -0.0 of (0 - mean) * 0
    lay["event_vector"] = cap["event_vector"].numpy()
    for p in PARTICLES:
        lay[f"{p}_particle"] = out.vectors[f"{p}/PARTICLE"].numpy()
        for q in PRODUCTS:
            lay[f"{p}_{q}"] = out.vectors[f"{p}/{q}"].numpy()

    res = {}
    for i, p in enumerate(PARTICLES):
        lp = out.assignments[i].numpy()
        assert lp.shape == (NEVENTS, MAXJ, MAXJ, MAXJ) and lp.dtype == np.float32
        check_assignment(lp, counts, p)
        det = torch.sigmoid(out.detections[i]).numpy()
        assert det.shape == (NEVENTS,) and np.all((det > 0) & (det < 1))
        res[p] = dict(lp=lp, det=det, assignment=upstream_decode[i].astype(np.int32),
                      strict=strict[i].astype(np.int32),
                      dlp=np.abs(lp[np.isfinite(lp)] - out64.assignments[i].numpy()[np.isfinite(lp)]).max(),
                      ddet=np.abs(det - torch.sigmoid(out64.detections[i]).numpy()).max())
        assert res[p]["assignment"].shape == (NEVENTS, 3)

    # the padded slots' garbage must not matter: the same events with clean padding give the same bits
    out0 = run(model, up, data * smask[:, :, None], smask, {})
    assert bool((data[~smask] != 0).any()), "no garbage reached the network's input"
    for i in range(len(PARTICLES)):
        assert torch.equal(out.assignments[i], out0.assignments[i]) and torch.equal(out.detections[i], out0.detections[i])

    # -- files
    with h5_file(os.path.join(OUT, "expected.h5")) as f:
        for p in PARTICLES:
            dataset(f, f"{p}/assignment_log_probability", res[p]["lp"])
            dataset(f, f"{p}/detection_probability", res[p]["det"])
            dataset(f, f"{p}/assignment", res[p]["assignment"])
            dataset(f, f"{p}/assignment_strict", res[p]["strict"])
        for name in sorted(lay):
            dataset(f, f"layers/{name}", np.ascontiguousarray(lay[name], np.float32))
    save_lightning_checkpoint(model, os.path.join(OUT, "model.ckpt"))
    write_report(model, up, strict, os.path.join(OUT, "report.json"), TOPOLOGY)
    # upstream's training loss on these events, assignment and detection terms, and its gradients (loss.h5)
    scales = {"assignment_loss_scale": 1.0, "detection_loss_scale": 1.0}
    loss, grads = loss_and_gradients(model, out, scales)
    write_loss(os.path.join(OUT, "loss.h5"), loss, grads, out, PARTICLES, scales, h5_file, dataset)

    # -- summary
    nparam = sum(v.numel() for v in state.values())
    print(f"SPANet {PINNED_COMMIT[:12]}: {len(state)} tensors, {nparam} values")
    for k in sorted(normaliser):
        print(f"  {k} = {np.array2string(state[k].numpy(), precision=4)}")
    print(f"jets per event: {np.bincount(counts, minlength=MAXJ + 1)[3:].tolist()} (3..10); "
          f"garbage in the padding of events {garbage}")
    for p in PARTICLES:
        r = res[p]
        lp = r["lp"]
        best = lp.reshape(NEVENTS, -1).max(1)
        print(f"{p}: max log P per event {best.min():.2f}..{best.max():.2f} (median {np.median(best):.2f}); "
              f"detection {r['det'].min():.3f}..{r['det'].max():.3f}; "
              f"float32 vs float64: |d logP| {r['dlp']:.2e}, |d det| {r['ddet']:.2e}")
    for e in range(NEVENTS):
        if any(not np.array_equal(res[p]["assignment"][e], res[p]["strict"][e]) for p in PARTICLES):
            print(f"  event {e} ({counts[e]} jets): upstream decoder "
                  f"{[res[p]['assignment'][e].tolist() for p in PARTICLES]}, "
                  f"without nan_to_num {[res[p]['strict'][e].tolist() for p in PARTICLES]}")
    print(f"upstream loss (assignment + detection): {loss:.6f}")
    for fn in ("inputs.h5", "model.ckpt", "expected.h5", "report.json", "loss.h5"):
        print(f"  {fn}: {os.path.getsize(os.path.join(OUT, fn))} bytes")
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
