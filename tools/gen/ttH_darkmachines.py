#!/usr/bin/env python3
"""tt-bar H (signal) and tt-bar (background) events in the DarkMachines event CSV read by `hepnc convert darkmachines`.

Pythia8 (pp at sqrt(s) = 13 TeV, as the event-classification talks; MPI and hadronisation on, m_t = 173 GeV,
m_H = 125 GeV, Pythia defaults otherwise) and FastJet, at particle level (no detector). Processes:
  ttH   : HiggsSM:gg2Httbar + HiggsSM:qqbar2Httbar, all top, W and Higgs decays at Pythia's SM branching
          ratios (--higgs bb: H -> b b-bar only);
  ttbar : Top:gg2ttbar + Top:qqbar2ttbar, all decays. Extra jets come from Pythia's shower only: for a hard
          process without a quark, gluon or photon in its final state Pythia's default (SpaceShower:pTmaxMatch
          = 0) lets the initial-state shower run up to the kinematic limit (a power shower), so hard-ISR
          tt-bar + jets events are present, at the shower's rate rather than a tt-bar + n-jet matrix element's.
Not produced (Pythia has no hard process for them; they need a matrix-element generator): tt-bar tt-bar,
tt-bar W, tt-bar Z, tt-bar WW.
Objects (tools/gen/common.py, docs/data.md): jets anti-kT R = 0.4, pT > 25 GeV, |eta| < 2.5, written as `b`
when b-tagged (ghost-associated B/C hadrons; tag probability 70 % b, 10 % c, 1 % light), else `j`; dressed,
isolated electrons and muons (`e-`, `e+`, `m-`, `m+`) and isolated photons (`g`), pT > 25 GeV, |eta| < 2.5;
MET = the neutrinos' summed pT. Selections (--selection):
  1l   (default): >= 1 lepton, >= 4 jets (j + b), >= 2 b;
  ssml : the talks' multilepton signal region: 2 same-sign leptons or >= 3 leptons, >= 6 jets (j + b),
         >= 2 b, H_T (jets and leptons) >= 500 GeV;
  none : every event.
Line format (DarkMachines; energies and momenta in MeV):
  event ID;process ID;weight;MET;METphi;obj,E,pT,eta,phi;obj,E,pT,eta,phi;...;
objects in decreasing pT. Event IDs count from 1. weight = Pythia's cross-section estimate of the chunk (fb)
divided by the chunk's generated events and by the number of chunks of the process, so the weights of a
process add up to its selected cross-section in fb (LO Pythia: no K-factor).

Determinism: chunk k of process p (0 ttH, 1 ttbar) runs Pythia with Random:seed = 1 + (2*seed + p)*10000 + k
and draws b tags from numpy's default_rng(that seed). The file holds chunk 0 of ttH, chunk 0 of ttbar,
chunk 1 of ttH, ... so that any prefix is balanced. The bytes depend on the arguments and the package
versions, never on --workers.

    tools/gen/setup.sh
    tools/gen/.venv/bin/python tools/gen/ttH_darkmachines.py --events 1000 --seed 1 \\
        --out examples/data/ttH_ttbar_sample.csv
"""
import argparse
import math
import os
import sys

import numpy as np

import common

ECM = 13000.0
PROCESSES = ["ttH", "ttbar"]
SETTINGS = {
    "ttH": ["HiggsSM:gg2Httbar = on", "HiggsSM:qqbar2Httbar = on", "6:m0 = 173.0", "25:m0 = 125.0"],
    "ttbar": ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on", "6:m0 = 173.0"],
}
HIGGS_BB = ["25:onMode = off", "25:onIfMatch = 5 -5"]
MAX_OBJECTS = 64                    # runtime/darkmachines.c reads at most 64 objects per line
LEPTON_NAME = {11: "e-", -11: "e+", 13: "m-", -13: "m+"}


def pythia_seed(seed, proc, chunk):
    return 1 + (2 * seed + proc) * 10000 + chunk


def selected(selection, nlep_charges, njets, nb, ht):
    if selection == "none":
        return True
    if selection == "1l":
        return len(nlep_charges) >= 1 and njets >= 4 and nb >= 2
    # ssml
    nl = len(nlep_charges)
    ss = nl == 2 and nlep_charges[0] == nlep_charges[1]
    return (ss or nl >= 3) and njets >= 6 and nb >= 2 and ht >= 500.0


def fmt_obj(kind, p):
    pt, eta, phi, _ = common.pt_eta_phi_m(p)
    return f"{kind},{p[3] * 1000:.1f},{pt * 1000:.1f},{eta:.5f},{phi:.5f}"


