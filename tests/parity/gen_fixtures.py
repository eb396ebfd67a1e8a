#!/usr/bin/env python3
"""PyTorch parity fixtures for models/pfn.yaml and models/fcn.yaml.

Run with Debian's PyTorch (the pyenv `python3` on PATH has no torch):

    /usr/bin/python3 tests/parity/gen_fixtures.py

No upstream implementation of these two baselines exists to import, so the reference is an independent
PyTorch model written from the spec semantics (docs/spec.md, hepnc's op table): nn.BatchNorm1d (eval),
nn.Linear, ReLU, nn.GELU() (exact erf), nn.LayerNorm, a masked sum over the real particles,
torch.flatten and torch.cat -- PyTorch's own layers, so the numerics are PyTorch's.
Writes, per model, into tests/parity/<model>/ (see tests/parity/README.md):
  weights.safetensors  the state_dict under the spec's names (F32, keys sorted; no num_batches_tracked)
  inputs.h5            hepnc's dataset layout (docs/data.md): realistic jets (pfn) / events (fcn)
  expected.h5          /logits, /scores (float32 model), /logits_f64, /scores_f64 (same weights in
                       float64), /layers/<name> (each spec layer's output for the first 32 events,
                       padded set rows zeroed) for `hepnc compare`
Deterministic: fixed seeds, one thread, deterministic algorithms, HDF5 written without timestamps;
running it twice gives identical bytes.

Also imported by gen_part_fixture.py, gen_particlenet_fixture.py, part_full.py, bench/part_cpu and
tests/import: PFN_FEATURES, make_jets, h5_file, dataset keep their behaviour for them (make_jets is
not the pfn generator any more; make_pfn_jets is).
"""
import copy
import json
import math
import os
import struct
import sys

import h5py
import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

PFN_FEATURES = ["part_pt_log", "part_e_log", "part_logptrel", "part_logerel", "part_deltaR", "part_deta",
                "part_dphi"]
FCN_FEATURES = ["E", "pt", "eta", "phi", "is_j", "is_b", "is_em", "is_ep", "is_mm", "is_mp", "is_g"]
FCN_EVENT_FEATURES = ["met", "met_phi"]
NEVENTS = 256
DUMP_EVENTS = 32            # /layers/<name> holds the first 32 events (hepnc compare's default --events)

# seeds (README lists them)
PFN_NUMPY_SEED, PFN_TORCH_SEED = 20261122, 1
FCN_NUMPY_SEED, FCN_TORCH_SEED = 20261123, 2


# ---- file formats ---------------------------------------------------------------------------------

