#!/usr/bin/env python3
"""Parity fixture for ParT with the Standard-Model interaction matrix computed in the network
(models/part_small_sm.yaml, op sm_interaction; arXiv:2211.05143):

    .venv-parity/bin/python tests/parity/gen_part_sm_fixture.py

No upstream package computes the matrix (the paper's code is an unpackaged research branch), so
`sm_matrix` below is an independent reference written from the paper's definitions as
shared/research/models.md §5 records them — the object vocabulary, the coupling of each pair type and
the one-loop running to Q = (pT_a + pT_b)/2 — in float64, checked first against the reference values
there (g_s, g_e at Q = 50, 200, 1000 GeV). The network around it is weaver-core 0.4.17's own
ParticleTransformer with pair_extra_dim = 1, fed that matrix as its dense pair input `uu` (its export
path; its training-time path with extra pair features fails in 0.4.17, see gen_part_pairs_fixture.py).
hepnc computes the matrix itself from the objects' flags and 4-vectors.

Events: 2 to 18 objects each (jets, b-jets, e±, μ±, photons and a few untyped ones), pT-ordered, with
(ln E, ln pT, η, φ) and the seven one-hot flags of `hepnc convert darkmachines` as features.
Writes tests/parity/part_small_sm/{weights.safetensors, inputs.h5, expected.h5}; expected.h5 also holds
/layers/sm (the reference matrix, [E, 18, 18, 1]) for `hepnc compare`. And tests/parity/part_small_sm_concat/
(models/part_small_sm_concat.yaml): the paper's collaborator variant, the four kinematic pair features and
the matrix concatenated into one embedding — weaver's PairEmbed in its mode 'concat', swapped into the model.
"""
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from gen_fixtures import dataset, h5_file  # noqa: E402
from gen_part_fixture import CONFIG, randomise  # noqa: E402
from weaver_import import map_part_state, write_safetensors  # noqa: E402
from weaver.nn.model.ParticleTransformer import PairEmbed, ParticleTransformer  # noqa: E402

MAXO = 18
FLAGS = ["is_j", "is_b", "is_em", "is_ep", "is_mm", "is_mp", "is_g"]
FEATURES = ["log_e", "log_pt", "eta", "phi"] + FLAGS
J, B, EM, EP, MM, MP, G = range(1, 8)           # the vocabulary's ids; 0 = none of them

# The paper's constants (models.md §5.3): couplings at mu0 = m_Z, g_z not run.
ALPHA_S0, ALPHA0, MU0, GZ = 0.118, 1 / 127.5, 91.1876, 0.758


def couplings(q):
    """g_s and g_e at scale q (GeV), one loop: n_f = 6 for alpha_s, 3 unit-charge flavours for alpha."""
    q = np.maximum(q, 1.0)
    log_q2 = np.log(q * q / (MU0 * MU0))
    alpha_s = ALPHA_S0 / (1 + ALPHA_S0 * (33 - 2 * 6) / (12 * math.pi) * log_q2)
    alpha = ALPHA0 / (1 - ALPHA0 * 3 / (3 * math.pi) * log_q2)
    return np.sqrt(4 * math.pi * alpha_s), np.sqrt(4 * math.pi * alpha)


def pair_strength(i, k, gs, ge):
    """The interaction strength of object types i and k (symmetric), given g_s and g_e."""
    pair = {i, k}
    quarks = {J, B}
    if pair <= quarks:
        return gs
    if pair == {J, G}:
        return ge / 2                                # average light-quark charge 1/2
    if pair == {B, G}:
        return ge / 3                                # b-quark charge 1/3
    if pair in ({EM, EP}, {MM, MP}):
        return GZ
    if G in pair and (pair - {G}) <= {EM, EP, MM, MP} and len(pair) == 2:
        return ge
    return 0.0


def sm_matrix(ids, pt, count):
    """[MAXO, MAXO] running-coupling matrix of one event; padding pairs 0."""
    m = np.zeros((MAXO, MAXO))
    for a in range(count):
        for c in range(count):
            gs, ge = couplings(0.5 * (pt[a] + pt[c]))
            m[a, c] = pair_strength(ids[a], ids[c], gs, ge)
    return m


def check_reference_values():
    for q, gs_ref, ge_ref in [(50, 1.269, 0.3135), (200, 1.159, 0.3146), (1000, 1.062, 0.3158)]:
        gs, ge = couplings(np.float64(q))
        assert abs(gs - gs_ref) < 1e-3 and abs(ge - ge_ref) < 1e-4, (q, gs, ge)


def make_events(rng, nevents):
    """Objects of tt̄H-like final states: mostly jets and b-jets, some leptons, photons, untyped objects."""
    counts = rng.integers(2, MAXO + 1, size=nevents)
    counts[:4] = [2, MAXO, MAXO, 3]
    x = np.zeros((nevents, MAXO, len(FEATURES)), np.float32)
    p4 = np.zeros((nevents, MAXO, 4), np.float32)
    mask = np.zeros((nevents, MAXO), np.uint8)
    ids = np.zeros((nevents, MAXO), np.int64)
    for e in range(nevents):
        n = counts[e]
        kind = rng.choice(8, size=n, p=[0.04, 0.42, 0.22, 0.06, 0.06, 0.06, 0.06, 0.08])
        pt = np.sort(20 + rng.exponential(80, n))[::-1]
        eta = rng.uniform(-2.5, 2.5, n)
        phi = rng.uniform(-math.pi, math.pi, n)
        mass = np.where((kind == J) | (kind == B), rng.uniform(2, 20, n), 0.0)
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        energy = np.sqrt(px ** 2 + py ** 2 + pz ** 2 + mass ** 2)
        p4[e, :n] = np.stack([px, py, pz, energy], 1)
        x[e, :n, 0], x[e, :n, 1], x[e, :n, 2], x[e, :n, 3] = np.log(energy), np.log(pt), eta, phi
        for k in range(1, 8):
            x[e, :n, 3 + k] = kind == k
        mask[e, :n] = 1
        ids[e, :n] = kind
    return x, p4, mask, counts, ids


