#!/usr/bin/env python3
"""Parity fixtures for models/pfn.yaml and models/fcn.yaml, from PyTorch.

Run with Debian's PyTorch:   /usr/bin/python3 tests/parity/gen_fixtures.py

No upstream implementation of these two baselines exists to import, so the reference is an independent
PyTorch model written from the spec semantics (docs/spec.md): nn.Linear, nn.BatchNorm1d (eval),
nn.LayerNorm, nn.GELU(), ReLU, a masked sum and torch.flatten — PyTorch's own layers, so the numerics
are PyTorch's. Writes, per model, into tests/parity/<model>/:
  weights.safetensors  the state_dict under the spec's names (F32; no num_batches_tracked)
  inputs.h5            hepnc's dataset layout (docs/data.md): realistic jets / events
  expected.h5          /logits, /scores (float32 model), /logits_f64 (same weights in float64),
                       /layers/<name> (per-layer outputs, padded rows zeroed) for layer-by-layer checks
Deterministic: fixed seeds; HDF5 files written without timestamps.
"""
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


def write_safetensors(path, tensors):
    """Writes float32 tensors in the safetensors format (keys sorted, data 8-byte aligned)."""
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
    # track_times=False on every dataset and libver pinned keep the bytes reproducible
    return h5py.File(path, "w", libver=("earliest", "v110"), track_order=False)


def dataset(f, name, data):
    f.create_dataset(name, data=data, track_times=False, compression="gzip", compression_opts=6, shuffle=True)


def randomise_batchnorm(bn, mean, std, gen):
    """Running statistics near the data's (so the network is not saturated), perturbed, and a random affine."""
    with torch.no_grad():
        bn.running_mean.copy_(torch.as_tensor(mean, dtype=torch.float32) +
                              0.1 * torch.as_tensor(std, dtype=torch.float32) * torch.randn(bn.num_features, generator=gen))
        bn.running_var.copy_(torch.as_tensor(std, dtype=torch.float32) ** 2 *
                             (0.5 + 1.5 * torch.rand(bn.num_features, generator=gen)))
        bn.weight.copy_(0.5 + torch.rand(bn.num_features, generator=gen))
        bn.bias.copy_(0.2 * torch.randn(bn.num_features, generator=gen))


def randomise_biases(module, gen):
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                m.bias.copy_(0.1 * torch.randn(m.out_features, generator=gen))
        module.logits.weight.mul_(8.0)   # logits of a few units, as a trained tagger gives, not ~0


# ---- jets for pfn ---------------------------------------------------------------------------------

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


