#!/usr/bin/env python3
"""Parity fixture for SPANet on the semi-leptonic ttH topology, from the upstream SPANet code itself
(Alexanders101/SPANet at the pinned commit, imported from an extracted snapshot, never copied): the second
SPANet fixture, beside gen_spanet_fixture.py (full-hadronic ttbar), for what ttbar does not have: a GLOBAL
input (Met), particles of degree 1, 2 and 3 in one event, EVENT regressions and an EVENT classification.

    .venv-parity/bin/python tests/parity/gen_spanet_tth_fixture.py --spanet-src /tmp/spanet-src

Topology tools/gen/topologies/semi_leptonic_ttH.yaml (upstream's event_files/semi_leptonic_ttH.yaml plus
comments); the same reduced network options as the ttbar fixture (its OPTIONS, imported). Builds upstream's
JetReconstructionModel on the fixture's own inputs.h5 (SPANet's HDF5 layout), randomises every parameter
as the ttbar fixture does (its `randomise`, imported) plus the regression heads' de-normalisation
statistics, calibrates the attention spread and the BatchNorm statistics of every BranchLinear head
(detection, regression, classification) on these events, runs upstream's forward as its inference does
(SequentialInput / GlobalInput log(x+1)*mask at load time, then JetReconstructionNetwork.forward) and
upstream's decoder, and writes tests/parity/spanet_tth_small/{inputs.h5, model.ckpt, expected.h5,
report.json}; see tests/parity/README.md ("SPANet ttH fixture").
"""
import copy
import os
import sys
import time

# Same reason as gen_spanet_fixture.py (sympy's hash-ordered permutation groups); done here, before that
# module is imported, so that its own re-exec check finds PYTHONHASHSEED=0 and does nothing.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

