#!/usr/bin/env python3
"""Boosted top vs QCD jets with Pythia8 and FastJet, written in hepnc's HDF5 layout (docs/data.md).

After the Top Tagging landscape recipe (arXiv:1902.09914), at particle level (no detector):
  pp at sqrt(s) = 14 TeV, MPI and hadronisation on (Pythia defaults otherwise);
  signal     : tt-bar (Top:gg2ttbar, Top:qqbar2ttbar), both W -> hadrons (24:onIfAny = 1 2 3 4 5);
  background : QCD 2->2 (HardQCD:all);
  both       : PhaseSpace:pTHatMin/Max = 500/700 GeV (--pthat-min/--pthat-max);
  jets       : anti-kT R = 0.8 (FastJet, E-scheme) on the visible final-state particles (no neutrinos);
               of the two hardest jets of an event, each with |eta| < 2 and 550 <= pT <= 650 GeV is kept;
               a signal jet must also hold the three quarks of one top's decay t -> b W -> b q q'
               (the b and the W's daughters as they come out of the decays, from the event record)
               within Delta R < 0.8 of its axis (rapidity-phi).
Up to 128 constituents per jet, hardest first. Written (E = jets, top jets first, then QCD):
  /particles/features  float32 [E,128,7], attribute names = weaver's JetClass kin features
                       part_pt_log, part_e_log, part_logptrel, part_logerel, part_deltaR, part_deta,
                       part_dphi (jet 4-vector = sum of all the jet's constituents; part_deta = (eta - eta_jet)
                       * sign(eta_jet), sign(0) = +1; part_dphi wrapped to [-pi, pi)); zero rows past the mask
  /particles/mask      uint8 [E,128], 1 = real constituent (a prefix)
  /particles/vectors   float32 [E,128,4] px, py, pz, E in GeV
  /labels              int32 [E], the class index of weaver's top_kin.yaml: 0 = top, 1 = QCD
  /jets/pt, eta, phi, mass   float32 [E] of the whole jet (all constituents)
  /jets/sdmass         float32 [E] soft-drop mass, beta = 0, z_cut = 0.1, R0 = 0.8 (fjcontrib SoftDrop through
                       the PyPI fastjet's exclusive_jets_softdrop_grooming, C/A reclustering)
  /jets/tau32          float32 [E] N-subjettiness tau3/tau2, beta = 1, exclusive-kT axes (implemented here,
                       as fjcontrib's KT_Axes + UnnormalizedMeasure(1)), all constituents
  /jets/nconst         int32 [E] the jet's constituents before truncation to 128

Determinism: the work is cut into chunks of --chunk jets per class; chunk k of class c (0 top, 1 QCD) runs
Pythia with Random:seed = 1 + (2*seed + c)*10000 + k, so the output depends on --seed, --events and --chunk,
never on --workers. HDF5 is written without timestamps, with libver pinned: same arguments, same bytes.

    tools/gen/setup.sh
    tools/gen/.venv/bin/python tools/gen/topqcd.py --events 1000 --seed 1 --out examples/data/topqcd_sample.h5
"""
import argparse
import math
import multiprocessing as mp
import os
import sys
import time

import numpy as np

FEATURES = ["part_pt_log", "part_e_log", "part_logptrel", "part_logerel", "part_deltaR", "part_deta",
            "part_dphi"]
CLASSES = ["top", "QCD"]            # label = index (weaver's top_kin.yaml: jet_isTop, jet_isQCD)
MAXPART = 128
R_JET = 0.8
ETA_MAX = 2.0
PT_MIN, PT_MAX = 550.0, 650.0
INVISIBLE = (12, 14, 16)            # neutrinos (nothing else invisible in the SM final state)


def pythia_seed(seed, cls, chunk):
    return 1 + (2 * seed + cls) * 10000 + chunk


# ---- physics per jet -------------------------------------------------------------------------------

