#!/usr/bin/env python3
"""Format and physics checks of a tools/gen/ttH_darkmachines.py file made with the default selection `1l`
(default: the bundled examples/data/ttH_ttbar_sample.csv). Each check prints its number and its window;
exit 1 if any fails.

  format      every line is `ID;process;weight;MET;METphi;obj,E,pT,eta,phi;...;` with IDs 1, 2, ... in order,
              processes ttH and ttbar in equal numbers (and balanced within the first half of the file),
              objects j b e- e+ m- m+ g in decreasing pT, at most 64 per line (hepnc's reader).
  units/cuts  MeV: every object has pT > 25000 and |eta| < 2.5, E >= pT cosh(eta) (to the written
              precision), |phi| <= pi; MET >= 0; weights > 0.
  selection   >= 1 lepton, >= 4 jets (j + b), >= 2 b in every event.
  physics     ttH has more b jets than tt-bar (H -> b b-bar, BR 0.58): mean b count ttH - ttbar in
              [0.25, 1.0] and the fraction of events with >= 3 b at least 1.8 x tt-bar's; more jets (j + b):
              mean difference in [0.5, 2.0] (the Higgs decay products); photons rare (< 0.1 per event).
              The selected cross-sections (sum of weights, LO Pythia at 13 TeV: about 350 fb and 510 pb before
              the selection): ttH in [35, 90] fb, tt-bar in [15, 45] pb.
"""
import math
import sys

import numpy as np

KINDS = ("j", "b", "e-", "e+", "m-", "m+", "g")
failures = []


def check(name, value, ok, window):
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {value} (window {window})")
    if not ok:
        failures.append(name)


def main():
    path = sys.argv[1]
    events = []              # (process, weight, met, counts dict)
    bad = []
    nobj_max = 0
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            fields = line.rstrip("\n").split(";")
            if fields and fields[-1] == "":
                fields.pop()
            try:
                eid, proc, w, met, metphi = fields[0], fields[1], float(fields[2]), float(fields[3]), float(fields[4])
                if int(eid) != lineno:
                    bad.append(f"line {lineno}: ID {eid}")
                if proc not in ("ttH", "ttbar") or w <= 0 or met < 0 or abs(metphi) > math.pi + 1e-5:
                    bad.append(f"line {lineno}: header {fields[:5]}")
                counts = dict.fromkeys(KINDS, 0)
                last_pt = math.inf
                for obj in fields[5:]:
                    kind, e, pt, eta, phi = obj.split(",")
                    e, pt, eta, phi = float(e), float(pt), float(eta), float(phi)
                    counts[kind] += 1                # KeyError: unknown kind
                    if not (pt > 25000.0 and abs(eta) < 2.5 and abs(phi) <= math.pi + 1e-5):
                        bad.append(f"line {lineno}: object {obj} outside pT > 25 GeV, |eta| < 2.5")
                    if e < pt * math.cosh(eta) * (1 - 2e-5) - 0.1:
                        bad.append(f"line {lineno}: object {obj} has E < pT cosh(eta)")
                    if pt > last_pt:
                        bad.append(f"line {lineno}: objects not in decreasing pT")
                    last_pt = pt
                nobj_max = max(nobj_max, len(fields) - 5)
                events.append((proc, w, met, counts))
            except (ValueError, KeyError, IndexError) as exc:
                bad.append(f"line {lineno}: {exc!r}")
    E = len(events)
    print(f"{path}: {E} events")
    check("format: lines that do not parse or break the format", len(bad), not bad,
          "0" + (f"; first: {bad[0]}" if bad else ""))
    check("format: objects per line, at most", nobj_max, nobj_max <= 64, "<= 64")
    procs = [e[0] for e in events]
    nh, nt = procs.count("ttH"), procs.count("ttbar")
    half = procs[:E // 2]
    check("format: ttH / ttbar events", f"{nh} / {nt}", nh == nt and nh > 0, "equal")
    check("format: ttH / ttbar in the first half", f"{half.count('ttH')} / {half.count('ttbar')}",
          abs(half.count("ttH") - half.count("ttbar")) <= 0.1 * len(half), "within 10 %")

    def arr(proc, key):
        return np.array([c[key] if isinstance(key, str) else key(c) for p, _, _, c in events if p == proc], float)

    nlep = lambda c: c["e-"] + c["e+"] + c["m-"] + c["m+"]       # noqa: E731
    njet = lambda c: c["j"] + c["b"]                             # noqa: E731
    sel = all(nlep(c) >= 1 and njet(c) >= 4 and c["b"] >= 2 for _, _, _, c in events)
    check("selection: >= 1 lepton, >= 4 jets, >= 2 b in every event", sel, sel, "all")

    bh, bt = arr("ttH", "b"), arr("ttbar", "b")
    jh, jt = arr("ttH", njet), arr("ttbar", njet)
    print(f"     mean b jets: ttH {bh.mean():.3f}, ttbar {bt.mean():.3f}; mean jets (j + b): ttH {jh.mean():.3f}, "
          f"ttbar {jt.mean():.3f}; mean leptons: ttH {arr('ttH', nlep).mean():.3f}, "
          f"ttbar {arr('ttbar', nlep).mean():.3f}")
    d = bh.mean() - bt.mean()
    check("physics: mean b jets, ttH - ttbar", f"{d:.3f}", 0.25 <= d <= 1.0, "[0.25, 1.0]")
    fh, ft = (bh >= 3).mean(), (bt >= 3).mean()
    check("physics: fraction with >= 3 b, ttH / ttbar", f"{fh:.3f} / {ft:.3f} = {fh / ft:.2f}", fh >= 1.8 * ft,
          ">= 1.8")
    d = jh.mean() - jt.mean()
    check("physics: mean jets (j + b), ttH - ttbar", f"{d:.3f}", 0.5 <= d <= 2.0, "[0.5, 2.0]")
    g = np.mean([c["g"] for _, _, _, c in events])
    check("physics: photons per event", f"{g:.4f}", g < 0.1, "< 0.1")
    xh = sum(w for p, w, _, _ in events if p == "ttH")
    xt = sum(w for p, w, _, _ in events if p == "ttbar")
    check("physics: selected ttH cross-section [fb]", f"{xh:.2f}", 35 <= xh <= 90, "[35, 90]")
    check("physics: selected ttbar cross-section [pb]", f"{xt / 1000:.2f}", 15 <= xt / 1000 <= 45, "[15, 45]")
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