if "--numba-jit" not in sys.argv:
    os.environ.setdefault("NUMBA_DISABLE_JIT", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
# Importing gen_spanet_fixture has no side effect beyond what this script does itself (PYTHONHASHSEED is
# already 0, NUMBA_DISABLE_JIT setdefault, sys.path, one torch thread, deterministic algorithms).
import gen_spanet_fixture as ttbar  # noqa: E402
from gen_fixtures import dataset, h5_file  # noqa: E402
from spanet_upstream import PINNED_COMMIT, import_spanet, loss_and_gradients, parse_args, write_loss, write_report  # noqa: E402
from spanet_upstream import calibrate_attention as spanet_calibrate  # noqa: E402

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

TOPOLOGY = os.path.join("tools", "gen", "topologies", "semi_leptonic_ttH.yaml")
OUT = os.path.join(HERE, "spanet_tth_small")

# The ttbar fixture's options; the regression / classification heads are built whatever the loss scales
# (RegressionDecoder / ClassificationDecoder make one head per target present in the training file), the
# scales are set as upstream's options_files/semi_leptonic_ttH/example.json sets them (training only).
OPTIONS = dict(ttbar.OPTIONS, num_regression_layers=1, num_classification_layers=1,
               regression_loss_scale=1.0, classification_loss_scale=1.0)

FEATURES = ["mass", "pt", "eta", "sin_phi", "cos_phi", "qtag", "btag", "etag", "utag"]   # topology order
MET_FEATURES = ["met", "sin_phi", "cos_phi"]
PARTICLES = ["lt", "ht", "h"]
PRODUCTS = {"lt": ["b"], "ht": ["b", "q1", "q2"], "h": ["b1", "b2"]}
SYMMETRIC = {"lt": None, "ht": (2, 3), "h": (1, 2)}       # axes of the [B, ...] tensor swapped by the group
REGRESSIONS = ["neutrino_eta", "neutrino_px", "neutrino_py", "neutrino_pz", "log_invariant_mass"]
NEVENTS, MAXV = 64, 12                                    # Momenta slots: the lepton, then up to 11 jets
NUMPY_SEED, TORCH_SEED = 20261208, 8
FORCED_COUNTS = [4, 5, 12, 6, 4, 7, 5, 12]                # vectors (lepton + jets), events 0..7; the rest 6..12
NGARBAGE = 8                                              # events with random garbage in the padded slots
ATTENTION_SPREAD = ttbar.ATTENTION_SPREAD


# ---- events ---------------------------------------------------------------------------------------

def make_events(rng):
    """Raw Momenta as SPANet's HDF5 stores them (GeV, before the log transform), left-packed: slot 0 the
    lepton (etag or utag), then the jets pT-ordered (qtag or btag); Met per event."""
    counts = np.concatenate([FORCED_COUNTS, rng.integers(6, MAXV + 1, NEVENTS - len(FORCED_COUNTS))])
    feats = {k: np.zeros((NEVENTS, MAXV), np.float32) for k in FEATURES}
    mask = np.zeros((NEVENTS, MAXV), bool)
    # upstream's example.h5 pads with cos_phi = 1 and qtag = 1 (cos 0 and a default flag): so do all events
    feats["cos_phi"][:] = 1.0
    feats["qtag"][:] = 1.0
    for e, n in enumerate(counts):
        nj = n - 1
        # lepton
        muon = rng.random() < 0.5
        lpt = min(25.0 + rng.exponential(45.0), 400.0)
        leta = float(np.clip(rng.normal(0.0, 1.1), -2.47, 2.47))
        lphi = rng.uniform(-np.pi, np.pi)
        # jets
        pt = np.sort(np.minimum(25.0 + rng.exponential(60.0, nj), 800.0))[::-1]
        mass = np.clip(pt * rng.uniform(0.04, 0.2, nj), 2.0, 60.0)
        eta = np.clip(rng.normal(0.0, 1.2, nj), -2.5, 2.5)
        phi = rng.uniform(-np.pi, np.pi, nj)
        btag = (rng.random(nj) < 0.5).astype(np.float64)
        cols = {
            "mass": np.concatenate([[0.10566 if muon else 0.000511], mass]),
            "pt": np.concatenate([[lpt], pt]),
            "eta": np.concatenate([[leta], eta]),
            "sin_phi": np.sin(np.concatenate([[lphi], phi])),
            "cos_phi": np.cos(np.concatenate([[lphi], phi])),
            "qtag": np.concatenate([[0.0], 1.0 - btag]),
            "btag": np.concatenate([[0.0], btag]),
            "etag": np.concatenate([[0.0 if muon else 1.0], np.zeros(nj)]),
            "utag": np.concatenate([[1.0 if muon else 0.0], np.zeros(nj)]),
        }
        for k in FEATURES:
            feats[k][e, :n] = cols[k]
        mask[e, :n] = True
    garbage = [e for e in range(1, NEVENTS, 5) if counts[e] < MAXV][:NGARBAGE]
    for e in garbage:
        n = counts[e]
        m = MAXV - n                      # stale values, > -1 where log(x+1) is taken
        feats["mass"][e, n:] = rng.uniform(0.5, 60.0, m)
        feats["pt"][e, n:] = rng.uniform(1.0, 900.0, m)
        feats["eta"][e, n:] = rng.uniform(-4.0, 4.0, m)
        feats["sin_phi"][e, n:] = rng.uniform(-1.0, 1.0, m)
        feats["cos_phi"][e, n:] = rng.uniform(-1.0, 1.0, m)
        for k in ("qtag", "btag", "etag", "utag"):
            feats[k][e, n:] = 1.0
    met_phi = rng.uniform(-np.pi, np.pi, NEVENTS)
    met = {
        "met": np.minimum(20.0 + rng.exponential(55.0, NEVENTS), 300.0).astype(np.float32),
        "sin_phi": np.sin(met_phi).astype(np.float32),
        "cos_phi": np.cos(met_phi).astype(np.float32),
        # in upstream's example.h5 as well, and not in the topology: read by nobody
        "sumet": (300.0 + rng.exponential(400.0, NEVENTS)).astype(np.float32),
    }
    return counts, feats, mask, met, garbage


def make_targets(rng, counts):
    """Distinct jet slots (>= 1; slot 0 is the lepton) for the six partons; a particle may be partly or
    wholly missing (-1), and events with fewer than 6 jets cannot have them all."""
    t = {p: np.full((NEVENTS, len(PRODUCTS[p])), -1, np.int64) for p in PARTICLES}
    for e, n in enumerate(counts):
        slots = 1 + rng.permutation(n - 1)[:6]
        slots = np.concatenate([slots, np.full(6 - len(slots), -1)])
        start = 0
        for p in PARTICLES:
            k = len(PRODUCTS[p])
            t[p][e] = slots[start:start + k]
            start += k
            u = rng.random()
            if u < 0.1:
                t[p][e] = -1                              # particle not reconstructable at all
            elif u < 0.2 and k > 1:
                t[p][e, rng.integers(0, k)] = -1          # one parton outside the acceptance
    return t


def make_regressions(rng):
    """Event-level targets, scales as in upstream's example.h5 (momenta in units of 100 GeV)."""
    return {
        "neutrino_eta": rng.normal(0.0, 1.3, NEVENTS),
        "neutrino_px": rng.normal(0.0, 0.6, NEVENTS),
        "neutrino_py": rng.normal(0.0, 0.6, NEVENTS),
        "neutrino_pz": rng.normal(0.0, 1.5, NEVENTS),
        "log_invariant_mass": rng.normal(6.54, 0.34, NEVENTS),
    }


def write_inputs(path, feats, mask, met, targets, regressions, signal):
    with h5_file(path) as f:
        for k in FEATURES:
            dataset(f, f"INPUTS/Momenta/{k}", feats[k])
        dataset(f, "INPUTS/Momenta/MASK", mask)
        for k in ("met", "sumet", "sin_phi", "cos_phi"):  # 1-D per event, no MASK (GlobalInput: all real)
            dataset(f, f"INPUTS/Met/{k}", met[k])
        for p in PARTICLES:
            for j, q in enumerate(PRODUCTS[p]):
                dataset(f, f"TARGETS/{p}/{q}", np.ascontiguousarray(targets[p][:, j]))
        # as in upstream's example.h5: the lepton's index, not in the topology, so never read
        dataset(f, "TARGETS/lt/l", np.where(targets["lt"][:, 0] >= 0, 0, -1).astype(np.int64))
        for k in REGRESSIONS:
            dataset(f, f"REGRESSIONS/EVENT/{k}", regressions[k].astype(np.float32))
        dataset(f, "CLASSIFICATIONS/EVENT/signal", signal.astype(np.int64))


# ---- weights --------------------------------------------------------------------------------------

def randomise_regression_statistics(model, gen):
    """The de-normalisation parameters of each regression head (nn.Parameter, requires_grad False, set by
    upstream from the training split): mean + 0.5 std N(0,1), std U(0.5, 2); returns the names and
    upstream's values."""
    done, before = set(), {}
    for key, net in model.regression_decoder.networks.items():
        before[key] = (net.mean.item(), net.std.item())
        with torch.no_grad():
            net.mean.copy_(net.mean + 0.5 * net.std * torch.randn((), generator=gen))
            net.std.mul_(0.5 + 1.5 * torch.rand((), generator=gen))
        done |= {f"regression_decoder.networks.{key}.mean", f"regression_decoder.networks.{key}.std"}
    return done, before


def heads(model):
    """Every BranchLinear with its BatchNorm: (name, module)."""
    out = [(f"{d.particle_name}/detection", d.detection_classifier) for d in model.branch_decoders]
    out += [(f"regression {k}", n.linear) for k, n in model.regression_decoder.networks.items()]
    out += [(f"classification {k}", n) for k, n in model.classification_decoder.networks.items()]
    return out


# ---- run ------------------------------------------------------------------------------------------

def run(model, up, sources, capture):
    """Upstream's forward on loaded (log-transformed, masked) sources; `capture` gets hooked tensors."""
    hooks = [
        model.embedding.register_forward_hook(lambda m, i, o: capture.__setitem__("embedding", o[0])),
        model.encoder.register_forward_hook(lambda m, i, o: capture.update(central=o[0], event_vector=o[1])),
    ]
    for name, emb in zip(model.event_info.input_names, model.embedding.vector_embedding_layers):
        hooks.append(emb.normalizer.register_forward_hook(
            lambda m, i, o, name=name: capture.__setitem__(f"normalized_{name}", o)))
        hooks.append(emb.vector_embeddings.register_forward_hook(
            lambda m, i, o, name=name: capture.__setitem__(f"embedded_{name}", o[0])))
    for dec in model.branch_decoders:
        p = dec.particle_name
        hooks.append(dec.attention.register_forward_hook(
            lambda m, i, o, p=p: capture.__setitem__(f"{p}_logits", o[0])))
    for name, h in heads(model):
        hooks.append(h.output_norm.register_forward_hook(
            lambda m, i, o, name=name: capture.__setitem__(f"{name}_hidden", i[0])))
        hooks.append(h.register_forward_hook(
            lambda m, i, o, name=name: capture.__setitem__(f"{name}_output", o)))
    try:
        with torch.no_grad():
            return model.forward(tuple(up["Source"](d, m) for d, m in sources))
    finally:
        for h in hooks:
            h.remove()


def calibrate_attention(model, up, sources):
    """spanet_upstream.calibrate_attention on this fixture's captured logits (the Momenta mask)."""
    cap = {}
    run(model, up, sources, cap)
    spanet_calibrate(model, {d.particle_name: cap[f"{d.particle_name}_logits"] for d in model.branch_decoders},
                     sources[0][1], ATTENTION_SPREAD)


def set_head_batchnorm(model, up, sources, gen):
    """Eval-mode statistics of every head's BatchNorm (detection, regression, classification) near what it
    sees on these events, perturbed: running_mean = mean + 0.25 std N(0,1), running_var = var U(0.5, 2)."""
    cap = {}
    run(model, up, sources, cap)
    names = set()
    for name, h in heads(model):
        x = cap[f"{name}_hidden"].double()
        bn = h.output_norm
        mean, std = x.mean(0), x.std(0)
        with torch.no_grad():
            bn.running_mean.copy_((mean + 0.25 * std * torch.randn(bn.num_features, generator=gen, dtype=torch.float64)).float())
            bn.running_var.copy_((std ** 2 * (0.5 + 1.5 * torch.rand(bn.num_features, generator=gen, dtype=torch.float64))).float())
    for name, m in model.named_modules():
        if isinstance(m, nn.BatchNorm1d):
            names |= {name + ".running_mean", name + ".running_var"}
    return names


# ---- checks ---------------------------------------------------------------------------------------

def check_assignment(lp, counts, p):
    """lp [E, N, ...k] float32 log-probabilities: -inf exactly where an index is padding or two coincide,
    logsumexp 0 over the rest, exactly symmetric under the particle's group."""
    E, N, k = lp.shape[0], lp.shape[1], lp.ndim - 1
    idx = np.meshgrid(*([np.arange(N)] * k), indexing="ij")
    distinct = np.ones([N] * k, bool)
    for a in range(k):
        for b in range(a + 1, k):
            distinct &= idx[a] != idx[b]
    for e in range(E):
        valid = distinct.copy()
        for a in range(k):
            valid &= idx[a] < counts[e]
        x = lp[e]
        assert np.all(np.isneginf(x[~valid])), f"{p} event {e}: a masked cell is not -inf"
        assert np.all(np.isfinite(x[valid])), f"{p} event {e}: a valid cell is not finite"
        v = x[valid].astype(np.float64)
        lse = v.max() + np.log(np.exp(v - v.max()).sum())
        assert abs(lse) < 2e-6, f"{p} event {e}: logsumexp = {lse}"
    if SYMMETRIC[p]:
        axes = list(range(lp.ndim))
        a, b = SYMMETRIC[p]
        axes[a], axes[b] = axes[b], axes[a]
        assert np.array_equal(lp, lp.transpose(axes)), f"{p}: not symmetric under its permutation group"


# ---- main -----------------------------------------------------------------------------------------

def main():
    args = parse_args(__doc__, [("--print-state", "also print every state_dict key and shape")])
    t0 = time.time()
    up = import_spanet(os.path.abspath(args.spanet_src))
    os.chdir(ROOT)

    rng = np.random.default_rng(NUMPY_SEED)
    counts, feats, mask, met, garbage = make_events(rng)
    targets = make_targets(rng, counts)
    regressions = make_regressions(rng)
    signal = (rng.random(NEVENTS) < 0.65).astype(np.int64)
    os.makedirs(OUT, exist_ok=True)
    inputs_path = os.path.relpath(os.path.join(OUT, "inputs.h5"), ROOT)
    write_inputs(inputs_path, feats, mask, met, targets, regressions, signal)

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
    assert model.event_info.input_names == ["Momenta", "Met"]
    assert [d.particle_name for d in model.branch_decoders] == PARTICLES
    assert all(d.product_names == PRODUCTS[d.particle_name] for d in model.branch_decoders)
    assert list(model.regression_decoder.networks) == [f"EVENT/{k}" for k in REGRESSIONS]
    assert list(model.classification_decoder.networks) == ["EVENT/signal"]

    gen = torch.Generator().manual_seed(TORCH_SEED)
    done = ttbar.randomise(model, up, gen)
    reg_done, reg_upstream = randomise_regression_statistics(model, gen)
    done |= reg_done
    ds = model.testing_dataset
    src, gsrc = ds.sources["Momenta"], ds.sources["Met"]
    sources = ((src.source_data, src.source_mask), (gsrc.source_data, gsrc.source_mask))
    smask = src.source_mask
    assert src.source_data.shape == (NEVENTS, MAXV, len(FEATURES)) and torch.equal(smask, torch.from_numpy(mask))
    assert gsrc.source_data.shape == (NEVENTS, 1, len(MET_FEATURES)) and bool(gsrc.source_mask.all())
    calibrate_attention(model, up, sources)
    done |= set_head_batchnorm(model, up, sources, gen)
    state = ttbar.inference_state(model)
    normaliser = {k for k in state if ".normalizer." in k}
    missing = set(state) - done - normaliser
    assert not missing, f"not randomised: {sorted(missing)}"

    # -- the reference run
    cap = {}
    out = run(model, up, sources, cap)
    upstream_decode = up["default_assignment_fn"](out)   # nan_to_num(x, -inf) as upstream
    strict = up["extract_predictions"]([a.numpy() for a in out.assignments])   # -inf kept: no nan_to_num

    m64 = copy.deepcopy(model).double()
    out64 = run(m64, up, tuple((d.double(), m) for d, m in sources), {})

    T = MAXV + 1                                          # the Met vector is the last of the sequence
    tmask = np.concatenate([mask, np.ones((NEVENTS, 1), bool)], 1)
    lay = {}
    for name in ("embedding", "central"):
        x = cap[name].transpose(0, 1).numpy()           # [T, B, D] -> [B, T, D]
        assert x.shape == (NEVENTS, T, OPTIONS["hidden_dim"])
        assert np.all(x[~tmask] == 0), f"{name}: padded rows not zero"
        lay[name] = np.where(tmask[:, :, None], x, 0).astype(np.float32)
    x = cap["normalized_Momenta"].numpy()
    assert np.all(x[~mask] == 0)
    lay["normalized_Momenta"] = np.where(mask[:, :, None], x, 0).astype(np.float32)
    lay["normalized_Met"] = cap["normalized_Met"].numpy()[:, 0, :]                # [B, 1, 3] -> [B, 3]
    x = cap["embedded_Momenta"].transpose(0, 1).numpy()
    assert np.all(x[~mask] == 0)
    lay["embedded_Momenta"] = np.where(mask[:, :, None], x, 0).astype(np.float32)
    lay["embedded_Met"] = cap["embedded_Met"][0].numpy()                          # [1, B, D] -> [B, D]
    lay["event_vector"] = cap["event_vector"].numpy()
    for p in PARTICLES:
        lay[f"{p}_particle"] = out.vectors[f"{p}/PARTICLE"].numpy()
        for q in PRODUCTS[p]:
            lay[f"{p}_{q}"] = out.vectors[f"{p}/{q}"].numpy()
    for k in REGRESSIONS:
        lay[f"regression_{k}_normalized"] = cap[f"regression EVENT/{k}_output"].numpy()[:, 0]

    res = {}
    for i, p in enumerate(PARTICLES):
        k = len(PRODUCTS[p])
        lp = out.assignments[i].numpy()
        assert lp.shape == (NEVENTS,) + (MAXV,) * k and lp.dtype == np.float32
        check_assignment(lp, counts, p)
        det = torch.sigmoid(out.detections[i]).numpy()
        assert det.shape == (NEVENTS,) and np.all((det > 0) & (det < 1))
        fin = np.isfinite(lp)
        res[p] = dict(lp=lp, det=det, assignment=upstream_decode[i].astype(np.int32),
                      strict=strict[i].astype(np.int32),
                      dlp=np.abs(lp[fin] - out64.assignments[i].numpy()[fin]).max(),
                      ddet=np.abs(det - torch.sigmoid(out64.detections[i]).numpy()).max())
        assert res[p]["assignment"].shape == (NEVENTS, k)
    reg = {}
    for k in REGRESSIONS:
        y = out.regressions[f"EVENT/{k}"].numpy()
        assert y.shape == (NEVENTS,) and y.dtype == np.float32 and np.all(np.isfinite(y))
        net = model.regression_decoder.networks[f"EVENT/{k}"]
        u = torch.from_numpy(lay[f"regression_{k}_normalized"])
        assert torch.equal(torch.from_numpy(y), (net.std * u + net.mean).view(-1)), "gaussian de-normalisation"
        reg[k] = (y, np.abs(y - out64.regressions[f"EVENT/{k}"].numpy()).max())
    logits = out.classifications["EVENT/signal"]
    assert logits.shape == (NEVENTS, 2)
    probs = torch.softmax(logits, 1).numpy()              # as spanet/evaluation.py (predict.py's output)
    dprob = np.abs(probs - torch.softmax(out64.classifications["EVENT/signal"], 1).numpy()).max()

    # the padded slots' garbage must not matter: the same events with clean padding give the same bits
    clean = ((src.source_data * smask[:, :, None], smask), sources[1])
    out0 = run(model, up, clean, {})
    assert bool((src.source_data[~smask] != 0).any()), "no garbage reached the network's input"
    for i in range(len(PARTICLES)):
        assert torch.equal(out.assignments[i], out0.assignments[i]) and torch.equal(out.detections[i], out0.detections[i])
    for key in out.regressions:
        assert torch.equal(out.regressions[key], out0.regressions[key])
    assert torch.equal(out.classifications["EVENT/signal"], out0.classifications["EVENT/signal"])
    for key in out.vectors:
        assert torch.equal(out.vectors[key], out0.vectors[key])

    # -- files
    with h5_file(os.path.join(OUT, "expected.h5")) as f:
        for p in PARTICLES:
            dataset(f, f"{p}/assignment_log_probability", res[p]["lp"])
            dataset(f, f"{p}/detection_probability", res[p]["det"])
            dataset(f, f"{p}/assignment", res[p]["assignment"])
            dataset(f, f"{p}/assignment_strict", res[p]["strict"])
        for k in REGRESSIONS:
            dataset(f, f"regression/{k}", reg[k][0])
        dataset(f, "classification/signal", probs.astype(np.float32))
        dataset(f, "classification/signal_logits", logits.numpy().astype(np.float32))
        for name in sorted(lay):
            dataset(f, f"layers/{name}", np.ascontiguousarray(lay[name], np.float32))
    ttbar.save_lightning_checkpoint(model, os.path.join(OUT, "model.ckpt"))
    write_report(model, up, strict, os.path.join(OUT, "report.json"), TOPOLOGY)
    # upstream's training loss, every term (assignment, detection, regression, classification), and its gradients
    scales = {"assignment_loss_scale": 1.0, "detection_loss_scale": 1.0, "regression_loss_scale": 1.0,
              "classification_loss_scale": 1.0}
    loss, grads = loss_and_gradients(model, out, scales)
    write_loss(os.path.join(OUT, "loss.h5"), loss, grads, out, PARTICLES, scales, h5_file, dataset)
    print(f"upstream loss (all terms): {loss:.6f}")

    # -- summary
    nparam = sum(v.numel() for v in state.values())
    print(f"SPANet {PINNED_COMMIT[:12]}: {len(state)} tensors, {nparam} values")
    if args.print_state:
        for k2, v in state.items():
            print(f"  {k2} {list(v.shape)}")
    for k2 in sorted(normaliser):
        print(f"  {k2} = {np.array2string(state[k2].numpy(), precision=4)}")
    for key, (m0, s0) in reg_upstream.items():
        net = model.regression_decoder.networks[key]
        print(f"  regression_decoder.networks.{key}.mean/std = {net.mean.item():.4f} / {net.std.item():.4f} "
              f"(upstream's statistics {m0:.4f} / {s0:.4f})")
    print(f"vectors per event (lepton + jets): {np.bincount(counts, minlength=MAXV + 1)[4:].tolist()} (4..{MAXV}); "
          f"garbage in the padding of events {garbage}")
    for p in PARTICLES:
        r = res[p]
        best = r["lp"].reshape(NEVENTS, -1).max(1)
        tp = targets[p]
        print(f"{p}: max log P per event {best.min():.2f}..{best.max():.2f} (median {np.median(best):.2f}); "
              f"detection {r['det'].min():.3f}..{r['det'].max():.3f}; float32 vs float64: |d logP| {r['dlp']:.2e}, "
              f"|d det| {r['ddet']:.2e}; targets complete {int((tp >= 0).all(1).sum())} / partial "
              f"{int(((tp >= 0).any(1) & ~(tp >= 0).all(1)).sum())} / absent {int((tp < 0).all(1).sum())}")
    for k in REGRESSIONS:
        y, d = reg[k]
        print(f"regression {k}: {y.min():.3f}..{y.max():.3f} (target {regressions[k].min():.3f}..{regressions[k].max():.3f}); "
              f"float32 vs float64 |d| {d:.2e}")
    print(f"classification signal: P(1) {probs[:, 1].min():.3f}..{probs[:, 1].max():.3f}, float32 vs float64 |d| {dprob:.2e}; "
          f"targets {np.bincount(signal).tolist()}")
    for e in range(NEVENTS):
        if any(not np.array_equal(res[p]["assignment"][e], res[p]["strict"][e]) for p in PARTICLES):
            print(f"  event {e} ({counts[e]} vectors): upstream decoder "
                  f"{[res[p]['assignment'][e].tolist() for p in PARTICLES]}, "
                  f"without nan_to_num {[res[p]['strict'][e].tolist() for p in PARTICLES]}")
    for fn in ("inputs.h5", "model.ckpt", "expected.h5", "report.json"):
        print(f"  {fn}: {os.path.getsize(os.path.join(OUT, fn))} bytes")
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
