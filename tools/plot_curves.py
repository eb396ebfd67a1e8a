#!/usr/bin/env python3
"""Training curves of a `hepnc train` run: RUN/log.csv -> PNG (loss, accuracy, validation AUC and the
learning rate against the epoch). Usage: plot_curves.py LOG.csv OUT.png [TITLE]
Exit status 3 when matplotlib is missing (hepnc then warns and goes on), 1 for an unreadable log."""
import csv
import math
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
        print("plot_curves.py: matplotlib is not installed", file=sys.stderr)
        return 3
    log, out = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else os.path.basename(os.path.dirname(os.path.abspath(log)))
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print(f"plot_curves.py: {log} has no epochs yet", file=sys.stderr)
        return 1
    col = lambda k: [float(r[k]) for r in rows]
    ep = col("epoch")
    fig, ax = plt.subplots(2, 2, figsize=(10, 7), constrained_layout=True)
    ax[0, 0].plot(ep, col("train_loss"), "o-", label="train")
    ax[0, 0].plot(ep, col("val_loss"), "s-", label="validation")
    ax[0, 0].set_ylabel("loss")
    ax[0, 1].plot(ep, col("train_acc"), "o-", label="train")
    ax[0, 1].plot(ep, col("val_acc"), "s-", label="validation")
    ax[0, 1].set_ylabel("accuracy")
    auc = col("val_auc")
    ax[1, 0].plot(ep, auc, "s-", color="C2")
    ax[1, 0].set_ylabel("validation AUC")
    ax[1, 0].margins(y=0.15)
    good = [(e, a) for e, a in zip(ep, auc) if not math.isnan(a)]
    if good:
        e, a = max(good, key=lambda x: x[1])
        ax[1, 0].annotate(f"{a:.4f}", (e, a), textcoords="offset points", xytext=(0, 6), ha="center")
    ax[1, 1].plot(ep, col("lr"), "o-", color="C3")
    ax[1, 1].set_ylabel("learning rate (last step)")
    ax[1, 1].set_yscale("log")
    for a in ax.flat:
        a.set_xlabel("epoch")
        a.grid(alpha=0.3)
    for a in (ax[0, 0], ax[0, 1]):
        a.legend()
    fig.suptitle(title)
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