def concat_pair_embed(model, for_onnx):
    """The paper's collaborator variant: one embedding of the kinematic pair features and the matrix
    concatenated — weaver's own PairEmbed in mode 'concat' (ParticleTransformer builds it in 'sum')."""
    old = model.pair_embed
    model.pair_embed = PairEmbed(old.pairwise_lv_dim, old.pairwise_input_dim, CONFIG["pair_embed_dims"] + [CONFIG["num_heads"]],
                                 use_pre_activation_pair=False, mode="concat", for_onnx=for_onnx)
    return model


def write_fixture(name, model, export, x, p4, mask, uu, labels_seed):
    """Runs weaver's export path on the events; writes tests/parity/<name>/."""
    export.load_state_dict(model.state_dict())
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))
    vt = torch.from_numpy(np.ascontiguousarray(p4.transpose(0, 2, 1)))
    mt = torch.from_numpy(mask[:, None, :].astype(np.float32)).bool()
    dense = torch.from_numpy(np.ascontiguousarray(uu.transpose(0, 3, 1, 2)))           # (N, 1, P, P)
    captured = {}
    export.fc.register_forward_hook(lambda mod, args, output: captured.__setitem__("logits", output.detach()))
    with torch.no_grad():
        scores = export(xt, v=vt, mask=mt, uu=dense)
    logits = captured["logits"]
    E = len(x)
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "weights.safetensors"), map_part_state(model.state_dict()))
    with h5_file(os.path.join(out, "inputs.h5")) as f:
        dataset(f, "objects/features", x)
        f["objects/features"].attrs["names"] = np.array(FEATURES, dtype="S")
        dataset(f, "objects/mask", mask)
        dataset(f, "objects/vectors", p4)
        dataset(f, "labels", np.random.default_rng(labels_seed).integers(0, 2, size=E).astype(np.int32))
    with h5_file(os.path.join(out, "expected.h5")) as f:
        dataset(f, "logits", logits.numpy())
        dataset(f, "scores", scores.numpy())
        dataset(f, "layers/sm", uu)
    return logits


def main():
    check_reference_values()
    torch.manual_seed(11)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(11)
    rng = np.random.default_rng(20261207)
    x, p4, mask, counts, ids = make_events(rng, 64)
    E = len(counts)
    # pT as the network sees it: from the float32 4-vectors
    pt = np.hypot(p4[..., 0].astype(np.float64), p4[..., 1].astype(np.float64))
    uu = np.stack([sm_matrix(ids[e], pt[e], counts[e]) for e in range(E)]).astype(np.float32)[..., None]
    cfg = dict(CONFIG, input_dim=len(FEATURES), num_classes=2, pair_extra_dim=1)

    # part_small_sm: weaver's route, the matrix through its own embedding (pair_extra_dim = 1), summed
    model = ParticleTransformer(**cfg, for_inference=False).eval()
    randomise(model, gen)
    # The matrix is one channel, so each conv output after the input batchnorm is w·x̂ + b, whose own
    # training-mode batchnorm keeps only sign(w) (up to eps). Where |w| is near eps^½ that batchnorm divides
    # by ~|w| instead: it amplifies float32 rounding (the C and GPU steps then differ by ~1e-4 of the largest
    # gradient in dL/db, analytically 0) and varies on the scale of w, below hepnc gradcheck's finite-
    # difference step 1e-2. Keep |w| ≥ 0.2 so the fixture checks the network and not that conditioning.
    with torch.no_grad():
        w = model.pair_embed.fts_embed[1].weight
        w.copy_(torch.sign(w) * (0.2 + 0.8 * w.abs()))
    logits = write_fixture("part_small_sm", model, ParticleTransformer(**cfg, for_inference=True).eval(), x, p4, mask, uu,
                           20261208)
    nonzero = np.count_nonzero(uu) / max(1, int((counts ** 2).sum()))
    print(f"part_small_sm: {E} events, {nonzero:.0%} of real pairs interact, matrix in "
          f"[{uu[uu > 0].min():.4f}, {uu.max():.4f}], |logits| max {logits.abs().max():.3g}")

    # part_small_sm_concat: the collaborator variant, [ln kT, ln z, ln Δ, ln m², M] in one embedding
    gen = torch.Generator().manual_seed(12)
    model = concat_pair_embed(ParticleTransformer(**cfg, for_inference=False), for_onnx=False).eval()
    randomise(model, gen)
    export = concat_pair_embed(ParticleTransformer(**cfg, for_inference=True), for_onnx=True).eval()
    logits = write_fixture("part_small_sm_concat", model, export, x, p4, mask, uu, 20261209)
    print(f"part_small_sm_concat: |logits| max {logits.abs().max():.3g}")


if __name__ == "__main__":
    main()
