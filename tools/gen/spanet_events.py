#!/usr/bin/env python3
"""Resolved tt-bar and tt-bar H events with jet-parton truth matching, in SPANet's HDF5 layout.

Pythia8 (pp at sqrt(s) = 13 TeV, as SPANet's tt-bar and ttH samples; MPI and hadronisation on, m_t = 173 GeV,
m_H = 125 GeV, Pythia defaults otherwise) and FastJet, at particle level (no detector). Processes:
  tt_allhad   : tt-bar (Top:gg2ttbar, Top:qqbar2ttbar), both W -> q q' (24:onIfAny = 1 2 3 4 5);
                >= 6 jets, >= 2 b-tags among the 10 kept; layout and topology of SPANet's
                full_hadronic_ttbar example (/INPUTS/Source [E, 10]: mass, pt, eta, phi, btag;
                /TARGETS/t1, t2: b, q1, q2);
  tt_semilep  : tt-bar with one W -> e nu or mu nu and the other W -> q q' (half the events each sign);
  ttH_semilep : tt-bar H (HiggsSM:gg2Httbar, HiggsSM:qqbar2Httbar), H -> b b-bar, tt-bar as tt_semilep;
                both: exactly one isolated lepton, >= 4 jets, >= 2 b-tags among the 18 kept; layout and
                topology of SPANet's semi_leptonic_ttH example (/INPUTS/Momenta [E, 19]: the lepton in
                row 0, then the jets; mass, pt, eta, sin_phi, cos_phi, qtag, btag, etag, utag; /INPUTS/Met:
                met, sumet, sin_phi, cos_phi; /TARGETS/lt: b, l; ht: b, q1, q2; h: b1, b2 (ttH only);
                /REGRESSIONS/EVENT: neutrino_eta, _px, _py, _pz (GeV), log_invariant_mass (ln of the
                tt-bar(H) mass in GeV); /CLASSIFICATIONS/EVENT/signal: 1 ttH, 0 tt-bar).
Objects (tools/gen/common.py): anti-kT R = 0.4 jets, pT > 25 GeV, |eta| < 2.5, pT-ordered, at most 10
(allhad) or 18 (semilep) kept; b tags from ghost-associated B/C hadrons with efficiencies 70 % (b), 10 % (c),
1 % (light); dressed, isolated e/mu with pT > 25 GeV, |eta| < 2.5; MET = the neutrinos' summed pT.
Truth matching: the decay partons as produced (t -> b W, W -> q q', H -> b b-bar) to jets with Delta R < 0.4
(eta-phi), one jet per parton and one parton per jet, closest pairs first, on all the event's jets; a parton
with no jet, or whose jet is past the kept ones, gets -1. q1 is the W's up-type quark, q2 the down-type one;
t1 is the top, t2 the anti-top. The lepton target lt/l is 0 when the selected lepton is the W's (same id,
Delta R < 0.1), else -1. Extra (ignored by SPANet): /TRUTH/<input>/flavour int8 (ghost flavour 5, 4, 0 of each
jet row, 11/13 for the lepton row) and /TRUTH/njets int32 (jets passing the cuts, before truncation).

Determinism: chunk k of process p runs Pythia with Random:seed = 450000001 + (3*seed + p)*10000 + k (p = 0
tt_allhad, 1 tt_semilep, 2 ttH_semilep; above the seeds of topqcd.py and ttH_darkmachines.py) and draws b tags
from numpy's default_rng(that seed); semileptonic chunks alternate two Pythia instances (W+ -> l nu, seed as
above; W- -> l nu, seed + 5000) event by event. The bytes depend on the arguments and
the package versions, never on --workers.

    tools/gen/setup.sh
    tools/gen/.venv/bin/python tools/gen/spanet_events.py --process tt_allhad --events 10000 --seed 1 \\
        --out examples/data/ttbar_allhad_sample.h5
"""
import argparse
import math
import os
import sys

import numpy as np

import common

