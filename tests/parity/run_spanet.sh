#!/usr/bin/env bash
# SPANet parity (models/spanet_small.yaml against upstream SPANet itself, tests/parity/spanet_small from
# gen_spanet_fixture.py). The weights are upstream's PyTorch Lightning checkpoint (model.ckpt), converted by
# `hepnc import spanet` without PyTorch; then through `hepnc infer`, with generated loops and with OpenBLAS:
#   - the assignment log-probabilities of both tops, [64 events][10³ cells]: |Δ| ≤ 1e-4 (values reach −20;
#     float32 through 13 gated attention/GRU layers), −inf on exactly the same cells (padding, repeated slots);
#   - the detection probabilities: |Δ| ≤ 1e-5;
#   - each event alone (batch 1) bit for bit as inside a batch of 37 mixed jet counts;
#   - the decoded assignments (runtime/assign.c) equal upstream's extract_predictions on every event where
#     both tops fit (≥ 6 jets); below that upstream's nan_to_num quirk gives duplicate slots
#     (docs/spanet_decoding.md), hepnc leaves the top it cannot place unassigned (-1) and uses no slot twice
#     (Debian's python3-h5py, which tools/install-deps.sh installs);
#   - `hepnc eval --json`: every purity and proportion of upstream's evaluation (spanet/test.py
#     evaluate_predictions on the same decoded assignments, report.json) within 1e-6.
set -euo pipefail
hepnc=$1 compare=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fix=$here/spanet_small
mkdir -p "$work"
export HEPNC_CACHE=$work/cache
weights=$work/spanet_small.safetensors
rm -f "$weights"
"$hepnc" import spanet "$fix/model.ckpt" --spec "$root/models/spanet_small.yaml" -o "$weights"
checks=(t1_assignment=/t1/assignment_log_probability 1e-4 t2_assignment=/t2/assignment_log_probability 1e-4
        t1_detection=/t1/detection_probability 1e-5 t2_detection=/t2/detection_probability 1e-5)
for blas in none openblas; do
  out=$work/spanet-$blas.h5
  rm -f "$out"
  "$hepnc" infer "$root/models/spanet_small.yaml" --weights "$weights" --data "$fix/inputs.h5" \
      --out "$out" --blas $blas --batch 37
  echo "--blas $blas:"
  "$compare" "$out" "$fix/expected.h5" "${checks[@]}"
done
"$hepnc" infer "$root/models/spanet_small.yaml" --weights "$weights" --data "$fix/inputs.h5" \
    --out "$work/spanet-single.h5" --blas none --batch 1
echo "batch 1 against batch 37 (generated loops):"
"$compare" "$work/spanet-single.h5" "$work/spanet-none.h5" t1_assignment 0 t2_assignment 0 t1_detection 0 t2_detection 0
echo "decoded assignments against upstream's:"
/usr/bin/python3 - "$work/spanet-none.h5" "$fix/expected.h5" "$fix/inputs.h5" <<'PY'
import sys
import h5py
import numpy as np
out, exp, inp = (h5py.File(p, "r") for p in sys.argv[1:])
jets = inp["INPUTS/Source/MASK"][:].sum(1)
full = jets >= 6
bad = 0
for p in ("t1", "t2"):
    ours, theirs = out[p + "_assigned"][:], exp[p]["assignment"][:]
    same = (ours == theirs).all(1)
    print(f"{p}: {same[full].sum()} of {full.sum()} events with >= 6 jets as upstream")
    bad += int((~same[full]).sum())
both = np.concatenate([out["t1_assigned"][:], out["t2_assigned"][:]], axis=1)
for e in range(len(both)):
    used = both[e][both[e] >= 0]
    if len(set(used.tolist())) != len(used) or (used >= jets[e]).any():
        print(f"event {e}: slots {both[e].tolist()} repeat a slot or point past its {jets[e]} jets")
        bad += 1
    if jets[e] < 6 and (both[e] < 0).sum() != 3:
        print(f"event {e} ({jets[e]} jets): expected exactly one top unassigned, got {both[e].tolist()}")
        bad += 1
print("decoded assignments:", "ok" if bad == 0 else f"{bad} FAILED")
sys.exit(1 if bad else 0)
PY
echo "hepnc eval against upstream's evaluation (spanet/test.py, SymmetricEvaluator; report.json):"
"$hepnc" eval "$root/models/spanet_small.yaml" --weights "$weights" --data "$fix/inputs.h5" --batch 37 \
    --json "$work/report.json"
/usr/bin/python3 - "$work/report.json" "$fix/report.json" <<'PY'
import json
import sys
ours, theirs = (json.load(open(p)) for p in sys.argv[1:])
bad = []
for limit, values in theirs.items():
    for key, want in values.items():
        got = ours.get(limit, {}).get(key, "absent")
        if got == "absent" or (want is None) != (got is None) or (want is not None and abs(got - want) > 1e-6):
            bad.append(f"{limit} {key}: hepnc {got}, upstream {want}")
extra = [f"{l} {k}" for l, v in ours.items() for k in v if k not in theirs.get(l, {})]
for line in bad + [f"not upstream's: {e}" for e in extra]:
    print("FAIL", line)
n = sum(len(v) for v in theirs.values())
print(f"report: {n - len(bad)} of {n} numbers as upstream's, {len(extra)} extra")
sys.exit(1 if bad or extra else 0)
PY
