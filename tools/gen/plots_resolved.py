#!/usr/bin/env python3
"""Plots of the resolved-event samples: tools/gen/spanet_events.py (tt-bar all-hadronic, SPANet layout) and
tools/gen/ttH_darkmachines.py (ttH vs tt-bar, DarkMachines CSV).

    tools/gen/.venv/bin/python tools/gen/plots_resolved.py [SPANET.h5 [EVENTS.csv [OUTDIR]]]
defaults: examples/data/ttbar_allhad_sample.h5, examples/data/ttH_ttbar_sample.csv, docs/img (writes
spanet_masses.png, spanet_matching.png, ttH_multiplicities.png)."""
import os
import sys

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
META = {"Software": None}


def spanet_plots(path, out):
    with h5py.File(path, "r") as f:
        s = f["INPUTS/Source"]
        mask = s["MASK"][:]
        pt, eta, phi, mass = (s[k][:].astype(np.float64) for k in ("pt", "eta", "phi", "mass"))
        T = np.stack([f[f"TARGETS/{t}/{d}"][:] for t in ("t1", "t2") for d in ("b", "q1", "q2")], axis=1)
    E = len(mask)
    nj = mask.sum(axis=1)

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
    title = f"Pythia8 13 TeV all-hadronic tt-bar, anti-kT R=0.4, >= 6 jets, >= 2 b-tags ({E} events)"
    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    axs[0].hist(mt, np.arange(50, 300, 5), histtype="step", lw=1.5, label=f"m(b q q')\n({len(mt)} matched tops)")
    axs[0].axvline(173.0, color="grey", ls=":", lw=1)
    axs[0].set_xlabel("mass of the three truth-matched jets [GeV]")
    axs[1].hist(mw, np.arange(20, 160, 2.5), histtype="step", lw=1.5, color="C1", label="m(q q')")
    axs[1].axvline(80.4, color="grey", ls=":", lw=1)
    axs[1].set_xlabel("mass of the two truth-matched W jets [GeV]")
    for ax in axs:
        ax.set_ylabel("tops / bin")
        ax.legend(loc="upper right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "spanet_masses.png"), dpi=90, metadata=META)

    full = np.all(T >= 0, axis=1)
    top = np.stack([np.all(T[:, :3] >= 0, axis=1), np.all(T[:, 3:] >= 0, axis=1)], axis=1).sum(axis=1)
    ns = np.arange(6, 11)
    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    axs[0].bar(ns, [np.sum(nj == n) / E for n in ns], color="C0", alpha=0.7)
    axs[0].set_xlabel("jets in the event (at most 10 kept)")
    axs[0].set_ylabel("fraction of events")
    for k, (lab, y) in enumerate((("both tops fully matched", full), ("at least one top fully matched", top >= 1))):
        fr = np.array([y[nj == n].mean() for n in ns])
        er = np.array([np.sqrt(max(f * (1 - f), 1e-9) / max(np.sum(nj == n), 1)) for n, f in zip(ns, fr)])
        axs[1].errorbar(ns, fr, er, marker="o", capsize=3, label=lab)
    axs[1].set_xlabel("jets in the event")
    axs[1].set_xticks(ns)
    axs[1].set_ylabel("fraction of events")
    axs[1].set_ylim(0, 1)
    axs[1].legend()
    fig.suptitle(title + "\ntruth matching: Delta R(parton, jet) < 0.4, one jet per parton", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "spanet_matching.png"), dpi=90, metadata=META)


def ttH_plots(path, out):
    counts = {"ttH": [], "ttbar": []}
    with open(path) as f:
        for line in f:
            fields = [x for x in line.rstrip("\n").split(";") if x]
            kinds = [o.split(",")[0] for o in fields[5:]]
            counts[fields[1]].append((kinds.count("b"), kinds.count("j") + kinds.count("b"),
                                      sum(kinds.count(k) for k in ("e-", "e+", "m-", "m+")), float(fields[3]) / 1000))
    fig, axs = plt.subplots(1, 4, figsize=(14, 3.6))
    specs = ((0, np.arange(-0.5, 7.5), "b-tagged jets"), (1, np.arange(-0.5, 14.5), "jets (j + b)"),
             (2, np.arange(-0.5, 4.5), "isolated leptons (e, mu)"), (3, np.arange(0, 410, 20), "MET [GeV]"))
    for ax, (k, bins, xl) in zip(axs, specs):
        for p in ("ttH", "ttbar"):
            v = np.array([c[k] for c in counts[p]])
            ax.hist(v, bins, histtype="step", density=True, lw=1.5, label=f"{p} (mean {v.mean():.2f})")
        ax.set_xlabel(xl)
        ax.legend(fontsize=8)
    axs[0].set_ylabel("fraction of events")
    n = (len(counts["ttH"]), len(counts["ttbar"]))
    fig.suptitle(f"Pythia8 13 TeV, >= 1 lepton, >= 4 jets, >= 2 b-tags ({n[0]} ttH + {n[1]} tt-bar events)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "ttH_multiplicities.png"), dpi=90, metadata=META)


def main():
    sp = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "examples/data/ttbar_allhad_sample.h5")
    dm = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "examples/data/ttH_ttbar_sample.csv")
    out = sys.argv[3] if len(sys.argv) > 3 else os.path.join(ROOT, "docs/img")
    spanet_plots(sp, out)
    ttH_plots(dm, out)


if __name__ == "__main__":
    main()
