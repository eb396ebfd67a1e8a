#!/usr/bin/env python3
"""Physics and layout checks of a tools/gen/spanet_events.py --process tt_allhad file (default: the bundled
examples/data/ttbar_allhad_sample.h5). Each check prints its number and its window; exit 1 if any fails.

  layout      SPANet's full_hadronic_ttbar example layout: /INPUTS/Source/{MASK (bool), mass, pt, eta, phi,
              btag (float32)} [E, 10]; /TARGETS/t1,t2/{b, q1, q2} int64 [E]; real jets first, pT-ordered,
              pT > 25 GeV, |eta| < 2.5; >= 6 jets and >= 2 b-tags per event; targets are -1 or a real jet,
              never one jet for two partons.
  matching    fraction of fully matched events (all six partons) per jet multiplicity: it rises from 6 to
              7 to >= 8 jets (each step by more than 3 standard errors) and is 0.15-0.45 overall (SPANet's
              example file: 0.231). With a fixed parton count, more jets in the acceptance mean fewer partons
              lost below 25 GeV, outside |eta| < 2.5 or merged with another parton into one jet.
  masses      truth-matched hadronic tops (the three jets of t1 or t2 all matched): the m(bqq') peak in
              [160, 180] GeV (m_t = 173 GeV in Pythia, R = 0.4 jets lose some of the decay's radiation)
              and the m(qq') peak in [72, 86] GeV (m_W = 80.4 GeV).
  b-tagging   unbiased probes: a jet whose event has >= 2 b-tags among its other jets would be selected
              whatever its own tag, so its tag rate is the configured one. By ghost flavour the rate must be
              within 3.5 binomial standard errors (+0.005) of 0.70 (b), 0.10 (c), 0.01 (light). Jets matched
              to the tops' b quarks: [0.55, 0.75] (0.70 times the fraction of them that hold the B hadron,
              plus mistags); to the W's down-type quarks (d, s): < 0.04.
"""
import sys

import h5py
import numpy as np

failures = []


def check(name, value, ok, window):
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {value} (window {window})")
    if not ok:
        failures.append(name)


def peak(values, lo, hi, width):
    """Centre of the highest bin of a histogram smoothed with weights 1, 2, 3, 2, 1."""
    h, e = np.histogram(values, np.arange(lo, hi + width / 2, width))
    s = np.convolve(h, [1, 2, 3, 2, 1], mode="same")
    k = int(np.argmax(s))
    return 0.5 * (e[k] + e[k + 1])