ECM = 13000.0
TOP_SETTINGS = ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on", "6:m0 = 173.0"]
TTH_SETTINGS = ["HiggsSM:gg2Httbar = on", "HiggsSM:qqbar2Httbar = on", "6:m0 = 173.0", "25:m0 = 125.0",
                "25:onMode = off", "25:onIfMatch = 5 -5"]
HAD_W = ["24:onMode = off", "24:onIfAny = 1 2 3 4 5"]
LEP_W = [["24:onMode = off", "24:onPosIfAny = 11 13", "24:onNegIfAny = 1 2 3 4 5"],
         ["24:onMode = off", "24:onPosIfAny = 1 2 3 4 5", "24:onNegIfAny = 11 13"]]
PROCESSES = {
    # name: (index, Pythia settings per instance, semileptonic, with H, topology file)
    "tt_allhad": (0, [TOP_SETTINGS + HAD_W], False, False, "full_hadronic_ttbar.yaml"),
    "tt_semilep": (1, [TOP_SETTINGS + w for w in LEP_W], True, False, "semi_leptonic_ttbar.yaml"),
    "ttH_semilep": (2, [TTH_SETTINGS + w for w in LEP_W], True, True, "semi_leptonic_ttH.yaml"),
}
MAXJ_HAD = 10                       # SPANet's full_hadronic_ttbar example: Source [E, 10]
MAXV_LEP = 19                       # SPANet's semi_leptonic_ttH example: Momenta [E, 19] = 1 lepton + 18 jets
NJET_MIN_HAD, NJET_MIN_LEP, NB_MIN = 6, 4, 2
LEP_MATCH_R = 0.1
HAD_FEATURES = ["mass", "pt", "eta", "phi", "btag"]
LEP_FEATURES = ["mass", "pt", "eta", "sin_phi", "cos_phi", "qtag", "btag", "etag", "utag"]
MET_FEATURES = ["met", "sumet", "sin_phi", "cos_phi"]
REGRESSIONS = ["neutrino_eta", "neutrino_px", "neutrino_py", "neutrino_pz", "log_invariant_mass"]


SEED_BASE = 450000001               # above the seeds of topqcd.py and ttH_darkmachines.py (for --seed < 22500)


def pythia_seed(seed, proc, chunk):
    return SEED_BASE + (3 * seed + proc) * 10000 + chunk


def minv(*vs):
    s = [sum(v[k] for v in vs) for k in range(4)]
    return math.sqrt(max(s[3] ** 2 - s[0] ** 2 - s[1] ** 2 - s[2] ** 2, 0.0))


def split_w(wdau):
    """W daughters -> (up-type or charged lepton, down-type or neutrino) 4-vectors and ids."""
    a, b = wdau
    first = a if abs(a[0]) in (2, 4, 11, 13, 15) else b
    second = b if first is a else a
    return first, second