def write_safetensors(path, tensors):
    """float32 tensors in the safetensors format, by hand: u64 LE header length, JSON header
    {name: {dtype, shape, data_offsets}} with keys sorted (padded with spaces to 8 bytes, as the
    reference implementation does), then the raw little-endian data in key order."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name].detach().cpu().numpy().astype("<f4"))
        header[name] = {"dtype": "F32", "shape": list(data.shape), "data_offsets": [offset, offset + data.nbytes]}
        blobs.append(data.tobytes())
        offset += data.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def h5_file(path):
    # libver pinned (v110 is HDF5 1.10's 'latest'), no attribute creation order, and track_times=False
    # on every dataset: the bytes are reproducible
    return h5py.File(path, "w", libver=("earliest", "v110"), track_order=False)


def dataset(f, name, data):
    f.create_dataset(name, data=data, track_times=False, compression="gzip", compression_opts=6, shuffle=True)


def set_names(f, path, names):
    f[path].attrs["names"] = np.array(names, dtype="S")     # fixed-length ASCII strings


# ---- initialisation -------------------------------------------------------------------------------

def randomise_batchnorm(bn, mean, std, gen):
    """Eval-mode statistics that roughly standardise what the layer sees, then perturbed:
    running_mean = data mean + 0.25 * data std * N(0,1), running_var = data var * U(0.5, 2) -- i.e. in
    standardised units mean ~ N(0, 0.25^2), var ~ U(0.5, 2). A column that is constant in the data
    (e.g. a one-hot flag a slot never carries) gets running_mean = that constant, running_var = 0, as a
    trained BatchNorm would: var + eps = 1e-5 is exercised with an exactly-zero numerator. Affine:
    weight ~ U(0.5, 1.5), bias ~ 0.2 * N(0,1)."""
    n = bn.num_features
    mean = torch.as_tensor(np.asarray(mean, np.float64)).float()
    std = torch.as_tensor(np.asarray(std, np.float64)).float()
    const = std == 0
    with torch.no_grad():
        bn.running_mean.copy_(torch.where(const, mean, mean + 0.25 * std * torch.randn(n, generator=gen)))
        bn.running_var.copy_(torch.where(const, torch.zeros(n), std ** 2 * (0.5 + 1.5 * torch.rand(n, generator=gen))))
        bn.weight.copy_(0.5 + torch.rand(n, generator=gen))
        bn.bias.copy_(0.2 * torch.randn(n, generator=gen))


def calibrate_logits(linear, features, gen, spread=2.5):
    """PyTorch's default init leaves a deep ReLU net's logits at ~0.1 and all on one side; a trained
    tagger's are a few units either way. Scales the weight so that logit1 - logit0 has standard deviation
    `spread` on these events, and sets the bias to centre each logit, plus 0.2 * N(0,1).
    `features`: the layer's input on the fixture's events (float64)."""
    with torch.no_grad():
        w = linear.weight.double()
        z = features @ w.T
        d = z[:, 1] - z[:, 0]
        s = spread / d.std().item()
        linear.weight.copy_((w * s).float())
        linear.bias.copy_((-(z * s).mean(0) + 0.2 * torch.randn(linear.out_features, generator=gen, dtype=torch.float64)).float())


def state(model):
    """The state_dict under the spec's names (mlp layer i -> '<name>.<i>'), without num_batches_tracked."""
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


# ---- legacy jet generator (used by the ParT / ParticleNet fixtures, bench and import tests) --------

def make_jets(rng, njets, max_particles):
    """Boosted-jet-like constituents: a jet of pT 500-650 GeV, a falling pT spectrum, a core within
    ΔR < 0.8; features as weaver's JetClass 'kin' set, pT-ordered, computed from the 4-vectors."""
    counts = rng.integers(2, max_particles + 1, size=njets)
    counts[:4] = [2, max_particles, max_particles, 3]
    x = np.zeros((njets, max_particles, len(PFN_FEATURES)), np.float32)
    p4 = np.zeros((njets, max_particles, 4), np.float32)
    mask = np.zeros((njets, max_particles), np.uint8)
    for j in range(njets):
        n = counts[j]
        jet_pt = rng.uniform(500, 650)
        jet_eta = rng.uniform(-2, 2)
        jet_phi = rng.uniform(-math.pi, math.pi)
        frac = rng.dirichlet(np.full(n, 0.6))
        pt = np.sort(frac * jet_pt)[::-1]
        r = np.abs(rng.normal(0, 0.15, n)) + 0.01 * rng.random(n)
        r = np.minimum(r, 0.8)
        ang = rng.uniform(-math.pi, math.pi, n)
        eta = jet_eta + r * np.cos(ang)
        phi = jet_phi + r * np.sin(ang)
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        e = np.sqrt(px ** 2 + py ** 2 + pz ** 2 + rng.choice([0.0, 0.13957 ** 2], n))
        jpx, jpy, jpz, je = px.sum(), py.sum(), pz.sum(), e.sum()
        jpt = math.hypot(jpx, jpy)
        jeta = math.asinh(jpz / jpt)
        jphi = math.atan2(jpy, jpx)
        deta = (eta - jeta) * (1 if jeta >= 0 else -1)
        dphi = (phi - jphi + math.pi) % (2 * math.pi) - math.pi
        feats = np.stack([np.log(pt), np.log(e), np.log(pt / jpt), np.log(e / je), np.hypot(deta, dphi), deta, dphi], 1)
        x[j, :n] = feats
        p4[j, :n] = np.stack([px, py, pz, e], 1)
        mask[j, :n] = 1
    return x, p4, mask, counts