def features(p4, jet):
    """weaver's JetClass kin features of constituents p4 [n,4] (px,py,pz,E, float64) of jet (px,py,pz,E)."""
    px, py, pz, e = p4[:, 0], p4[:, 1], p4[:, 2], p4[:, 3]
    pt = np.hypot(px, py)
    eta = np.arcsinh(pz / pt)
    phi = np.arctan2(py, px)
    jpt = math.hypot(jet[0], jet[1])
    jeta = math.asinh(jet[2] / jpt)
    jphi = math.atan2(jet[1], jet[0])
    deta = (eta - jeta) * (1.0 if jeta >= 0 else -1.0)
    dphi = (phi - jphi + np.pi) % (2 * np.pi) - np.pi
    return np.stack([np.log(pt), np.log(e), np.log(pt / jpt), np.log(e / jet[3]), np.hypot(deta, dphi),
                     deta, dphi], axis=1)


def rap_phi(p4):
    pt2 = p4[:, 0] ** 2 + p4[:, 1] ** 2
    y = 0.5 * np.log((p4[:, 3] + p4[:, 2]) / (p4[:, 3] - p4[:, 2]))
    return y, np.arctan2(p4[:, 1], p4[:, 0]), pt2


def tau32(fastjet, p4):
    """tau3/tau2 with beta = 1 on exclusive-kT axes (kT, R = max_allowable_R, E-scheme), rapidity-phi
    distances, as fjcontrib Nsubjettiness(N, KT_Axes(), UnnormalizedMeasure(1)); 0 when tau2 = 0."""
    if len(p4) < 3:
        return 0.0
    cs = fastjet.ClusterSequence([fastjet.PseudoJet(*map(float, r)) for r in p4],
                                 fastjet.JetDefinition(fastjet.kt_algorithm, 1000.0))
    y, phi, pt2 = rap_phi(p4)
    pt = np.sqrt(pt2)
    taus = []
    for n in (2, 3):
        axes = cs.exclusive_jets(n)
        d = np.full(len(p4), np.inf)
        for a in axes:
            dphi = np.abs(phi - a.phi())
            dphi = np.minimum(dphi, 2 * np.pi - dphi)
            d = np.minimum(d, np.hypot(y - a.rap(), dphi))
        taus.append(float(np.sum(pt * d)))
    return taus[1] / taus[0] if taus[0] > 0 else 0.0


def top_quarks(ev):
    """For each top decay in the event record: the (px,py,pz,E) of b, q, q' as produced in t -> b W, W -> q q'."""
    out = []
    for i in range(ev.size()):
        p = ev[i]
        if p.idAbs() != 6:
            continue
        d = p.daughterList()
        ws = [j for j in d if ev[j].idAbs() == 24]
        bs = [j for j in d if ev[j].idAbs() in (1, 3, 5)]
        if len(ws) != 1 or len(bs) != 1:
            continue                                   # a recoil copy, not the decay
        w = ev[ev[ws[0]].iBotCopyId()]
        qs = [j for j in w.daughterList() if 1 <= ev[j].idAbs() <= 5]
        if len(qs) != 2:
            continue
        out.append([(ev[j].px(), ev[j].py(), ev[j].pz(), ev[j].e()) for j in (bs[0], *qs)])
    return out


def delta_r(a, b):
    """Delta R in rapidity-phi between 4-vectors (px,py,pz,E)."""
    ya = 0.5 * math.log((a[3] + a[2]) / (a[3] - a[2]))
    yb = 0.5 * math.log((b[3] + b[2]) / (b[3] - b[2]))
    dphi = abs(math.atan2(a[1], a[0]) - math.atan2(b[1], b[0]))
    dphi = min(dphi, 2 * math.pi - dphi)
    return math.hypot(ya - yb, dphi)


# ---- one chunk (runs in a worker) --------------------------------------------------------------------

_progress = None


def _init_worker(queue):
    global _progress
    _progress = queue
    devnull = os.open(os.devnull, os.O_WRONLY)         # Pythia and FastJet banners go to stdout
    os.dup2(devnull, 1)


def make_pythia(pythia8, cls, seed, pthat_min, pthat_max):
    p = pythia8.Pythia("", False)
    settings = ["Beams:eCM = 14000.", f"PhaseSpace:pTHatMin = {pthat_min}", f"PhaseSpace:pTHatMax = {pthat_max}",
                "PartonLevel:MPI = on", "HadronLevel:all = on", "Random:setSeed = on", f"Random:seed = {seed}",
                "Print:quiet = on"]
    if cls == 0:
        settings += ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on", "24:onMode = off", "24:onIfAny = 1 2 3 4 5"]
    else:
        settings += ["HardQCD:all = on"]
    for s in settings:
        if not p.readString(s):
            raise RuntimeError(f"Pythia refused '{s}'")
    if not p.init():
        raise RuntimeError("Pythia init failed")
    return p