def run_chunk(task):
    name, chunk, seed, nev = task
    import fastjet
    import pythia8mc as pythia8
    proc, settings, semilep, with_h, _ = PROCESSES[name]
    ps = pythia_seed(seed, proc, chunk)
    pythias = [common.make_pythia(pythia8, ps + 5000 * i, s, ECM) for i, s in enumerate(settings)]
    rng = np.random.default_rng(ps)
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, common.JET_R)
    M = MAXV_LEP if semilep else MAXJ_HAD
    F = LEP_FEATURES if semilep else HAD_FEATURES
    X = np.zeros((nev, M, len(F)), np.float32)
    mask = np.zeros((nev, M), bool)
    flav = np.zeros((nev, M), np.int8)
    njets = np.zeros(nev, np.int32)
    ntarget = 5 + 2 * with_h if semilep else 6
    targets = np.full((nev, ntarget), -1, np.int64)
    met = np.zeros((nev, 4), np.float32)
    regr = np.zeros((nev, 5), np.float32)
    n = tried = failed = attempt = 0
    last = 0
    while n < nev:
        pythia = pythias[attempt % len(pythias)]
        attempt += 1
        if not pythia.next():
            failed += 1
            if failed > 100:
                raise RuntimeError("Pythia failed 100 events")
            continue
        tried += 1
        ev = pythia.event
        o = common.event_objects(ev, fastjet, jetdef)
        tags = [common.btag(rng, j[4]) for j in o.jets]
        off = 1 if semilep else 0
        keep = M - off
        nj, nb = len(o.jets), sum(tags[:keep])          # b-tags among the jets written
        if semilep:
            if len(o.leptons) != 1 or nj < NJET_MIN_LEP or nb < NB_MIN:
                continue
        elif nj < NJET_MIN_HAD or nb < NB_MIN:
            continue
        tops = common.top_decays(ev)
        if len(tops) != 2:
            raise RuntimeError(f"chunk {chunk}: {len(tops)} top decays in an event")
        # partons in target order
        if semilep:
            lt = next(t for t in tops if any(abs(i) in (11, 13) for i, _ in t["wdau"]))
            ht = next(t for t in tops if t is not lt)
            (lid, lep), (_, nu) = split_w(lt["wdau"])
            (_, q1), (_, q2) = split_w(ht["wdau"])
            partons = [lt["b"], ht["b"], q1, q2]
            h = common.higgs_bb(ev) if with_h else None
            if with_h:
                if h is None:
                    raise RuntimeError(f"chunk {chunk}: no H -> b b-bar in a ttH event")
                partons += [h[1], h[2]]
        else:
            partons = []
            for t in tops:
                (_, q1), (_, q2) = split_w(t["wdau"])
                partons += [t["b"], q1, q2]
        idx = [j + off if 0 <= j < keep else -1 for j in common.match(partons, o.jets)]
        if semilep:
            l = o.leptons[0]
            lpt, leta, lphi, lm = common.pt_eta_phi_m(l[1:])
            _, teta, tphi, _ = common.pt_eta_phi_m(lep)
            lmatch = 0 if l[0] == lid and common.delta_r(leta, lphi, teta, tphi) < LEP_MATCH_R else -1
            targets[n] = [idx[0], lmatch, idx[1], idx[2], idx[3]] + idx[4:]   # lt: b, l; ht: b, q1, q2; h: b1, b2
            X[n, 0] = (lm, lpt, leta, math.sin(lphi), math.cos(lphi), 0, 0, abs(l[0]) == 11, abs(l[0]) == 13)
            mask[n, 0] = True
            flav[n, 0] = abs(l[0])
            mx, my = o.met
            mphi = math.atan2(my, mx)
            met[n] = (math.hypot(mx, my), o.sumet, math.sin(mphi), math.cos(mphi))
            _, neta, _, _ = common.pt_eta_phi_m(nu)
            sysm = minv(tops[0]["top"], tops[1]["top"], *([h[0]] if with_h else []))
            regr[n] = (neta, nu[0], nu[1], nu[2], math.log(sysm))
        else:
            targets[n] = idx
        for k, (j, tag) in enumerate(zip(o.jets[:keep], tags[:keep])):
            pt, eta, phi, m = common.pt_eta_phi_m(j[:4])
            if semilep:
                X[n, off + k] = (m, pt, eta, math.sin(phi), math.cos(phi), not tag, tag, 0, 0)
            else:
                X[n, k] = (m, pt, eta, phi, tag)
            mask[n, off + k] = True
            flav[n, off + k] = j[4]
        njets[n] = nj
        n += 1
        if n - last >= 10 or n == nev:
            common.report(0, n - last)
            last = n
    sigma = sum(common.sigma_fb(p) for p in pythias)      # the instances split the decay channels
    return dict(chunk=chunk, X=X, mask=mask, flav=flav, njets=njets, targets=targets, met=met, regr=regr,
                tried=tried, sigma=sigma)