# ---- jets for pfn ---------------------------------------------------------------------------------

PION_MASS = 0.13957


def make_pfn_jets(rng, njets, max_particles, forced_counts=()):
    """Boosted-jet-like constituents in weaver's JetClass 'kin' convention.

    Per jet: n_true particles (gamma-distributed, mean ~26, in 2..90; the first jets' n_true forced), a
    falling pT spectrum (Dirichlet(0.6) fractions above a 0.5 GeV floor, pT-ordered), directions within
    dR ~< 0.8 of a jet axis at |eta| < 2, harder particles more collimated, charged-pion or zero masses;
    the 4-vectors are scaled so that the jet (the sum of all n_true) has pT uniform in 500..650 GeV.
    The 4-vectors are rounded to float32 first and every feature is computed in float64 from the rounded
    vectors and the jet sum:
      part_pt_log = ln pt, part_e_log = ln E, part_logptrel = ln(pt / jet_pt),
      part_logerel = ln(E / jet_E), part_deltaR = hypot(deta, dphi),
      part_deta = eta - jet_eta (no sign flip, as JetClass stores it), part_dphi = phi - jet_phi in [-pi, pi).
    Jets with n_true > max keep their `max` hardest particles (weaver's truncation; the features stay
    relative to the full jet). Returns features [E, M, 7] f32, vectors (px, py, pz, E) [E, M, 4] f32,
    mask [E, M] u8 (real particles first), stored counts [E]; padding slots are zero."""
    true_counts = np.clip(np.rint(rng.gamma(4.0, 6.5, size=njets)), 2, 90).astype(np.int64)
    true_counts[:len(forced_counts)] = forced_counts
    counts = np.minimum(true_counts, max_particles)
    x = np.zeros((njets, max_particles, len(PFN_FEATURES)), np.float32)
    p4 = np.zeros((njets, max_particles, 4), np.float32)
    mask = np.zeros((njets, max_particles), np.uint8)
    for j in range(njets):
        n = int(true_counts[j])
        target_pt = rng.uniform(500, 650)
        jet_eta, jet_phi = rng.uniform(-2, 2), rng.uniform(-math.pi, math.pi)
        floor = 0.5
        pt = np.sort(floor + rng.dirichlet(np.full(n, 0.6)) * (target_pt - floor * n))[::-1]
        # angular spread grows for the softer particles; capped at the jet radius
        rank = np.arange(n) / max(n - 1, 1)
        r = np.minimum(np.abs(rng.normal(0, 0.06 + 0.2 * rank)), 0.8)
        ang = rng.uniform(-math.pi, math.pi, n)
        eta, phi = jet_eta + r * np.cos(ang), jet_phi + r * np.sin(ang)
        mass = np.where(rng.random(n) < 0.65, PION_MASS, 0.0)
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        scale = target_pt / math.hypot(px.sum(), py.sum())     # the jet's pT lands on the target
        px, py, pz = px * scale, py * scale, pz * scale
        e = np.sqrt(px ** 2 + py ** 2 + pz ** 2 + mass ** 2)
        v = np.stack([px, py, pz, e], 1).astype(np.float32)
        px, py, pz, e = (v[:, k].astype(np.float64) for k in range(4))
        jpx, jpy, jpz, je = px.sum(), py.sum(), pz.sum(), e.sum()
        jpt = math.hypot(jpx, jpy)
        jeta, jphi = math.asinh(jpz / jpt), math.atan2(jpy, jpx)
        ppt = np.hypot(px, py)
        peta, pphi = np.arcsinh(pz / ppt), np.arctan2(py, px)
        deta = peta - jeta
        dphi = (pphi - jphi + math.pi) % (2 * math.pi) - math.pi
        feats = np.stack([np.log(ppt), np.log(e), np.log(ppt / jpt), np.log(e / je), np.hypot(deta, dphi),
                          deta, dphi], 1)
        k = int(counts[j])
        x[j, :k] = feats[:k]
        p4[j, :k] = v[:k]
        mask[j, :k] = 1
    return x, p4, mask, counts


