"""Shared pieces of the event generators in tools/gen (spanet_events.py, ttH_darkmachines.py).

Particle-level objects from one Pythia8 event, with the definitions documented in docs/data.md
("Resolved events"):
  - visible final state = every final-state particle except neutrinos (12, 14, 16);
  - leptons: final-state e and mu, dressed with the photons within Delta R < 0.1, pT > 25 GeV, |eta| < 2.5,
    isolated: sum pT of the other visible final-state particles (not the dressing photons) within
    Delta R < 0.3 below 0.15 x the dressed lepton's pT;
  - photons (only when asked): final-state photons not used to dress a lepton, pT > 25 GeV, |eta| < 2.5,
    isolated as the leptons;
  - jets: anti-kT R = 0.4 (FastJet, E-scheme) on the visible final state minus the isolated leptons, their
    dressing photons and the isolated photons; pT > 25 GeV, |eta| < 2.5;
  - jet flavour by ghost association: weakly decaying B hadrons (a b quark, no B hadron among the
    daughters) and C hadrons with pT > 5 GeV are added with momenta scaled by 1e-18; a jet holding a B ghost
    is b, else one holding a C ghost is c, else light;
  - b tagging: a tagged jet is drawn with probability 0.70 (b), 0.10 (c), 0.01 (light) from a numpy
    Generator seeded per chunk;
  - MET: the vector sum of the neutrinos' transverse momenta.
Delta R is sqrt(d eta^2 + d phi^2) in pseudorapidity throughout.

Driver: work is cut into chunks, each chunk is one Pythia seed (the caller's formula), run by a pool of
worker processes; progress and ETA on stderr. The output depends on the chunks, never on the workers.
"""
import math
import multiprocessing as mp
import os
import sys
import time

import numpy as np

INVISIBLE = (12, 14, 16)
JET_R = 0.4
JET_PT_MIN = 25.0
ETA_MAX = 2.5
LEP_PT_MIN = 25.0
PHOTON_PT_MIN = 25.0
DRESS_R = 0.1
ISO_R = 0.3
ISO_MAX = 0.15
GHOST_PT_MIN = 5.0
GHOST_SCALE = 1e-18
BTAG_EFF = {5: 0.70, 4: 0.10, 0: 0.01}       # tag probability by ghost flavour (b, c, light)
MATCH_R = 0.4


# ---- kinematics -----------------------------------------------------------------------------------------

def pt_eta_phi_m(p):
    """(pt, eta, phi, m) of a 4-vector (px, py, pz, E); m = 0 for a negative m^2 (rounding)."""
    pt = math.hypot(p[0], p[1])
    eta = math.asinh(p[2] / pt) if pt > 0 else math.copysign(1e9, p[2])
    m2 = p[3] * p[3] - p[0] * p[0] - p[1] * p[1] - p[2] * p[2]
    return pt, eta, math.atan2(p[1], p[0]), math.sqrt(m2) if m2 > 0 else 0.0


def dphi(a, b):
    d = abs(a - b) % (2 * math.pi)
    return 2 * math.pi - d if d > math.pi else d


def delta_r(eta1, phi1, eta2, phi2):
    return math.hypot(eta1 - eta2, dphi(phi1, phi2))