def write_h5(path, name, parts, attrs):
    import h5py
    _, _, semilep, with_h, topo = PROCESSES[name]
    cat = {k: np.concatenate([p[k] for p in parts]) for k in ("X", "mask", "flav", "njets", "targets", "met", "regr")}
    E, M = cat["mask"].shape
    inp = "Momenta" if semilep else "Source"
    feats = LEP_FEATURES if semilep else HAD_FEATURES
    tmp = f"{path}.tmp.{os.getpid()}"
    with h5py.File(tmp, "w", libver=("earliest", "v110"), track_order=False) as f:
        def ds(key, data):
            chunks = (min(E, 2048),) + data.shape[1:] if data.ndim > 1 else (min(E, 8192),)
            f.create_dataset(key, data=data, track_times=False, compression="gzip", compression_opts=9,
                             shuffle=True, chunks=chunks)
        ds(f"INPUTS/{inp}/MASK", cat["mask"])
        for i, ft in enumerate(feats):
            ds(f"INPUTS/{inp}/{ft}", np.ascontiguousarray(cat["X"][:, :, i]))
        if semilep:
            for i, ft in enumerate(MET_FEATURES):
                ds(f"INPUTS/Met/{ft}", cat["met"][:, i])
            names = [("lt", "b"), ("lt", "l"), ("ht", "b"), ("ht", "q1"), ("ht", "q2")]
            if with_h:
                names += [("h", "b1"), ("h", "b2")]
            for i, (p, d) in enumerate(names):
                ds(f"TARGETS/{p}/{d}", cat["targets"][:, i])
            for i, r in enumerate(REGRESSIONS):
                ds(f"REGRESSIONS/EVENT/{r}", cat["regr"][:, i])
            ds("CLASSIFICATIONS/EVENT/signal", np.full(E, 1 if with_h else 0, np.int64))
        else:
            for i, (p, d) in enumerate((t, d) for t in ("t1", "t2") for d in ("b", "q1", "q2")):
                ds(f"TARGETS/{p}/{d}", cat["targets"][:, i])
        ds(f"TRUTH/{inp}/flavour", cat["flav"])
        ds("TRUTH/njets", cat["njets"])
        for k, v in attrs.items():
            f.attrs[k] = v
        f.attrs["topology"] = topo
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--process", choices=sorted(PROCESSES), default="tt_allhad")
    ap.add_argument("--events", type=int, default=10000, help="selected events (default 10000)")
    ap.add_argument("--seed", type=int, default=1, help="base seed, 0..14999 (default 1)")
    ap.add_argument("--out", default=None, help="output HDF5 file (default PROCESS.h5)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2); the bytes do not depend on it")
    ap.add_argument("--chunk", type=int, default=500, help="selected events per Pythia seed (default 500)")
    a = ap.parse_args(argv)
    if not 0 <= a.seed < 15000:
        ap.error("--seed must be in 0..14999 (Pythia seeds stop at 900000000)")
    if a.events < 1 or a.chunk < 1 or a.workers < 1:
        ap.error("--events, --chunk and --workers must be positive")
    nchunks = -(-a.events // a.chunk)
    if nchunks > 5000:
        ap.error("more than 5000 chunks: raise --chunk")
    out = a.out or f"{a.process}.h5"
    tasks = [(a.process, k, a.seed, min(a.chunk, a.events - k * a.chunk)) for k in range(nchunks)]
    results, dt = common.run_chunks("spanet_events", run_chunk, tasks, a.workers, [a.events], [a.process])
    parts = sorted(results, key=lambda r: r["chunk"])
    from importlib.metadata import version
    tried = sum(p["tried"] for p in parts)
    sigma = sum(p["sigma"] * p["tried"] for p in parts) / tried
    attrs = {"generator": "hepnc tools/gen/spanet_events.py", "process": a.process, "seed": a.seed,
             "events": a.events, "chunk": a.chunk, "sqrt_s_GeV": ECM,
             "versions": f"pythia8mc {version('pythia8mc')}, fastjet {version('fastjet')}",
             "sigma_fb": sigma, "generated_events": tried}
    write_h5(out, a.process, parts, attrs)
    print(f"spanet_events: wrote {out}: {a.events} {a.process} events in {common.fmt_time(dt)} "
          f"({a.events / dt:.1f} events/s with {a.workers} workers; {tried} generated, acceptance "
          f"{a.events / tried:.3f}; Pythia sigma x BR {sigma:.4g} fb)", file=sys.stderr)


if __name__ == "__main__":
    main()