def run_chunk(task):
    name, chunk, seed, nev, selection, higgs = task
    import fastjet
    import pythia8mc as pythia8
    proc = PROCESSES.index(name)
    ps = pythia_seed(seed, proc, chunk)
    settings = SETTINGS[name] + (HIGGS_BB if name == "ttH" and higgs == "bb" else [])
    pythia = common.make_pythia(pythia8, ps, settings, ECM)
    rng = np.random.default_rng(ps)
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, common.JET_R)
    events = []                     # (MET, METphi, [object strings])
    n = tried = failed = 0
    last = 0
    while n < nev:
        if not pythia.next():
            failed += 1
            if failed > 100:
                raise RuntimeError("Pythia failed 100 events")
            continue
        tried += 1
        o = common.event_objects(pythia.event, fastjet, jetdef, photons=True)
        tags = [common.btag(rng, j[4]) for j in o.jets]
        charges = [-1 if l[0] > 0 else 1 for l in o.leptons]       # e-, mu- have positive PDG codes
        ht = sum(math.hypot(j[0], j[1]) for j in o.jets) + sum(math.hypot(l[1], l[2]) for l in o.leptons)
        if not selected(selection, charges, len(o.jets), sum(tags), ht):
            continue
        objs = [(math.hypot(j[0], j[1]), "b" if t else "j", j[:4]) for j, t in zip(o.jets, tags)]
        objs += [(math.hypot(l[1], l[2]), LEPTON_NAME[l[0]], l[1:]) for l in o.leptons]
        objs += [(math.hypot(g[0], g[1]), "g", g) for g in o.photons]
        objs.sort(key=lambda r: -r[0])
        mx, my = o.met
        events.append((math.hypot(mx, my) * 1000, math.atan2(my, mx),
                       [fmt_obj(k, p) for _, k, p in objs[:MAX_OBJECTS]]))
        n += 1
        if n - last >= 10 or n == nev:
            common.report(proc, n - last)
            last = n
    return dict(name=name, chunk=chunk, events=events, tried=tried, weight=common.sigma_fb(pythia) / tried)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=1000, help="selected events per process (default 1000)")
    ap.add_argument("--seed", type=int, default=1, help="base seed, 0..44999 (default 1)")
    ap.add_argument("--out", default="ttH_ttbar.csv", help="output CSV (default ttH_ttbar.csv)")
    ap.add_argument("--selection", choices=["1l", "ssml", "none"], default="1l")
    ap.add_argument("--higgs", choices=["all", "bb"], default="all", help="Higgs decays (default all)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2); the bytes do not depend on it")
    ap.add_argument("--chunk", type=int, default=250, help="selected events per Pythia seed (default 250)")
    a = ap.parse_args(argv)
    if not 0 <= a.seed < 45000:
        ap.error("--seed must be in 0..44999 (Pythia seeds stop at 900000000)")
    if a.events < 1 or a.chunk < 1 or a.workers < 1:
        ap.error("--events, --chunk and --workers must be positive")
    nchunks = -(-a.events // a.chunk)
    if nchunks > 10000:
        ap.error("more than 10000 chunks per process: raise --chunk")
    tasks = [(p, k, a.seed, min(a.chunk, a.events - k * a.chunk), a.selection, a.higgs)
             for k in range(nchunks) for p in PROCESSES]
    results, dt = common.run_chunks("ttH_darkmachines", run_chunk, tasks, a.workers, [a.events] * 2, PROCESSES)
    tmp = f"{a.out}.tmp.{os.getpid()}"
    eid = 0
    with open(tmp, "w", newline="\n") as f:
        for r in results:                             # task order: chunk by chunk, ttH then ttbar
            for met, metphi, objs in r["events"]:
                eid += 1
                f.write(f"{eid};{r['name']};{r['weight'] / nchunks:.6g};{met:.1f};{metphi:.5f};" +
                        "".join(s + ";" for s in objs) + "\n")
    os.replace(tmp, a.out)
    for p in PROCESSES:
        rs = [r for r in results if r["name"] == p]
        tried = sum(r["tried"] for r in rs)
        xs = sum(r["weight"] / nchunks * len(r["events"]) for r in rs)
        print(f"ttH_darkmachines: {p}: {a.events} selected of {tried} generated (acceptance {a.events / tried:.4f}), "
              f"selected cross-section {xs:.4g} fb", file=sys.stderr)
    print(f"ttH_darkmachines: wrote {a.out}: {2 * a.events} events in {common.fmt_time(dt)} "
          f"({2 * a.events / dt:.1f} events/s with {a.workers} workers)", file=sys.stderr)


if __name__ == "__main__":
    main()