def main():
    path = sys.argv[1]
    with h5py.File(path, "r") as f:
        src = f["INPUTS/Source"]
        types = {k: (src[k].dtype, src[k].shape) for k in ("MASK", "mass", "pt", "eta", "phi", "btag")}
        mask = src["MASK"][:]
        pt, eta, phi, mass, btag = (src[k][:].astype(np.float64) for k in ("pt", "eta", "phi", "mass", "btag"))
        names = [(t, d) for t in ("t1", "t2") for d in ("b", "q1", "q2")]
        tdtypes = [f[f"TARGETS/{t}/{d}"].dtype for t, d in names]
        T = np.stack([f[f"TARGETS/{t}/{d}"][:] for t, d in names], axis=1)
        flav = f["TRUTH/Source/flavour"][:]
    E, M = mask.shape
    print(f"{path}: {E} events, {M} jet slots")

    # ---- layout ----
    ok = (types["MASK"][0] == np.bool_ and all(types[k][0] == np.float32 for k in ("mass", "pt", "eta", "phi", "btag"))
          and all(s == (E, 10) for _, s in types.values()) and all(d == np.int64 for d in tdtypes))
    check("layout: MASK bool, features float32 [E, 10], targets int64", "yes" if ok else types, ok, "SPANet's example")
    nj = mask.sum(axis=1)
    prefix = bool(np.all(mask == (np.arange(M)[None, :] < nj[:, None])))
    check("layout: real jets first", prefix, prefix, "all events")
    real = mask
    ordered = bool(np.all(np.diff(np.where(real, pt, 0.0), axis=1) <= 0))
    check("layout: jets pT-ordered", ordered, ordered, "all events")
    check("cuts: min jet pT [GeV]", round(float(pt[real].min()), 3), pt[real].min() > 25.0, "> 25")
    check("cuts: max jet |eta|", round(float(np.abs(eta[real]).max()), 4), np.abs(eta[real]).max() < 2.5, "< 2.5")
    check("cuts: min jets per event", int(nj.min()), nj.min() >= 6, ">= 6")
    nb = (btag * real).sum(axis=1)
    check("cuts: min b-tags per event", int(nb.min()), nb.min() >= 2 and set(np.unique(btag[real])) <= {0.0, 1.0},
          ">= 2, tags 0 or 1")
    valid = bool(np.all((T == -1) | ((T >= 0) & (T < nj[:, None]))))
    check("targets: -1 or a real jet", valid, valid, "all")
    dup = 0
    for row in T:
        m = row[row >= 0]
        dup += len(m) != len(set(m.tolist()))
    check("targets: events with one jet for two partons", dup, dup == 0, "0")

    # ---- matching vs multiplicity ----
    full = np.all(T >= 0, axis=1)
    frac, err = {}, {}
    for lab, sel in (("6", nj == 6), ("7", nj == 7), (">=8", nj >= 8)):
        n = int(sel.sum())
        frac[lab] = float(full[sel].mean()) if n else float("nan")
        err[lab] = float(np.sqrt(frac[lab] * (1 - frac[lab]) / max(n, 1)))
        print(f"     fully matched, {lab} jets: {frac[lab]:.3f} +- {err[lab]:.3f} ({n} events)")
    overall = float(full.mean())
    check("matching: fully matched fraction, all events", round(overall, 3), 0.15 <= overall <= 0.45, "[0.15, 0.45]")
    rise = all(frac[b] - frac[a] > 3 * np.hypot(err[a], err[b]) for a, b in (("6", "7"), ("7", ">=8")))
    check("matching: fully matched fraction rises 6 -> 7 -> >=8 jets",
          f"{frac['6']:.3f} -> {frac['7']:.3f} -> {frac['>=8']:.3f}", rise, "each step > 3 sigma")
    per_parton = (T >= 0).mean(axis=0)
    print("     matched fraction per parton (t1 b q1 q2, t2 b q1 q2): " + " ".join(f"{x:.3f}" for x in per_parton))

    # ---- masses ----
    def p4(ev, j):
        p, e_, ph, m = pt[ev, j], eta[ev, j], phi[ev, j], mass[ev, j]
        return np.stack([p * np.cos(ph), p * np.sin(ph), p * np.sinh(e_), np.sqrt((p * np.cosh(e_)) ** 2 + m ** 2)], 1)

    def minv(v):
        return np.sqrt(np.maximum(v[:, 3] ** 2 - v[:, 0] ** 2 - v[:, 1] ** 2 - v[:, 2] ** 2, 0.0))

    mt, mw = [], []
    for t in range(2):
        ev = np.nonzero(np.all(T[:, 3 * t:3 * t + 3] >= 0, axis=1))[0]
        b, q1, q2 = (p4(ev, T[ev, 3 * t + k]) for k in range(3))
        mt.append(minv(b + q1 + q2))
        mw.append(minv(q1 + q2))
    mt, mw = np.concatenate(mt), np.concatenate(mw)
    pk = peak(mt, 100, 250, 2.5)
    check("masses: m(bqq') peak of matched tops [GeV]", f"{pk:.2f} (median {np.median(mt):.1f}, {len(mt)} tops)",
          160 <= pk <= 180, "[160, 180]")
    pk = peak(mw, 40, 130, 2.0)
    check("masses: m(qq') peak of matched W [GeV]", f"{pk:.2f} (median {np.median(mw):.1f})", 72 <= pk <= 86,
          "[72, 86]")

    # ---- b-tagging ----
    tagged = (btag > 0.5) & real
    others = tagged.sum(axis=1)[:, None] - tagged                   # tags among the event's other jets
    probe = real & (others >= 2)
    for fl, eff, lab in ((5, 0.70, "b"), (4, 0.10, "c"), (0, 0.01, "light")):
        sel = probe & (flav == fl)
        n = int(sel.sum())
        r = float(tagged[sel].mean())
        tol = 3.5 * np.sqrt(eff * (1 - eff) / n) + 0.005
        check(f"b-tagging: tag rate of unbiased {lab} jets (ghost flavour)", f"{r:.4f} ({n} jets)",
              abs(r - eff) <= tol, f"{eff} +- {tol:.4f}")

    def matched(cols):
        """(event, jet) indices of the jets matched to the partons of target columns cols."""
        ev = np.concatenate([np.nonzero(T[:, c] >= 0)[0] for c in cols])
        return ev, np.concatenate([T[T[:, c] >= 0, c] for c in cols])

    def matched_rate(cols):
        ev, jt = matched(cols)
        sel = probe[ev, jt]
        return float(tagged[ev, jt][sel].mean()), int(sel.sum())

    r, n = matched_rate((0, 3))
    ev, jt = matched((0, 3))
    fb = float((flav[ev, jt] == 5)[probe[ev, jt]].mean())
    check("b-tagging: tag rate of unbiased jets matched to b quarks", f"{r:.4f} ({n} jets, {fb:.3f} of them b)",
          0.55 <= r <= 0.75, "[0.55, 0.75]")
    r, n = matched_rate((2, 5))
    check("b-tagging: tag rate of unbiased jets matched to the W's d, s quarks", f"{r:.4f} ({n} jets)", r < 0.04,
          "< 0.04")
    r, n = matched_rate((1, 4))
    print(f"     tag rate of unbiased jets matched to the W's u, c quarks: {r:.4f} ({n} jets; half c at 0.10)")
    print(f"     tag rate of all jets matched to b quarks (biased by the >= 2 b-tag selection): "
          f"{float(tagged[ev, jt].mean()):.3f}")

    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