def run_chunk(task):
    cls, chunk, seed, njets, pthat_min, pthat_max = task
    import awkward as ak
    import fastjet
    import pythia8mc as pythia8
    pythia = make_pythia(pythia8, cls, pythia_seed(seed, cls, chunk), pthat_min, pthat_max)
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, R_JET)
    feats = np.zeros((njets, MAXPART, len(FEATURES)), np.float32)
    vecs = np.zeros((njets, MAXPART, 4), np.float32)
    mask = np.zeros((njets, MAXPART), np.uint8)
    kin = np.zeros((njets, 5), np.float64)             # pt, eta, phi, mass, tau32
    nconst = np.zeros(njets, np.int32)
    allcons = []                                       # per jet, all constituents (for soft drop)
    n = nevents = failed = 0
    last_report = 0
    while n < njets:
        if not pythia.next():
            failed += 1
            if failed > 100:
                raise RuntimeError("Pythia failed 100 events")
            continue
        nevents += 1
        ev = pythia.event
        rows = [(q.px(), q.py(), q.pz(), q.e()) for q in ev
                if q.isFinal() and q.idAbs() not in INVISIBLE and (q.px() != 0.0 or q.py() != 0.0)]
        cs = fastjet.ClusterSequence([fastjet.PseudoJet(*r) for r in rows], jetdef)
        jets = fastjet.sorted_by_pt(cs.inclusive_jets(PT_MIN - 50.0))[:2]
        tops = None
        for j in jets:
            if n >= njets:
                break
            if not (PT_MIN <= j.pt() <= PT_MAX and abs(j.eta()) < ETA_MAX):
                continue
            axis = (j.px(), j.py(), j.pz(), j.E())
            if cls == 0:
                if tops is None:
                    tops = top_quarks(ev)
                if not any(all(delta_r(axis, q) < R_JET for q in t) for t in tops):
                    continue
            cons = np.array([(c.px(), c.py(), c.pz(), c.E()) for c in j.constituents()], np.float64)
            cons = cons[np.argsort(-np.hypot(cons[:, 0], cons[:, 1]), kind="stable")]
            jet4 = cons.sum(axis=0)                    # = the jet (E-scheme), the sum of its constituents
            m = min(len(cons), MAXPART)
            feats[n, :m] = features(cons[:m], jet4)
            vecs[n, :m] = cons[:m]
            mask[n, :m] = 1
            nconst[n] = len(cons)
            jpt = math.hypot(jet4[0], jet4[1])
            kin[n] = (jpt, math.asinh(jet4[2] / jpt), math.atan2(jet4[1], jet4[0]),
                      math.sqrt(max(jet4[3] ** 2 - jet4[0] ** 2 - jet4[1] ** 2 - jet4[2] ** 2, 0.0)),
                      tau32(fastjet, cons))
            allcons.append(cons)
            n += 1
        if _progress is not None and (n - last_report >= 10 or n >= njets):
            _progress.put((cls, n - last_report))
            last_report = n
    # soft drop (fjcontrib) on all the chunk's jets at once
    arr = ak.Array([{"px": c[:, 0], "py": c[:, 1], "pz": c[:, 2], "E": c[:, 3]} for c in allcons])
    arr = ak.zip({"px": arr.px, "py": arr.py, "pz": arr.pz, "E": arr.E}, with_name="Momentum4D")
    sdcs = fastjet.ClusterSequence(arr, fastjet.JetDefinition(fastjet.cambridge_algorithm, 1000.0))
    sd = sdcs.exclusive_jets_softdrop_grooming(njets=1, beta=0.0, symmetry_cut=0.1, symmetry_measure="scalar_z",
                                               R0=R_JET)
    sdmass = np.asarray(ak.to_numpy(sd.msoftdrop), np.float64)
    return dict(cls=cls, chunk=chunk, feats=feats, vecs=vecs, mask=mask, kin=kin, sdmass=sdmass, nconst=nconst,
                nevents=nevents)


# ---- driver ------------------------------------------------------------------------------------------

