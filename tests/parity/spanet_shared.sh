#!/usr/bin/env bash
# SPANet on SPANet's own example file (../shared/data/spanet/full_hadronic_ttbar_example.h5: 10 000 real
# ttbar events, 6 to 10 jets), end to end: `hepnc import spanet` of the parity fixture's Lightning checkpoint,
# `hepnc infer` over every event (SPANet's HDF5 layout read as it is) and `hepnc eval`. Checks what must hold
# whatever the weights: each top's probabilities over its valid cells sum to 1, −inf exactly on repeated or
# padded slots (spot-checked), every decoded slot a real jet used once per event, and the purity report's
# event types partition the events ("*t" + "0t" = all). Skipped (77) without ../shared/data.
set -euo pipefail
hepnc=$1 work=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$root/../shared/data/spanet/full_hadronic_ttbar_example.h5
[ -f "$data" ] || { echo "skipped: $data is absent"; exit 77; }
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
spec=$root/models/spanet_small.yaml
"$hepnc" import spanet "$root/tests/parity/spanet_small/model.ckpt" --spec "$spec" -o "$work/w.safetensors"
rm -f "$work/out.h5"
"$hepnc" infer "$spec" --weights "$work/w.safetensors" --data "$data" --out "$work/out.h5"
"$hepnc" eval "$spec" --weights "$work/w.safetensors" --data "$data" --json "$work/report.json" > "$work/report.txt"
/usr/bin/python3 - "$work/out.h5" "$data" "$work/report.json" <<'PY'
import json, sys
import h5py
import numpy as np
out, data = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
report = json.load(open(sys.argv[3]))
jets = data["INPUTS/Source/MASK"][:].sum(1)
E, bad = len(jets), 0
for p in ("t1", "t2"):
    lp = out[p + "_assignment"][:].reshape(E, 10, 10, 10).astype(np.float64)
    mass = np.exp(lp).reshape(E, -1).sum(1)
    worst = np.abs(mass - 1).max()
    print(f"{p}: {E} events, max |sum P - 1| {worst:.2e}")
    bad += worst > 1e-4
    for e in range(0, E, 997):                        # spot checks of the -inf pattern
        n = jets[e]
        idx = np.indices((10, 10, 10))
        valid = (idx < n).all(0) & (idx[0] != idx[1]) & (idx[0] != idx[2]) & (idx[1] != idx[2])
        if not np.array_equal(np.isfinite(lp[e]), valid):
            print(f"FAIL {p} event {e}: -inf cells are not the invalid ones"); bad += 1
rows = np.concatenate([out["t1_assigned"][:], out["t2_assigned"][:]], axis=1)
for e in range(E):
    used = rows[e][rows[e] >= 0]
    if len(set(used.tolist())) != len(used) or (used >= jets[e]).any() or len(used) != 6:
        print(f"FAIL event {e} ({jets[e]} jets): slots {rows[e].tolist()}"); bad += 1
        if bad > 5: break
total = report["all"]["*t/event_proportion"] + report["all"]["0t/event_proportion"]
print(f"decoded: {E} events, both tops placed on distinct real jets in every one; *t + 0t proportions {total:.6f}")
bad += abs(total - 1) > 1e-9
sys.exit(1 if bad else 0)
PY
