#!/usr/bin/env python3
"""Plots of a tools/gen/topqcd.py sample: jet and soft-drop mass, and tau32, top vs QCD.

    tools/gen/.venv/bin/python tools/gen/plots.py [FILE] [OUTDIR]
defaults: examples/data/topqcd_sample.h5, docs/img (writes topqcd_mass.png, topqcd_tau32.png)."""
import os
import sys

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "examples/data/topqcd_sample.h5")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs/img")
    with h5py.File(path, "r") as f:
        lab = f["labels"][:]
        j = {k: f[f"jets/{k}"][:] for k in ("mass", "sdmass", "tau32")}
    top, qcd = lab == 0, lab == 1
    title = f"Pythia8 14 TeV, anti-kT R=0.8, pT 550-650 GeV, |eta|<2 ({top.sum()} top, {qcd.sum()} QCD jets)"
    meta = {"Software": None}

    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    bins = np.arange(0, 305, 5)
    for ax, key, xl in ((axs[0], "mass", "jet mass [GeV]"), (axs[1], "sdmass", "soft-drop mass (beta=0, z_cut=0.1) [GeV]")):
        ax.hist(j[key][top], bins, histtype="step", density=True, lw=1.5, label="top (t -> bqq')")
        ax.hist(j[key][qcd], bins, histtype="step", density=True, lw=1.5, label="QCD")
        ax.axvline(172.5, color="grey", ls=":", lw=1)
        ax.axvline(80.4, color="grey", ls=":", lw=1)
        ax.set_xlabel(xl)
        ax.set_ylabel("fraction / GeV")
        ax.legend()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "topqcd_mass.png"), dpi=90, metadata=meta)

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    bins = np.linspace(0, 1.2, 49)
    ax.hist(j["tau32"][top], bins, histtype="step", density=True, lw=1.5, label="top (t -> bqq')")
    ax.hist(j["tau32"][qcd], bins, histtype="step", density=True, lw=1.5, label="QCD")
    ax.set_xlabel("tau3/tau2 (beta=1, exclusive-kT axes)")
    ax.set_ylabel("density")
    ax.legend(loc="upper left")
    ax.set_title(title.replace(" (", "\n("), fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "topqcd_tau32.png"), dpi=90, metadata=meta)
    print(f"wrote {out}/topqcd_mass.png, {out}/topqcd_tau32.png")


if __name__ == "__main__":
    main()