def heavy_flavour(aid):
    """5 for a hadron code with a b quark, 4 with a c quark (and no b), else 0 (PDG numbering)."""
    d3, d2, d1 = (aid // 1000) % 10, (aid // 100) % 10, (aid // 10) % 10
    q = (d2, d1) if d3 == 0 else (d3, d2, d1)
    return 5 if 5 in q else 4 if 4 in q else 0


# ---- one event --------------------------------------------------------------------------------------------

class Objects:
    """Particle-level objects of one event (GeV, rad). Lists are sorted by decreasing pT.
    leptons: (pid, px, py, pz, E) dressed; photons: (px, py, pz, E); jets: (px, py, pz, E, flavour);
    met: (px, py); sumet: scalar sum of the visible final-state pT."""
    __slots__ = ("leptons", "photons", "jets", "met", "sumet", "njets_all")


def event_objects(ev, fastjet, jetdef, photons=False):
    """The objects of a Pythia event record `ev` (module docstring)."""
    vis, nu = [], [0.0, 0.0]
    ghosts = []
    for q in ev:
        if q.isFinal():
            a = q.idAbs()
            if a in INVISIBLE:
                nu[0] += q.px()
                nu[1] += q.py()
            else:
                vis.append((q.px(), q.py(), q.pz(), q.e(), q.id()))
        elif q.isHadron():
            fl = heavy_flavour(q.idAbs())
            if fl and q.pT() > GHOST_PT_MIN:
                if not any(heavy_flavour(ev[d].idAbs()) == fl and ev[d].isHadron() for d in q.daughterList()):
                    ghosts.append((q.px() * GHOST_SCALE, q.py() * GHOST_SCALE, q.pz() * GHOST_SCALE,
                                   q.e() * GHOST_SCALE, fl))
    v = np.array([r[:4] for r in vis], np.float64).reshape(-1, 4)
    ids = np.array([r[4] for r in vis], np.int64)
    pt = np.hypot(v[:, 0], v[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(v[:, 2] / np.where(pt > 0, pt, 1.0)), np.sign(v[:, 2]) * 1e9)
    phi = np.arctan2(v[:, 1], v[:, 0])
    aid = np.abs(ids)
    used = np.zeros(len(v), bool)           # removed from the jet inputs

    def cone(i, r):
        d = np.abs(phi - phi[i]) % (2 * np.pi)
        d = np.where(d > np.pi, 2 * np.pi - d, d)
        return np.hypot(eta - eta[i], d) < r

    leptons = []
    cands = np.nonzero(((aid == 11) | (aid == 13)) & (pt > 0.5 * LEP_PT_MIN))[0]
    for i in cands[np.argsort(-pt[cands], kind="stable")]:
        if used[i]:
            continue
        dress = cone(i, DRESS_R) & (aid == 22) & ~used
        dress[i] = False
        p = v[i] + v[dress].sum(axis=0)
        lpt, leta, _, _ = pt_eta_phi_m(p)
        if lpt <= LEP_PT_MIN or abs(leta) >= ETA_MAX:
            continue
        iso = cone(i, ISO_R) & ~dress
        iso[i] = False
        if pt[iso].sum() >= ISO_MAX * lpt:
            continue
        used[i] = True
        used |= dress
        leptons.append((int(ids[i]), *map(float, p)))
    gammas = []
    if photons:
        cands = np.nonzero((aid == 22) & (pt > PHOTON_PT_MIN) & (np.abs(eta) < ETA_MAX) & ~used)[0]
        for i in cands[np.argsort(-pt[cands], kind="stable")]:
            iso = cone(i, ISO_R)
            iso[i] = False
            if pt[iso].sum() >= ISO_MAX * pt[i]:
                continue
            used[i] = True
            gammas.append(tuple(map(float, v[i])))
    inputs = []
    for k in np.nonzero(~used)[0]:
        pj = fastjet.PseudoJet(*map(float, v[k]))
        pj.set_user_index(int(k))
        inputs.append(pj)
    for g in ghosts:
        pj = fastjet.PseudoJet(*g[:4])
        pj.set_user_index(-g[4])
        inputs.append(pj)
    cs = fastjet.ClusterSequence(inputs, jetdef)
    jets = []
    for j in fastjet.sorted_by_pt(cs.inclusive_jets(JET_PT_MIN)):
        if abs(j.eta()) >= ETA_MAX:
            continue
        fl = 0
        for c in j.constituents():
            u = c.user_index()
            if u == -5:
                fl = 5
                break
            if u == -4:
                fl = 4
        # the ghosts' momenta (1e-18 x a hadron's) vanish next to the jet's in double precision
        p = (j.px(), j.py(), j.pz(), j.E())
        jets.append((*p, fl))
    o = Objects()
    o.leptons = sorted(leptons, key=lambda r: -math.hypot(r[1], r[2]))
    o.photons = gammas
    o.jets = jets
    o.met = (nu[0], nu[1])
    o.sumet = float(pt.sum())
    o.njets_all = len(jets)
    return o


def btag(rng, flavour):
    """One Bernoulli draw per jet with the BTAG_EFF probability of its ghost flavour."""
    return rng.random() < BTAG_EFF[flavour]


def match(partons, jets):
    """Unique parton -> jet matching: pairs with Delta R < MATCH_R, taken in increasing Delta R (ties by
    parton then jet order), each parton and each jet used once. partons: list of 4-vectors; jets: list of
    (px, py, pz, E, ...). Returns, per parton, the jet index or -1."""
    pj = [pt_eta_phi_m(p) for p in partons]
    jj = [pt_eta_phi_m(j[:4]) for j in jets]
    pairs = []
    for a, (_, e1, f1, _) in enumerate(pj):
        for b, (_, e2, f2, _) in enumerate(jj):
            d = delta_r(e1, f1, e2, f2)
            if d < MATCH_R:
                pairs.append((d, a, b))
    pairs.sort()
    out = [-1] * len(partons)
    taken = set()
    for _, a, b in pairs:
        if out[a] < 0 and b not in taken:
            out[a] = b
            taken.add(b)
    return out


# ---- truth record -------------------------------------------------------------------------------------------

def p4(q):
    return (q.px(), q.py(), q.pz(), q.e())


def top_decays(ev):
    """Each top decay t -> b W in the record, as a dict: sign (+1 t, -1 t-bar), top (4-vector of the decaying
    copy), b (the b as produced), wdau [(id, 4-vector), (id, 4-vector)] (the W's daughters as produced,
    after the W's recoil copies). Ordered by sign, t first."""
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
        wd = [(ev[j].id(), p4(ev[j])) for j in w.daughterList()]
        if len(wd) != 2:
            continue
        out.append(dict(sign=1 if p.id() > 0 else -1, top=p4(p), b=p4(ev[bs[0]]), wdau=wd))
    out.sort(key=lambda t: -t["sign"])
    return out


def higgs_bb(ev):
    """(H 4-vector, b, b-bar) of the decaying H -> b b-bar copy, or None."""
    for i in range(ev.size()):
        p = ev[i]
        if p.idAbs() != 25:
            continue
        d = p.daughterList()
        if len(d) == 2 and sorted(ev[j].id() for j in d) == [-5, 5]:
            b = next(j for j in d if ev[j].id() == 5)
            bb = next(j for j in d if ev[j].id() == -5)
            return p4(p), p4(ev[b]), p4(ev[bb])
    return None


# ---- Pythia -------------------------------------------------------------------------------------------------

def make_pythia(pythia8, seed, settings, ecm):
    p = pythia8.Pythia("", False)
    for s in [f"Beams:eCM = {ecm}", "PartonLevel:MPI = on", "HadronLevel:all = on", "Random:setSeed = on",
              f"Random:seed = {seed}", "Print:quiet = on", "Next:numberCount = 0"] + list(settings):
        if not p.readString(s):
            raise RuntimeError(f"Pythia refused '{s}'")
    if not p.init():
        raise RuntimeError("Pythia init failed")
    return p


def sigma_fb(pythia):
    """Pythia's estimate of the generated cross-section so far, in fb."""
    return pythia.infoPython().sigmaGen() * 1e12


# ---- driver ---------------------------------------------------------------------------------------------------

_progress = None


def _init_worker(queue):
    global _progress
    _progress = queue
    devnull = os.open(os.devnull, os.O_WRONLY)         # Pythia and FastJet banners go to stdout
    os.dup2(devnull, 1)


def report(stream, n):
    """From a worker: n more accepted events of stream `stream`."""
    if _progress is not None and n:
        _progress.put((stream, n))


def fmt_time(s):
    if s != s:
        return "?"
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def run_chunks(name, fn, tasks, workers, totals, labels):
    """Runs fn(task) for every task in a pool of `workers` processes; totals[k] accepted events are expected
    on stream k (labels[k] names it). Prints progress and ETA on stderr; returns the results in task order."""
    queue = mp.Queue()
    t0 = time.time()
    done = [0] * len(totals)
    total = sum(totals)
    with mp.get_context("fork").Pool(workers, initializer=_init_worker, initargs=(queue,)) as pool:
        pending = pool.map_async(fn, tasks, chunksize=1)
        last = 0.0
        while True:
            finished = pending.ready()
            while not queue.empty():
                k, n = queue.get()
                done[k] += n
            now = time.time()
            if now - last >= 2.0 or finished:
                last = now
                n = sum(done)
                rate = n / max(now - t0, 1e-9)
                eta = (total - n) / rate if rate > 0 else float("nan")
                parts = ", ".join(f"{lab} {d}/{t}" for lab, d, t in zip(labels, done, totals))
                print(f"\r{name}: {parts}, {rate:.1f} events/s, elapsed {fmt_time(now - t0)}, "
                      f"ETA {fmt_time(eta) if n else '?'}   ", end="", file=sys.stderr, flush=True)
            if finished:
                break
            time.sleep(0.2)
        results = pending.get()
    print(file=sys.stderr)
    return results, time.time() - t0
