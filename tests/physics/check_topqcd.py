#!/usr/bin/env python3
"""Physics checks on a top/QCD jet sample written by tools/gen/topqcd.py (default: the bundled
examples/data/topqcd_sample.h5). numpy + h5py only; the subjets are reclustered here, independently of
FastJet. Prints one line per check with its value and window, then `N passed, M failed`; exit 1 on a failure.

    tools/gen/.venv/bin/python tests/physics/check_topqcd.py [FILE]
"""
import os
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FEATURES = ["part_pt_log", "part_e_log", "part_logptrel", "part_logerel", "part_deltaR", "part_deta",
            "part_dphi"]
results = []


def check(name, ok, value, window):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}: {value} (window {window})")


def peak(values, lo, hi, width):
    """Centre of the most populated bin of a histogram smoothed over three bins."""
    counts, edges = np.histogram(values, bins=np.arange(lo, hi + width, width))
    smooth = np.convolve(counts, [1, 1, 1], mode="same")
    k = int(np.argmax(smooth))
    return 0.5 * (edges[k] + edges[k + 1])


def rap_phi_pt2(p):
    pt2 = p[:, 0] ** 2 + p[:, 1] ** 2
    y = 0.5 * np.log((p[:, 3] + p[:, 2]) / (p[:, 3] - p[:, 2]))
    return y, np.arctan2(p[:, 1], p[:, 0]), pt2


def exclusive_kt(p, n):
    """Exclusive kT clustering of 4-vectors p [k,4] down to n jets: merge the pair with the smallest
    min(pt_i^2, pt_j^2) * dR_ij^2 (rapidity-phi), E-scheme, no beam distance (R -> infinity)."""
    p = p.copy()
    while len(p) > n:
        y, phi, pt2 = rap_phi_pt2(p)
        dphi = np.abs(phi[:, None] - phi[None, :])
        dphi = np.minimum(dphi, 2 * np.pi - dphi)
        d = np.minimum(pt2[:, None], pt2[None, :]) * ((y[:, None] - y[None, :]) ** 2 + dphi ** 2)
        np.fill_diagonal(d, np.inf)
        i, j = np.unravel_index(np.argmin(d), d.shape)
        p[i] += p[j]
        p = np.delete(p, j, axis=0)
    return p


def tau_n(p, axes):
    y, phi, pt2 = rap_phi_pt2(p)
    ya, phia, _ = rap_phi_pt2(axes)
    dphi = np.abs(phi[:, None] - phia[None, :])
    dphi = np.minimum(dphi, 2 * np.pi - dphi)
    return np.sum(np.sqrt(pt2) * np.sqrt(np.min((y[:, None] - ya[None, :]) ** 2 + dphi ** 2, axis=1)))