class PFN(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_bn = nn.BatchNorm1d(7)
        self.phi = nn.ModuleList([nn.Linear(7, 64), nn.Linear(64, 64), nn.Linear(64, 64)])
        self.f = nn.ModuleList([nn.Linear(64, 64), nn.Linear(64, 64)])
        self.logits = nn.Linear(64, 2)

    def forward(self, x, mask):
        layers = {}
        b, p, c = x.shape
        h = self.input_bn(x.reshape(b * p, c)).reshape(b, p, c)
        layers["input_bn"] = h
        for lin in self.phi:
            h = torch.relu(lin(h))
        layers["phi"] = h
        h = (h * mask.unsqueeze(-1)).sum(1)
        layers["latent"] = h
        for lin in self.f:
            h = torch.relu(lin(h))
        layers["f"] = h
        logits = self.logits(h)
        layers["logits"] = logits
        return logits, layers

    def state(self):
        """The state_dict under the spec's names (mlp layer i → '<name>.<i>')."""
        return {k: v for k, v in self.state_dict().items() if not k.endswith("num_batches_tracked")}


# ---- events for fcn -------------------------------------------------------------------------------

def make_events(rng, nevents):
    """Fixed object list: 4 jets, 4 b-jets, e-, e+, mu-, mu+ (absent → zero row); GeV."""
    x = np.zeros((nevents, 12, len(FCN_FEATURES)), np.float32)
    met = np.zeros((nevents, 2), np.float32)
    for ev in range(nevents):
        njet, nb = rng.integers(2, 5), rng.integers(1, 5)
        slots = list(range(njet)) + [4 + k for k in range(nb)]
        nlep = rng.integers(1, 4)
        slots += list(rng.choice([8, 9, 10, 11], size=nlep, replace=False))
        for s in slots:
            is_jet = s < 8
            pt = rng.exponential(60 if is_jet else 40) + 25
            eta = rng.uniform(-2.5, 2.5)
            phi = rng.uniform(-math.pi, math.pi)
            m = rng.uniform(5, 20) if is_jet else (0.000511 if s in (8, 9) else 0.10566)
            e = math.sqrt((pt * math.cosh(eta)) ** 2 + m * m)
            flags = np.zeros(7)
            flags[[0, 1, 2, 3, 4, 5][0 if s < 4 else 1 if s < 8 else s - 6]] = 1
            x[ev, s] = [e, pt, eta, phi, *flags]
        met[ev] = [rng.exponential(50), rng.uniform(-math.pi, math.pi)]
    return x, met


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
        flat = torch.flatten(objects, 1)
        layers["flat"] = flat
        x = torch.cat([flat, event], 1)
        layers["x"] = x
        h = self.input_bn(x)
        layers["input_bn"] = h
        h = self.h1(h)
        layers["h1"] = h
        h = self.h1_bn(h)
        layers["h1_bn"] = h
        h = nn.functional.gelu(h)
        layers["a1"] = h
        h = self.n1(h)
        layers["n1"] = h
        for lin in self.body:
            h = torch.relu(lin(h))
        layers["body"] = h
        logits = self.logits(h)
        layers["logits"] = logits
        return logits, layers

    def state(self):
        return {k: v for k, v in self.state_dict().items() if not k.endswith("num_batches_tracked")}


# ---- writing --------------------------------------------------------------------------------------

def write_expected(path, model, run):
    with torch.no_grad():
        logits, layers = run(model, torch.float32)
        logits64, _ = run(model.double(), torch.float64)
        model.float()
    scores = torch.softmax(logits, 1)
    with h5_file(path) as f:
        dataset(f, "logits", logits.numpy())
        dataset(f, "scores", scores.numpy())
        dataset(f, "logits_f64", logits64.numpy())
        for name, value in layers.items():   # the first 32 events are enough to localise a mismatch
            dataset(f, "layers/" + name, value[:32].numpy().astype(np.float32))
    spread = (logits.double() - logits64).abs().max().item()
    return logits, spread


def pfn_fixture(out):
    rng = np.random.default_rng(20261122)
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(1)
    x, p4, mask, counts = make_jets(rng, 256, 64)
    model = PFN().eval()
    real = x[mask.astype(bool)]
    randomise_batchnorm(model.input_bn, real.mean(0), real.std(0), gen)
    randomise_biases(model, gen)
    write_safetensors(os.path.join(out, "weights.safetensors"), model.state())
    with h5_file(os.path.join(out, "inputs.h5")) as f:
        dataset(f, "particles/features", x)
        f["particles/features"].attrs["names"] = np.array(PFN_FEATURES, dtype="S")
        dataset(f, "particles/mask", mask)
        dataset(f, "particles/vectors", p4)
        dataset(f, "labels", rng.integers(0, 2, size=len(x)).astype(np.int32))

    def run(m, dtype):
        xm = torch.from_numpy(x).to(dtype)
        mm = torch.from_numpy(mask).to(dtype)
        logits, layers = m(xm, mm)
        for k in ("input_bn", "phi"):
            layers[k] = layers[k] * mm.unsqueeze(-1)    # padded rows zeroed in the dump
        return logits, layers

    return write_expected(os.path.join(out, "expected.h5"), model, run)


def fcn_fixture(out):
    rng = np.random.default_rng(20261123)
    gen = torch.Generator().manual_seed(2)
    torch.manual_seed(2)
    objects, met = make_events(rng, 256)
    model = FCN().eval()
    flat = np.concatenate([objects.reshape(len(objects), -1), met], 1)
    randomise_batchnorm(model.input_bn, flat.mean(0), flat.std(0) + 1e-3, gen)
    randomise_biases(model, gen)
    with torch.no_grad():                        # statistics of h1's outputs on these events for h1_bn
        pre = model.h1(model.input_bn(torch.from_numpy(flat)))
    randomise_batchnorm(model.h1_bn, pre.mean(0).numpy(), pre.std(0).numpy() + 1e-3, gen)
    with torch.no_grad():                        # a non-trivial LayerNorm affine
        model.n1.weight.copy_(0.5 + torch.rand(256, generator=gen))
        model.n1.bias.copy_(0.1 * torch.randn(256, generator=gen))
    write_safetensors(os.path.join(out, "weights.safetensors"), model.state())
    with h5_file(os.path.join(out, "inputs.h5")) as f:
        dataset(f, "objects/features", objects)
        f["objects/features"].attrs["names"] = np.array(FCN_FEATURES, dtype="S")
        dataset(f, "event/features", met)
        f["event/features"].attrs["names"] = np.array(["met", "met_phi"], dtype="S")
        dataset(f, "labels", rng.integers(0, 2, size=len(objects)).astype(np.int32))

    def run(m, dtype):
        return m(torch.from_numpy(objects).to(dtype), torch.from_numpy(met).to(dtype))

    return write_expected(os.path.join(out, "expected.h5"), model, run)


def main():
    for name, make in (("pfn", pfn_fixture), ("fcn", fcn_fixture)):
        out = os.path.join(HERE, name)
        os.makedirs(out, exist_ok=True)
        logits, spread = make(out)
        scores = torch.softmax(logits, 1)
        print(f"{name}: 256 events, |logits| max {logits.abs().max():.3g}, mean score[0] {scores[:, 0].mean():.3f}, "
              f"float32 vs float64 max |Δ logits| {spread:.2e}")


if __name__ == "__main__":
    sys.exit(main())
