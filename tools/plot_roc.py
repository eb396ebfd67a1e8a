#!/usr/bin/env python3
"""ROC of `hepnc eval`: ROC.csv (eff_signal, eff_background) -> PNG, drawn as physicists quote it:
background rejection 1/eps_B (log scale) against the signal efficiency eps_S.
Usage: plot_roc.py ROC.csv OUT.png [TITLE]
Exit status 3 when matplotlib is missing (hepnc then warns and goes on), 1 for an unreadable file."""
import csv
import os
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_roc.py: matplotlib is not installed", file=sys.stderr)
        return 3
    roc, out = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else "ROC"
    with open(roc, newline="") as f:
        pts = [(float(r["eff_signal"]), float(r["eff_background"])) for r in csv.DictReader(f)]
    pts = [(s, b) for s, b in pts if s > 0 and b > 0]
    if not pts:
        print(f"plot_roc.py: {roc} has no point with both efficiencies above zero", file=sys.stderr)
        return 1
    fig, ax = plt.subplots(figsize=(6, 5), constrained_layout=True)
    ax.plot([s for s, _ in pts], [1 / b for _, b in pts], "-", color="C0")
    ax.plot([s for s, _ in pts], [1 / s for s, _ in pts], ":", color="grey", label="random")
    ax.set_yscale("log")
    ax.set_xlabel(r"signal efficiency $\varepsilon_S$")
    ax.set_ylabel(r"background rejection $1/\varepsilon_B$")
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    ax.set_title(title)
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