def mass(p):
    return np.sqrt(np.maximum(p[..., 3] ** 2 - p[..., 0] ** 2 - p[..., 1] ** 2 - p[..., 2] ** 2, 0))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "examples/data/topqcd_sample.h5")
    with h5py.File(path, "r") as f:
        x = f["particles/features"][:]
        names = [s.decode() if isinstance(s, bytes) else s for s in f["particles/features"].attrs["names"]]
        mask = f["particles/mask"][:].astype(bool)
        v = f["particles/vectors"][:].astype(np.float64)
        labels = f["labels"][:]
        jets = {k: f[f"jets/{k}"][:] for k in ("pt", "eta", "phi", "mass", "sdmass", "tau32", "nconst")}
    top, qcd = labels == 0, labels == 1
    E = len(labels)
    print(f"{path}: {E} jets, {top.sum()} top (label 0), {qcd.sum()} QCD (label 1)")

    check("labels are 0 (top) or 1 (QCD), both present", bool(np.all(top | qcd) and top.any() and qcd.any()),
          f"{top.sum()} + {qcd.sum()} of {E}", "{0, 1}")
    check("feature names", names == FEATURES, names, "weaver JetClass kin")
    n = mask.sum(axis=1)
    prefix = bool(np.all(mask == (np.arange(mask.shape[1])[None, :] < n[:, None])))
    check("masks are prefixes, >= 1 real row", prefix and n.min() >= 1, f"min {n.min()}, max {n.max()} rows", "prefix")
    check("all features and vectors finite", bool(np.isfinite(x).all() and np.isfinite(v).all()),
          f"{(~np.isfinite(x)).sum() + (~np.isfinite(v)).sum()} non-finite", "0")
    check("padding rows are zero", bool(not x[~mask].any() and not v[~mask].any()),
          f"{np.count_nonzero(x[~mask]) + np.count_nonzero(v[~mask])} nonzero", "0")
    pt, eta = jets["pt"], jets["eta"]
    check("jet pT in [550, 650] GeV", bool(pt.min() >= 550 and pt.max() <= 650),
          f"[{pt.min():.1f}, {pt.max():.1f}]", "[550, 650]")
    check("jet |eta| < 2", bool(np.abs(eta).max() < 2), f"max {np.abs(eta).max():.3f}", "< 2")
    ptord = np.all(np.diff(np.where(mask, np.hypot(v[..., 0], v[..., 1]), -1.0), axis=1) <= 1e-3)
    check("constituents ordered by pT", bool(ptord), "", "descending")

    # features recomputed from the vectors, weaver's definitions, on jets with all constituents stored
    full = jets["nconst"] <= mask.shape[1]
    j4 = np.where(mask[..., None], v, 0).sum(axis=1)
    jpt, jeta, jphi = np.hypot(j4[:, 0], j4[:, 1]), np.arcsinh(j4[:, 2] / np.hypot(j4[:, 0], j4[:, 1])), \
        np.arctan2(j4[:, 1], j4[:, 0])
    dpt = np.abs(jpt - pt)[full].max()
    check("sum of constituents = jet pT (jets with <= 128 constituents)", bool(dpt < 0.05),
          f"max |diff| {dpt:.4f} GeV over {full.sum()} jets", "< 0.05 GeV")
    with np.errstate(divide="ignore", invalid="ignore"):
        ppt = np.hypot(v[..., 0], v[..., 1])
        peta = np.arcsinh(v[..., 2] / ppt)
        pphi = np.arctan2(v[..., 1], v[..., 0])
        sgn = np.where(jeta >= 0, 1.0, -1.0)[:, None]
        deta = (peta - jeta[:, None]) * sgn
        dphi = (pphi - jphi[:, None] + np.pi) % (2 * np.pi) - np.pi
        ref = np.stack([np.log(ppt), np.log(v[..., 3]), np.log(ppt / jpt[:, None]),
                        np.log(v[..., 3] / j4[:, 3][:, None]), np.hypot(deta, dphi), deta, dphi], axis=-1)
    sel = mask & full[:, None]
    dev = np.abs(x[sel] - ref[sel]).max(axis=0)
    check("features = weaver's definitions from the vectors", bool(dev.max() < 2e-3),
          "max |diff| per feature " + " ".join(f"{d:.1e}" for d in dev), "< 2e-3")

    # masses
    mt, mq = jets["mass"][top], jets["mass"][qcd]
    pk = peak(mt, 0, 300, 5)
    check("top-jet mass peak", bool(150 <= pk <= 195), f"{pk:.1f} GeV", "[150, 195]")
    ratio = np.median(mq) / np.median(mt)
    check("QCD mass falls steeply: median QCD / median top", bool(ratio < 0.6),
          f"{np.median(mq):.1f} / {np.median(mt):.1f} = {ratio:.3f}", "< 0.6")
    sdt = peak(jets["sdmass"][top], 0, 300, 5)
    check("top-jet soft-drop mass peak", bool(150 <= sdt <= 195), f"{sdt:.1f} GeV", "[150, 195]")

    # W in the subjets of top jets, and tau32 recomputed
    mw, tau_ref, tau_file = [], [], []
    for k in np.flatnonzero(top | qcd):
        p = v[k, :n[k]]
        s3 = exclusive_kt(p, 3)
        if top[k]:
            pairs = mass(np.stack([s3[0] + s3[1], s3[0] + s3[2], s3[1] + s3[2]]))
            mw.append(pairs[np.argmin(np.abs(pairs - 80.0))])
        if full[k]:
            s2 = exclusive_kt(s3, 2)     # kT's sequence continues from the 3 jets: same as clustering to 2
            t2 = tau_n(p, s2)
            tau_ref.append(tau_n(p, s3) / t2 if t2 > 0 else 0.0)
            tau_file.append(jets["tau32"][k])
    wpk = peak(np.array(mw), 0, 200, 5)
    check("W peak in top-jet subjet pairs (3 exclusive-kT subjets, pair closest to 80)", bool(65 <= wpk <= 95),
          f"{wpk:.1f} GeV", "[65, 95]")
    agree = np.mean(np.abs(np.array(tau_ref) - np.array(tau_file)) < 1e-3)
    check("tau32 in the file = tau32 recomputed here (exclusive-kT axes, beta = 1)", bool(agree >= 0.98),
          f"{100 * agree:.1f}% of {len(tau_ref)} jets within 1e-3", ">= 98%")
    t3t, t3q = np.median(jets["tau32"][top]), np.median(jets["tau32"][qcd])
    check("median tau32: top < QCD - 0.1", bool(t3t < t3q - 0.1), f"{t3t:.3f} vs {t3q:.3f}", "top < QCD - 0.1")

    npass = sum(results)
    print(f"{npass} passed, {len(results) - npass} failed")
    return 0 if npass == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