def fmt_time(s):
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def write_h5(path, parts):
    import h5py
    cat = {k: np.concatenate([p[k] for p in parts]) for k in ("feats", "vecs", "mask", "kin", "sdmass", "nconst")}
    labels = np.concatenate([np.full(len(p["mask"]), p["cls"], np.int32) for p in parts])
    E = len(labels)
    tmp = f"{path}.tmp.{os.getpid()}"
    with h5py.File(tmp, "w", libver=("earliest", "v110"), track_order=False) as f:
        def ds(name, data, chunks=None):
            f.create_dataset(name, data=data, track_times=False, compression="gzip", compression_opts=9,
                             shuffle=True, chunks=chunks)
        ds("particles/features", cat["feats"], (min(E, 64), MAXPART, len(FEATURES)))
        f["particles/features"].attrs["names"] = np.array(FEATURES, dtype="S")
        ds("particles/mask", cat["mask"], (min(E, 1024), MAXPART))
        ds("particles/vectors", cat["vecs"], (min(E, 64), MAXPART, 4))
        ds("labels", labels)
        f["labels"].attrs["names"] = np.array(CLASSES, dtype="S")
        for i, name in enumerate(("pt", "eta", "phi", "mass")):
            ds(f"jets/{name}", cat["kin"][:, i].astype(np.float32))
        ds("jets/sdmass", cat["sdmass"].astype(np.float32))
        ds("jets/tau32", cat["kin"][:, 4].astype(np.float32))
        ds("jets/nconst", cat["nconst"])
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=1000, help="jets per class (default 1000)")
    ap.add_argument("--seed", type=int, default=1, help="base seed, 0..44999 (default 1)")
    ap.add_argument("--out", default="topqcd.h5", help="output HDF5 file (default topqcd.h5)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2); the bytes do not depend on it")
    ap.add_argument("--chunk", type=int, default=250, help="jets per Pythia seed (default 250)")
    ap.add_argument("--pthat-min", type=float, default=500.0)
    ap.add_argument("--pthat-max", type=float, default=700.0)
    a = ap.parse_args(argv)
    if not 0 <= a.seed < 45000:
        ap.error("--seed must be in 0..44999 (Pythia seeds stop at 900000000)")
    if a.events < 1 or a.chunk < 1 or a.workers < 1:
        ap.error("--events, --chunk and --workers must be positive")
    nchunks = -(-a.events // a.chunk)
    if nchunks > 10000:
        ap.error("more than 10000 chunks per class: raise --chunk")
    tasks = [(cls, k, a.seed, min(a.chunk, a.events - k * a.chunk), a.pthat_min, a.pthat_max)
             for k in range(nchunks) for cls in (0, 1)]
    total = 2 * a.events
    queue = mp.Queue()
    t0 = time.time()
    done = [0, 0]
    results = []
    with mp.get_context("fork").Pool(a.workers, initializer=_init_worker, initargs=(queue,)) as pool:
        pending = pool.map_async(run_chunk, tasks, chunksize=1)
        last = 0.0
        while True:
            finished = pending.ready()
            while not queue.empty():
                cls, k = queue.get()
                done[cls] += k
            now = time.time()
            if now - last >= 2.0 or finished:
                last = now
                n = sum(done)
                rate = n / max(now - t0, 1e-9)
                eta = (total - n) / rate if rate > 0 else float("nan")
                print(f"\rtopqcd: top {done[0]}/{a.events}, QCD {done[1]}/{a.events}, {rate:.1f} jets/s, "
                      f"elapsed {fmt_time(now - t0)}, ETA {fmt_time(eta) if n else '?'}   ",
                      end="", file=sys.stderr, flush=True)
            if finished:
                break
            time.sleep(0.2)
        results = pending.get()
    print(file=sys.stderr)
    parts = sorted(results, key=lambda r: (r["cls"], r["chunk"]))
    write_h5(a.out, parts)
    dt = time.time() - t0
    nev = [sum(p["nevents"] for p in parts if p["cls"] == c) for c in (0, 1)]
    print(f"topqcd: wrote {a.out}: {a.events} top + {a.events} QCD jets in {fmt_time(dt)} "
          f"({total / dt:.1f} jets/s with {a.workers} workers; {nev[0]} tt-bar and {nev[1]} QCD events, "
          f"{a.events / nev[0]:.3f} and {a.events / nev[1]:.3f} jets/event)", file=sys.stderr)


if __name__ == "__main__":
    main()