class PFN(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_bn = nn.BatchNorm1d(7)
        self.phi = nn.ModuleList([nn.Linear(7, 64), nn.Linear(64, 64), nn.Linear(64, 64)])
        self.f = nn.ModuleList([nn.Linear(64, 64), nn.Linear(64, 64)])
        self.logits = nn.Linear(64, 2)

    def forward(self, x, mask):
        """x [B, P, 7] (padding rows whatever they hold), mask [B, P] 0/1 in x's dtype."""
        layers = {}
        b, p, c = x.shape
        h = self.input_bn(x.reshape(b * p, c)).reshape(b, p, c)   # BatchNorm1d over the feature axis, every row
        layers["input_bn"] = h
        for lin in self.phi:                                       # mlp: activation after every linear
            h = torch.relu(lin(h))
        layers["phi"] = h
        h = (h * mask.unsqueeze(-1)).sum(1)                        # pool sum over the real particles
        layers["latent"] = h
        for lin in self.f:
            h = torch.relu(lin(h))
        layers["f"] = h
        logits = self.logits(h)
        layers["logits"] = logits
        return logits, layers


# ---- events for fcn -------------------------------------------------------------------------------

SLOT_FLAG = [0] * 4 + [1] * 4 + [2, 3, 4, 5]    # slot -> flag column (is_j, is_b, is_em, is_ep, is_mm, is_mp)


def make_events(rng, nevents):
    """Fixed object list, GeV: slots 0-3 jets, 4-7 b-jets (each group pT-ordered), 8 e-, 9 e+, 10 mu-,
    11 mu+; an absent object is a zero row. Features [E, pt, eta, phi, is_j, is_b, is_em, is_ep, is_mm,
    is_mp, is_g] with E = sqrt((pt cosh eta)^2 + m^2): jets massive (m ~ 0.1-0.2 pt), leptons massless
    (E = pt cosh eta); is_g is never set (no photon slot). Event globals [met, met_phi]: a neutrino-like
    exponential component plus a fraction of the visible recoil and resolution smearing.
    Event 0 has every slot filled; event 1 has no objects at all (only MET)."""
    x = np.zeros((nevents, 12, len(FCN_FEATURES)), np.float32)
    glob = np.zeros((nevents, 2), np.float32)
    for ev in range(nevents):
        if ev == 0:
            njet, nb, leptons = 4, 4, [8, 9, 10, 11]
        elif ev == 1:
            njet, nb, leptons = 0, 0, []
        else:
            njet = int(rng.choice(5, p=[0.05, 0.15, 0.25, 0.25, 0.30]))
            nb = int(rng.choice(5, p=[0.20, 0.30, 0.30, 0.12, 0.08]))
            nlep = int(rng.choice(5, p=[0.25, 0.40, 0.25, 0.07, 0.03]))
            leptons = sorted(int(s) for s in rng.choice([8, 9, 10, 11], size=nlep, replace=False))
        vis = np.zeros(2)
        for group in (list(range(njet)), [4 + k for k in range(nb)], leptons):
            if not group:
                continue
            is_jet = group[0] < 8
            pts = np.sort(rng.exponential(70 if is_jet else 35, len(group)) + (30 if is_jet else 15))[::-1]
            for s, pt in zip(group, pts):
                eta = float(np.clip(rng.normal(0, 1.2), -2.5, 2.5))
                phi = rng.uniform(-math.pi, math.pi)
                m = pt * rng.uniform(0.1, 0.2) if is_jet else 0.0
                e = math.hypot(pt * math.cosh(eta), m)
                flags = np.zeros(7)
                flags[SLOT_FLAG[s]] = 1
                x[ev, s] = [e, pt, eta, phi, *flags]
                vis += pt * np.array([math.cos(phi), math.sin(phi)])
        nu = rng.exponential(40) * np.array([math.cos(a := rng.uniform(-math.pi, math.pi)), math.sin(a)])
        mx, my = nu - rng.uniform(0, 0.15) * vis + rng.normal(0, 10, 2)
        glob[ev] = [math.hypot(mx, my), math.atan2(my, mx)]
    return x, glob


class FCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_bn = nn.BatchNorm1d(12 * 11 + 2)
        self.h1 = nn.Linear(134, 256)
        self.h1_bn = nn.BatchNorm1d(256)
        self.n1 = nn.LayerNorm(256)
        self.body = nn.ModuleList([nn.Linear(256, 256), nn.Linear(256, 128)])
        self.logits = nn.Linear(128, 2)

    def forward(self, objects, event):
        layers = {}
        flat = torch.flatten(objects, 1)            # [12, 11] -> [132], object-major
        layers["flat"] = flat
        x = torch.cat([flat, event], 1)             # concat [flat, event] on the feature axis
        layers["x"] = x
        h = self.input_bn(x)
        layers["input_bn"] = h
        h = self.h1(h)
        layers["h1"] = h
        h = self.h1_bn(h)
        layers["h1_bn"] = h
        h = nn.functional.gelu(h)                   # exact erf GELU, as nn.GELU()
        layers["a1"] = h
        h = self.n1(h)
        layers["n1"] = h
        for lin in self.body:
            h = torch.relu(lin(h))
        layers["body"] = h
        logits = self.logits(h)
        layers["logits"] = logits
        return logits, layers


# ---- writing --------------------------------------------------------------------------------------

def write_expected(path, model, run):
    """run(model, dtype) -> (logits, {layer: output}); float32 model, then a float64 copy."""
    with torch.no_grad():
        logits, layers = run(model, torch.float32)
        logits64, _ = run(copy.deepcopy(model).double(), torch.float64)
    scores = torch.softmax(logits, 1)
    scores64 = torch.softmax(logits64, 1)
    with h5_file(path) as f:
        dataset(f, "logits", logits.numpy())
        dataset(f, "scores", scores.numpy())
        dataset(f, "logits_f64", logits64.numpy())
        dataset(f, "scores_f64", scores64.numpy())
        for name, value in layers.items():
            dataset(f, "layers/" + name, value[:DUMP_EVENTS].numpy().astype(np.float32))
    return logits, scores, logits64, scores64, layers


def pfn_fixture(out):
    rng = np.random.default_rng(PFN_NUMPY_SEED)
    gen = torch.Generator().manual_seed(PFN_TORCH_SEED)
    torch.manual_seed(PFN_TORCH_SEED)                 # PyTorch's default init of the Linear layers
    forced = [2, 64, 3, 80, 10, 33, 64, 17, 48, 63, 5, 72]      # n_true; 80 and 72 are truncated to 64
    x, p4, mask, counts = make_pfn_jets(rng, NEVENTS, 64, forced)
    labels = rng.integers(0, 2, size=NEVENTS).astype(np.int32)
    model = PFN().eval()
    real = x[mask.astype(bool)].astype(np.float64)
    randomise_batchnorm(model.input_bn, real.mean(0), real.std(0), gen)
    with torch.no_grad():
        _, layers = model.double()(torch.from_numpy(x).double(), torch.from_numpy(mask).double())
        model.float()
    calibrate_logits(model.logits, layers["f"], gen)
    write_safetensors(os.path.join(out, "weights.safetensors"), state(model))
    with h5_file(os.path.join(out, "inputs.h5")) as f:
        dataset(f, "particles/features", x)
        set_names(f, "particles/features", PFN_FEATURES)
        dataset(f, "particles/mask", mask)
        dataset(f, "particles/vectors", p4)
        dataset(f, "labels", labels)

    def run(m, dtype):
        mm = torch.from_numpy(mask).to(dtype)
        logits, layers = m(torch.from_numpy(x).to(dtype), mm)
        for k in ("input_bn", "phi"):
            layers[k] = layers[k] * mm.unsqueeze(-1)    # padded rows zeroed in the dump
        return logits, layers

    return counts, write_expected(os.path.join(out, "expected.h5"), model, run)


def fcn_fixture(out):
    rng = np.random.default_rng(FCN_NUMPY_SEED)
    gen = torch.Generator().manual_seed(FCN_TORCH_SEED)
    torch.manual_seed(FCN_TORCH_SEED)
    objects, glob = make_events(rng, NEVENTS)
    labels = rng.integers(0, 2, size=NEVENTS).astype(np.int32)
    model = FCN().eval()
    flat = np.concatenate([objects.reshape(NEVENTS, -1), glob], 1).astype(np.float64)
    randomise_batchnorm(model.input_bn, flat.mean(0), flat.std(0), gen)
    with torch.no_grad():                        # h1_bn's statistics from h1's outputs on these events
        pre = model.h1(model.input_bn(torch.from_numpy(flat).float())).double().numpy()
    randomise_batchnorm(model.h1_bn, pre.mean(0), pre.std(0), gen)
    with torch.no_grad():                        # a non-trivial LayerNorm affine
        model.n1.weight.copy_(0.5 + torch.rand(256, generator=gen))
        model.n1.bias.copy_(0.1 * torch.randn(256, generator=gen))
    with torch.no_grad():
        _, layers = model.double()(torch.from_numpy(objects).double(), torch.from_numpy(glob).double())
        model.float()
    calibrate_logits(model.logits, layers["body"], gen)
    write_safetensors(os.path.join(out, "weights.safetensors"), state(model))
    with h5_file(os.path.join(out, "inputs.h5")) as f:
        dataset(f, "objects/features", objects)
        set_names(f, "objects/features", FCN_FEATURES)
        dataset(f, "event/features", glob)
        set_names(f, "event/features", FCN_EVENT_FEATURES)
        dataset(f, "labels", labels)

    def run(m, dtype):
        return m(torch.from_numpy(objects).to(dtype), torch.from_numpy(glob).to(dtype))

    return None, write_expected(os.path.join(out, "expected.h5"), model, run)


def check(name, counts, result):
    logits, scores, logits64, scores64, layers = result
    for k, v in [("logits", logits), ("scores", scores), ("logits_f64", logits64)] + list(layers.items()):
        assert torch.isfinite(v).all(), f"{name}: non-finite values in {k}"
    assert (scores.double().sum(1) - 1).abs().max() < 1e-6, f"{name}: softmax rows do not sum to 1"
    spread = (logits.double() - logits64).abs().max().item()
    pspread = (scores.double() - scores64).abs().max().item()
    a = logits.abs()
    print(f"{name}: {len(logits)} events; |logits| max {a.max():.3g}, median {a.median():.3g}, "
          f"{(a < 10).double().mean() * 100:.0f}% below 10; score[1] range {scores[:, 1].min():.3f}.."
          f"{scores[:, 1].max():.3f}")
    if counts is not None:
        print(f"{name}: n from {counts.min()} to {counts.max()}, {(counts == 64).sum()} jets with n = 64, "
              f"{(counts == 2).sum()} with n = 2")
    print(f"{name}: float32 vs float64 max |d logits| {spread:.2e}, max |d scores| {pspread:.2e}")
    return spread, pspread


def main():
    for name, make in (("pfn", pfn_fixture), ("fcn", fcn_fixture)):
        out = os.path.join(HERE, name)
        os.makedirs(out, exist_ok=True)
        counts, result = make(out)
        check(name, counts, result)
        for fn in sorted(os.listdir(out)):
            print(f"  {name}/{fn}: {os.path.getsize(os.path.join(out, fn))} bytes")


if __name__ == "__main__":
    sys.exit(main())
